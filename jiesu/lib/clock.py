"""The one clock every service reads.

Tests move it with time-machine; the demo seeder replays history with `at(...)`.
"""

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
_override: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("jiesu_clock", default=None)


def now() -> dt.datetime:
    return _override.get() or timezone.now()


@contextlib.contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Make `now()` return `moment` inside the block (used to replay history when seeding)."""
    token = _override.set(moment)
    try:
        yield
    finally:
        _override.reset(token)


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight of `day` in Beijing, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
