"""Bulk history: finished orders loaded for the demo, benchmarks and imports (action `load_history`)."""

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category
from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput
from jiesu.lib.numbers import format_ticket_number
from jiesu.sla.models import TimeLimitPolicy
from jiesu.sla.policy import due_at as compute_due
from jiesu.sla.policy import load_calendar, policy_for

from ..models import Assignment, Callback, Ticket, TicketEvent, TicketNumberCounter
from ..workflow import PUBLIC_STATUS, Action, DispatchState

# --- bulk history ---------------------------------------------------------------------------------------
HISTORY_SEQUENCE_FROM = 500000


@transaction.atomic
def reserve_history_numbers(day: dt.date, count: int) -> list[str]:
    """`count` ticket numbers of `day` for loaded history, from sequence 500001 up, so they never meet the
    numbers live intake gives that day (counting from 1)."""
    return _history_numbers({day: count})[day]


@transaction.atomic
def load_history(
    tickets: Sequence[Ticket],
    build: Any,
) -> list[Callback]:
    """Insert finished ticket histories in bulk (synthetic history for the demo and benchmarks, or imports):
    the tickets first, then `build(tickets)` returns their assignments, events and callbacks, now that the
    tickets have ids. Not a workflow step: the histories are complete, so no transition is checked here.
    Returns the callbacks, now with their ids."""
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    assignments, events, callbacks = build(tickets)
    Assignment.objects.bulk_create(assignments, batch_size=5000)
    TicketEvent.objects.bulk_create(events, batch_size=5000)
    Callback.objects.bulk_create(callbacks, batch_size=5000)
    return list(callbacks)


@dataclasses.dataclass(frozen=True)
class HistoryOrder:
    """One finished (or still open) order from another system, validated by the importer."""

    key: str  # idempotency key: the same source row always gives the same key
    channel: str
    appeal_type: str
    title: str
    content: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    category: Category
    intake_at: dt.datetime
    closed_at: dt.datetime | None
    reply: str
    source: dict[str, Any]


def imported_keys(keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys are already tickets (a re-run of the same file)."""
    found: set[str] = set()
    if connection.vendor == "postgresql":  # one array parameter, not thousands of placeholders to parse
        table = connection.ops.quote_name(Ticket._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT idempotency_key FROM {table} WHERE idempotency_key = ANY(%s)", [list(keys)])
            return {row[0] for row in cursor.fetchall()}
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        found.update(
            key
            for key in Ticket.objects.filter(idempotency_key__in=chunk).values_list("idempotency_key", flat=True)
            if key
        )
    return found


def _history_numbers(days: dict[dt.date, int]) -> dict[dt.date, list[str]]:
    """Numbers for loaded history, per intake day, from sequence 500001 up (see `reserve_history_numbers`): one
    upsert for all the days, so a batch spread over years costs one statement."""
    table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
    ordered = sorted(days)
    values = ", ".join(["(%s, %s)"] * len(ordered))
    params: list[Any] = [x for day in ordered for x in (day, HISTORY_SEQUENCE_FROM + days[day])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES {values} ON CONFLICT (day) DO UPDATE SET "
            f"last = MAX_OF({table}.last, {HISTORY_SEQUENCE_FROM}) + EXCLUDED.last - {HISTORY_SEQUENCE_FROM} "
            "RETURNING day, last".replace("MAX_OF", "GREATEST" if connection.vendor == "postgresql" else "MAX"),
            params,
        )
        found = cursor.fetchall()
    numbers = {}
    for day, last in found:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        numbers[day] = [format_ticket_number(day, seq) for seq in range(last - days[day] + 1, last + 1)]
    return numbers


@transaction.atomic
def import_history(orders: Sequence[HistoryOrder]) -> int:
    """导入: load orders from another system with their dates and outcomes, in one transaction. An order whose key is
    already a ticket is skipped, so re-running a file creates nothing twice. Closed orders get their intake and close
    events; open ones stay registered (new) for dispatch. Their events are marked as imported and as already
    notified, so neither notifications nor webhooks replay history. Returns how many tickets were created."""
    from jiesu.lib import bulk

    present = imported_keys([o.key for o in orders])
    todo, seen = [], set(present)
    for order in orders:
        if order.key not in seen:
            seen.add(order.key)
            todo.append(order)
    if not todo:
        return 0
    days: dict[dt.date, int] = {}
    intake_days = [clock.local_date(order.intake_at) for order in todo]
    for day in intake_days:
        days[day] = days.get(day, 0) + 1
    numbers = _history_numbers(days)
    now = clock.now()
    today = clock.local_date(now)
    calendar = load_calendar()
    policies: dict[int, TimeLimitPolicy] = {}
    ticket_ids = bulk.reserve_ids(Ticket, len(todo))
    event_ids = iter(bulk.reserve_ids(TicketEvent, len(todo) + sum(1 for o in todo if o.closed_at)))
    ticket_base, event_base = bulk.defaults(Ticket), bulk.defaults(TicketEvent)
    tickets, events = [], []
    for ticket_id, order, day in zip(ticket_ids, todo, intake_days, strict=True):
        category = order.category
        policy = policies.get(category.pk)
        if policy is None:
            found = policy_for(category, category.time_limit_class, today)
            if found is None:
                raise InvalidInput(_("No time-limit policy is in force for this category."))
            policy = policies[category.pk] = found
        state = (DispatchState.CLOSED if order.closed_at else DispatchState.NEW).value
        tickets.append(
            ticket_base
            | {
                "id": ticket_id,
                "number": numbers[day].pop(),
                "idempotency_key": order.key,
                "channel": order.channel,
                "appeal_type": order.appeal_type,
                "title": order.title,
                "content": order.content,
                "address": order.address,
                "latitude": order.latitude,
                "longitude": order.longitude,
                "category_id": category.pk,
                "time_limit_class": category.time_limit_class,
                "time_limit_policy_id": policy.pk,
                "dispatch_state": state,
                "public_status": PUBLIC_STATUS[DispatchState(state)].value,
                "intake_at": order.intake_at,
                "due_at": None if order.closed_at else compute_due(policy, order.intake_at, calendar),
                "replied_at": order.closed_at if order.reply else None,
                "closed_at": order.closed_at,
                "reply": order.reply,
                "updated_at": order.closed_at or order.intake_at,
            }
        )
        data = {"channel": order.channel, "source": "import", "imported": order.source}
        common = event_base | {"ticket_id": ticket_id, "notified_at": now}
        events.append(
            common
            | {"id": next(event_ids), "action": Action.INTAKE.value, "to_state": DispatchState.NEW.value, "data": data}
            | {"created_at": order.intake_at}
        )
        if order.closed_at:
            events.append(
                common
                | {"id": next(event_ids), "action": Action.LOAD_HISTORY.value, "from_state": DispatchState.NEW.value}
                | {"to_state": DispatchState.CLOSED.value, "note": order.reply[:2000], "created_at": order.closed_at}
                | {"data": {"imported": order.source}}
            )
    bulk.insert_rows(Ticket, tickets)
    bulk.insert_rows(TicketEvent, events)
    return len(tickets)
