"""Bad input at the service layer: a clear error in Chinese, and nothing changed."""

from typing import Any

import pytest
from django.utils import translation

from jiesu.lib.errors import IllegalTransition, InvalidInput, ServiceError
from jiesu.orgs.models import OrgUnit
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import Assignment, Requester, Ticket, TicketEvent, TicketNumberCounter

from .helpers import fresh, new_ticket, ticket_in


def snapshot() -> tuple[int, ...]:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        Assignment.objects.count(),
        Requester.objects.count(),
        TicketNumberCounter.objects.count(),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category_code": "999999"}, "未知的分类：“999999”。"),
        ({"category_code": "0102"}, "未知的分类：“0102”。"),  # not a leaf
        ({"street_code": "110199999"}, "未知或已停用的单位：“110199999”。"),
        ({"content": "   "}, "诉求内容不能为空。"),
        ({"title": ""}, "标题不能为空。"),
        ({"content": "很" * 5001}, "诉求内容过长：5001 个字符，最多 5000 个。"),
        ({"title": "长" * 201}, "标题过长：201 个字符，最多 200 个。"),
        ({"content": "含有\x00控制字符"}, "诉求内容含有非法控制字符。"),
        ({"requester_phone": "13x-not-a-phone"}, "电话号码“13x-not-a-phone”无效。"),
        ({"channel": "pigeon"}, "未知的渠道：“pigeon”。"),
        ({"appeal_type": "praise"}, "未知的诉求类型：“praise”。"),
        ({"latitude": "abc"}, "纬度不是数字。"),
        ({"latitude": "91"}, "纬度超出范围。"),
        ({"district_code": "110108"}, "该街乡镇不属于所选的区。"),
        ({"content": 12345}, "诉求内容必须是文本。"),
    ],
)
def test_bad_intake_is_refused_in_chinese_and_changes_nothing(
    world: World, overrides: dict[str, Any], message: str
) -> None:
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        new_ticket(world, **overrides)
    assert str(error.value) == message
    assert snapshot() == before


def test_unknown_dispatch_unit(world: World) -> None:
    ticket = new_ticket(world)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        services.dispatch(world.dispatcher, ticket.pk, lead_code="NOPE")
    assert str(error.value) == "未知或已停用的单位：“NOPE”。"
    with pytest.raises(InvalidInput):
        services.dispatch(world.dispatcher, ticket.pk, lead_code="110105001", assist_codes=["D001", "ghost"])
    assert snapshot() == before
    assert fresh(ticket).dispatch_state == "new"


def test_inactive_unit_cannot_receive(world: World) -> None:
    OrgUnit.objects.filter(code="110105002").update(is_active=False)
    ticket = new_ticket(world)
    with pytest.raises(InvalidInput):
        services.dispatch(world.dispatcher, ticket.pk, lead_code="110105002")
    assert fresh(ticket).lead_unit is None


def test_empty_and_overlong_notes(world: World) -> None:
    ticket = ticket_in(world, "accepted")
    before = (fresh(ticket).version, TicketEvent.objects.count())
    with pytest.raises(InvalidInput) as error:
        services.add_progress(world.jw_handler, ticket.pk, "  ")
    assert str(error.value) == "备注不能为空。"
    with pytest.raises(InvalidInput) as error:
        services.reply(world.jw_handler, ticket.pk, "答" * 5001)
    assert str(error.value) == "答复内容过长：5001 个字符，最多 5000 个。"
    assert (fresh(ticket).version, TicketEvent.objects.count()) == before


def test_illegal_transition_changes_nothing(world: World) -> None:
    ticket = ticket_in(world, "replied")
    before = (fresh(ticket).version, TicketEvent.objects.count())
    with pytest.raises(IllegalTransition) as error:
        services.dispatch(world.dispatcher, ticket.pk)
    assert str(error.value) == "处于“已答复，待回访”状态的工单不能执行“派单”操作。"
    assert (fresh(ticket).version, TicketEvent.objects.count()) == before


def test_bad_callback_answers(world: World) -> None:
    ticket = ticket_in(world, "replied")
    with pytest.raises(InvalidInput) as error:
        services.record_callback(world.agent, ticket.pk, contacted=True, resolution="maybe", satisfaction="satisfied")
    assert str(error.value) == "未知的解决情况：“maybe”。"
    with pytest.raises(InvalidInput):
        services.record_callback(
            world.agent,
            ticket.pk,
            contacted="yes",
            resolution="solved",  # type: ignore[arg-type]
            satisfaction="satisfied",
        )
    assert fresh(ticket).dispatch_state == "replied"
    assert not ticket.callbacks.exists()


def test_extension_must_be_later(world: World) -> None:
    ticket = ticket_in(world, "accepted")
    with pytest.raises(InvalidInput) as error:
        services.request_extension(world.jw_handler, ticket.pk, fresh(ticket).due_at, "理由")
    assert str(error.value) == "申请的新时限必须晚于当前时限。"
    assert not ticket.extension_requests.exists()


def test_error_in_english_when_the_user_reads_english(world: World) -> None:
    with pytest.raises(ServiceError) as error:
        new_ticket(world, category_code="999999")
    # Messages are lazy: they render in the language active where they are shown.
    with translation.override("en"):
        assert str(error.value) == "Unknown category: “999999”."
    assert str(error.value) == "未知的分类：“999999”。"
