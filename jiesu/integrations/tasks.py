"""The integrations' background work, run by the task worker (`jiesu db_worker`), never inside the worker's tick:
webhook delivery (enqueued whenever a subscription is due and no delivery run is pending) and the pruning of old
delivery attempts. Registered in `apps.py`."""

import datetime as dt

from django.conf import settings
from django.db.models import Max, Q

from jiesu.lib.jobs import job_task, register_periodic_task, register_pruner
from jiesu.tickets.models import TicketEvent

from . import webhooks
from .models import WebhookDelivery, WebhookSubscription


def webhooks_due(now: dt.datetime) -> bool:
    """Some active subscription has waited long enough and has not reached the newest event (cheap; the run
    itself decides what each subscriber may receive)."""
    newest = TicketEvent.objects.aggregate(m=Max("id"))["m"] or 0
    return WebhookSubscription.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        is_active=True,
        client__is_active=True,
        client__user__isnull=False,
        cursor__lt=newest,
    ).exists()


@job_task(retries=3, first_retry=dt.timedelta(seconds=30))
def deliver_webhooks() -> int:
    """One delivery round over the due subscriptions. Idempotent: each subscription is claimed with a lease and
    moves its cursor per delivered event, so a second run finds nothing to send twice."""
    return webhooks.deliver_due()


def old_deliveries(now: dt.datetime) -> int:
    before = now - dt.timedelta(days=settings.JIESU_WEBHOOK_RETENTION_DAYS)
    return WebhookDelivery.objects.filter(attempted_at__lt=before).delete()[0]  # the one deletion allowed


def register() -> None:
    every = dt.timedelta(seconds=settings.JIESU_WEBHOOK_EVERY_SECONDS)
    # A delivery run that died with its db_worker (a failover closes its connection) would block the next one for
    # JIESU_TASK_STALE_MINUTES; a second run is harmless (each subscription is leased, `webhooks.deliver_due`), so
    # one still "running" after a few leases is taken as dead.
    register_periodic_task("webhooks", deliver_webhooks, every, due=webhooks_due, stale=3 * webhooks.lease())
    register_pruner("webhook-deliveries", old_deliveries)
