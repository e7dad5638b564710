"""The citizens' portal through HTTP: submit with a photo, track, read the reply, rate; abuse protection."""

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jiesu.testing.images import png
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import Attachment, Ticket, TicketEvent

FORM = {
    "appeal_type": "complaint",
    "category_code": "010201",
    "title": "小区垃圾没人清运",
    "content": "我们小区的垃圾桶三天没清运了，味道很大。",
    "address": "朝阳区建外街道光华路7号",
    "requester_name": "刘女士",
    "requester_phone": "13911112222",
}


def submit(client: Client, **overrides: Any) -> Any:
    data = FORM | overrides
    return client.post("/portal/", data)


def test_submit_with_photo_places_the_ticket_and_gives_the_number(world: World, client: Client) -> None:
    photo = SimpleUploadedFile("现场.png", png(), content_type="image/png")
    response = submit(client, photos=photo)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/portal/submitted/?n={ticket.number}"
    assert (ticket.channel, ticket.street.code, ticket.dispatch_state) == ("web", "110105001", "new")
    event = TicketEvent.objects.get(ticket=ticket)
    assert event.actor is None and event.data == {"channel": "web", "source": "portal"}
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.content_type == "image/png" and attachment.event == event
    assert attachment.file.read().startswith(b"\x89PNG")
    assert ticket.number in client.get(response["Location"]).content.decode()


def test_a_renamed_non_image_is_refused_by_content_and_nothing_is_saved(world: World, client: Client) -> None:
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not really a photo", content_type="image/jpeg")
    page = submit(client, photos=fake).content.decode()
    assert "不是 JPEG、PNG 或 WebP 格式的照片" in page
    assert Ticket.objects.count() == 0 and Attachment.objects.count() == 0


def test_missing_fields_are_shown_next_to_them_in_chinese(world: World, client: Client) -> None:
    page = submit(client, title="", requester_phone="").content.decode()
    assert page.count("这个字段是必填项。") == 2
    assert Ticket.objects.count() == 0


def test_an_oversized_request_is_refused_before_reading(world: World, client: Client, settings: Any) -> None:
    settings.JIESU_MAX_REQUEST_BYTES = 1000
    photo = SimpleUploadedFile("big.png", png(200, 200), content_type="image/png")
    response = submit(client, photos=photo)
    assert response.status_code == 413
    assert "请求过大" in response.content.decode()
    assert Ticket.objects.count() == 0


def test_submissions_are_rate_limited_per_address(world: World, client: Client, settings: Any) -> None:
    settings.JIESU_PORTAL_SUBMITS_PER_HOUR = 2
    for i in range(2):
        assert submit(client, idempotency_key=f"k{i}").status_code == 302
    response = submit(client, idempotency_key="k3")
    assert response.status_code == 429
    assert "请一小时后再试" in response.content.decode()
    assert Ticket.objects.count() == 2


def test_rejected_forms_do_not_use_up_the_submission_limit(world: World, client: Client, settings: Any) -> None:
    """A citizen who makes a few mistakes is not locked out; junk posted again and again still is."""
    settings.JIESU_PORTAL_SUBMITS_PER_HOUR = 2
    assert submit(client, idempotency_key="k1").status_code == 302
    for _n in range(4):
        assert submit(client, title="").status_code == 200  # shown again with the error
    assert submit(client, idempotency_key="k2").status_code == 302
    assert Ticket.objects.count() == 2
    for _n in range(2):
        submit(client, title="")
    assert submit(client, title="").status_code == 429  # 2 × 4 attempts in the hour


def test_a_double_submit_creates_one_ticket(world: World, client: Client) -> None:
    submit(client, idempotency_key="same")
    submit(client, idempotency_key="same")
    assert Ticket.objects.count() == 1


def code_of(client: Client, response: Any) -> str:
    """The tracking code, as the citizen reads it on the page after submitting (shown once)."""
    page = client.get(response["Location"]).content.decode()
    return re.search(r'id="tracking-code">([A-Z0-9-]+)<', page).group(1)


def track(client: Client, number: str, tail: str) -> str:
    return client.get("/portal/track/", {"number": number, "phone_tail": tail}).content.decode()


