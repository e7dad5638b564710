"""The notification outbox: unprocessed TicketEvents become Notification rows for the people concerned.

Several workers drain it at once without doing anything twice. A worker claims a batch of unprocessed events in
one transaction: on PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED` (another worker's claimed rows are skipped,
not waited for), on SQLite, which has one writer at a time (`BEGIN IMMEDIATE`), by reading them inside its write
transaction. It writes their notifications and marks them with a conditional update on `notified_at IS NULL`
in the same transaction, so a killed worker neither loses nor repeats one: its batch is rolled back and claimed
again.
"""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from jiesu.community.models import CommunityEvent
from jiesu.community.notices import recipients as community_recipients
from jiesu.orgs.models import Role
from jiesu.tickets.models import Assignment, TicketEvent
from jiesu.tickets.workflow import Action

from .models import Notification

UNIT_STAFF = [Role.UNIT_HANDLER, Role.UNIT_LEADER]


def recipients(event: TicketEvent) -> list[int]:
    """User ids to notify of an event."""
    User = get_user_model()
    action = event.action
    ticket = event.ticket
    users = User.objects.none()
    if action in {Action.DISPATCH, Action.APPROVE_RETURN, Action.REOPEN, Action.REJECT_RETURN}:
        units = Assignment.objects.filter(ticket=ticket, is_current=True).values("unit")
        users = User.objects.filter(membership__unit__in=units, membership__role__in=UNIT_STAFF)
    elif action == Action.WHISTLE:
        codes = event.data.get("units", [])
        users = User.objects.filter(membership__unit__code__in=codes, membership__role__in=UNIT_STAFF)
    elif action in {Action.REQUEST_RETURN, Action.REQUEST_EXTENSION}:
        users = User.objects.filter(membership__role=Role.DISPATCHER)
    elif action in {Action.APPROVE_EXTENSION, Action.DENY_EXTENSION}:
        users = User.objects.filter(membership__unit=ticket.lead_unit_id, membership__role__in=UNIT_STAFF)
    elif action in {Action.MARK_OVERDUE, Action.MARK_SIGN_OVERDUE}:
        users = User.objects.filter(username__in=event.data.get("escalated_to", []))
    elif action == Action.SUPERVISE:
        users = User.objects.filter(membership__unit=ticket.lead_unit_id, membership__role=Role.UNIT_LEADER)
    elif action == Action.ASSIGN_HANDLER:
        users = User.objects.filter(username=event.data.get("to"))
    elif action == Action.REPLY:
        users = User.objects.filter(membership__role=Role.CALLBACK_AGENT)
    users = users.exclude(pk=event.actor_id) if event.actor_id else users
    return sorted(set(users.values_list("pk", flat=True)))


def process_outbox(now: dt.datetime, limit: int = 500) -> int:
    """Turn up to `limit` unprocessed events into notifications. Returns how many events were processed."""
    return _ticket_events(now, limit) + _community_events(now, limit)


def _claim(model: type[Any], limit: int, related: tuple[str, ...] = ()) -> list[Any]:
    """Up to `limit` unprocessed events, locked for this transaction; rows another worker holds are skipped."""
    rows = model.objects.filter(notified_at__isnull=True).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(rows.select_related(*related)[:limit])


def _mark(model: type[Any], events: list[Any], now: dt.datetime) -> list[Any]:
    """Mark the claimed events processed (they are locked, or this is the only writer)."""
    model.objects.filter(pk__in=[e.pk for e in events], notified_at__isnull=True).update(notified_at=now)
    return events


def _community_events(now: dt.datetime, limit: int) -> int:
    with transaction.atomic():
        events = _claim(CommunityEvent, limit)
        if not events:
            return 0
        notes = [
            Notification(user_id=uid, community_event=event, created_at=now)
            for event in _mark(CommunityEvent, events, now)
            for uid in community_recipients(event)
        ]
        Notification.objects.bulk_create(notes, ignore_conflicts=True)
        return len(events)


def _ticket_events(now: dt.datetime, limit: int) -> int:
    with transaction.atomic():
        events = _claim(TicketEvent, limit, ("ticket",))
        if not events:
            return 0
        notes = [
            Notification(user_id=uid, event=event, created_at=now)
            for event in _mark(TicketEvent, events, now)
            for uid in recipients(event)
        ]
        Notification.objects.bulk_create(notes, batch_size=1000, ignore_conflicts=True)
        return len(events)
