"""The columnar copy: one Parquet file per month with one row per assessed callback (the assessment facts).

It is derived from the live database (callbacks, their signing outcome, and decided appeals) by `sync_month`,
which rewrites the month's file; `jiesu assess` syncs before it computes, and the worker re-syncs the open
(unpublished) months. A snapshot freezes the file it read (`frozen_copy`), with its SHA-256, so every figure of a
published month can be opened down to the tickets years later.
"""

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.utils import timezone

from jiesu.tickets.models import Callback, TicketEvent
from jiesu.tickets.workflow import Action

from .models import Appeal, AppealKind, AppealState
from .rules import RESOLUTION_CODES, SATISFACTION_CODES, month_key, next_month

SCHEMA = pa.schema(
    [
        ("ticket_id", pa.int64()),
        ("callback_id", pa.int64()),
        ("month", pa.int32()),  # YYYYMM of the callback
        ("unit_id", pa.int32()),  # the unit judged: the lead unit when the callback was made
        ("round", pa.int16()),
        ("signed_in_time", pa.bool_()),
        ("contacted", pa.bool_()),
        ("resolution", pa.int8()),  # index into RESOLUTION_CODES
        ("satisfaction", pa.int8()),  # index into SATISFACTION_CODES
        ("unreasonable", pa.bool_()),  # an upheld unreasonable-appeal judgement (不合理诉求)
        ("callback_voided", pa.bool_()),  # an upheld appeal against this callback's result
        ("returns", pa.int16()),  # approved returns (退单) before this callback
    ]
)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    end_month = next_month(month)
    return start, dt.datetime(end_month.year, end_month.month, 1, tzinfo=tz)


def facts_dir() -> Path:
    path = Path(settings.COLUMNAR_DIR) / "facts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def live_path(month: dt.date) -> Path:
    return facts_dir() / f"{month:%Y-%m}.parquet"


def extract(month: dt.date) -> pa.Table:
    """The month's facts from the live database: per ticket, the month's last callback."""
    start, end = month_bounds(month)
    last: dict[int, tuple[object, ...]] = {}
    rows = (
        Callback.objects.filter(created_at__gte=start, created_at__lt=end, unit__isnull=False)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "ticket_id",
            "round",
            "unit_id",
            "signed_in_time",
            "contacted",
            "resolution",
            "satisfaction",
            "created_at",
        )
    )
    for row in rows.iterator(chunk_size=5000):
        last[int(row[1])] = row  # type: ignore[call-overload]
    tickets = sorted(last)
    unreasonable: set[int] = set()
    voided: set[int] = set()
    for kind, ticket_id, callback_id in Appeal.objects.filter(
        ticket_id__in=tickets, state=AppealState.UPHELD
    ).values_list("kind", "ticket_id", "callback_id"):
        if kind == AppealKind.UNREASONABLE:
            unreasonable.add(ticket_id)
        else:
            voided.add(callback_id)
    returns: dict[int, list[dt.datetime]] = {}
    for ticket_id, at in TicketEvent.objects.filter(ticket_id__in=tickets, action=Action.APPROVE_RETURN).values_list(
        "ticket_id", "created_at"
    ):
        returns.setdefault(ticket_id, []).append(at)
    columns: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
    for ticket_id in tickets:
        cb_id, _, round_, unit_id, signed, contacted, resolution, satisfaction, at = last[ticket_id]  # type: ignore[misc, assignment]
        columns["ticket_id"].append(ticket_id)
        columns["callback_id"].append(cb_id)
        columns["month"].append(month_key(month))
        columns["unit_id"].append(unit_id)
        columns["round"].append(round_)
        columns["signed_in_time"].append(bool(signed))
        columns["contacted"].append(bool(contacted))
        columns["resolution"].append(RESOLUTION_CODES.index(str(resolution)))
        columns["satisfaction"].append(SATISFACTION_CODES.index(str(satisfaction)))
        columns["unreasonable"].append(ticket_id in unreasonable)
        columns["callback_voided"].append(cb_id in voided)
        columns["returns"].append(sum(1 for t in returns.get(ticket_id, ()) if t <= at))  # type: ignore[operator]
    return pa.table(columns, schema=SCHEMA)


def sync_month(month: dt.date) -> Path:
    """Rewrite the month's file from the database (atomically: write beside it, then rename)."""
    path = live_path(month)
    tmp = path.with_suffix(".tmp")
    pq.write_table(extract(month), tmp, compression="zstd")
    tmp.replace(path)
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frozen_copy(month: dt.date, version: int) -> tuple[Path, str]:
    """Copy the month's live file for a snapshot version; the copy is what its figures are opened from."""
    target = Path(settings.COLUMNAR_DIR) / "snapshots" / f"{month:%Y-%m}-v{version}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(live_path(month), target)
    return target, sha256(target)
