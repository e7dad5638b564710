"""督办, the assessment's appeals on the trail, and the worker's deadline clocks (签收超时, 超期)."""

import dataclasses
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import IllegalTransition, InvalidInput
from jiesu.orgs.models import Membership, Role

from ..models import SupervisionOrder, Ticket
from ..workflow import IN_HAND, Action, DispatchState
from ._core import _change, _event, _load, _text


@transaction.atomic
def supervise(
    user: Any,
    ticket_id: int,
    note: str,
    *,
    respond_by: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """督办: a supervisor puts the ticket under supervision (again, to urge) with an instruction (`note`) and a
    deadline for the lead unit's answer (`respond_by`; default JIESU_SUPERVISION_ANSWER_HOURS from now). The lead
    unit finds it under 督办 and answers it (`answer_supervision`)."""
    ticket, actor = _load(user, ticket_id, Action.SUPERVISE, expected_version)
    note = _text(note, "note")
    now = clock.now()
    if respond_by is None:
        respond_by = now + dt.timedelta(hours=settings.JIESU_SUPERVISION_ANSWER_HOURS)
    if not isinstance(respond_by, dt.datetime) or respond_by.tzinfo is None or respond_by <= now:
        raise InvalidInput(_("The answer deadline must be a later date and time."), on="respond_by")
    if ticket.lead_unit is None:
        raise IllegalTransition(_("The ticket has no lead unit to answer the supervision."))
    _change(
        ticket,
        Action.SUPERVISE,
        actor,
        note=note,
        data={"respond_by": respond_by.isoformat(), "unit": ticket.lead_unit.code},
        expected_version=expected_version,
        supervised=True,
    )
    SupervisionOrder.objects.create(
        ticket=ticket,
        unit=ticket.lead_unit,
        instruction=note,
        respond_by=respond_by,
        issued_by=actor.user,
        issued_at=now,
    )
    return ticket


@transaction.atomic
def answer_supervision(user: Any, ticket_id: int, answer: str, *, expected_version: int | None = None) -> Ticket:
    """督办反馈: the unit answers the open supervision orders addressed to it on this ticket (late answers are
    recorded as late)."""
    ticket, actor = _load(user, ticket_id, Action.ANSWER_SUPERVISION, expected_version)
    answer = _text(answer, "reply")
    orders = list(ticket.supervision_orders.filter(unit=actor.unit, answered_at__isnull=True))
    if not orders:
        raise IllegalTransition(_("No open supervision order for your unit on this ticket."))
    now = clock.now()
    late = any(o.respond_by < now for o in orders)
    _change(
        ticket,
        Action.ANSWER_SUPERVISION,
        actor,
        note=answer,
        data={"orders": [o.pk for o in orders], "late": late},
        expected_version=expected_version,
    )
    SupervisionOrder.objects.filter(pk__in=[o.pk for o in orders]).update(
        answer=answer, answered_by=actor.user, answered_at=now
    )
    return ticket


@transaction.atomic
def assessment_event(
    user: Any,
    ticket_id: int,
    action: str,
    *,
    note: str,
    data: dict[str, Any],
    excluded_from_scoring: bool | None = None,
) -> tuple[Ticket, Membership]:
    """An assessment appeal (申诉) filed or decided, on the ticket's trail. `jiesu.assessment.services` keeps the
    appeal itself and calls this in its own transaction; an upheld unreasonable-appeal judgement sets the
    ticket's `excluded_from_scoring` flag here."""
    ticket, actor = _load(user, ticket_id, action)
    fields = {} if excluded_from_scoring is None else {"excluded_from_scoring": excluded_from_scoring}
    _change(ticket, action, actor, note=note, data=data, **fields)
    return ticket, actor


# --- the worker's deadline tick -------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Deadline:
    """A clock the worker watches: tickets in `states` whose `due_field` has passed get `flag_field` set
    and one `action` event that escalates them to the lead unit's leaders."""

    action: str
    states: frozenset[str]
    due_field: str
    flag_field: str

    def pending(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "dispatch_state__in": self.states,
            f"{self.flag_field}__isnull": True,
            "paused_at__isnull": True,
            f"{self.due_field}__lt": now,
        }


SIGN_DEADLINE = Deadline(
    Action.MARK_SIGN_OVERDUE, frozenset({DispatchState.DISPATCHED}), "accept_due_at", "accept_overdue_at"
)


HANDLING_DEADLINE = Deadline(Action.MARK_OVERDUE, IN_HAND, "due_at", "overdue_at")


DEADLINES = (SIGN_DEADLINE, HANDLING_DEADLINE)


def overdue_candidates(now: dt.datetime, limit: int, deadline: Deadline = HANDLING_DEADLINE) -> list[int]:
    tickets = Ticket.objects.filter(**deadline.pending(now)).order_by(deadline.due_field, "pk")
    return list(tickets.values_list("pk", flat=True)[:limit])


def escalate_overdue(ticket_id: int, now: dt.datetime, deadline: Deadline = HANDLING_DEADLINE) -> bool:
    """Mark one ticket past `deadline` and escalate it to its lead unit's leaders, exactly once.

    The ticket is claimed first: on PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED`, so a ticket another worker
    is escalating right now is passed over instead of waited for; then a compare-and-set on the flag being empty,
    in the same transaction as the event, makes it idempotent: a worker killed at any point either did both or
    neither, and a rerun does only what is left. Several workers can run the tick at once without double work.
    The ticket's `version` is not bumped: this does not conflict with a user's edit.
    """
    with transaction.atomic():
        pending = Ticket.objects.filter(pk=ticket_id, **deadline.pending(now))
        if connection.features.has_select_for_update_skip_locked:
            ticket = pending.select_for_update(skip_locked=True, of=("self",)).select_related("lead_unit").first()
            if ticket is None:  # done already, no longer due, or another worker holds it
                return False
            pending.update(**{deadline.flag_field: now})
        else:  # SQLite: one writer at a time, so the conditional update alone decides
            if not pending.update(**{deadline.flag_field: now}):
                return False
            ticket = Ticket.objects.select_related("lead_unit").get(pk=ticket_id)
        leaders = sorted(
            Membership.objects.filter(unit=ticket.lead_unit, role=Role.UNIT_LEADER).values_list(
                "user__username", flat=True
            )
        )
        due = getattr(ticket, deadline.due_field)
        _event(
            ticket,
            deadline.action,
            None,
            ticket.dispatch_state,
            ticket.dispatch_state,
            data={
                "due_at": due.isoformat() if due else None,
                "unit": ticket.lead_unit.code if ticket.lead_unit else None,
                "escalated_to": leaders,
            },
            at=now,
        )
        return True
