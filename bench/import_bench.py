"""Benchmark of `jiesu import orders` into PostgreSQL, beside the ORM's bulk_create path in the same run.

1. Starts the project's throw-away PostgreSQL (`scripts/pg start`) unless DATABASE_URL is set, makes a fresh
   database `jiesu_import_bench`, migrates it and loads the reference data.
2. Writes a synthetic CSV in the NYC 311 layout (N rows, ids, dates over two years, complaint types, channels,
   coordinates, 80 % closed with a resolution text), so no shared data is copied.
3. Ceiling: a second file of the same size is imported, its tickets and events are read back as complete rows and
   deleted, encoded for COPY (untimed), and the same rows are written again by binary COPY alone, psycopg formatting
   each row as it goes (batches of 10,000 orders with their events, one transaction each, same tables, same indexes,
   same foreign-key checks at commit): what the database takes when no reading, parsing, validating or building is
   left. Then a stricter ceiling: the same rows formatted beforehand (untimed), only the bytes sent. Measured first,
   so the production path then writes into the larger tables (the ratio errs low, not high).
4. Production path: `import_orders` with the shipped `nyc311` mapping (a forked reader process reads, validates,
   builds the complete rows and formats them as binary COPY data; per batch of 5,000, the importing process writes
   one transaction of two COPYs, tickets and events, only handing the bytes to libpq). Prints orders/s against the
   target of ≥ 20,000/s and as a share of both ceilings (target ≥ 80 %). Each CHECKPOINT before a timed part keeps
   one from falling inside it. With --rounds N, ceilings and import are measured N times in turn (medians, ranges).
5. Baseline: the same orders as Django model objects through `bulk_create` (tickets, then their events).
6. Re-import of the same file: nothing created.
7. With ../shared/data present, the real NYC sample (5,895 rows) too.

Usage: .venv/bin/python bench/import_bench.py [--rows 200000] [--baseline-rows 20000] [--rounds 3]
No thresholds are asserted: the numbers are printed next to their targets.
"""

import argparse
import csv
import datetime as dt
import os
import random
import statistics
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


