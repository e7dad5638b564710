"""Benchmark of the foundation: service-layer lifecycle, the order list page and the worker's deadline tick.

Each number is printed beside a baseline measured in the same run on the same database:
- lifecycle: full intake → dispatch → sign → reply → callback/close through the services, against writing
  the same rows (ticket, assignment, events) with plain ORM calls and no checks;
- list page: GET /tickets/ through Django's test client, against evaluating its queryset alone;
- worker: escalating N overdue tickets one compare-and-set transaction each, against one bulk UPDATE.

Usage: .venv/bin/python bench/lifecycle_bench.py [--tickets 300]   (DATABASE_URL selects PostgreSQL)
No thresholds: it reports, the reader judges. Machines are shared and noisy.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators
if not os.environ.get("DATABASE_URL"):
    os.environ["JIESU_SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from jiesu.lib import clock  # noqa: E402
from jiesu.testing.world import build_world  # noqa: E402
from jiesu.tickets import selectors, services  # noqa: E402
from jiesu.tickets.models import Assignment, Ticket, TicketEvent  # noqa: E402
from jiesu.tickets.tests.helpers import new_ticket  # noqa: E402


def timed(fn, repeat: int = 1) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def report(name: str, value: float, baseline: float, unit: str) -> None:
    print(f"{name:<44} {value:>10.2f} {unit:<10} baseline {baseline:>10.2f} {unit:<10} ratio {value / baseline:>8.3g}x")


def lifecycle(w, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        t = new_ticket(w)
        services.dispatch(w.dispatcher, t.pk)
        services.accept(w.jw_handler, t.pk)
        services.reply(w.jw_handler, t.pk, "已处理")
        services.record_callback(w.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied")


def raw_writes(w, template: Ticket, n: int) -> None:  # type: ignore[no-untyped-def]
    fields = {f.attname: getattr(template, f.attname) for f in Ticket._meta.concrete_fields if f.attname != "id"}
    for i in range(n):
        with transaction.atomic():
            t = Ticket.objects.create(**(fields | {"number": f"RAW{i:08d}", "idempotency_key": None}))
            Assignment.objects.create(ticket=t, unit=template.lead_unit, role="lead", assigned_at=clock.now())
            for action in ["intake", "dispatch", "accept", "reply", "callback", "close"]:
                TicketEvent.objects.create(ticket=t, action=action, to_state="closed", created_at=clock.now())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=300)
    n = parser.parse_args().tickets
    call_command("migrate", verbosity=0)
    w = build_world()
    print(f"database: {django.db.connection.vendor}; tickets: {n}")

    services_s = timed(lambda: lifecycle(w, n))[0]
    template = Ticket.objects.filter(dispatch_state="closed").first()
    raw_s = timed(lambda: raw_writes(w, template, n))[0]
    report("lifecycle through services (tickets/s)", n / services_s, n / raw_s, "tickets/s")

    setup_test_environment()
    client = Client()
    for user in (w.jw_handler, w.dispatcher):
        client.force_login(user)
        page = timed(lambda: client.get("/tickets/"), repeat=30)
        query = timed(lambda u=user: list(selectors.ticket_list(u)[:50]), repeat=30)
        report(
            f"GET /tickets/ as {user.username} p50 (ms)",
            statistics.median(page) * 1000,
            statistics.median(query) * 1000,
            "ms",
        )
        report(f"GET /tickets/ as {user.username} max (ms)", max(page) * 1000, max(query) * 1000, "ms")

    # Worker: make n tickets overdue, then escalate them one by one vs one bulk UPDATE.
    with clock.at(clock.now() - dt.timedelta(days=60)):
        ids = []
        for _ in range(n):
            t = services.dispatch(w.dispatcher, new_ticket(w).pk)
            ids.append(t.pk)
    from jiesu.operations.worker import tick

    tick_s = timed(lambda: tick(batch=n * 2))[0]
    escalated = TicketEvent.objects.filter(action="mark_overdue").count()
    Ticket.objects.filter(pk__in=ids).update(overdue_at=None)
    bulk_s = timed(lambda: Ticket.objects.filter(pk__in=ids, overdue_at__isnull=True).update(overdue_at=clock.now()))[0]
    report(f"worker escalation of {escalated} tickets (tickets/s)", escalated / tick_s, n / bulk_s, "tickets/s")


if __name__ == "__main__":
    main()
