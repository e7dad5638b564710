"""Every change writes exactly one immutable event with who, which unit, what, from → to and when."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from jiesu.lib.clock import SHANGHAI
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import Callback, Ticket, TicketEvent

from .helpers import fresh, new_ticket


def test_full_lifecycle_leaves_one_event_per_change(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    w = world
    t = new_ticket(w)
    steps = [
        ("intake", w.operator, None),
        ("dispatch", w.dispatcher, lambda: services.dispatch(w.dispatcher, t.pk)),
        ("request_return", w.jw_handler, lambda: services.request_return(w.jw_handler, t.pk, "非本街道职责")),
        ("reject_return", w.dispatcher, lambda: services.reject_return(w.dispatcher, t.pk, "属于街道职责")),
        ("accept", w.jw_handler, lambda: services.accept(w.jw_handler, t.pk)),
        ("whistle", w.jw_handler, lambda: services.whistle(w.jw_handler, t.pk, ["D001"], "请城管委到场")),
        ("report_in", w.cgw_handler, lambda: services.report_in(w.cgw_handler, t.pk, "已到场")),
        ("add_progress", w.jw_handler, lambda: services.add_progress(w.jw_handler, t.pk, "联系了诉求人")),
        (
            "request_extension",
            w.jw_handler,
            lambda: services.request_extension(w.jw_handler, t.pk, fresh(t).due_at + dt.timedelta(days=3), "协调中"),
        ),
        ("approve_extension", w.dispatcher, lambda: services.approve_extension(w.dispatcher, t.pk)),
        ("supervise", w.city_supervisor, lambda: services.supervise(w.city_supervisor, t.pk, "加快")),
        ("reply", w.jw_handler, lambda: services.reply(w.jw_handler, t.pk, "已清运")),
        (
            "callback",
            w.agent,
            lambda: services.record_callback(
                w.agent, t.pk, contacted=True, resolution="unsolved", satisfaction="dissatisfied"
            ),
        ),
        ("reopen", w.agent, None),  # written by the same callback
        ("accept", w.jw_handler, lambda: services.accept(w.jw_handler, t.pk)),
        ("reply", w.jw_handler, lambda: services.reply(w.jw_handler, t.pk, "再次清运并加密频次")),
        (
            "callback",
            w.agent,
            lambda: services.record_callback(
                w.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied"
            ),
        ),
        ("close", w.agent, None),
    ]
    for _, _, call in steps:
        if call:
            clock.shift(dt.timedelta(minutes=30))
            call()

    events = list(TicketEvent.objects.filter(ticket=t).select_related("actor", "actor_unit").order_by("id"))
    assert [(e.action, e.actor) for e in events] == [(a, u) for a, u, _ in steps]
    for e in events:
        assert e.actor_unit == e.actor.membership.unit
        assert e.created_at.tzinfo is not None
    assert [(e.from_state, e.to_state) for e in events][:5] == [
        ("", "new"),
        ("new", "dispatched"),
        ("dispatched", "return_requested"),
        ("return_requested", "dispatched"),
        ("dispatched", "accepted"),
    ]
    assert events[-1].to_state == "closed"
    assert events[0].created_at == dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI)
    final = fresh(t)
    assert final.reopen_count == 1
    assert final.version == 1 + len(events) - 1  # every change after intake bumped the version once
    assert list(Callback.objects.filter(ticket=t).values_list("round", "satisfaction")) == [
        (1, "dissatisfied"),
        (2, "satisfied"),
    ]
    assert final.supervised


def test_events_are_immutable(world: World) -> None:
    t = new_ticket(world)
    event = TicketEvent.objects.get(ticket=t)
    event.note = "篡改"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_ticket_cannot_be_saved_around_the_services(world: World) -> None:
    t = new_ticket(world)
    t.dispatch_state = "closed"
    with pytest.raises(ValidationError):
        t.save()
    assert Ticket.objects.get(pk=t.pk).dispatch_state == "new"


def test_paused_clock_during_extension_request(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    t = services.dispatch(world.dispatcher, new_ticket(world).pk)
    services.accept(world.jw_handler, t.pk)
    due = fresh(t).due_at
    services.request_extension(world.jw_handler, t.pk, due + dt.timedelta(days=5), "需要协调")
    clock.shift(dt.timedelta(hours=30))
    services.deny_extension(world.dispatcher, t.pk, "不同意")
    # Denied: the old deadline stands, moved on by the 30 hours the clock was paused.
    assert fresh(t).due_at == due + dt.timedelta(hours=30)
    assert fresh(t).paused_at is None


def test_approved_extension_moves_the_deadline(world: World) -> None:
    t = services.dispatch(world.dispatcher, new_ticket(world).pk)
    services.accept(world.jw_handler, t.pk)
    wanted = fresh(t).due_at + dt.timedelta(days=5)
    services.request_extension(world.jw_handler, t.pk, wanted, "需要协调")
    services.approve_extension(world.dispatcher, t.pk, "同意")
    assert fresh(t).due_at == wanted
    event = TicketEvent.objects.filter(ticket=t, action="approve_extension").get()
    assert event.data["to_due_at"] == wanted.isoformat()


def test_dispatch_falls_back_to_the_district(world: World) -> None:
    """兜底: a street-led category whose place names only the district goes to the district."""
    t = new_ticket(world, street_code=None, district_code="110105")
    t = services.dispatch(world.dispatcher, t.pk)
    assert t.lead_unit.code == "110105"
    assert TicketEvent.objects.get(ticket=t, action="dispatch").data["fallback"] is True


def test_dispatch_uses_the_catalogue_with_assisting_units(world: World) -> None:
    t = services.dispatch(world.dispatcher, new_ticket(world, category_code="020202", title="电线垂落").pk)
    assert t.lead_unit.code == "C002"
    assert [a.unit.code for a in t.assignments.filter(role="assist")] == ["110105001"]


def test_approved_return_redispatches_and_keeps_history(world: World) -> None:
    t = services.dispatch(world.dispatcher, new_ticket(world).pk)
    services.request_return(world.jw_handler, t.pk, "该地址属于朝外街道")
    t = services.approve_return(world.dispatcher, t.pk, lead_code="110105002", note="改派朝外街道")
    assert t.lead_unit.code == "110105002"
    assert list(t.assignments.order_by("id").values_list("unit__code", "is_current")) == [
        ("110105001", False),
        ("110105002", True),
    ]
    assert t.return_requests.get().state == "approved"


def test_idempotency_key_never_creates_two(world: World) -> None:
    first = new_ticket(world, idempotency_key="call-20261117-0001")
    second = new_ticket(world, idempotency_key="call-20261117-0001")
    assert first.pk == second.pk
    assert TicketEvent.objects.filter(action="intake", ticket=first).count() == 1


def test_ticket_numbers_are_readable_and_sequential(world: World, clock) -> None:  # type: ignore[no-untyped-def]
    a, b = new_ticket(world), new_ticket(world)
    assert (a.number, b.number) == ("20261117000001", "20261117000002")
