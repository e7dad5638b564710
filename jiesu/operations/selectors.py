"""What /readyz and /metrics read from the database."""

import datetime as dt
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jiesu.integrations.models import WebhookDelivery, WebhookSubscription
from jiesu.sla.models import Heartbeat
from jiesu.tickets import access as ticket_access
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.workflow import DispatchState

# the states in which the handling deadline runs (the worker marks overdue in these)
RUNNING = [DispatchState.DISPATCHED, DispatchState.RETURN_REQUESTED, DispatchState.ACCEPTED]


def _age(now: dt.datetime, moment: dt.datetime | None) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


def outbox_lag(now: dt.datetime) -> tuple[float, int]:
    pending = TicketEvent.objects.filter(notified_at__isnull=True)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    return _age(now, oldest), pending.count()


def tasks_lag(now: dt.datetime) -> float:
    oldest = DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__lte=now).aggregate(
        m=Min("run_after")
    )["m"]
    return _age(now, oldest)


def worker_age(now: dt.datetime) -> float | None:
    beat = Heartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    return None if beat is None else _age(now, beat)


def unapplied_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


def work_state(now: dt.datetime) -> dict[str, Any]:
    by_state = dict(ticket_access.all_tickets().values_list("dispatch_state").annotate(n=Count("id")).order_by())
    overdue = ticket_access.all_tickets().filter(dispatch_state__in=RUNNING, due_at__lt=now).count()
    lag, pending = outbox_lag(now)
    failing = 0
    for sub in WebhookSubscription.objects.filter(is_active=True).only("id"):
        last = WebhookDelivery.objects.filter(subscription=sub).order_by("-id").values_list("ok", flat=True).first()
        failing += last is False
    return {
        "orders_by_state": by_state,
        "overdue": overdue,
        "outbox_lag": lag,
        "outbox_pending": pending,
        "tasks_lag": tasks_lag(now),
        "webhook_failures": WebhookDelivery.objects.filter(ok=False).count(),
        "webhooks_failing": failing,
        "worker_age": worker_age(now),
    }
