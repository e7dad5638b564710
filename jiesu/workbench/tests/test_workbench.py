"""Each role's workbench page through HTTP: what it shows, what it refuses, and its query count."""

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jiesu.testing.images import png
from jiesu.testing.world import World, make_user
from jiesu.tickets import services
from jiesu.tickets.models import Attachment, Ticket
from jiesu.tickets.tests.helpers import fresh, new_ticket, ticket_in

PAGES = {
    "operator": "/intake/",
    "dispatcher": "/dispatch/",
    "jw_handler": "/inbox/",
    "agent": "/callbacks/",
    "city_supervisor": "/supervision/",
}


@pytest.mark.parametrize(("role", "home"), list(PAGES.items()))
def test_each_role_lands_on_its_own_page(world: World, client: Client, role: str, home: str) -> None:
    client.force_login(getattr(world, role))
    assert client.get("/")["Location"] == home
    assert client.get(home).status_code == 200


@pytest.mark.parametrize("page", ["/intake/", "/dispatch/", "/callbacks/", "/supervision/", "/supervision/overview/"])
def test_other_roles_pages_answer_not_found(world: World, client: Client, page: str) -> None:
    client.force_login(world.jw_handler)
    assert client.get(page).status_code == 404


def assist(client: Client, **params: str) -> str:
    return client.get("/intake/assist/", params).content.decode()


def test_console_assist_resolves_place_deadline_caller_and_similar(world: World, client: Client, clock: Any) -> None:
    earlier = new_ticket(world, requester_phone="13700001111", title="光华路小区垃圾桶满溢没人清运")
    client.force_login(world.operator)
    page = assist(
        client,
        requester_phone="13700001111",
        title="光华路小区垃圾桶满溢",
        content="垃圾桶满溢没人清运",
        address="朝阳区建外街道光华路3号",
        category_code="010201",
        urgency="normal",
    )
    assert "建外街道</b> (110105001)" in page  # the address placed it
    assert "一般" in page and "2026-11-27 00:00" in page  # 24:00 of the 7th working day after Tue 17 Nov
    history, similar = page.split("该来电人的历史工单")[1].split("可能重复的在办工单（附近）")
    assert earlier.number in history and earlier.number in similar


def test_console_reports_an_ambiguous_address(world: World, client: Client) -> None:
    client.force_login(world.operator)
    page = assist(client, address="朝阳区")
    assert "街道未明确" in page
    page = assist(client, address="建外街道和朝外街道交界处")
    assert "地址有歧义，请选择" in page and "110105001" in page and "110105002" in page
    page = assist(client, address="海淀区海淀街道中关村大街1号")  # 中关村 is also a street's stem: the full name wins
    assert "海淀街道</b> (110108012)" in page and "地址有歧义" not in page


def test_console_offers_knowledge_for_inquiries(world: World, client: Client) -> None:
    client.force_login(world.operator)
    assert "集中供暖什么时候开始" in assist(client, appeal_type="inquiry", content="请问今年暖气什么时候开始供暖")
    assert "集中供暖什么时候开始" not in assist(client, appeal_type="complaint", content="暖气不热")


CONSOLE = {
    "requester_phone": "13800009999",
    "requester_name": "钱先生",
    "channel": "phone",
    "appeal_type": "inquiry",
    "title": "供暖时间咨询",
    "content": "请问今年什么时候开始供暖？",
    "address": "",
    "street_code": "",
    "category_code": "030101",
    "urgency": "normal",
    "idempotency_key": "console-1",
}


def test_console_answers_an_inquiry_directly_in_one_step(world: World, client: Client) -> None:
    client.force_login(world.operator)
    response = client.post("/intake/", CONSOLE | {"answer": "每年11月15日开始供暖。"})
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/intake/?last={ticket.pk}"
    assert (ticket.dispatch_state, ticket.reply) == ("closed", "每年11月15日开始供暖。")
    assert [e.action for e in ticket.events.order_by("id")] == ["intake", "answer_directly"]


