"""Pruning on a schedule: one task runs every registered pruner (webhook attempts, throttle counters …) plus the
two this app owns, finished task results and expired sessions. Retention is configured in settings."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiesu.lib import clock
from jiesu.lib.jobs import guarded_call, job_task, pruners, register_periodic_task, register_pruner


def old_task_results(now: dt.datetime) -> int:
    before = now - dt.timedelta(days=settings.JIESU_TASK_RETENTION_DAYS)
    finished = [TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    return DBTaskResult.objects.filter(status__in=finished, finished_at__lt=before).delete()[0]


def expired_sessions(now: dt.datetime) -> int:
    return Session.objects.filter(expire_date__lt=now).delete()[0]


@job_task(retries=2, first_retry=dt.timedelta(minutes=15))
def prune() -> dict[str, Any]:
    """Every pruner; see `prune_now`."""
    return prune_now()


def prune_now() -> dict[str, Any]:
    """Idempotent: deleting what is already gone deletes nothing. One pruner failing leaves the others to run; the
    task then fails (and retries) so the failure shows in the admin."""
    now = clock.now()
    deleted: dict[str, Any] = {}
    failed = []
    for pruner in pruners():
        ok, n = guarded_call(f"prune:{pruner.name}", lambda p=pruner: p.prune(now))  # type: ignore[misc]
        deleted[pruner.name] = n
        if not ok:
            failed.append(pruner.name)
    if failed:
        raise RuntimeError(f"pruning failed: {', '.join(failed)} (deleted {deleted})")
    return deleted


def register() -> None:
    register_pruner("task-results", old_task_results)
    register_pruner("sessions", expired_sessions)
    register_periodic_task("prune", prune, dt.timedelta(hours=settings.JIESU_PRUNE_EVERY_HOURS))
