"""Bulk history: finished orders loaded for the demo, benchmarks and imports (action `load_history`)."""

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
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
    calendar = load_calendar()
    policy_of = _policies(clock.local_date(now))
    if connection.vendor == "postgresql":
        return _import_staged(todo, intake_days, numbers, policy_of, calendar, now)
    ticket_ids = bulk.reserve_ids(Ticket, len(todo))
    event_ids = iter(bulk.reserve_ids(TicketEvent, len(todo) + sum(1 for o in todo if o.closed_at)))
    ticket_base, event_base = bulk.defaults(Ticket), bulk.defaults(TicketEvent)
    tickets, events = [], []
    for ticket_id, order, day in zip(ticket_ids, todo, intake_days, strict=True):
        category = order.category
        policy = policy_of(category)
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


# The columns of the staging table a PostgreSQL import batch is copied into (a temporary table, emptied at commit):
# only what varies by order; the constant columns and both events are filled in by the server.
_STAGE = [
    ("id", "int8"), ("number", "text"), ("key", "text"), ("channel", "text"), ("appeal_type", "text"),
    ("title", "text"), ("content", "text"), ("address", "text"), ("latitude", "numeric"), ("longitude", "numeric"),
    ("category_id", "int8"), ("time_limit_class", "text"), ("policy_id", "int8"), ("intake_at", "timestamptz"),
    ("due_at", "timestamptz"), ("closed_at", "timestamptz"), ("reply", "text"), ("source", "text"),
]  # fmt: skip
_STAGE_TABLE = "jiesu_import_stage"


def _import_staged(
    todo: Sequence[HistoryOrder],
    intake_days: Sequence[dt.date],
    numbers: dict[dt.date, list[str]],
    policy_of: Any,
    calendar: Any,
    now: dt.datetime,
) -> int:
    """PostgreSQL: the tickets' ids reserved, one binary COPY of the varying columns into a temporary staging table,
    then one INSERT … SELECT of the tickets and one of both events of each (intake; the close of a closed order), all
    in the caller's transaction. Python encodes 18 values per order and no event; the server fills in the rest."""
    return _write_staged(_stage_rows(todo, intake_days, numbers, policy_of, calendar), now)


def _stage_rows(
    todo: Sequence[HistoryOrder],
    intake_days: Sequence[dt.date],
    numbers: dict[dt.date, list[str]],
    policy_of: Any,
    calendar: Any,
) -> list[tuple[Any, ...]]:
    from jiesu.lib import bulk

    staged = []
    ids = bulk.reserve_ids(Ticket, len(todo))
    for n, order, day in zip(ids, todo, intake_days, strict=True):
        category = order.category
        policy = policy_of(category)  # may query: never while the COPY holds the connection
        source = order.source
        staged.append(
            (
                n, numbers[day].pop(), order.key, order.channel, order.appeal_type, order.title, order.content,
                order.address, order.latitude, order.longitude, category.pk, category.time_limit_class, policy.pk,
                order.intake_at, None if order.closed_at else compute_due(policy, order.intake_at, calendar),
                order.closed_at, order.reply,
                _dumps(source) if source.keys() != {"mapping", "id"} else
                f'{{"mapping": {_dumps(source["mapping"])}, "id": {_dumps(source["id"])}}}',
            )
        )  # fmt: skip
    return staged


_dumps = DjangoJSONEncoder(ensure_ascii=False).encode


