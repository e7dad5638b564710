"""Rate limits for the anonymous portal and the API clients, counted in the shared `Throttle` table so that every
server process (and node) sees them.

- `allow` / `allow_key` (the portal's per-address limits, a handful an hour) count each use in the table.
- `allow_client` (API clients, thousands an hour) must not touch a row on every request: the same row for every
  request of a busy client would serialise its intake. Each process counts in memory (a token bucket per client
  and hour) and adds its count to the shared row in one statement at most every `SYNC_SECONDS` or every
  `per_hour // 200` requests, outside the request's transaction. The shared total it reads back is what the
  other processes have spent. Near the limit (the last 10 %) every request is reconciled, so the limit holds
  exactly; far from it a client can go over by at most the unreconciled counts of the other processes. Once the
  shared count reaches the limit the process refuses without counting until the hour turns.
"""

import dataclasses
import datetime as dt
import threading
import time

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.http import HttpRequest

from . import clock
from .models import Throttle

SYNC_SECONDS = 1.0


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))[:45]


def allow(request: HttpRequest, action: str, per_hour: int) -> bool:
    """Count one `action` by this client address in the current hour; False once it is over `per_hour`."""
    return allow_key(f"{action}:{client_address(request)}", per_hour)


def allow_key(key: str, per_hour: int) -> bool:
    """Count one use of `key` (an address and action) in the current hour; False once it is over `per_hour`."""
    hour = _hour()
    key = key[:100]
    with transaction.atomic():
        if not Throttle.objects.filter(key=key, hour=hour).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    Throttle.objects.create(key=key, hour=hour, count=1)
            except IntegrityError:
                Throttle.objects.filter(key=key, hour=hour).update(count=F("count") + 1)
        count = Throttle.objects.get(key=key, hour=hour).count
    return count <= per_hour


@dataclasses.dataclass
class _Bucket:
    hour: dt.datetime
    shared: int = 0  # the shared row's count when last reconciled (this process's synced uses included)
    pending: int = 0  # uses counted here since
    synced_at: float = float("-inf")


_buckets: dict[str, _Bucket] = {}
_lock = threading.Lock()


def allow_client(key: str, per_hour: int) -> bool:
    """Count one request of an API client (`key`) in the current hour; False once it is over `per_hour`.
    Refused requests are not counted."""
    hour = _hour()
    key = key[:100]
    batch = max(1, per_hour // 200)
    with _lock:
        bucket = _buckets.get(key)
        if bucket is None or bucket.hour != hour:
            bucket = _buckets[key] = _Bucket(hour)
        if bucket.shared >= per_hour:
            return False  # the shared count only grows within the hour
        near = bucket.shared + bucket.pending + 1 >= per_hour * 0.9
        due = near or bucket.pending + 1 >= batch or time.monotonic() - bucket.synced_at >= SYNC_SECONDS
        if not due:
            bucket.pending += 1
            return True
        add, bucket.pending = bucket.pending + 1, 0
    total = _add(key, hour, add)
    with _lock:
        bucket.shared = max(bucket.shared, total)
        bucket.synced_at = time.monotonic()
    return total <= per_hour


def _add(key: str, hour: dt.datetime, count: int) -> int:
    """Add `count` to the shared row in one statement, outside any savepoint, and return the new total."""
    table = connection.ops.quote_name(Throttle._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} ("key", "hour", "count") VALUES (%s, %s, %s) ON CONFLICT ("key", "hour") '
            f'DO UPDATE SET "count" = {table}."count" + EXCLUDED."count" RETURNING "count"',
            [key, connection.ops.adapt_datetimefield_value(hour), count],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else count


def reset_local() -> None:
    """Forget the in-memory buckets (the tests call it between tests)."""
    with _lock:
        _buckets.clear()


def _hour() -> dt.datetime:
    return clock.now().replace(minute=0, second=0, microsecond=0)
