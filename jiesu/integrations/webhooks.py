"""Webhooks: each subscription receives the ticket events its client's user may see, one POST per event, in event
order, each signed with HMAC-SHA256.

Delivery reads the event trail (the outbox) after the subscription's cursor. A success moves the cursor; a failure
(no connection, a timeout, any non-2xx answer) is recorded and the subscription waits 10 s, 20 s, 40 s … up to
`WEBHOOK_MAX_BACKOFF_SECONDS` before it tries the same event again, so nothing is skipped and nothing overtakes:
a receiver that is down for an hour gets everything, in order, within one back-off of coming back.

Nothing overtakes on PostgreSQL either, where event ids come from a sequence and commit in any order: an intake
that took id 10 may commit after one that took id 11. A run delivers only up to the *settled* id (`settled_event_id`):
it reads the sequence's last value L and takes a transaction id N, then waits (at most about a second; else it
sends nothing this round) until no transaction older than N is in progress. Any id ≤ L was handed out before
the read to a transaction that already held a transaction id (every ticket event is written after its ticket row in
the same transaction: intake inserts it, every other change is a compare-and-set on its version), so every event
≤ L is then committed or gone for good, and the cursor never passes an event still to come. A ticket's events
are committed in id order (each change locks the ticket row), so each subscriber gets each ticket's events in order
and the whole trail in id order, across a failover too (the cursor is committed with the database; a delivery whose
cursor update was lost is sent again, which the receiver drops by `X-Jiesu-Event`). Delivery is at
least once (a worker killed between the receiver's 2xx and saving the cursor sends that event again); receivers
drop repeats by `X-Jiesu-Event`. Events of imported history are not sent.

Verifying a delivery: `X-Jiesu-Signature` is `sha256=` + hex HMAC-SHA256(secret, `{X-Jiesu-Timestamp}.{body}`).
"""

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q

from jiesu.integrations.open311 import open311_status
from jiesu.lib import clock
from jiesu.lib.masking import mask_text
from jiesu.orgs import access
from jiesu.tickets import access as tickets_access
from jiesu.tickets.models import TicketEvent

from .models import WebhookDelivery, WebhookSubscription


def lease() -> dt.timedelta:
    """How long a run holds a subscription: long enough for one event (its POST timing out, and the writes after
    it). The run renews it before each event (`_renew`), so no second run overtakes a slow one, and a run whose
    worker died (say, its database connection gone in a failover) frees the subscription within one lease."""
    return dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 1.5 + 30)


def _renew(subscription: WebhookSubscription, held: dt.datetime | None) -> dt.datetime | None:
    """Take or extend a lease on `subscription`, compare-and-set on the `next_attempt_at` the run last saw (its own
    lease, or the wait it claims); the new lease's end, or None if another run got there first."""
    until = clock.now() + lease()
    claimed = WebhookSubscription.objects.filter(pk=subscription.pk, next_attempt_at=held).update(next_attempt_at=until)
    return until if claimed else None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(event: TicketEvent, unmasked: bool) -> dict[str, Any]:
    unit = event.actor_unit
    return {
        "id": event.pk,
        "type": event.action,
        "order": event.ticket.number,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "status": open311_status(event.to_state),
        "at": event.created_at.isoformat(),
        "unit": {"code": unit.code, "name": unit.name} if unit else None,
        "note": event.note if unmasked else mask_text(event.note),
    }


def backoff(failures: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(10 * 2 ** max(failures - 1, 0), settings.WEBHOOK_MAX_BACKOFF_SECONDS))