def test_console_registers_a_repeat_and_merges_it(world: World, client: Client) -> None:
    master = ticket_in(world, "dispatched")
    client.force_login(world.operator)
    client.post(
        "/intake/", CONSOLE | {"appeal_type": "complaint", "category_code": "010201", "merge_into": master.number}
    )
    repeat = Ticket.objects.exclude(pk=master.pk).get()
    assert (repeat.dispatch_state, repeat.duplicate_of) == ("merged", master)


def test_console_shows_errors_next_to_the_field_and_keeps_the_input(world: World, client: Client) -> None:
    client.force_login(world.operator)
    page = client.post("/intake/", CONSOLE | {"category_code": "999999", "answer": "x"}).content.decode()
    assert 'id="id_category_code-error"' in page and "未知的分类：“999999”。" in page
    assert 'value="供暖时间咨询"' in page
    page = client.post("/intake/", CONSOLE | {"appeal_type": "complaint", "answer": "x"}).content.decode()
    assert 'id="id_answer-error"' in page and "只有咨询类诉求可以直接办结" in page
    assert Ticket.objects.count() == 0


def test_dispatch_desk_tabs(world: World, client: Client) -> None:
    waiting = new_ticket(world)
    returned = ticket_in(world, "return_requested")
    extended = ticket_in(world, "accepted")
    services.request_extension(world.jw_handler, extended.pk, fresh(extended).due_at + dt.timedelta(days=3), "需协调")
    client.force_login(world.dispatcher)
    assert waiting.number in client.get("/dispatch/").content.decode()
    page = client.get("/dispatch/?tab=returns").content.decode()
    assert returned.number in page and "不属于本街道职责" in page
    page = client.get("/dispatch/?tab=extensions").content.decode()
    assert extended.number in page and "需协调" in page


def test_merge_candidates_show_evidence_and_merge(world: World, client: Client) -> None:
    master = ticket_in(world, "dispatched")
    repeat = new_ticket(world, requester_phone="13600000000")  # another caller: same street, category, text
    client.force_login(world.dispatcher)
    page = client.get("/dispatch/?tab=merge").content.decode()
    assert repeat.number in page and master.number in page and "相同街道和类别" in page
    client.post(
        f"/tickets/{repeat.pk}/act/merge/",
        {"version": fresh(repeat).version, "master_number": master.number, "next": "/dispatch/?tab=merge"},
    )
    assert fresh(repeat).duplicate_of == master


def test_merge_candidates_count_the_distance_where_both_have_coordinates(world: World, client: Client) -> None:
    """Issue 19: the dispatch desk's merge tab weighs distance as the console's duplicate search does."""
    master = ticket_in(world, "dispatched", latitude="39.9100", longitude="116.4500")
    near = new_ticket(world, requester_phone="13600000001", latitude="39.9109", longitude="116.4500")  # ~100 m
    far = new_ticket(world, requester_phone="13600000002", latitude="39.9300", longitude="116.4500")  # ~2.2 km
    client.force_login(world.dispatcher)
    page = client.get("/dispatch/?tab=merge").content.decode()
    assert near.number in page and master.number in page and "距离 100 m" in page
    assert far.number not in page  # the same address text, but two kilometres away: another place


def test_inbox_tabs(world: World, client: Client, clock: Any) -> None:
    to_sign = ticket_in(world, "dispatched")
    in_hand = ticket_in(world, "accepted")
    returned = ticket_in(world, "return_requested")
    clock.shift(dt.timedelta(days=30))
    late = ticket_in(world, "accepted")
    clock.shift(dt.timedelta(days=20))  # `late` is overdue now
    client.force_login(world.jw_handler)

    def tab(name: str) -> str:
        return client.get(f"/inbox/?tab={name}").content.decode()

    assert to_sign.number in tab("sign") and in_hand.number not in tab("sign")
    assert late.number in tab("overdue") and in_hand.number in tab("overdue")
    assert returned.number in tab("returned")
    assert late.number in tab("in_hand")
    assert late.number in client.get("/inbox/?tab=in_hand&mine=1").content.decode()  # jw_handler signed it
    client.force_login(world.jw_leader)
    assert late.number not in client.get("/inbox/?tab=in_hand&mine=1").content.decode()


