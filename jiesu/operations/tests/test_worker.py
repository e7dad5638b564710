"""`jiesu worker`: marks overdue tickets and escalates them to the unit's leaders, exactly once,
even when killed mid-run and restarted."""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from jiesu.lib.clock import SHANGHAI
from jiesu.notify.models import Notification
from jiesu.operations.worker import escalated, tick
from jiesu.testing.world import World, build_world
from jiesu.tickets import services
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.tests.helpers import fresh, ticket_in

START = dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI)


def overdue_world(world: World, count: int, start: dt.datetime = START) -> list[Ticket]:
    with time_machine.travel(start, tick=False):
        tickets = [ticket_in(world, "accepted") for _ in range(count)]
    return tickets


def escalations() -> list[int]:
    return list(
        TicketEvent.objects.filter(action="mark_overdue").order_by("ticket_id").values_list("ticket_id", flat=True)
    )


def test_tick_escalates_once_to_the_leader(world: World) -> None:
    tickets = overdue_world(world, 2)
    with time_machine.travel(START + dt.timedelta(days=20), tick=False):
        assert escalated(tick()) == 2
        assert escalated(tick()) == 0  # idempotent
        call_command("worker", "--once", stdout=io.StringIO())
    assert escalations() == sorted(t.pk for t in tickets)
    event = TicketEvent.objects.filter(action="mark_overdue").first()
    assert event.actor is None and event.data["escalated_to"] == ["jw_leader"]
    assert fresh(tickets[0]).overdue_at is not None
    assert Notification.objects.filter(user=world.jw_leader, event__action="mark_overdue").count() == 2
    assert Notification.objects.filter(event=event).count() == 1  # the outbox also ran exactly once


def test_not_overdue_paused_or_replied_tickets_are_left_alone(world: World) -> None:
    with time_machine.travel(START, tick=False):
        on_time = ticket_in(world, "accepted")
        paused = ticket_in(world, "accepted")
        services.request_extension(world.jw_handler, paused.pk, fresh(paused).due_at + dt.timedelta(days=30), "等待")
        replied = ticket_in(world, "replied")
    with time_machine.travel(fresh(on_time).due_at - dt.timedelta(minutes=1), tick=False):
        assert escalated(tick()) == 0
    with time_machine.travel(START + dt.timedelta(days=20), tick=False):
        tick()
    assert escalations() == [on_time.pk]
    assert fresh(replied).overdue_at is None


def test_escalation_rolls_back_whole_when_interrupted(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between marking and recording leaves neither: the transaction is all or nothing."""
    tickets = overdue_world(world, 3)
    import jiesu.tickets.services.escalation as svc

    real_event = svc._event
    calls = {"n": 0}

    def crash_on_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real_event(*args, **kwargs)

    monkeypatch.setattr(svc, "_event", crash_on_second)
    with time_machine.travel(START + dt.timedelta(days=20), tick=False):
        with pytest.raises(KeyboardInterrupt):
            tick()
        assert len(escalations()) == 1
        assert Ticket.objects.filter(overdue_at__isnull=False).count() == 1
        monkeypatch.setattr(svc, "_event", real_event)
        tick()
    assert escalations() == sorted(t.pk for t in tickets)


@pytest.mark.django_db(transaction=True)
def test_worker_process_killed_mid_run_and_restarted() -> None:
    """A real `jiesu worker` process, SIGKILLed while escalating, then restarted: no loss, no duplicate."""
    world = build_world()
    # Made 60 days ago, so they are overdue for the real clock the worker process reads.
    tickets = overdue_world(world, 8, start=dt.datetime.now(SHANGHAI) - dt.timedelta(days=60))
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[3]
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["JIESU_SQLITE_PATH"] = db["NAME"]
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    cmd = [sys.executable, "-m", "jiesu", "worker", "--interval", "3600", "--throttle", "0.4"]
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(escalations()) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before_kill = len(escalations())
    assert 2 <= done_before_kill < 8, (done_before_kill, proc.stderr.read().decode()[-2000:] if proc.stderr else "")

    rerun = subprocess.run([*cmd[:4], "--once"], env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert escalations() == sorted(t.pk for t in tickets)  # each exactly once
    again = subprocess.run([*cmd[:4], "--once"], env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert "deadline:mark_overdue 0" in again.stdout and "deadline:mark_sign_overdue 0" in again.stdout
    assert len(escalations()) == 8


def test_unsigned_ticket_is_escalated_once_for_the_sign_limit(world: World) -> None:
    with time_machine.travel(START, tick=False):
        ticket = ticket_in(world, "dispatched")  # ordinary: sign within 2 hours
    assert fresh(ticket).accept_due_at == START + dt.timedelta(hours=2)
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        assert escalated(tick()) == 0
    with time_machine.travel(START + dt.timedelta(hours=3), tick=False):
        assert escalated(tick()) == 1
        assert escalated(tick()) == 0
        services.accept(world.jw_handler, ticket.pk)
    events = TicketEvent.objects.filter(ticket=ticket, action="mark_sign_overdue")
    assert [e.data["escalated_to"] for e in events] == [["jw_leader"]]
    assert TicketEvent.objects.get(ticket=ticket, action="accept").data["late"] is True
    assert Notification.objects.filter(user=world.jw_leader, event__action="mark_sign_overdue").count() == 1


def test_a_new_round_restarts_the_sign_clock(world: World) -> None:
    with time_machine.travel(START, tick=False):
        ticket = ticket_in(world, "dispatched")
    with time_machine.travel(START + dt.timedelta(hours=3), tick=False):
        tick()
        services.request_return(world.jw_handler, ticket.pk, "不属于本街道")
        services.reject_return(world.dispatcher, ticket.pk, "属于街道职责")
        assert fresh(ticket).accept_overdue_at is None
    with time_machine.travel(START + dt.timedelta(hours=6), tick=False):
        tick()
    assert TicketEvent.objects.filter(ticket=ticket, action="mark_sign_overdue").count() == 2
