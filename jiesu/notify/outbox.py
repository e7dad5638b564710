"""The notification outbox: unprocessed TicketEvents become Notification rows for the people concerned.

Several workers drain it at once without doing anything twice. A worker claims a batch of unprocessed events in
one transaction: on PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED` (another worker's claimed rows are skipped,
not waited for), on SQLite, which has one writer at a time (`BEGIN IMMEDIATE`), by reading them inside its write
transaction. It writes their notifications and marks them with a conditional update on `notified_at IS NULL`
in the same transaction, so a killed worker neither loses nor repeats one: its batch is rolled back and claimed
again. On PostgreSQL the ticket outbox does it set-based: one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)
RETURNING` claims and marks the batch, the recipients of the whole batch take at most three queries, and one
`INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` writes the notifications; no model instance is built.

Other apps' records (community events, care alerts, …) reach people through registered sources
(`register_source`), drained the same way (`claim`, `mark`, `notification`, `save`) and described by their app
when a page of notifications is shown (`describe`). See README "Architecture: Notifications from any app".
"""

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q

from jiesu.orgs.models import Membership, Role
from jiesu.tickets.models import Assignment, Ticket, TicketEvent
from jiesu.tickets.workflow import Action

from .models import Notification

UNIT_STAFF = [Role.UNIT_HANDLER, Role.UNIT_LEADER]

# Other event outboxes, registered by their apps in `AppConfig.ready` (`register_source`). A source has a name
# (stored on its notifications as `Notification.source`), a drain and a describer:
# - drain(now, limit): turns up to `limit` of its unprocessed events into notifications (`notification(...)`, then
#   `save(...)`) and returns how many events it processed;
# - describe(ids): how each of its notifications reads and where it leads, {source id: (text, link)}, for a whole
#   page of ids at once (one query, not one per line).
Drain = Callable[[dt.datetime, int], int]
Describe = Callable[[Sequence[int]], dict[int, tuple[str, str]]]


@dataclass(frozen=True)
class Source:
    name: str
    drain: Drain
    describe: Describe
    private: bool = False  # only the recipient sees these rows anywhere (the admin's superuser view included)


_sources: dict[str, Source] = {}


def register_source(name: str, drain: Drain, *, describe: Describe, private: bool = False) -> None:
    if not name or len(name) > 40:
        raise ValueError(f"bad notification source name {name!r}")
    _sources[name] = Source(name, drain, describe, private)


def private_sources() -> set[str]:
    return {name for name, src in _sources.items() if src.private}


def sources() -> dict[str, Source]:
    return dict(_sources)


def notification(source: str, source_id: int, user_id: int, *, at: dt.datetime, now: dt.datetime) -> Notification:
    """A notification of a registered source's record `source_id` (an event, an alert …) that happened `at`."""
    return Notification(user_id=user_id, source=source, source_id=source_id, source_at=at, created_at=now)


def save(notes: Sequence[Notification]) -> None:
    """Write notifications; one per (source record, user) and (ticket event, user): a repeat is dropped."""
    Notification.objects.bulk_create(notes, batch_size=1000, ignore_conflicts=True)


def describe(notes: Sequence[Notification]) -> None:
    """Give each sourced notification its `text` and `link` from its source (one call per source). A source no
    longer registered reads as its name and leads to the notification list."""
    wanted: dict[str, set[int]] = {}
    for n in notes:
        if n.source and n.source_id is not None:
            wanted.setdefault(n.source, set()).add(n.source_id)
    lines: dict[tuple[str, int], tuple[str, str]] = {}
    for name, ids in wanted.items():
        src = _sources.get(name)
        if src is not None:
            lines.update({(name, i): line for i, line in src.describe(sorted(ids)).items()})
    for n in notes:
        if n.source and n.source_id is not None:
            n.text, n.link = lines.get((n.source, n.source_id), (n.source, ""))  # type: ignore[attr-defined]


