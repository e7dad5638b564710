"""Background work of the cadre module (run by `jiesu db_worker`, enqueued by the worker when due). Registered in
`apps.py`: later published months verify rectification items, and overdue ones escalate (and notify)."""

import datetime as dt
from typing import Any

from jiesu.lib.jobs import job_task, register_periodic_task

from .models import RectificationItem, RectificationState
from .services import verify_rectifications

EVERY = dt.timedelta(hours=1)


def rectifications_due(now: dt.datetime) -> bool:
    return RectificationItem.objects.filter(state__in=[RectificationState.OPEN, RectificationState.ESCALATED]).exists()


@job_task(retries=3, first_retry=dt.timedelta(minutes=10))
def verify_rectification_items() -> dict[str, Any]:
    """Idempotent: a verified item stays verified, an item escalates once."""
    return verify_rectifications()


def register() -> None:
    register_periodic_task("cadre-rectifications", verify_rectification_items, EVERY, due=rectifications_due)
