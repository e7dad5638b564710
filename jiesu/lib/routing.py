"""Read-only analytics on a standby.

With a cluster (`JIESU_STANDBY_READS=1` and a multi-host DATABASE_URL, or `JIESU_STANDBY_URL`), settings add a
database alias `standby` that prefers a standby server (`target_session_attrs=prefer-standby`: the primary if no
standby is up). Code that only reads and tolerates a lag of a moment (the city dashboard, the assessment's facts)
wraps its queries in `standby_reads()`; everything else, and every write, stays on the primary (`default`).
`replication()` reports the standbys and their lag, for /readyz and `scripts/cluster status`.
"""

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections

STANDBY = "standby"
_standby = contextvars.ContextVar("jiesu_standby_reads", default=False)


@contextlib.contextmanager
def standby_reads() -> Iterator[None]:
    """Reads inside go to the standby when one is configured (writes never do)."""
    token = _standby.set(True)
    try:
        yield
    finally:
        _standby.reset(token)


class StandbyRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return STANDBY if _standby.get() and STANDBY in settings.DATABASES else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the same data on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != STANDBY


def replication() -> list[dict[str, Any]]:
    """The primary's view of its standbys: name, state, sync state, replay lag in seconds and in bytes of WAL.
    Empty on SQLite or a single server."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name, client_addr::text, state, sync_state,"
            " coalesce(extract(epoch FROM replay_lag), 0)::float,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint"
            " FROM pg_stat_replication ORDER BY application_name"
        )
        rows = cursor.fetchall()
    keys = ("name", "address", "state", "sync_state", "replay_lag_seconds", "lag_bytes")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def standby_lag_seconds() -> float | None:
    """The standby's own view: seconds since the last transaction it replayed (None on a primary or SQLite)."""
    if STANDBY not in settings.DATABASES:
        return None
    connection = connections[STANDBY]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN pg_is_in_recovery() THEN"
            " coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float END"
        )
        row = cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])