def test_leader_sees_workload_and_reassigns_within_the_unit(world: World, client: Client) -> None:
    colleague = make_user("jw_handler2", "unit_handler", "110105001")
    ticket = ticket_in(world, "accepted")
    assert fresh(ticket).handler == world.jw_handler  # the signer holds it
    client.force_login(world.jw_leader)
    page = client.get("/inbox/").content.decode()
    assert "各办理人工作量" in page
    client.post(
        f"/tickets/{ticket.pk}/act/assign_handler/", {"version": fresh(ticket).version, "handler_id": colleague.pk}
    )
    assert fresh(ticket).handler == colleague
    assert ticket.events.filter(action="assign_handler").get().data == {"from": "jw_handler", "to": "jw_handler2"}


def test_handler_cannot_reassign_or_hand_outside_the_unit(world: World, client: Client) -> None:
    ticket = ticket_in(world, "accepted")
    client.force_login(world.jw_leader)
    page = client.post(
        f"/tickets/{ticket.pk}/act/assign_handler/",
        {"version": fresh(ticket).version, "handler_id": world.cw_handler.pk},
        follow=True,
    ).content.decode()
    assert "请选择本单位的办理人" in page
    client.force_login(world.jw_handler)
    page = client.post(
        f"/tickets/{ticket.pk}/act/assign_handler/",
        {"version": fresh(ticket).version, "handler_id": world.jw_handler.pk},
        follow=True,
    ).content.decode()
    assert "您的角色或单位无权执行此操作" in page