@pytest.fixture
def replied(world: World, client: Client) -> Ticket:
    code = code_of(client, submit(client))
    ticket = Ticket.objects.get()
    services.dispatch(world.dispatcher, ticket.pk)
    services.accept(world.jw_handler, ticket.pk)
    services.add_progress(world.jw_handler, ticket.pk, "内部备注：已联系物业经理")
    services.reply(world.jw_handler, ticket.pk, "已督促物业当天清运完毕。")
    ticket = Ticket.objects.get(pk=ticket.pk)
    ticket.code = code  # type: ignore[attr-defined]
    return ticket


def test_track_shows_status_steps_and_reply_but_no_internal_notes(replied: Ticket, client: Client) -> None:
    page = track(client, replied.number, replied.code)
    assert "已答复" in page and "已督促物业当天清运完毕。" in page
    assert "承办单位已签收" in page and "建外街道" in page
    assert "内部备注" not in page and "13911112222" not in page


def test_wrong_phone_digits_find_nothing(replied: Ticket, client: Client) -> None:
    page = track(client, replied.number, "9999")
    assert "没有与该编号和手机号匹配的诉求" in page
    assert "已督促物业" not in page


def test_rate_once_after_the_reply(replied: Ticket, client: Client) -> None:
    data = {"number": replied.number, "phone_tail": replied.code, "satisfaction": "satisfied", "comment": "很快"}
    assert client.post("/portal/rate/", data).status_code == 302
    event = TicketEvent.objects.get(ticket=replied, action="rate")
    assert event.data == {"satisfaction": "satisfied", "round": 1, "source": "portal"} and event.note == "很快"
    assert "感谢您的评价" in track(client, replied.number, replied.code)
    again = client.post("/portal/rate/", data).content.decode()
    assert "您已评价过本次答复" in again
    assert TicketEvent.objects.filter(ticket=replied, action="rate").count() == 1


def test_rating_before_the_reply_is_refused(world: World, client: Client) -> None:
    code = code_of(client, submit(client))
    ticket = Ticket.objects.get()
    data = {"number": ticket.number, "phone_tail": code, "satisfaction": "dissatisfied"}
    page = client.post("/portal/rate/", data).content.decode()
    assert "不能执行" in page
    assert not TicketEvent.objects.filter(action="rate").exists()
    assert re.search(r"已受理|Received", page)


def test_staff_cannot_rate_with_what_they_see(replied: Ticket, client: Client, world: World) -> None:
    """The masked phone (139****2222) shows its last four digits to staff: they open nothing of a portal request,
    and rate nothing. Only the citizen's tracking code does."""
    assert "已督促物业" not in track(client, replied.number, "2222")
    forged = {"number": replied.number, "phone_tail": "2222", "satisfaction": "satisfied"}
    client.post("/portal/rate/", forged)
    assert not TicketEvent.objects.filter(ticket=replied, action="rate").exists()
    assert "已督促物业" in track(client, replied.number, replied.code.lower().replace("-", ""))  # typed loosely


def test_phone_requests_are_tracked_by_phone_digits_but_rated_only_by_the_callback(
    world: World, client: Client
) -> None:
    ticket = services.intake(
        world.operator,
        channel="phone",
        appeal_type="complaint",
        title="噪音",
        content="夜间施工噪音",
        category_code="010201",
        requester_phone="13811113333",
        street_code="110105001",
    )
    services.dispatch(world.dispatcher, ticket.pk)
    services.accept(world.jw_handler, ticket.pk)
    services.reply(world.jw_handler, ticket.pk, "已责令停工。")
    assert "已责令停工" in track(client, ticket.number, "3333")
    page = client.post(
        "/portal/rate/", {"number": ticket.number, "phone_tail": "3333", "satisfaction": "satisfied"}
    ).content.decode()
    assert not TicketEvent.objects.filter(ticket=ticket, action="rate").exists()
    assert "回访" in page


