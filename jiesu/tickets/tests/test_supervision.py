"""督办 with an instruction and an answer deadline; the unit's 督办 list; the answer on the trail and the page."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from jiesu.lib.errors import IllegalTransition, InvalidInput
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import SupervisionOrder

from .helpers import fresh, ticket_in


def test_supervision_order_is_listed_for_the_unit_and_answered(world: World, client: Client, clock: Any) -> None:
    ticket = ticket_in(world, "accepted")
    respond_by = fresh(ticket).updated_at + dt.timedelta(hours=4)
    services.supervise(world.city_supervisor, ticket.pk, "请今日内反馈清运安排", respond_by=respond_by)
    order = SupervisionOrder.objects.get(ticket=ticket)
    assert (order.unit.code, order.respond_by, order.answered_at) == (fresh(ticket).lead_unit.code, respond_by, None)

    client.force_login(world.jw_handler)
    inbox = client.get("/inbox/?tab=supervised").content.decode()
    assert (
        ticket.number in inbox
        and respond_by.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%m-%d %H:%M") in inbox
    )
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="act-answer_supervision"' in page and "请今日内反馈清运安排" in page

    clock.shift(dt.timedelta(hours=5))  # late
    services.answer_supervision(world.jw_handler, ticket.pk, "已加派车辆，今晚清运完毕")
    order.refresh_from_db()
    assert order.answer == "已加派车辆，今晚清运完毕" and order.answered_at is not None
    event = fresh(ticket).events.filter(action="answer_supervision").get()
    assert event.data["late"] is True
    assert ticket.number not in client.get("/inbox/?tab=supervised").content.decode()
    with pytest.raises(IllegalTransition):
        services.answer_supervision(world.jw_handler, ticket.pk, "再次反馈")


def test_supervision_deadline_must_be_later_and_others_cannot_answer(world: World, client: Client) -> None:
    ticket = ticket_in(world, "accepted")
    with pytest.raises(InvalidInput):
        services.supervise(
            world.city_supervisor, ticket.pk, "请加快", respond_by=fresh(ticket).updated_at - dt.timedelta(hours=1)
        )
    services.supervise(world.city_supervisor, ticket.pk, "请加快")  # default deadline: a day
    client.force_login(world.cw_handler)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404
