"""`jiesu worker`'s tick: the registered tick steps (deadlines, the outbox), each guarded, then the periodic tasks
that are due are enqueued for `jiesu db_worker`. The worker keeps no timers in memory: everything it needs is in
the database and every step claims its rows with a conditional update, so it can be killed and restarted at any
moment (modelled on healthchecks' sendalerts). It knows no app: the apps register their jobs (`jiesu.lib.jobs`)."""

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiesu.lib import clock, jobs

from .models import ScheduledJob

PENDING = [TaskResultStatus.READY, TaskResultStatus.RUNNING]


def guarded(name: str, run: Callable[[], int]) -> int:
    """Run one step; a failure is logged with its traceback and counts as nothing done, so the next step runs.
    (KeyboardInterrupt and SystemExit still stop the worker.)"""
    return jobs.guarded_call(f"worker step {name}", run)[1]


def tick(batch: int = 500, throttle: float = 0.0) -> dict[str, int]:
    """One tick. Returns what each step did (rows handled), and `enqueued`: how many tasks were enqueued."""
    done: dict[str, int] = {}
    for step in jobs.tick_steps():
        done[step.name] = guarded(step.name, lambda s=step: s.run(jobs.Tick(clock.now(), batch, throttle)))  # type: ignore[misc]
    done["enqueued"] = guarded("enqueue", lambda: len(enqueue_due(clock.now())))
    return done


def escalated(done: dict[str, int]) -> int:
    """The tickets escalated in a tick (both deadline clocks)."""
    return sum(n for name, n in done.items() if name.startswith("deadline:"))


def _abandon_stale(job: jobs.PeriodicTask, now: dt.datetime) -> None:
    """A run still marked running long after it started belongs to a killed `db_worker`: mark it failed."""
    after = job.stale or dt.timedelta(minutes=settings.JIESU_TASK_STALE_MINUTES)
    DBTaskResult.objects.filter(
        task_path=job.task.module_path, status=TaskResultStatus.RUNNING, started_at__lt=now - after
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="jiesu.operations.worker.Abandoned",
        traceback=f"still running after {after}: taken as abandoned",
    )


def enqueue_due(now: dt.datetime) -> list[str]:
    """Enqueue each registered periodic task that is due, has no pending run, and was last enqueued at least its
    `every` ago. Each is claimed by a compare-and-set on its `ScheduledJob` row in the same transaction as the
    enqueue, so two workers never enqueue it twice. A failing `due` check is logged and the others go on."""
    enqueued = []
    for job in jobs.periodic_tasks():
        if guarded(f"enqueue:{job.name}", lambda j=job: _enqueue_one(j, now)):  # type: ignore[misc]
            enqueued.append(job.name)
    return enqueued


def _enqueue_one(job: jobs.PeriodicTask, now: dt.datetime) -> int:
    row, _ = ScheduledJob.objects.get_or_create(name=job.name)
    if row.last_enqueued_at is not None and now - row.last_enqueued_at < job.every:
        return 0
    path = job.task.module_path
    _abandon_stale(job, now)
    if DBTaskResult.objects.filter(task_path=path, status__in=PENDING).exists():
        return 0
    if job.due is not None and not job.due(now):
        return 0
    with transaction.atomic():
        claimed = ScheduledJob.objects.filter(pk=row.pk, last_enqueued_at=row.last_enqueued_at).update(
            last_enqueued_at=now
        )
        if not claimed:
            return 0
        result = job.task.enqueue()
        ScheduledJob.objects.filter(pk=row.pk).update(last_result_id=str(result.id))
    return 1


def run_tasks(limit: int = 1000) -> int:
    """Run the tasks that are ready now, in this process, one by one (the demo's setup and the tests; in production
    `jiesu db_worker` runs them). Returns how many ran. Unlike the db worker's loop it leaves the connection alone,
    so it also works inside a test's transaction."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.utils import exclusive_transaction

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="inline",
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit:
        with exclusive_transaction(DBTaskResult.objects.db):
            result = DBTaskResult.objects.ready().get_locked()
            if result is not None:
                result.claim(worker.worker_id)
        if result is None:
            return ran
        worker.run_task(result)
        ran += 1
    return ran