DISPATCHED = {Action.DISPATCH, Action.APPROVE_RETURN, Action.REOPEN, Action.REJECT_RETURN}
TO_DISPATCHERS = {Action.REQUEST_RETURN, Action.REQUEST_EXTENSION}
TO_LEAD_STAFF = {Action.APPROVE_EXTENSION, Action.DENY_EXTENSION}
BY_NAME = {Action.MARK_OVERDUE, Action.MARK_SIGN_OVERDUE, Action.ASSIGN_HANDLER}


class Claimed(NamedTuple):
    """What the recipients of a claimed event depend on: the event's own columns and two of its ticket's."""

    pk: int
    ticket_id: int
    action: str
    actor_id: int | None
    data: dict[str, Any]
    lead_unit_id: int | None
    district_id: int | None


def claimed(event: TicketEvent) -> Claimed:
    ticket = event.ticket
    return Claimed(
        event.pk, event.ticket_id, event.action, event.actor_id, event.data, ticket.lead_unit_id, ticket.district_id
    )


def recipients(event: TicketEvent) -> list[int]:
    """User ids to notify of an event."""
    return recipients_many([claimed(event)])[event.pk]


def recipients_many(events: Sequence[Claimed]) -> dict[int, list[int]]:
    """User ids to notify of each event (by event id), in at most three queries for the whole batch:
    the current units of dispatched tickets, the staff of every unit and role concerned, users by name."""
    User = get_user_model()
    tickets = {e.ticket_id for e in events if e.action in DISPATCHED}
    current: dict[int, set[int]] = {}
    if tickets:
        for ticket_id, unit_id in Assignment.objects.filter(ticket_id__in=tickets, is_current=True).values_list(
            "ticket_id", "unit_id"
        ):
            current.setdefault(ticket_id, set()).add(unit_id)
    units = {u for found in current.values() for u in found}
    units |= {
        e.lead_unit_id for e in events if e.action in TO_LEAD_STAFF | {Action.SUPERVISE} and e.lead_unit_id is not None
    }
    units |= {e.district_id for e in events if e.action == Action.GROUP_WARNING and e.district_id}
    codes = {c for e in events if e.action == Action.WHISTLE for c in e.data.get("units", [])}
    roles = {Role.DISPATCHER for e in events if e.action in TO_DISPATCHERS}
    roles |= {Role.CALLBACK_AGENT for e in events if e.action == Action.REPLY}
    staff: list[tuple[int, int, str, str]] = []
    if units or codes or roles:
        staff = list(
            Membership.objects.filter(Q(unit_id__in=units) | Q(unit__code__in=codes) | Q(role__in=roles)).values_list(
                "user_id", "unit_id", "unit__code", "role"
            )
        )
    names: dict[str, int] = {}
    wanted = {n for e in events if e.action in BY_NAME for n in _names(e)}
    if wanted:
        names = dict(User.objects.filter(username__in=wanted).values_list("username", "pk"))

    def members(roles: set[str], unit_ids: set[int] | None = None, unit_codes: set[str] | None = None) -> set[int]:
        return {
            user
            for user, unit, code, role in staff
            if role in roles and (unit_ids is None or unit in unit_ids) and (unit_codes is None or code in unit_codes)
        }

    found: dict[int, list[int]] = {}
    for event in events:
        action = event.action
        users: set[int] = set()
        if action in DISPATCHED:
            users = members(set(UNIT_STAFF), current.get(event.ticket_id, set()))
        elif action == Action.WHISTLE:
            users = members(set(UNIT_STAFF), unit_codes=set(event.data.get("units", [])))
        elif action in TO_DISPATCHERS:
            users = members({Role.DISPATCHER})
        elif action in TO_LEAD_STAFF:
            users = members(set(UNIT_STAFF), {event.lead_unit_id or 0})
        elif action == Action.SUPERVISE:
            users = members({Role.UNIT_LEADER}, {event.lead_unit_id or 0})
        elif action in BY_NAME:
            users = {names[n] for n in _names(event) if n in names}
        elif action == Action.REPLY:
            users = members({Role.CALLBACK_AGENT})
        elif action == Action.GROUP_WARNING:  # 群体诉求预警: the supervisors of the ticket's district
            users = members({Role.SUPERVISOR}, {event.district_id or 0})
        users.discard(event.actor_id or 0)
        found[event.pk] = sorted(users)
    return found