def test_progress_photo_is_stored_and_served_only_to_those_who_see_the_ticket(world: World, client: Client) -> None:
    ticket = ticket_in(world, "accepted")
    client.force_login(world.jw_handler)
    client.post(
        f"/tickets/{ticket.pk}/act/add_progress/",
        {
            "version": fresh(ticket).version,
            "note": "现场照片",
            "photos": SimpleUploadedFile("a.png", png(), "image/png"),
        },
    )
    photo = Attachment.objects.get(ticket=ticket)
    response = client.get(f"/attachments/{photo.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert f"/attachments/{photo.pk}/" in client.get(f"/tickets/{ticket.pk}/").content.decode()
    client.force_login(world.hd_handler)
    assert client.get(f"/attachments/{photo.pk}/").status_code == 404


def test_callback_worklist_records_and_reopens_the_dissatisfied(world: World, client: Client) -> None:
    ticket = ticket_in(world, "replied")
    client.force_login(world.agent)
    assert ticket.number in client.get("/callbacks/").content.decode()
    client.post(
        f"/tickets/{ticket.pk}/act/callback/",
        {
            "version": fresh(ticket).version,
            "contacted": "yes",
            "resolution": "unsolved",
            "satisfaction": "dissatisfied",
            "note": "仍未清运",
            "next": "/callbacks/",
        },
    )
    assert fresh(ticket).dispatch_state == "dispatched" and fresh(ticket).reopen_count == 1
    assert ticket.number not in client.get("/callbacks/").content.decode()


def test_supervision_filters_and_flag(world: World, client: Client, clock: Any) -> None:
    late = ticket_in(world, "accepted")
    hd = ticket_in(world, "dispatched", street_code="110108012", address="海淀区海淀街道")
    clock.shift(dt.timedelta(days=20))
    fine = ticket_in(world, "accepted")
    client.force_login(world.city_supervisor)
    page = client.get("/supervision/").content.decode()
    assert late.number in page and hd.number in page and fine.number not in page
    page = client.get("/supervision/?scope=overdue&district=110108").content.decode()
    assert hd.number in page and late.number not in page
    page = client.get("/supervision/?scope=open&category=01&date_from=2026-12-01").content.decode()
    assert fine.number in page and late.number not in page
    client.post(
        f"/tickets/{late.pk}/act/supervise/",
        {"version": fresh(late).version, "note": "请加快", "next": "/supervision/"},
    )
    assert fresh(late).supervised


def test_district_supervisor_sees_only_the_district(world: World, client: Client, clock: Any) -> None:
    cy = ticket_in(world, "accepted")
    hd = ticket_in(world, "dispatched", street_code="110108012", address="海淀区海淀街道")
    clock.shift(dt.timedelta(days=20))
    client.force_login(world.cy_supervisor)
    page = client.get("/supervision/").content.decode()
    assert cy.number in page and hd.number not in page


def test_overview_counts(world: World, client: Client, clock: Any) -> None:
    ticket_in(world, "accepted")
    ticket_in(world, "dispatched", street_code="110108012", address="海淀区海淀街道")
    client.force_login(world.city_supervisor)
    page = client.get("/supervision/overview/").content.decode()
    assert "echarts.min.js" in page and '"code": "110105"' in page and '"code": "110108"' in page


@pytest.mark.parametrize(
    ("role", "url"), [*PAGES.items(), ("jw_leader", "/inbox/"), ("city_supervisor", "/supervision/overview/")]
)
def test_query_count_does_not_grow_with_rows(world: World, client: Client, role: str, url: str) -> None:
    for state in ["new", "dispatched", "accepted", "replied"]:
        ticket_in(world, state)
    client.force_login(getattr(world, role))
    with CaptureQueriesContext(connection) as few:
        client.get(url + ("?scope=open" if url[1:] == "supervision/" else ""))
    for state in ["new", "dispatched", "accepted", "replied"] * 4:
        ticket_in(world, state)
    with CaptureQueriesContext(connection) as many:
        client.get(url + ("?scope=open" if url[1:] == "supervision/" else ""))
    assert len(few) > 0
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_lists_filter_by_number_or_title(world: World, client: Client) -> None:
    a = ticket_in(world, "dispatched", title="路灯不亮")
    b = ticket_in(world, "dispatched")
    client.force_login(world.jw_handler)
    page = client.get("/inbox/", {"tab": "sign", "q": "路灯"}).content.decode()
    assert a.number in page and b.number not in page
    page = client.get("/inbox/", {"tab": "sign", "q": b.number}).content.decode()
    assert b.number in page and a.number not in page
    returned = ticket_in(world, "return_requested", title="井盖缺失")
    client.force_login(world.dispatcher)
    page = client.get("/dispatch/", {"tab": "returns", "q": "井盖"}).content.decode()
    assert returned.number in page


def test_the_new_handler_is_notified_of_a_reassignment(world: World) -> None:
    from jiesu.lib import clock
    from jiesu.notify.models import Notification
    from jiesu.notify.outbox import process_outbox

    colleague = make_user("jw_handler3", "unit_handler", "110105001")
    ticket = ticket_in(world, "accepted")
    services.assign_handler(world.jw_leader, ticket.pk, colleague.pk)
    process_outbox(clock.now())
    assert Notification.objects.filter(user=colleague, event__action="assign_handler").count() == 1


def test_same_category_at_another_address_is_no_merge_candidate(world: World, client: Client) -> None:
    ticket_in(world, "dispatched", address="朝阳区建外街道光华路1号", title="幸福家园垃圾清运不及时")
    other = new_ticket(world, requester_phone="13600000001", address="朝阳区建外街道永安里东街88号院")
    client.force_login(world.dispatcher)
    assert other.number not in client.get("/dispatch/?tab=merge").content.decode()
