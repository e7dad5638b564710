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


def _new_orders(orders: Sequence[HistoryOrder], seen: set[str]) -> list[HistoryOrder]:
    """The orders whose key is neither a ticket yet nor in `seen`, once each; `seen` gets their keys."""
    present = imported_keys([o.key for o in orders])
    todo = []
    for order in orders:
        if order.key not in seen and order.key not in present:
            seen.add(order.key)
            todo.append(order)
    return todo


def _numbers_for(todo: Sequence[HistoryOrder]) -> tuple[list[dt.date], dict[dt.date, list[str]]]:
    days: dict[dt.date, int] = {}
    intake_days = [clock.local_date(order.intake_at) for order in todo]
    for day in intake_days:
        days[day] = days.get(day, 0) + 1
    with transaction.atomic():
        return intake_days, _history_numbers(days)


def _policies(today: dt.date) -> Any:
    policies: dict[int, TimeLimitPolicy] = {}

    def policy_of(category: Category) -> TimeLimitPolicy:
        policy = policies.get(category.pk)
        if policy is None:
            found = policy_for(category, category.time_limit_class, today)
            if found is None:
                raise InvalidInput(_("No time-limit policy is in force for this category."))
            policy = policies[category.pk] = found
        return policy

    return policy_of


@transaction.atomic
def import_history(orders: Sequence[HistoryOrder]) -> int:
    """导入: load orders from another system with their dates and outcomes, in one transaction. An order whose key is
    already a ticket is skipped, so re-running a file creates nothing twice. Closed orders get their intake and close
    events; open ones stay registered (new) for dispatch. Their events are marked as imported and as already
    notified, so neither notifications nor webhooks replay history. Returns how many tickets were created."""
    from jiesu.lib import bulk

    todo = _new_orders(orders, set())
    if not todo:
        return 0
    intake_days, numbers = _numbers_for(todo)
    now = clock.now()
    tickets, events = _history_rows(todo, intake_days, numbers, _policies(clock.local_date(now)), now)
    bulk.insert_values(Ticket, tickets)  # binary COPY on PostgreSQL
    bulk.insert_values(TicketEvent, events)
    return len(tickets)


def _history_rows(
    todo: Sequence[HistoryOrder],
    intake_days: Sequence[dt.date],
    numbers: dict[dt.date, list[str]],
    policy_of: Any,
    now: dt.datetime,
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The complete rows (`bulk.Rows`) of the new tickets and their events, with their ids reserved: the intake, and
    for a closed order its close."""
    from jiesu.lib import bulk

    calendar = load_calendar()
    ticket_ids = bulk.reserve_ids(Ticket, len(todo))
    event_ids = iter(bulk.reserve_ids(TicketEvent, len(todo) + sum(1 for o in todo if o.closed_at)))
    ticket, event = bulk.Rows(Ticket), bulk.Rows(TicketEvent)
    new, closed = DispatchState.NEW.value, DispatchState.CLOSED.value
    tickets, events = [], []
    for ticket_id, order, day in zip(ticket_ids, todo, intake_days, strict=True):
        category = order.category
        policy = policy_of(category)
        tickets.append(
            ticket(
                id=ticket_id,
                number=numbers[day].pop(),
                idempotency_key=order.key,
                channel=order.channel,
                appeal_type=order.appeal_type,
                title=order.title,
                content=order.content,
                address=order.address,
                latitude=order.latitude,
                longitude=order.longitude,
                category_id=category.pk,
                time_limit_class=category.time_limit_class,
                time_limit_policy_id=policy.pk,
                dispatch_state=closed if order.closed_at else new,
                public_status=PUBLIC_STATUS[DispatchState.CLOSED if order.closed_at else DispatchState.NEW].value,
                intake_at=order.intake_at,
                due_at=None if order.closed_at else compute_due(policy, order.intake_at, calendar),
                replied_at=order.closed_at if order.reply else None,
                closed_at=order.closed_at,
                reply=order.reply,
                updated_at=order.closed_at or order.intake_at,
            )
        )
        data = {"channel": order.channel, "source": "import", "imported": order.source}
        events.append(
            event(
                id=next(event_ids),
                ticket_id=ticket_id,
                action=Action.INTAKE.value,
                to_state=new,
                data=data,
                created_at=order.intake_at,
                notified_at=now,
            )
        )
        if order.closed_at:
            events.append(
                event(
                    id=next(event_ids),
                    ticket_id=ticket_id,
                    action=Action.LOAD_HISTORY.value,
                    from_state=new,
                    to_state=closed,
                    note=order.reply[:2000],
                    data={"imported": order.source},
                    created_at=order.closed_at,
                    notified_at=now,
                )
            )
    return tickets, events


@dataclasses.dataclass(frozen=True)
class PreparedHistory:
    """A batch of orders ready to be written by `write_history`: checked, numbered, its rows formatted for COPY."""

    tickets: bytes  # binary COPY data (`bulk.copy_data`)
    events: bytes
    created: int  # tickets in `tickets`
    offered: int  # orders in the batch, the ones already present included


def prepare_history(orders: Sequence[HistoryOrder], seen: set[str]) -> PreparedHistory:
    """PostgreSQL, before the batch's own transaction (so that a reader can prepare the next batch while the previous
    one is written): drops the orders whose key is a ticket already or in `seen` (the file so far, which it extends),
    reserves their numbers and ids (each a short transaction of its own; a batch that fails later leaves a gap) and
    builds the complete rows of the tickets and their events, formatted as binary COPY data. Nothing is written until
    `write_history`, which only hands the bytes to the database: all the Python work of an import happens here, in
    the reader's thread, and the writer's thread does not compete with it for the GIL."""
    from jiesu.lib import bulk

    todo = _new_orders(orders, seen)
    if not todo:
        return PreparedHistory(b"", b"", 0, len(orders))
    intake_days, numbers = _numbers_for(todo)
    now = clock.now()
    tickets, events = _history_rows(todo, intake_days, numbers, _policies(clock.local_date(now)), now)
    return PreparedHistory(
        bulk.copy_data(Ticket, bulk.encode_json(Ticket, tickets)),
        bulk.copy_data(TicketEvent, bulk.encode_json(TicketEvent, events)),
        len(tickets),
        len(orders),
    )


@transaction.atomic
def write_history(batch: PreparedHistory) -> int:
    """导入's write: one batch prepared by `prepare_history`, two binary COPYs in one transaction (the foreign keys
    checked at its commit). Returns how many tickets it made."""
    from jiesu.lib import bulk

    if batch.created:
        bulk.copy_in(Ticket, batch.tickets)
        bulk.copy_in(TicketEvent, batch.events)
    return batch.created
