"""The handling unit's work: 签收, 单位内转办, progress, 延期, 吹哨/报到, 答复."""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput
from jiesu.lib.uploads import check_images
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, Membership, Role, UnitKind

from ..models import Assignment, AssignmentRole, ExtensionRequest, RequestState, Ticket
from ..workflow import Action
from ._core import _change, _load, _policy, _require_lead, _text, _units
from .intake import _attach


@transaction.atomic
def accept(user: Any, ticket_id: int, *, expected_version: int | None = None) -> Ticket:
    """签收: the lead unit signs for the ticket."""
    ticket, actor = _load(user, ticket_id, Action.ACCEPT, expected_version)
    _require_lead(ticket, actor)
    now = clock.now()
    late = bool(ticket.accept_due_at and now > ticket.accept_due_at)
    _change(
        ticket,
        Action.ACCEPT,
        actor,
        data={"late": late},
        expected_version=expected_version,
        accepted_at=now,
        handler=ticket.handler or actor.user,
    )
    return ticket


@transaction.atomic
def assign_handler(
    user: Any, ticket_id: int, handler_id: int, note: str = "", *, expected_version: int | None = None
) -> Ticket:
    """A leader of the lead unit hands the ticket to another handler of the same unit (单位内转办)."""
    ticket, actor = _load(user, ticket_id, Action.ASSIGN_HANDLER, expected_version)
    _require_lead(ticket, actor)
    note = _text(note, "note", required=False)
    member = (
        Membership.objects.filter(user_id=handler_id, unit=actor.unit, role__in=[Role.UNIT_HANDLER, Role.UNIT_LEADER])
        .select_related("user")
        .first()
    )
    if member is None:
        raise InvalidInput(_("Choose a handler of your own unit."))
    previous = ticket.handler.username if ticket.handler else None
    _change(
        ticket,
        Action.ASSIGN_HANDLER,
        actor,
        note=note,
        expected_version=expected_version,
        data={"from": previous, "to": member.user.username},
        handler=member.user,
    )
    return ticket


# --- handling -------------------------------------------------------------------------------------------
@transaction.atomic
def add_progress(
    user: Any, ticket_id: int, note: str, *, photos: Sequence[Any] = (), expected_version: int | None = None
) -> Ticket:
    """办理: a progress note, with photos, by any unit currently on the ticket (lead, assisting or summoned)."""
    ticket, actor = _load(user, ticket_id, Action.ADD_PROGRESS, expected_version)
    note = _text(note, "note")
    images = check_images(list(photos))
    if not ticket.assignments.filter(is_current=True, unit=actor.unit).exists():
        raise Forbidden(_("Your unit is not working on this ticket."))
    event = _change(
        ticket, Action.ADD_PROGRESS, actor, note=note, expected_version=expected_version, data={"photos": len(images)}
    )
    _attach(ticket, event, images)
    return ticket


@transaction.atomic
def request_extension(
    user: Any, ticket_id: int, requested_due_at: dt.datetime, reason: str, *, expected_version: int | None = None
) -> Ticket:
    """延期: ask for a later deadline. The clock pauses until the hotline centre decides."""
    ticket, actor = _load(user, ticket_id, Action.REQUEST_EXTENSION, expected_version)
    _require_lead(ticket, actor)
    reason = _text(reason, "reason", limit_key="note")
    if not isinstance(requested_due_at, dt.datetime) or requested_due_at.tzinfo is None:
        raise InvalidInput(_("The requested deadline is not a valid date and time."))
    if ticket.due_at and requested_due_at <= ticket.due_at:
        raise InvalidInput(_("The requested deadline must be later than the current one."))
    if ticket.paused_at is not None:
        raise IllegalTransition(_("An extension request is already pending."))
    now = clock.now()
    _change(
        ticket,
        Action.REQUEST_EXTENSION,
        actor,
        note=reason,
        expected_version=expected_version,
        data={"requested_due_at": requested_due_at.isoformat()},
        paused_at=now,
    )
    ExtensionRequest.objects.create(
        ticket=ticket,
        unit=actor.unit,
        requested_due_at=requested_due_at,
        reason=reason,
        requested_by=actor.user,
        requested_at=now,
    )
    return ticket


def _pending_extension(ticket: Ticket) -> ExtensionRequest:
    request = ticket.extension_requests.filter(state=RequestState.PENDING).first()
    if request is None:
        raise IllegalTransition(_("There is no pending extension request."))
    return request


