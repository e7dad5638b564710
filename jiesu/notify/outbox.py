"""The notification outbox: unprocessed TicketEvents become Notification rows for the people concerned.

Idempotent: each event is claimed with a compare-and-set on `notified_at IS NULL` in the same transaction
that writes its notifications, so a killed worker neither loses nor repeats one.
"""

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction

from jiesu.orgs.models import Role
from jiesu.tickets.models import Assignment, TicketEvent
from jiesu.tickets.workflow import Action

from .models import Notification

UNIT_STAFF = [Role.UNIT_HANDLER, Role.UNIT_LEADER]

# Other event outboxes (e.g. the community's), registered by their apps in `AppConfig.ready`: each drains up to
# `limit` of its unprocessed events into notifications at `now` and returns how many it processed.
Drain = Callable[[dt.datetime, int], int]
_sources: dict[str, Drain] = {}
# How a notification made from another app's event reads: (text, link), by the Notification field it hangs on.
Describe = Callable[[object], tuple[str, str]]
describers: dict[str, Describe] = {}


def register_source(name: str, drain: Drain, *, field: str = "", describe: Describe | None = None) -> None:
    _sources[name] = drain
    if field and describe is not None:
        describers[field] = describe


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
    return _ticket_events(now, limit) + sum(drain(now, limit) for drain in _sources.values())


def _ticket_events(now: dt.datetime, limit: int) -> int:
    ids = list(TicketEvent.objects.filter(notified_at__isnull=True).order_by("id").values_list("id", flat=True)[:limit])
    done = 0
    for event_id in ids:
        with transaction.atomic():
            if not TicketEvent.objects.filter(pk=event_id, notified_at__isnull=True).update(notified_at=now):
                continue
            event = TicketEvent.objects.select_related("ticket").get(pk=event_id)
            Notification.objects.bulk_create(
                [Notification(user_id=uid, event=event, created_at=now) for uid in recipients(event)],
                ignore_conflicts=True,
            )
            done += 1
    return done
