"""Benchmark of the notification outbox (`jiesu worker`'s notify step) on PostgreSQL: events per second of one worker,
and of two workers draining the same outbox at once, beside the previous one-event-per-transaction outbox in the
same run.

1. Starts the project's throw-away PostgreSQL (`scripts/pg start`) unless DATABASE_URL is set, makes a fresh
   database `jiesu_outbox_bench`, migrates it, loads the reference data and the test world (one user per role).
2. Makes 60 dispatched tickets through the services, then writes N unprocessed events on them (a mix like a
   working day's: intake, dispatch, accept, progress, reply, supervise, overdue escalation).
3. Baselines: the previous outbox (claim one event, one transaction per event) drains them, then the batched outbox
   as it was through the ORM (model instances, bulk_create) drains as many as the next step.
4. The set-based batched outbox (`jiesu.notify.outbox.process_outbox`, SKIP LOCKED claims of 500) drains the same number
   again: one worker in this process, then two worker processes at once.
Each run checks that every event was processed once and its notifications exist once.

Usage: .venv/bin/python bench/outbox_bench.py [--events 20000]
No thresholds are asserted: the numbers are printed next to the target (≥ 1,000 events/s for one worker).
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "jiesu_outbox_bench"


def database_url() -> str:
    base = (
        os.environ.get("DATABASE_URL")
        or subprocess.check_output([str(ROOT / "scripts/pg"), "start"], text=True).strip()
    )
    import psycopg

    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    return base.rsplit("/", 1)[0] + "/" + DB


if __name__ == "__main__" and "--child" not in sys.argv:
    os.environ["DATABASE_URL"] = database_url()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from jiesu.lib import clock  # noqa: E402
from jiesu.notify.models import Notification  # noqa: E402
from jiesu.notify.outbox import claimed, process_outbox, recipients, recipients_many  # noqa: E402
from jiesu.tickets.models import TicketEvent  # noqa: E402

MIX = ["intake", "dispatch", "accept", "add_progress", "reply", "supervise", "mark_overdue", "intake", "accept"]


def previous_outbox(now: dt.datetime, limit: int) -> int:
    """The outbox before issue 23: one event, one claim, one transaction."""
    ids = list(TicketEvent.objects.filter(notified_at__isnull=True).order_by("id").values_list("id", flat=True)[:limit])
    done = 0
    for event_id in ids:
        with transaction.atomic():
            if not TicketEvent.objects.filter(pk=event_id, notified_at__isnull=True).update(notified_at=now):
                continue
            event = TicketEvent.objects.select_related("ticket").get(pk=event_id)
            Notification.objects.bulk_create(
                [Notification(user_id=uid, event=event, created_at=now) for uid in recipients(event)],
                ignore_conflicts=True,
            )
            done += 1
    return done


def orm_batched_outbox(now: dt.datetime, limit: int) -> int:
    """The batched outbox as it was before its set-based rewrite: SKIP LOCKED claim of model instances with their
    tickets, a conditional update, recipients of the batch, `bulk_create` of Notification instances."""
    from django.db import connection

    with transaction.atomic():
        rows = TicketEvent.objects.filter(notified_at__isnull=True).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        events = list(rows.select_related("ticket")[:limit])
        if not events:
            return 0
        TicketEvent.objects.filter(pk__in=[e.pk for e in events], notified_at__isnull=True).update(notified_at=now)
        told = recipients_many([claimed(e) for e in events])
        notes = [Notification(user_id=uid, event=event, created_at=now) for event in events for uid in told[event.pk]]
        Notification.objects.bulk_create(notes, batch_size=1000, ignore_conflicts=True)
        return len(events)


def make_events(tickets: list[int], n: int) -> None:
    now = clock.now()
    TicketEvent.objects.filter(notified_at__isnull=True).update(notified_at=now)
    events = [
        TicketEvent(
            ticket_id=tickets[i % len(tickets)],
            action=MIX[i % len(MIX)],
            from_state="dispatched",
            to_state="dispatched",
            data={"escalated_to": ["jw_leader"]} if MIX[i % len(MIX)] == "mark_overdue" else {},
            created_at=now,
        )
        for i in range(n)
    ]
    TicketEvent.objects.bulk_create(events, batch_size=5000)


def drain(step: object, batch: int) -> tuple[int, float]:
    started = time.perf_counter()
    done = 0
    while True:
        n = step(clock.now(), batch)  # type: ignore[operator]
        if not n:
            break
        done += n
    return done, time.perf_counter() - started


def check(expected: int) -> str:
    left = TicketEvent.objects.filter(notified_at__isnull=True).count()
    return "ok" if left == 0 else f"{left} LEFT (expected {expected} processed)"


def child() -> None:
    done, seconds = drain(process_outbox, 500)
    print(f"{done} {seconds}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--baseline-events", type=int, default=3_000)
    args = parser.parse_args()
    from django.db import connection

    from jiesu.testing.world import build_world
    from jiesu.tickets.tests.helpers import ticket_in

    print(f"PostgreSQL {connection.cursor().connection.info.server_version} · database {DB} · load {os.getloadavg()}")
    call_command("migrate", verbosity=0)
    call_command("seed", verbosity=0)
    world = build_world()
    tickets = [ticket_in(world, "dispatched").pk for _ in range(60)]

    make_events(tickets, args.baseline_events)
    done, seconds = drain(previous_outbox, 500)
    base = done / seconds
    print(f"previous outbox (one event per transaction): {done:,} events in {seconds:.2f} s = {base:,.0f}/s", end=" ")
    print(check(done))

    make_events(tickets, args.events)
    done, seconds = drain(orm_batched_outbox, 500)
    orm = done / seconds
    print(f"batched outbox through the ORM (before its set-based rewrite): {done:,} events in {seconds:.2f} s = "
          f"{orm:,.0f}/s  {check(done)}")  # fmt: skip

    make_events(tickets, args.events)
    notes_before = Notification.objects.count()
    done, seconds = drain(process_outbox, 500)
    one = done / seconds
    print(
        f"batched outbox, one worker:  {done:,} events in {seconds:.2f} s = {one:,.0f}/s  "
        f"({one / base:.1f}× the previous, {one / orm:.1f}× the ORM batch; target ≥ 1,000/s)  {check(done)}; "
        f"{Notification.objects.count() - notes_before:,} notifications"
    )

    make_events(tickets, args.events)
    env = dict(os.environ)
    started = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, __file__, "--child"], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate()[0].split() for p in procs]
    wall = time.perf_counter() - started
    counts = [int(o[0]) for o in outs]
    drained = max(float(o[1]) for o in outs)  # each child's own drain time, without its start-up
    print(
        f"batched outbox, two worker processes at once: {counts[0]:,} + {counts[1]:,} = {sum(counts):,} events "
        f"(expected {args.events:,}: {'each once' if sum(counts) == args.events else 'MISMATCH'}) drained in "
        f"{drained:.2f} s = {sum(counts) / drained:,.0f}/s ({wall:.0f} s wall with the processes' start)  "
        f"{check(args.events)}"
    )
    print("load:", os.getloadavg())


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        main()