def checkpoint() -> None:
    """Before each timed part: a checkpoint, so that none falls in the middle of one (they made the figures swing)."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def ceiling(path: Path, prefix: str) -> tuple[int, float, float, float]:
    """(orders, seconds, seconds of the bytes alone, seconds of encoding): COPY alone of the rows `import_orders`
    makes for `path`. The file is imported once, its tickets and events are read back as complete rows and deleted
    (then VACUUM), encoded for COPY (value lists in column order, JSON encoded: `jiesu.lib.bulk.encode_json`; timed
    apart) and written again by binary COPY, psycopg formatting each row as it goes (`write_row`), in batches of
    10,000 orders with their events, one transaction each: the same rows into the same tables with the same indexes
    and foreign-key checks, no reading, checking or building. Then deleted again and written a third time from
    binary COPY data formatted beforehand (`bulk.copy_data`, untimed): the database's share alone, a stricter
    ceiling."""
    from jiesu.lib import bulk

    import_orders(path, Mapping.load("nyc311"))
    ticket_fields = [f.attname for f in Ticket._meta.concrete_fields]
    event_fields = [f.attname for f in TicketEvent._meta.concrete_fields]
    tickets = list(Ticket.objects.filter(idempotency_key__startswith=prefix).order_by("id").values_list(*ticket_fields))
    ids = [t[0] for t in tickets]
    events = list(TicketEvent.objects.filter(ticket_id__in=ids).order_by("id").values_list(*event_fields))

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TicketEvent._meta.db_table} WHERE ticket_id = ANY(%s)", [ids])
            cursor.execute(f"DELETE FROM {Ticket._meta.db_table} WHERE id = ANY(%s)", [ids])
            cursor.execute(f"VACUUM ANALYZE {TicketEvent._meta.db_table}, {Ticket._meta.db_table}")

    delete()
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

    def copy_rows(model: Any, values: list[list[Any]]) -> None:
        with connection.cursor() as cursor, cursor.cursor.copy(bulk._copy_sql(model)) as copy:
            copy.set_types(bulk.copy_types(model))
            for row in values:
                copy.write_row(row)

    checkpoint()
    started = time.perf_counter()
    for chunk, chunk_events in batches:
        with transaction.atomic():
            copy_rows(Ticket, chunk)
            copy_rows(TicketEvent, chunk_events)
    seconds = time.perf_counter() - started
    delete()
    data = [
        (bulk.copy_data(Ticket, chunk), bulk.copy_data(TicketEvent, chunk_events)) for chunk, chunk_events in batches
    ]
    checkpoint()
    started = time.perf_counter()
    for chunk_data, events_data in data:
        with transaction.atomic():
            bulk.copy_in(Ticket, chunk_data)
            bulk.copy_in(TicketEvent, events_data)
    return len(tickets), seconds, time.perf_counter() - started, encoding


def main() -> None:
    print("load:", os.getloadavg())
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=1, help="ceilings and import this many times; medians")
    args = parser.parse_args()
    print(f"PostgreSQL {connection.cursor().connection.info.server_version} · database {DB}")
    call_command("migrate", verbosity=0)
    call_command("seed", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        # Each round measures both ceilings and the import on files of their own (ids 7r… and 9r…); with
        # --rounds > 1 the figures are medians and the ratios come with their range (the machine is shared).
        found: list[tuple[float, float, float, float]] = []  # (ceiling, stricter, import) orders/s, encoding s
        for r in range(args.rounds):
            top = Path(tmp) / f"ceiling{r}.csv"
            synthetic(top, args.rows, 700_000_000 + r * 1_000_000, seed=9 + r)
            top_orders, top_seconds, bytes_seconds, encoding = ceiling(top, f"imp:nyc311:70{r}")
            path = Path(tmp) / f"nyc_layout{r}.csv"
            synthetic(path, args.rows, 900_000_000 + r * 1_000_000, seed=20 + r)
            before = TicketEvent.objects.count()
            checkpoint()
            started = time.perf_counter()
            result = import_orders(path, Mapping.load("nyc311"))
            seconds = time.perf_counter() - started
            events = TicketEvent.objects.count() - before
            found.append((top_orders / top_seconds, top_orders / bytes_seconds, result.created / seconds, encoding))
            print(
                f"round {r + 1}: ceiling {found[-1][0]:,.0f}/s, stricter {found[-1][1]:,.0f}/s, import "
                f"{found[-1][2]:,.0f}/s ({result.created:,} orders, {events:,} events, rejected {result.rejected}) → "
                f"{found[-1][2] / found[-1][0]:.2f} / {found[-1][2] / found[-1][1]:.2f}  load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        top_rate, bytes_rate, rate, encoding = (statistics.median(x[i] for x in found) for i in range(4))
        print(
            f"ceiling (COPY of built rows): {args.rows:,} orders at {top_rate:,.0f} orders/s "
            f"(their encoding for COPY, not counted: {encoding:.2f} s more)"
        )
        print(
            f"  stricter (COPY of the same rows formatted beforehand, the database's share alone): "
            f"{bytes_rate:,.0f} orders/s"
        )
        print(f"import (COPY):    {args.rows:,} orders at {rate:,.0f} orders/s  (target ≥ 20,000/s)")
        ratios = sorted(x[2] / x[0] for x in found)
        strict = sorted(x[2] / x[1] for x in found)
        print(
            f"  → {statistics.median(ratios):.2f} of the COPY ceiling measured in the same round (target ≥ 0.80); "
            f"{statistics.median(strict):.2f} of the stricter one"
            + (
                f"  (by round {ratios[0]:.2f}–{ratios[-1]:.2f}; {strict[0]:.2f}–{strict[-1]:.2f})"
                if len(found) > 1
                else ""
            )
        )
        started = time.perf_counter()
        again = import_orders(path, Mapping.load("nyc311"))
        print(
            f"re-import:        {again.created} created, {again.present:,} already present in {time.perf_counter() - started:.2f} s"
        )
        base = Path(tmp) / "baseline.csv"
        synthetic(base, args.baseline_rows, 800_000_000, seed=8)
        rate = baseline(base, args.baseline_rows)
        print(f"baseline (ORM bulk_create): {args.baseline_rows:,} orders at {rate:,.0f} orders/s  "
              f"→ COPY path is {found[-1][2] / rate:.1f}× faster")  # fmt: skip
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
