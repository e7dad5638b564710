"""One ticket followed from intake to close through the plain order pages, as each role would."""

import re
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jiesu.testing.world import World
from jiesu.tickets.models import Ticket

from .helpers import ticket_in


def act(client: Client, ticket: Ticket, action: str, **data: str) -> str:
    version = Ticket.objects.get(pk=ticket.pk).version
    response = client.post(f"/tickets/{ticket.pk}/act/{action}/", {"version": version, **data}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_intake_to_close_through_the_pages(world: World, client: Client) -> None:
    client.force_login(world.operator)
    assert client.get("/tickets/new/")["Location"] == "/intake/"  # the old address leads to the console
    page = client.get("/intake/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    form = {
        "channel": "phone",
        "appeal_type": "complaint",
        "requester_name": "王五",
        "requester_phone": "13900001111",
        "title": "楼下饭馆油烟直排",
        "content": "楼下饭馆油烟直排，家里窗户都不敢开。",
        "category_code": "050101",
        "address": "朝阳区建外街道光华路5号",
        "street_code": "110105001",
        "urgency": "normal",
        "idempotency_key": key,
    }
    response = client.post("/intake/", form)
    assert response.status_code == 302
    client.post("/intake/", form)  # a double submit of the same form creates nothing more
    ticket = Ticket.objects.get()
    assert ticket.dispatch_state == "new"

    client.force_login(world.dispatcher)
    page = act(client, ticket, "dispatch")
    assert "建外街道 · 主办" in page and "北京市生态环境局 · 协办" in page

    client.force_login(world.jw_handler)
    assert "您的角色或单位无权执行此操作" not in act(client, ticket, "accept")
    act(client, ticket, "add_progress", note="已联系饭馆负责人，要求安装油烟净化器")
    act(client, ticket, "reply", text="已督促饭馆安装油烟净化设备并验收")

    client.force_login(world.agent)
    page = act(client, ticket, "callback", contacted="yes", resolution="solved", satisfaction="satisfied", note="满意")
    assert Ticket.objects.get(pk=ticket.pk).dispatch_state == "closed"
    for label in ["受理", "派单", "签收", "添加进展", "答复", "回访", "办结"]:
        assert label in page
    assert "已办结" in page


def test_refused_action_shows_the_error_in_chinese(world: World, client: Client) -> None:
    ticket = ticket_in(world, "accepted")
    client.force_login(world.jw_handler)
    page = act(client, ticket, "reply", text=" ")
    assert "答复内容不能为空。" in page
    assert Ticket.objects.get(pk=ticket.pk).dispatch_state == "accepted"


def test_stale_form_is_refused(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched")
    client.force_login(world.jw_handler)
    stale = Ticket.objects.get(pk=ticket.pk).version - 1
    response = client.post(f"/tickets/{ticket.pk}/act/accept/", {"version": stale}, follow=True)
    assert "该工单刚被他人修改，请刷新后重试。" in response.content.decode()


def test_list_query_count_does_not_grow_with_rows(world: World, client: Client) -> None:
    client.force_login(world.jw_handler)
    ticket_in(world, "dispatched")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/tickets/").status_code == 200
    for _ in range(5):
        ticket_in(world, "accepted")
    with CaptureQueriesContext(connection) as more:
        assert client.get("/tickets/?state=accepted").status_code == 200
    assert len(more) == len(few) <= 8


def test_detail_query_count_is_bounded(world: World, client: Client) -> None:
    ticket = ticket_in(world, "closed")
    client.force_login(world.dispatcher)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/tickets/{ticket.pk}/").status_code == 200
    assert len(queries) <= 14  # with the callbacks table and the offered actions (a constant, whatever the trail)


def test_language_switch_to_english(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched")
    client.force_login(world.jw_handler)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Dispatched, awaiting signature" in page
    assert "Timeline" in page


def test_dispatcher_sees_the_catalogue_suggestion_and_only_fitting_actions(world: World, client: Client) -> None:
    ticket = ticket_in(world, "new", category_code="010103", title="违法建设")
    client.force_login(world.dispatcher)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "派单目录建议: 建外街道 (主办), 北京市城市管理综合行政执法局 (协办)" in page
    assert 'id="act-dispatch"' in page and 'id="act-merge"' in page
    assert 'id="act-answer_directly"' not in page  # a complaint is dispatched, not answered directly
    inquiry = ticket_in(world, "new", appeal_type="inquiry")
    assert 'id="act-answer_directly"' in client.get(f"/tickets/{inquiry.pk}/").content.decode()


def test_timeline_names_actions_and_states_in_chinese(world: World, client: Client) -> None:
    ticket = ticket_in(world, "replied")
    client.force_login(world.jw_handler)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "<b>答复</b>" in page
    assert "已签收，办理中 → 已答复，待回访" in page


def test_huge_payload_gets_a_clear_error(world: World, client: Client, settings: Any) -> None:
    settings.DEBUG = False
    ticket = ticket_in(world, "accepted")
    client.force_login(world.jw_handler)
    response = client.post(f"/tickets/{ticket.pk}/act/add_progress/", {"note": "很" * 3_000_000})
    assert response.status_code == 400
    assert "请求无法读取：格式可能有误或内容过大（最多 2 MB）。" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version


def test_missing_ticket_page_is_chinese(world: World, client: Client) -> None:
    client.force_login(world.jw_handler)
    response = client.get("/tickets/424242/")
    assert response.status_code == 404
    assert "页面或工单不存在，或您无权查看。" in response.content.decode()


def test_assets_are_served_by_the_app_itself(client: Client) -> None:
    response = client.get("/static/jiesu/app.css")
    assert response.status_code == 200
    assert b"font-family" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_chinese_first_whatever_the_browser_asks(client: Client) -> None:
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()
