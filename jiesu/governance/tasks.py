"""Hotspot detection and the forecasts as background tasks (run by `jiesu db_worker`), each enqueued by the worker
when due. Registered in `apps.py`."""

import dataclasses
import datetime as dt
from typing import Any

from jiesu.lib import clock
from jiesu.lib.jobs import job_task, register_periodic_task

from . import services

CHECK = dt.timedelta(minutes=1)  # how often the worker asks whether one is due (one cheap query)


@job_task(retries=3, first_retry=dt.timedelta(minutes=5))
def detect_hotspots() -> dict[str, Any]:
    """Idempotent: a run that finds the last detection recent enough does nothing."""
    now = clock.now()
    if not services.hotspots_due(now):
        return {"due": False}
    return dataclasses.asdict(services.refresh_hotspots(now))


@job_task(retries=3, first_retry=dt.timedelta(minutes=10))
def forecast_requests() -> dict[str, Any]:
    """Idempotent: the forecasts of a day are made once."""
    now = clock.now()
    if not services.forecasts_due(now):
        return {"due": False}
    return dataclasses.asdict(services.refresh_forecasts(now))


def register() -> None:
    register_periodic_task("hotspots", detect_hotspots, CHECK, due=services.hotspots_due)
    register_periodic_task("forecasts", forecast_requests, CHECK, due=services.forecasts_due)