def _names(event: Claimed) -> list[str]:
    if event.action == Action.ASSIGN_HANDLER:
        return [str(event.data.get("to"))] if event.data.get("to") else []
    return [str(n) for n in event.data.get("escalated_to", [])]


def process_outbox(now: dt.datetime, limit: int = 500) -> int:
    """Turn up to `limit` unprocessed events into notifications. Returns how many events were processed."""
    return _ticket_events(now, limit) + sum(src.drain(now, limit) for src in _sources.values())


def claim(model: type[Any], limit: int, related: tuple[str, ...] = ()) -> list[Any]:
    """Up to `limit` unprocessed events of `model` (an event table with `notified_at`), locked for the caller's
    transaction; on PostgreSQL rows another worker holds are skipped, not waited for."""
    rows = model.objects.filter(notified_at__isnull=True).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return list(rows.select_related(*related)[:limit])


def mark(model: type[Any], events: list[Any], now: dt.datetime) -> list[Any]:
    """Mark the claimed events processed (they are locked, or this is the only writer)."""
    model.objects.filter(pk__in=[e.pk for e in events], notified_at__isnull=True).update(notified_at=now)
    return events


NEEDS_DATA = {Action.WHISTLE.value, *(a.value for a in BY_NAME)}  # the actions whose recipients are in `data`


def _ticket_events(now: dt.datetime, limit: int) -> int:
    """Claim, mark and notify up to `limit` ticket events in one transaction of three statements plus the recipients'
    queries: no model instances, the notifications inserted as arrays (`unnest`) on PostgreSQL."""
    events = TicketEvent._meta.db_table
    tickets = Ticket._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement claims (SKIP LOCKED), marks and returns the batch with the two ticket columns needed.
            cursor.execute(
                f"WITH claimed AS (SELECT id FROM {events} WHERE notified_at IS NULL ORDER BY id LIMIT %s "
                "FOR UPDATE SKIP LOCKED) "
                f"UPDATE {events} e SET notified_at = %s FROM claimed c, {tickets} t "
                "WHERE e.id = c.id AND t.id = e.ticket_id "
                "RETURNING e.id, e.ticket_id, e.action, e.actor_id, "
                "CASE WHEN e.action = ANY(%s) THEN e.data::text END, t.lead_unit_id, t.district_id",
                [limit, now, sorted(NEEDS_DATA)],
            )
            rows = sorted(cursor.fetchall())
        else:  # SQLite: the only writer while this transaction lasts
            rows = list(
                TicketEvent.objects.filter(notified_at__isnull=True)
                .order_by("id")
                .values_list(
                    "id", "ticket_id", "action", "actor_id", "data", "ticket__lead_unit_id", "ticket__district_id"
                )[:limit]
            )
            if rows:
                TicketEvent.objects.filter(pk__in=[r[0] for r in rows], notified_at__isnull=True).update(
                    notified_at=now
                )
        if not rows:
            return 0
        batch = [
            Claimed(pk, ticket, action, actor, _data(data) if action in NEEDS_DATA else {}, lead, district)
            for pk, ticket, action, actor, data, lead, district in rows
        ]
        told = recipients_many(batch)
        users = [uid for event in batch for uid in told[event.pk]]
        ids = [event.pk for event in batch for _ in told[event.pk]]
        if users:
            table = Notification._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"INSERT INTO {table} (user_id, event_id, source, created_at) "
                    "SELECT u, e, '', %s FROM unnest(%s::bigint[], %s::bigint[]) AS n(u, e) ON CONFLICT DO NOTHING",
                    [now, users, ids],
                )
            else:
                Notification.objects.bulk_create(
                    [Notification(user_id=u, event_id=e, created_at=now) for u, e in zip(users, ids, strict=True)],
                    batch_size=1000,
                    ignore_conflicts=True,
                )
        return len(batch)


def _data(value: Any) -> dict[str, Any]:
    found = json.loads(value) if isinstance(value, str | bytes) else value
    return found if isinstance(found, dict) else {}
