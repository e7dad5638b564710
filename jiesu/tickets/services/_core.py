"""The ticket services' common core: input checks, the compare-and-set change with its one event, loading
through access, and the ticket number."""

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock, events
from jiesu.lib.errors import ConcurrentEdit, Forbidden, IllegalTransition, InvalidInput
from jiesu.lib.validation import clean_text
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, Membership, OrgUnit, UnitKind
from jiesu.orgs.selectors import active_unit
from jiesu.sla.models import TimeLimitPolicy
from jiesu.tickets import access

from ..models import Assignment, AssignmentRole, Ticket, TicketEvent
from ..workflow import PUBLIC_STATUS, Action, DispatchState, target_state

LIMITS = {"title": 200, "content": 5000, "address": 255, "name": 50, "note": 2000, "reply": 5000}


PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{2,19}$")


HANDLING_KINDS = STREET_TOWNSHIP_KINDS | {
    UnitKind.DISTRICT,
    UnitKind.DEPARTMENT,
    UnitKind.PUBLIC_SERVICE_COMPANY,
    UnitKind.COMMUNITY,
    UnitKind.VILLAGE,
}


FIELD_LABELS = {
    "title": _("Title"),
    "content": _("Content"),
    "address": _("Address"),
    "name": _("Requester name"),
    "note": _("Note"),
    "reason": _("Reason"),
    "reply": _("Reply text"),
    "comment": _("Comment"),
    "recording": _("Recording id"),
}


# --- validation helpers ---------------------------------------------------------------------------------
def _text(value: object, field: str, *, required: bool = True, limit_key: str | None = None) -> str:
    key = limit_key or field
    return clean_text(
        value,
        on=field,
        label=FIELD_LABELS.get(field, field),
        limit=LIMITS[key] if key in LIMITS else LIMITS["note"],
        required=required,
    )


def _choice(value: object, choices: type[models.TextChoices], label: Any) -> str:
    if value not in choices.values:
        raise InvalidInput(_("Unknown %(field)s: “%(value)s”."), field=label, value=str(value)[:50])
    return str(value)


def _unit(code: object, *, kinds: Iterable[str] = HANDLING_KINDS) -> OrgUnit:
    unit = active_unit(str(code)) if code else None
    if unit is None or unit.kind not in set(kinds):
        raise InvalidInput(_("Unknown or inactive unit: “%(code)s”."), code=str(code)[:50])
    return unit


def _units(codes: Iterable[object]) -> list[OrgUnit]:
    units: list[OrgUnit] = []
    for code in codes:
        unit = _unit(code)
        if unit not in units:
            units.append(unit)
    return units


def _coordinate(value: object, low: int, high: int, label: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("%(field)s is not a number."), field=label) from None
    if not number.is_finite():  # NaN and infinities compare with nothing
        raise InvalidInput(_("%(field)s is not a number."), field=label)
    if not low <= number <= high:
        raise InvalidInput(_("%(field)s is out of range."), field=label)
    return number


# --- the core: one compare-and-set change plus one event -----------------------------------------------
def _event(
    ticket: Ticket,
    action: str,
    actor: Membership | None,
    from_state: str,
    to_state: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    return events.record(
        TicketEvent,
        actor=actor.user if actor else None,
        at=at,
        ticket=ticket,
        action=action,
        actor_unit=actor.unit if actor else None,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
    )


def _change(
    ticket: Ticket,
    action: str,
    actor: Membership | None,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> TicketEvent:
    current = ticket.dispatch_state
    _check_transition(ticket, action)
    to = target_state(action, current) or current
    version = ticket.version if expected_version is None else int(expected_version)
    at = clock.now()
    fields |= {"dispatch_state": to, "public_status": PUBLIC_STATUS[DispatchState(to)], "updated_at": at}
    if Ticket.objects.filter(pk=ticket.pk, version=version).update(version=F("version") + 1, **fields) != 1:
        raise ConcurrentEdit()
    for name, value in fields.items():
        setattr(ticket, name, value)
    ticket.version = version + 1
    return _event(ticket, action, actor, current, to, note, data, at)


def _load(user: Any, ticket_id: int, action: str, expected_version: int | None = None) -> tuple[Ticket, Membership]:
    """The visible ticket (NotFound otherwise) and the actor, whose role must allow `action`.
    A ticket changed since the user saw it (`expected_version`) is a conflict, whatever its state now."""
    ticket = access.get_ticket(user, ticket_id)
    actor = access.require_role(user, action)
    if expected_version is not None and int(expected_version) != ticket.version:
        raise ConcurrentEdit()
    _check_transition(ticket, action)
    return ticket, actor


def _lock_for_assistant(ticket_id: int) -> Ticket:
    """The ticket, row-locked, for a change the assistant makes with no actor (so no visibility applies)."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related(*access.TICKET_RELATED)
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise InvalidInput(_("No such ticket."))
    return ticket


def _check_transition(ticket: Ticket, action: str) -> None:
    if target_state(action, ticket.dispatch_state) is None:
        raise IllegalTransition(
            _("A ticket that is “%(state)s” cannot be given the action “%(action)s”."),
            state=DispatchState(ticket.dispatch_state).label,
            action=Action(action).label,
        )


def _require_lead(ticket: Ticket, actor: Membership) -> None:
    if ticket.lead_unit_id != actor.unit_id:
        raise Forbidden(_("Only the lead unit of this ticket may do this."))


def _policy(ticket: Ticket) -> TimeLimitPolicy:
    return ticket.time_limit_policy


def _assign(ticket: Ticket, lead: OrgUnit, assists: Sequence[OrgUnit], at: dt.datetime) -> None:
    """Make `lead` and `assists` the ticket's current units; earlier ones stay on record, ended."""
    ticket.assignments.filter(is_current=True, role__in=[AssignmentRole.LEAD, AssignmentRole.ASSIST]).update(
        is_current=False, ended_at=at
    )
    Assignment.objects.bulk_create(
        [Assignment(ticket=ticket, unit=lead, role=AssignmentRole.LEAD, assigned_at=at)]
        + [Assignment(ticket=ticket, unit=u, role=AssignmentRole.ASSIST, assigned_at=at) for u in assists]
    )