def test_a_phone_request_gets_the_callers_own_code_by_sms_and_only_the_caller_rates(
    world: World, client: Client, settings: Any, tmp_path: Any
) -> None:
    """The operator registers a call; the caller's tracking code goes by SMS (the worker hands it to the gateway),
    never through a staff screen, and is blanked once sent. With it the caller tracks and rates; staff, who see the
    masked number and the whole ticket, rate nothing."""
    from django.core.management import call_command

    from jiesu.tickets.models import TrackingCode
    from jiesu.workbench.tests.test_workbench import CONSOLE

    settings.SMS_DIR = tmp_path
    operator = Client()
    operator.force_login(world.operator)
    call = CONSOLE | {
        "appeal_type": "complaint",
        "title": "噪音扰民",
        "content": "夜间施工噪音",
        "category_code": "010201",
    }
    answer = operator.post("/intake/", call | {"street_code": "110105001", "requester_phone": "13811114444"})
    assert answer.status_code == 302
    screen = operator.get(answer["Location"]).content.decode()
    ticket = Ticket.objects.get(requester__phone="13811114444")
    assert "138****4444" in screen  # the console says a code is on its way, not which
    pending = TrackingCode.objects.get(ticket=ticket)
    assert pending.sms_to == "13811114444" and len(pending.sms_code) == 8 and pending.sms_sent_at is None
    assert pending.sms_code not in screen
    operator.post("/intake/", call | {"street_code": "110105001", "requester_phone": "13811114444"})  # double submit
    assert TrackingCode.objects.filter(ticket=ticket).count() == 1

    call_command("worker", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    (message,) = [p.read_text(encoding="utf-8") for p in tmp_path.iterdir() if "13811114444" in p.name]
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", message).group(0)
    assert ticket.number in message and "查询码" in message
    sent = TrackingCode.objects.get(ticket=ticket)
    assert sent.sms_code == "" and sent.sms_sent_at is not None and sent.matches(code)  # only the hash stays
    call_command("worker", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(list(tmp_path.iterdir())) == 1  # sent once

    services.dispatch(world.dispatcher, ticket.pk)
    services.accept(world.jw_handler, ticket.pk)
    services.reply(world.jw_handler, ticket.pk, "已责令夜间停工。")
    for staff in (world.operator, world.dispatcher, world.jw_handler):  # what staff see of the ticket
        seen = Client()
        seen.force_login(staff)
        assert code not in seen.get(f"/tickets/{ticket.pk}/").content.decode()
    forged = {"number": ticket.number, "phone_tail": "4444", "satisfaction": "satisfied"}
    assert "回访" in client.post("/portal/rate/", forged).content.decode()  # the visible digits rate nothing
    assert not TicketEvent.objects.filter(ticket=ticket, action="rate").exists()
    assert "已责令夜间停工" in track(client, ticket.number, code)
    data = {"number": ticket.number, "phone_tail": code, "satisfaction": "satisfied", "comment": "满意"}
    assert client.post("/portal/rate/", data).status_code == 302
    assert TicketEvent.objects.get(ticket=ticket, action="rate").data["satisfaction"] == "satisfied"


def test_a_landline_call_gets_no_code_and_a_failing_gateway_is_retried(
    world: World, settings: Any, tmp_path: Any
) -> None:
    from jiesu.tickets.models import TrackingCode

    landline = services.intake(
        world.operator,
        channel="phone",
        appeal_type="complaint",
        title="噪音",
        content="夜间施工噪音",
        category_code="010201",
        requester_phone="010-65123456",
    )
    assert not TrackingCode.objects.filter(ticket=landline).exists()  # no SMS to a landline: the callback rates it
    services.intake(
        world.operator,
        channel="phone",
        appeal_type="complaint",
        title="噪音",
        content="夜间施工噪音",
        category_code="010201",
        requester_phone="13811115555",
    )
    settings.SMS_SENDER = "jiesu.portal.tests.test_portal.failing_gateway"
    settings.SMS_MAX_ATTEMPTS = 2
    assert services.send_tracking_codes() == 0
    row = TrackingCode.objects.get(sms_to="13811115555")
    assert row.sms_attempts == 1 and row.sms_code  # kept for the next tick
    assert services.send_tracking_codes() == 0
    row.refresh_from_db()
    assert row.sms_attempts == 2 and row.sms_code == "" and row.sms_sent_at is None  # given up: no code lingers


def failing_gateway(phone: str, text: str) -> None:
    raise OSError("gateway down")
