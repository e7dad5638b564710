"""The daily care scan as a background task (run by `jiesu db_worker`, enqueued by `jiesu worker` once a day).
Registered in `apps.py`. Idempotent: a person with an open alert, or one raised within the quiet days, gets none."""

import datetime as dt
from typing import Any

from jiesu.lib.jobs import job_task, register_periodic_task

from . import services


@job_task(retries=2, first_retry=dt.timedelta(minutes=30))
def care_scan() -> dict[str, Any]:
    return {"alerts": len(services.scan())}


def register() -> None:
    register_periodic_task("care-scan", care_scan, dt.timedelta(days=1))
