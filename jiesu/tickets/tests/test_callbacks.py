"""回访 outcomes: reached, no answer with retries on a moved clock, refused, wrong number; the worklist and the
ticket page show them."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from jiesu.lib.errors import InvalidInput
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import Callback, TicketEvent

from .helpers import fresh, ticket_in


@pytest.fixture(autouse=True)
def retries(settings: Any) -> None:
    settings.JIESU_CALLBACK_ATTEMPTS = 3
    settings.JIESU_CALLBACK_RETRY_MINUTES = [30, 120]


def test_no_answer_retries_then_records_not_reached(world: World, clock: Any) -> None:
    ticket = ticket_in(world, "replied")
    services.record_callback(world.agent, ticket.pk, outcome="no_answer", comment="无人接听")
    t = fresh(ticket)
    assert (t.dispatch_state, t.callback_attempts) == ("replied", 1)
    first_retry = t.callback_retry_at
    assert first_retry is not None and (first_retry - t.updated_at) == dt.timedelta(minutes=30)
    assert not Callback.objects.filter(ticket=ticket).exists()

    clock.shift(dt.timedelta(minutes=31))
    services.record_callback(world.agent, ticket.pk, outcome="no_answer")
    t = fresh(ticket)
    assert t.callback_attempts == 2 and (t.callback_retry_at - t.updated_at) == dt.timedelta(minutes=120)
    assert TicketEvent.objects.filter(ticket=ticket, action="callback_attempt").count() == 2

    clock.shift(dt.timedelta(hours=2, minutes=1))
    services.record_callback(world.agent, ticket.pk, outcome="no_answer")  # the third: recorded as not reached
    t = fresh(ticket)
    cb = Callback.objects.get(ticket=ticket)
    assert (cb.outcome, cb.attempts, cb.contacted, cb.resolution, cb.satisfaction) == (
        "no_answer",
        3,
        False,
        "not_asked",
        "not_asked",
    )
    assert (t.dispatch_state, t.callback_attempts, t.callback_retry_at) == ("closed", 0, None)


def test_worklist_puts_due_callbacks_first_and_shows_the_retry_time(world: World, clock: Any, client: Client) -> None:
    waiting = ticket_in(world, "replied", title="等待再次回访")
    due = ticket_in(world, "replied", title="应当回访")
    services.record_callback(world.agent, waiting.pk, outcome="no_answer")
    client.force_login(world.agent)
    page = client.get("/callbacks/").content.decode()
    assert page.index("应当回访") < page.index("等待再次回访")
    assert "无人接听" in page and "再次回访" in page
    clock.shift(dt.timedelta(minutes=45))
    page = client.get("/callbacks/").content.decode()
    assert page.index("等待再次回访") < page.index("应当回访")  # the older reply, now due again
    assert due.pk


@pytest.mark.parametrize(("outcome", "contacted"), [("refused", True), ("wrong_number", False)])
def test_refused_and_wrong_number_are_recorded_at_once(world: World, outcome: str, contacted: bool) -> None:
    ticket = ticket_in(world, "replied")
    services.record_callback(world.agent, ticket.pk, outcome=outcome)
    cb = Callback.objects.get(ticket=ticket)
    assert (cb.outcome, cb.contacted, cb.resolution) == (outcome, contacted, "not_asked")
    assert fresh(ticket).dispatch_state == "closed"


def test_a_reached_caller_needs_the_answers(world: World) -> None:
    ticket = ticket_in(world, "replied")
    with pytest.raises(InvalidInput):
        services.record_callback(world.agent, ticket.pk, outcome="reached", contacted=True)
    assert fresh(ticket).dispatch_state == "replied"


def test_callback_form_starts_empty_and_the_answers_show_on_the_ticket(world: World, client: Client) -> None:
    ticket = ticket_in(world, "replied")
    client.force_login(world.agent)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    form = page[page.index('id="act-callback"') :]
    form = form[: form.index("</form>")]
    assert " selected" not in form.replace('value="" selected', "") and "checked" not in form
    response = client.post(
        f"/tickets/{ticket.pk}/act/callback/",
        {
            "version": fresh(ticket).version,
            "outcome": "reached",
            "contacted": "yes",
            "resolution": "partly",
            "satisfaction": "fairly_satisfied",
            "note": "基本满意",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    box = page[page.index('id="callbacks"') :]
    assert "部分解决" in box and "基本满意" in box