def _write_staged(staged: Sequence[tuple[Any, ...]], now: dt.datetime) -> int:
    with connection.cursor() as cursor:
        columns = ", ".join(f"{name} {kind}" for name, kind in _STAGE)
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE_TABLE} ({columns}) ON COMMIT DELETE ROWS")
        # Empty already unless an outer transaction wrote an earlier batch (a savepoint does not empty it).
        cursor.execute(f"TRUNCATE {_STAGE_TABLE}")
        with cursor.cursor.copy(
            f"COPY {_STAGE_TABLE} ({', '.join(name for name, _ in _STAGE)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types([kind for _, kind in _STAGE])
            for row in staged:
                copy.write_row(row)
        for sql, params in _staged_insert_sql(now):
            cursor.execute(sql, params)
    return len(staged)


@dataclasses.dataclass(frozen=True)
class PreparedHistory:
    """A batch of orders ready to be written by `write_history`: checked, numbered, staged (PostgreSQL)."""

    rows: list[tuple[Any, ...]]
    offered: int  # orders in the batch, the ones already present included


def prepare_history(orders: Sequence[HistoryOrder], seen: set[str]) -> PreparedHistory:
    """PostgreSQL, before the batch's own transaction (so that a reader can prepare the next batch while the previous
    one is written): drops the orders whose key is a ticket already or in `seen` (the file so far, which it extends),
    reserves their numbers and ids (each a short transaction of its own; a batch that fails later leaves a gap) and
    builds the staged rows. Nothing is written until `write_history`."""
    todo = _new_orders(orders, seen)
    if not todo:
        return PreparedHistory([], len(orders))
    intake_days, numbers = _numbers_for(todo)
    policy_of = _policies(clock.local_date(clock.now()))
    return PreparedHistory(_stage_rows(todo, intake_days, numbers, policy_of, load_calendar()), len(orders))


@transaction.atomic
def write_history(batch: PreparedHistory) -> int:
    """导入's write: one batch prepared by `prepare_history`, in one transaction. Returns how many tickets it made."""
    if not batch.rows:
        return 0
    return _write_staged(batch.rows, clock.now())


def _staged_insert_sql(now: dt.datetime) -> list[tuple[str, list[Any]]]:
    """The two statements that turn the staged rows into tickets and events (see `_import_staged`)."""
    from jiesu.lib import bulk

    quote = connection.ops.quote_name
    closed, new = DispatchState.CLOSED.value, DispatchState.NEW.value
    varying = {
        "id": "s.id",
        "number": "s.number",
        "idempotency_key": "s.key",
        "channel": "s.channel",
        "appeal_type": "s.appeal_type",
        "title": "s.title",
        "content": "s.content",
        "address": "s.address",
        "latitude": "s.latitude",
        "longitude": "s.longitude",
        "category_id": "s.category_id",
        "time_limit_class": "s.time_limit_class",
        "time_limit_policy_id": "s.policy_id",
        "dispatch_state": f"CASE WHEN s.closed_at IS NULL THEN '{new}' ELSE '{closed}' END",
        "public_status": f"CASE WHEN s.closed_at IS NULL THEN '{PUBLIC_STATUS[DispatchState.NEW].value}' "
        f"ELSE '{PUBLIC_STATUS[DispatchState.CLOSED].value}' END",
        "intake_at": "s.intake_at",
        "due_at": "s.due_at",
        "replied_at": "CASE WHEN s.reply <> '' THEN s.closed_at END",
        "closed_at": "s.closed_at",
        "reply": "s.reply",
        "updated_at": "COALESCE(s.closed_at, s.intake_at)",
    }
    params: list[Any] = []

    def select_list(model: type[Any], exprs: dict[str, str]) -> tuple[str, str]:
        names, values = [], []
        base = bulk.defaults(model)
        for field in model._meta.concrete_fields:
            if field.primary_key and field.attname not in exprs:
                continue  # the table's own sequence
            names.append(quote(field.column))
            if field.attname in exprs:
                values.append(exprs[field.attname])
            else:
                values.append("%s")
                params.append(field.get_db_prep_save(base[field.attname], connection))
        return ", ".join(names), ", ".join(values)

    ticket_columns, ticket_values = select_list(Ticket, varying)
    imported = "s.source::jsonb"
    event_exprs = {
        "ticket_id": "s.id",
        "action": "x.action",
        "from_state": "x.from_state",
        "to_state": "x.to_state",
        "note": "x.note",
        "data": "x.data",
        "created_at": "x.created_at",
        "notified_at": "x.notified_at",
    }
    ticket_params = list(params)
    params.clear()
    event_columns, event_values = select_list(TicketEvent, event_exprs)
    event_params = list(params)
    events = quote(TicketEvent._meta.db_table)
    tickets_sql = (
        f"INSERT INTO {quote(Ticket._meta.db_table)} ({ticket_columns}) "
        f"SELECT {ticket_values} FROM {_STAGE_TABLE} s ORDER BY s.id"
    )
    events_sql = (
        f"INSERT INTO {events} ({event_columns}) SELECT {event_values} FROM {_STAGE_TABLE} s "
        "CROSS JOIN LATERAL (VALUES "
        f"(0, %s, '', %s, '', jsonb_build_object('channel', s.channel, 'source', 'import', 'imported', {imported}), "
        "s.intake_at, %s::timestamptz), "
        f"(1, %s, %s, %s, left(s.reply, 2000), jsonb_build_object('imported', {imported}), s.closed_at, "
        "%s::timestamptz)"
        ") AS x(k, action, from_state, to_state, note, data, created_at, notified_at) "
        "WHERE x.k = 0 OR s.closed_at IS NOT NULL ORDER BY s.id, x.k"
    )
    values = [Action.INTAKE.value, new, now, Action.LOAD_HISTORY.value, new, closed, now]
    return [(tickets_sql, ticket_params), (events_sql, event_params + values)]
