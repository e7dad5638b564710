"""Retraining as a background task (run by `jiesu db_worker`), enqueued by the worker when enough tickets have
closed since the active model was trained (`INTEL_RETRAIN_AFTER`). Registered in `apps.py`."""

import datetime as dt

from django.conf import settings

from jiesu.lib.jobs import job_task, register_periodic_task

from . import services


def retrain_due(now: dt.datetime) -> bool:
    return services.retrain_needed()


@job_task(retries=2, first_retry=dt.timedelta(minutes=10))
def retrain_models() -> list[str]:
    """Idempotent: it trains only while the count of newly closed tickets is reached, and training moves the mark."""
    return [v.version for v in services.retrain_if_due()]


def register() -> None:
    every = dt.timedelta(minutes=settings.JIESU_RETRAIN_CHECK_MINUTES)
    register_periodic_task("retrain", retrain_models, every, due=retrain_due)
