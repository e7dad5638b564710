"""Benchmark of `jiesu import orders` into PostgreSQL, beside the ORM's bulk_create path in the same run.

1. Starts the project's throw-away PostgreSQL (`scripts/pg start`) unless DATABASE_URL is set, makes a fresh
   database `jiesu_import_bench`, migrates it and loads the reference data.
2. Writes a synthetic CSV in the NYC 311 layout (N rows, ids, dates over two years, complaint types, channels,
   coordinates, 80 % closed with a resolution text), so no shared data is copied.
3. Ceiling: a second file of the same size is imported, its tickets and events are read back as complete rows and
   deleted, encoded for COPY (untimed), and the same rows are written again by binary COPY alone (batches of 10,000
   orders with their events, one transaction each, same tables, same indexes, same foreign-key checks at commit):
   what the database takes when no reading, parsing, validating or encoding is left. Measured first, so the
   production path then writes into the larger tables (the ratio errs low, not high).
4. Production path: `import_orders` with the shipped `nyc311` mapping (read, validate and build the complete rows
   in one thread; per batch of 10,000, one transaction of two binary COPYs, tickets and events, in a second
   thread). Prints orders/s against the target of ≥ 20,000/s and as a share of the ceiling (target ≥ 80 %).
5. Baseline: the same orders as Django model objects through `bulk_create` (tickets, then their events).
6. Re-import of the same file: nothing created.
7. With ../shared/data present, the real NYC sample (5,895 rows) too.

Usage: .venv/bin/python bench/import_bench.py [--rows 200000] [--baseline-rows 20000]
No thresholds are asserted: the numbers are printed next to their targets.
"""

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "jiesu_import_bench"


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


os.environ["DATABASE_URL"] = database_url()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from jiesu.integrations.transfer import Mapping, RowReader, import_orders, rows  # noqa: E402
from jiesu.lib import clock  # noqa: E402
from jiesu.tickets.models import Ticket, TicketEvent  # noqa: E402

TYPES = [
    ("Noise - Residential", "Loud Music/Party"), ("HEAT/HOT WATER", "ENTIRE BUILDING"), ("Illegal Parking", "Blocked Hydrant"),
    ("Street Condition", "Pothole"), ("Blocked Driveway", "No Access"), ("Dirty Condition", "Trash"),
    ("Water System", "Hydrant Running"), ("Street Light Condition", "Street Light Out"), ("Rodent", "Rat Sighting"),
    ("Sewer", "Catch Basin Clogged/Flooding"), ("Elevator", "Elevator - Defective/Not Working"), ("Graffiti", "Graffiti"),
]  # fmt: skip
CHANNELS = ["PHONE", "ONLINE", "MOBILE", "UNKNOWN"]
HEADER = ["Unique Key", "Created Date", "Closed Date", "Complaint Type", "Descriptor", "Location Type", "Incident Address",
          "City", "Borough", "Resolution Description", "Open Data Channel Type", "Latitude", "Longitude"]  # fmt: skip


