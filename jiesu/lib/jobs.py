"""The registry of background work. The apps that own a job register it in their `AppConfig.ready`, so the worker
(`jiesu.operations`) runs them without importing any of them, and no lower layer imports a higher one.

Three kinds:

- **Tick steps** (`register_tick_step`) run in every tick of `jiesu worker`, in `order`: only what must tick
  (deadlines, the outbox). Each claims its rows with a conditional update, so a killed worker neither loses nor
  repeats one. The worker guards each step: a failure is logged with its traceback and the next step still runs.
- **Periodic tasks** (`register_periodic_task`) are django-tasks tasks, enqueued by the worker when due and run by
  the database task worker (`jiesu db_worker`): webhook delivery, retraining, hotspots, forecasts, pruning. At most
  one run of each is pending at a time. Define them with `job_task`, which gives each its own retry.
- **Pruners** (`register_pruner`) delete rows older than their retention; the pruning task runs them.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django_tasks import TaskContext, task
from django_tasks.base import Task

from jiesu.lib import clock

log = logging.getLogger("jiesu.jobs")


@dataclass(frozen=True)
class Tick:
    """What one tick passes to its steps."""

    now: dt.datetime
    batch: int = 500  # rows a step handles at most per tick
    throttle: float = 0.0  # seconds a step waits between rows (the kill test slows the worker down with it)


@dataclass(frozen=True)
class TickStep:
    name: str
    run: Callable[[Tick], int]  # returns how many rows it handled
    order: int


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    task: Task[Any, Any]
    every: dt.timedelta  # at least this long between two enqueues
    due: Callable[[dt.datetime], bool] | None  # a cheap check whether there is anything to do; None: always
    # A run still marked running this long after it started is taken as abandoned (its db_worker was killed) and
    # the task may be enqueued again; None: JIESU_TASK_STALE_MINUTES. Short only for tasks a second run cannot harm.
    stale: dt.timedelta | None = None


@dataclass(frozen=True)
class Pruner:
    name: str
    prune: Callable[[dt.datetime], int]  # deletes what is older than its retention; returns how many rows


_steps: dict[str, TickStep] = {}
_periodic: dict[str, PeriodicTask] = {}
_pruners: dict[str, Pruner] = {}


def register_tick_step(name: str, run: Callable[[Tick], int], *, order: int = 50) -> None:
    """Run `run` in every worker tick; lower `order` first (deadlines 10, community tasks 20, outbox 90)."""
    _steps[name] = TickStep(name, run, order)


def register_periodic_task(
    name: str,
    task: Task[Any, Any],
    every: dt.timedelta,
    *,
    due: Callable[[dt.datetime], bool] | None = None,
    stale: dt.timedelta | None = None,
) -> None:
    """Enqueue `task` (no arguments) when no run of it is pending, `every` has passed since the last enqueue and
    `due(now)` (if given) says there is work. `stale`: see `PeriodicTask`."""
    _periodic[name] = PeriodicTask(name, task, every, due, stale)


def register_pruner(name: str, prune: Callable[[dt.datetime], int]) -> None:
    _pruners[name] = Pruner(name, prune)


def tick_steps() -> list[TickStep]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def periodic_tasks() -> list[PeriodicTask]:
    return sorted(_periodic.values(), key=lambda p: p.name)


def pruners() -> list[Pruner]:
    return sorted(_pruners.values(), key=lambda p: p.name)


def guarded_call(name: str, run: Callable[[], int]) -> tuple[bool, int]:
    """Run one step of a larger job; a failure is logged with its traceback and gives (False, 0), so the caller goes
    on with the next step. KeyboardInterrupt and SystemExit are not caught: they stop the process."""
    try:
        return True, run()
    except Exception:
        log.exception("%s failed; the next steps still run", name)
        return False, 0


def retry_delay(attempt: int, first: dt.timedelta) -> dt.timedelta:
    """first, 2·first, 4·first … after the 1st, 2nd, 3rd failed attempt."""
    return first * int(2 ** max(attempt - 1, 0))


def job_task(
    *, retries: int = 3, first_retry: dt.timedelta = dt.timedelta(minutes=1)
) -> Callable[[Callable[[], Any]], Task[Any, Any]]:
    """A django-tasks task with its own retry. The function takes no arguments and must be idempotent (running it
    twice does the work once). When it raises, the failure is logged with its traceback, the task is enqueued again
    after `retry_delay` (pending, so the scheduler adds no second run) up to `retries` times, and the exception is
    re-raised so that the task's result row records it as failed, traceback included (admin → Task Results)."""

    def decorate(func: Callable[[], Any]) -> Task[Any, Any]:
        def run(context: TaskContext, attempt: int = 1) -> Any:
            try:
                return func()
            except Exception:
                again = attempt <= retries
                log.exception(
                    "task %s failed (attempt %d of %d)%s",
                    func.__name__,
                    attempt,
                    retries + 1,
                    "; retrying" if again else "; giving up until it is due again",
                )
                if again:
                    later = clock.now() + retry_delay(attempt, first_retry)
                    context.task_result.task.using(run_after=later).enqueue(attempt=attempt + 1)
                raise

        # Named like the function (the task's import path), without `__wrapped__`: django-tasks reads the signature.
        run.__name__, run.__qualname__, run.__module__ = func.__name__, func.__qualname__, func.__module__
        run.__doc__ = func.__doc__
        return task(takes_context=True)(run)

    return decorate