@transaction.atomic
def approve_extension(user: Any, ticket_id: int, note: str = "", *, expected_version: int | None = None) -> Ticket:
    ticket, actor = _load(user, ticket_id, Action.APPROVE_EXTENSION, expected_version)
    note = _text(note, "note", required=False)
    request = _pending_extension(ticket)
    now = clock.now()
    old = ticket.due_at
    _change(
        ticket,
        Action.APPROVE_EXTENSION,
        actor,
        note=note,
        expected_version=expected_version,
        data={"from_due_at": old.isoformat() if old else None, "to_due_at": request.requested_due_at.isoformat()},
        due_at=request.requested_due_at,
        paused_at=None,
        overdue_at=None,
    )
    request.decide(RequestState.APPROVED, actor.user, now, note)
    return ticket


@transaction.atomic
def deny_extension(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """Denied: the old deadline stands, moved on by the time the clock was paused."""
    ticket, actor = _load(user, ticket_id, Action.DENY_EXTENSION, expected_version)
    note = _text(note, "note")
    request = _pending_extension(ticket)
    now = clock.now()
    paused = now - (ticket.paused_at or now)
    new_due = ticket.due_at + paused if ticket.due_at else None
    _change(
        ticket,
        Action.DENY_EXTENSION,
        actor,
        note=note,
        expected_version=expected_version,
        data={"paused_seconds": int(paused.total_seconds())},
        due_at=new_due,
        paused_at=None,
    )
    request.decide(RequestState.REJECTED, actor.user, now, note)
    return ticket


@transaction.atomic
def whistle(
    user: Any, ticket_id: int, department_codes: Iterable[str], note: str, *, expected_version: int | None = None
) -> Ticket:
    """吹哨: the lead street/township summons departments, who must report in by a deadline."""
    ticket, actor = _load(user, ticket_id, Action.WHISTLE, expected_version)
    _require_lead(ticket, actor)
    if actor.unit.kind not in STREET_TOWNSHIP_KINDS:
        raise Forbidden(_("Only a street or township can blow the whistle."))
    note = _text(note, "note")
    units = _units(department_codes)
    if not units:
        raise InvalidInput(_("Name at least one department to summon."))
    for unit in units:
        if unit.kind not in {UnitKind.DEPARTMENT, UnitKind.PUBLIC_SERVICE_COMPANY}:
            raise InvalidInput(_("“%(unit)s” is not a department or company."), unit=unit.name)
    now = clock.now()
    report_by = now + dt.timedelta(minutes=_policy(ticket).report_in_minutes)
    _change(
        ticket,
        Action.WHISTLE,
        actor,
        note=note,
        expected_version=expected_version,
        data={"units": [u.code for u in units], "report_in_due_at": report_by.isoformat()},
    )
    Assignment.objects.bulk_create(
        [
            Assignment(ticket=ticket, unit=u, role=AssignmentRole.WHISTLE, assigned_at=now, report_in_due_at=report_by)
            for u in units
        ]
    )
    return ticket


@transaction.atomic
def report_in(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """报到: a summoned department reports in."""
    ticket, actor = _load(user, ticket_id, Action.REPORT_IN, expected_version)
    note = _text(note, "note")
    summons = ticket.assignments.filter(
        is_current=True, role=AssignmentRole.WHISTLE, unit=actor.unit, reported_in_at__isnull=True
    ).first()
    if summons is None:
        raise IllegalTransition(_("Your unit has not been summoned to this ticket, or has reported in already."))
    now = clock.now()
    late = bool(summons.report_in_due_at and now > summons.report_in_due_at)
    _change(ticket, Action.REPORT_IN, actor, note=note, expected_version=expected_version, data={"late": late})
    Assignment.objects.filter(pk=summons.pk).update(reported_in_at=now)
    return ticket


@transaction.atomic
def reply(user: Any, ticket_id: int, text: str, *, expected_version: int | None = None) -> Ticket:
    """答复: the lead unit's account of the result."""
    ticket, actor = _load(user, ticket_id, Action.REPLY, expected_version)
    _require_lead(ticket, actor)
    text = _text(text, "reply")
    if ticket.paused_at is not None:
        raise IllegalTransition(_("An extension request is pending; wait for the decision before replying."))
    now = clock.now()
    late = bool(ticket.due_at and now > ticket.due_at)
    _change(
        ticket,
        Action.REPLY,
        actor,
        note=text,
        expected_version=expected_version,
        data={"late": late},
        reply=text,
        replied_at=now,
    )
    return ticket
