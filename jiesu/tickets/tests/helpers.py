"""Helpers that bring a ticket into a given state through the real services."""

from typing import Any

from jiesu.testing.world import JIANWAI, World
from jiesu.tickets import services
from jiesu.tickets.models import DeclineReason, Ticket

TEXT = "小区垃圾桶已经三天没有清运，满溢出来，气味很大。"


def new_ticket(w: World, **overrides: Any) -> Ticket:
    fields = {
        "channel": "phone",
        "appeal_type": "complaint",
        "title": "垃圾清运不及时",
        "content": TEXT,
        "category_code": "010201",  # 垃圾清运不及时 → the ticket's street leads
        "requester_name": "张三",
        "requester_phone": "13812345678",
        "address": "朝阳区建外街道光华路1号",
        "street_code": JIANWAI,
    }
    return services.intake(w.operator, **(fields | overrides))


def ticket_in(w: World, state: str, **overrides: Any) -> Ticket:
    """A ticket in `state`, led by 建外街道 (handler w.jw_handler) once dispatched."""
    if state == "closed":
        t = ticket_in(w, "replied", **overrides)
        return services.record_callback(w.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied")
    if state == "merged":
        master = new_ticket(w)
        t = ticket_in(w, "dispatched", **overrides)
        return services.merge(w.dispatcher, t.pk, master.pk)
    t = new_ticket(w, **overrides)
    if state == "new":
        return t
    if state == "declined":
        return services.decline(w.operator, t.pk, decline_reason(), "来电无具体诉求")
    t = services.dispatch(w.dispatcher, t.pk)
    if state == "dispatched":
        return t
    if state == "return_requested":
        return services.request_return(w.jw_handler, t.pk, "不属于本街道职责")
    t = services.accept(w.jw_handler, t.pk)
    if state == "accepted":
        return t
    t = services.reply(w.jw_handler, t.pk, "已清运完毕")
    if state == "replied":
        return t
    if state == "called_back":
        return services.record_callback(
            w.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied", finalize=False
        )
    raise ValueError(state)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def decline_reason() -> str:
    """A published 不予受理 reason (the test world has none by itself)."""
    DeclineReason.objects.get_or_create(code="D05", defaults={"title": "无实质内容或恶意骚扰"})
    return "D05"