def synthetic(path: Path, n: int, first_id: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = dt.datetime(2023, 1, 1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(n):
            created = start + dt.timedelta(seconds=rng.randrange(0, 730 * 86400))
            closed = created + dt.timedelta(hours=rng.randrange(1, 400)) if rng.random() < 0.8 else None
            kind, descriptor = rng.choice(TYPES)
            writer.writerow([
                first_id + i, created.strftime("%m/%d/%Y %I:%M:%S %p"),
                closed.strftime("%m/%d/%Y %I:%M:%S %p") if closed else "", kind, descriptor, "RESIDENTIAL BUILDING",
                f"{rng.randrange(1, 3000)} {rng.choice(['BROADWAY', 'AMSTERDAM AVENUE', 'OCEAN PARKWAY'])}",
                "NEW YORK", rng.choice(["MANHATTAN", "BROOKLYN", "QUEENS", "BRONX"]),
                "The Police Department responded to the complaint and took action to fix the condition." if closed else "",
                rng.choice(CHANNELS), f"{40.5 + rng.random() * 0.4:.6f}", f"{-74.2 + rng.random() * 0.5:.6f}",
            ])  # fmt: skip


def baseline(path: Path, limit: int) -> float:
    """The same rows through the ORM: model objects and bulk_create, ticket numbers from the same reservation."""
    from jiesu.tickets.services.history import _history_numbers

    source = rows(path)
    reader = RowReader(Mapping.load("nyc311"), next(source), clock.local_date(clock.now()))
    orders = []
    for row in source:
        order = reader.read(row)
        if not isinstance(order, str):
            orders.append(order)
        if len(orders) >= limit:
            break
    started = time.perf_counter()
    with transaction.atomic():
        days: dict[dt.date, int] = {}
        for o in orders:
            days[clock.local_date(o.intake_at)] = days.get(clock.local_date(o.intake_at), 0) + 1
        numbers = _history_numbers(days)
        from jiesu.sla.policy import policy_for

        policy = {}
        tickets = []
        for o in orders:
            p = policy.get(o.category.pk) or policy.setdefault(
                o.category.pk, policy_for(o.category, o.category.time_limit_class, dt.date.today())
            )
            state = "closed" if o.closed_at else "new"
            tickets.append(Ticket(
                number=numbers[clock.local_date(o.intake_at)].pop(), idempotency_key="orm:" + o.key, channel=o.channel,
                appeal_type=o.appeal_type, title=o.title, content=o.content, address=o.address, latitude=o.latitude,
                longitude=o.longitude, category=o.category, time_limit_class=o.category.time_limit_class,
                time_limit_policy=p, dispatch_state=state, public_status=state if o.closed_at else "received",
                intake_at=o.intake_at, closed_at=o.closed_at, replied_at=o.closed_at, reply=o.reply,
                updated_at=o.closed_at or o.intake_at,
            ))  # fmt: skip
        Ticket.objects.bulk_create(tickets, batch_size=2000)
        events = []
        now = clock.now()
        for t, o in zip(tickets, orders, strict=True):
            events.append(
                TicketEvent(
                    ticket=t,
                    action="intake",
                    from_state="",
                    to_state="new",
                    created_at=o.intake_at,
                    notified_at=now,
                    data={"imported": o.source},
                )
            )
            if o.closed_at:
                events.append(TicketEvent(ticket=t, action="close", from_state="new", to_state="closed", note=o.reply, created_at=o.closed_at, notified_at=now, data={"imported": o.source}))  # fmt: skip
        TicketEvent.objects.bulk_create(events, batch_size=5000)
    return len(orders) / (time.perf_counter() - started)


def ceiling(path: Path) -> tuple[int, float, float]:
    """(orders, seconds, seconds of encoding): COPY alone of the rows `import_orders` makes for `path`. The file is
    imported once, its tickets and events are read back as complete rows and deleted (then VACUUM), encoded for COPY
    (value lists in column order, JSON encoded: `jiesu.lib.bulk.encode_json`; timed apart) and written again by
    binary COPY (`bulk.copy_in`) in batches of 10,000 orders with their events, one transaction each: the same rows
    into the same tables with the same indexes and foreign-key checks, no reading, checking or encoding."""
    from jiesu.lib import bulk

    import_orders(path, Mapping.load("nyc311"))
    ticket_fields = [f.attname for f in Ticket._meta.concrete_fields]
    event_fields = [f.attname for f in TicketEvent._meta.concrete_fields]
    tickets = list(
        Ticket.objects.filter(idempotency_key__startswith="imp:nyc311:7").order_by("id").values_list(*ticket_fields)
    )
    ids = [t[0] for t in tickets]
    events = list(TicketEvent.objects.filter(ticket_id__in=ids).order_by("id").values_list(*event_fields))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TicketEvent._meta.db_table} WHERE ticket_id = ANY(%s)", [ids])
        cursor.execute(f"DELETE FROM {Ticket._meta.db_table} WHERE id = ANY(%s)", [ids])
        cursor.execute(f"VACUUM ANALYZE {TicketEvent._meta.db_table}, {Ticket._meta.db_table}")
    ticket_at = event_fields.index("ticket_id")
    by_ticket: dict[int, list[list[Any]]] = {}
    started = time.perf_counter()
    for event in bulk.encode_json(TicketEvent, [list(e) for e in events]):
        by_ticket.setdefault(event[ticket_at], []).append(event)
    batches = []
    for i in range(0, len(tickets), 10_000):
        chunk = bulk.encode_json(Ticket, [list(t) for t in tickets[i : i + 10_000]])
        batches.append((chunk, [e for t in chunk for e in by_ticket.get(t[0], [])]))
    encoding = time.perf_counter() - started
    started = time.perf_counter()
    for chunk, chunk_events in batches:
        with transaction.atomic():
            bulk.copy_in(Ticket, chunk)
            bulk.copy_in(TicketEvent, chunk_events)
    return len(tickets), time.perf_counter() - started, encoding


def main() -> None:
    print("load:", os.getloadavg())
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    args = parser.parse_args()
    print(f"PostgreSQL {connection.cursor().connection.info.server_version} · database {DB}")
    call_command("migrate", verbosity=0)
    call_command("seed", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nyc_layout.csv"
        synthetic(path, args.rows, 900_000_000)
        top = Path(tmp) / "ceiling.csv"
        synthetic(top, args.rows, 700_000_000, seed=9)
        top_orders, top_seconds, encoding = ceiling(top)
        top_rate = top_orders / top_seconds
        print(
            f"ceiling (COPY of built rows): {top_orders:,} orders in {top_seconds:.2f} s = {top_rate:,.0f} orders/s "
            f"(their encoding for COPY, not counted: {encoding:.2f} s more)"
        )
        before = TicketEvent.objects.count()
        started = time.perf_counter()
        result = import_orders(path, Mapping.load("nyc311"))
        seconds = time.perf_counter() - started
        events = TicketEvent.objects.count() - before
        rate = result.created / seconds
        print(f"import (COPY):    {result.created:,} orders ({events:,} events) in {seconds:.2f} s = "
              f"{rate:,.0f} orders/s  (target ≥ 20,000/s; rejected {result.rejected})")  # fmt: skip
        print(f"  → {rate / top_rate:.2f} of the COPY ceiling measured in this run (target ≥ 0.80)")
        started = time.perf_counter()
        again = import_orders(path, Mapping.load("nyc311"))
        print(
            f"re-import:        {again.created} created, {again.present:,} already present in {time.perf_counter() - started:.2f} s"
        )
        base = Path(tmp) / "baseline.csv"
        synthetic(base, args.baseline_rows, 800_000_000, seed=8)
        rate = baseline(base, args.baseline_rows)
        print(f"baseline (ORM bulk_create): {args.baseline_rows:,} orders at {rate:,.0f} orders/s  "
              f"→ COPY path is {result.created / seconds / rate:.1f}× faster")  # fmt: skip
    real = ROOT.parent / "shared/data/us311/nyc/nyc311_sample_5895_2010-2025__nickmvega_data237-wi25.csv"
    if real.is_file():
        started = time.perf_counter()
        found = import_orders(real, Mapping.load("nyc311"), Path(tempfile.gettempdir()) / "nyc-rejects.csv")
        seconds = time.perf_counter() - started
        print(
            f"real NYC sample:  {found.created:,} created, {found.rejected} rejected in {seconds:.2f} s = {found.read / seconds:,.0f} rows/s"
        )
    else:
        print("real NYC sample:  skipped (../shared/data is absent)")
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