def _post(subscription: WebhookSubscription, event: TicketEvent, body: bytes) -> tuple[bool, int | None, str]:
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "jiesu-webhooks/1",
            "X-Jiesu-Event": str(event.pk),
            "X-Jiesu-Timestamp": timestamp,
            "X-Jiesu-Signature": sign(subscription.secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return 200 <= response.status < 300, response.status, ""
    except urllib.error.HTTPError as error:
        return False, error.code, f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        return False, None, str(getattr(error, "reason", error))[:500]


def pending(subscription: WebhookSubscription) -> Any:
    """The events still to deliver to `subscription`, oldest first."""
    user = subscription.client.user
    if user is None:
        return TicketEvent.objects.none()
    events = tickets_access.visible_events(user).filter(id__gt=subscription.cursor)
    events = events.exclude(data__has_key="imported").select_related("actor_unit")
    actions = subscription.action_list()
    return events.filter(action__in=actions) if actions else events


_sequence: dict[str, str] = {}


def settled_event_id(wait: float = 1.0) -> int | None:
    """The highest event id no transaction still in progress can commit below (PostgreSQL; None elsewhere: SQLite has
    one writer, so ids commit in order). 0 when the transactions in progress did not end within `wait` seconds.

    One statement reads the sequence's last value L and takes a transaction id N (so every transaction that held an
    id ≤ L had a smaller transaction id); L is settled once no transaction below N is in progress. Inside a caller's
    transaction (the tests' wrapper) N would be the caller's own id, so there L is taken as it is: call it from
    autocommit code where writers run concurrently (the delivery task does)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        if "name" not in _sequence:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TicketEvent._meta.db_table])
            _sequence["name"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END, pg_current_xact_id()::text "
            f"FROM {_sequence['name']}"
        )
        last, xid = cursor.fetchone()
        if connection.in_atomic_block:
            return int(last)
        for _ in range(max(int(wait / 0.01), 1)):  # counted, not timed: tests freeze the clock
            cursor.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) AS x WHERE x < %s::xid8)",
                [xid],
            )
            if cursor.fetchone()[0]:
                return int(last)
            time.sleep(0.01)  # transactions are short; there is no lock to wait on for another's end
    return 0


def deliver(
    subscription: WebhookSubscription, batch: int = 100, settled: int | None = None, held: dt.datetime | None = None
) -> int:
    """Deliver up to `batch` events to one claimed subscription, stopping at the first failure. Returns how many
    were delivered. `settled` (see `settled_event_id`) bounds the events sent on PostgreSQL. `held` is the lease the
    caller took (`deliver_due`): renewed before each event, and the run stops when it is lost."""
    user = subscription.client.user
    unmasked = user is not None and access.may_see_requester(user)
    delivered = 0
    events = pending(subscription)
    if settled is None and connection.vendor == "postgresql":
        settled = settled_event_id()
    if settled is not None:
        events = events.filter(id__lte=settled)
    for event in events[:batch]:
        if held is not None:
            held = _renew(subscription, held)
            if held is None:
                return delivered  # another run holds it now (this one was taken for dead)
        body = json.dumps(payload(event, unmasked), ensure_ascii=False).encode()
        started = time.monotonic()
        ok, status, error = _post(subscription, event, body)
        now = clock.now()
        WebhookDelivery.objects.create(
            subscription=subscription,
            event=event,
            attempt=subscription.failures + 1,
            attempted_at=now,
            status_code=status,
            ok=ok,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        if not ok:
            subscription.failures += 1
            WebhookSubscription.objects.filter(pk=subscription.pk).update(
                failures=subscription.failures, next_attempt_at=now + backoff(subscription.failures), last_error=error
            )
            return delivered
        WebhookSubscription.objects.filter(pk=subscription.pk).update(cursor=event.pk, failures=0, last_error="")
        subscription.cursor, subscription.failures = event.pk, 0
        delivered += 1
    WebhookSubscription.objects.filter(pk=subscription.pk).update(next_attempt_at=None)
    return delivered


def deliver_due(batch: int = 100) -> int:
    """One round over the subscriptions whose wait is over (the `deliver_webhooks` task). Each is claimed with a
    compare-and-set lease, renewed before each event, so two runs never send a subscription's events side by side
    and a second run is harmless."""
    now = clock.now()
    due = WebhookSubscription.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        is_active=True,
        client__is_active=True,
        client__user__isnull=False,
    ).select_related("client__user")
    delivered = 0
    settled = settled_event_id()
    for subscription in due:
        held = _renew(subscription, subscription.next_attempt_at)  # the claim: compare-and-set on its wait
        if held is not None:
            delivered += deliver(subscription, batch, settled, held)
    return delivered
