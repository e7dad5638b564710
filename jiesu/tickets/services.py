"""The ticket service layer: the only code that changes a ticket's state.

Every public function here
- takes the acting user and a ticket id, loads the ticket through `access` (so a ticket the user may not
  see answers NotFound), checks the user's role and unit,
- validates all input before writing anything,
- runs in one transaction, changes the ticket with a compare-and-set on its `version`
  (optimistic concurrency: a stale edit gets ConcurrentEdit), and
- writes exactly one immutable TicketEvent per state change.
Errors are ServiceError subclasses whose message is in the user's language; on error nothing is changed.
"""

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category, TimeLimitClass
from jiesu.catalog.selectors import effective_category, suggest_dispatch
from jiesu.lib import clock
from jiesu.lib.errors import ConcurrentEdit, Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.lib.numbers import format_ticket_number
from jiesu.lib.uploads import CheckedImage, check_images
from jiesu.lib.validation import clean_text
from jiesu.orgs import access
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, Membership, OrgUnit, Role, UnitKind
from jiesu.sla.models import TimeLimitPolicy
from jiesu.sla.policy import due_at as compute_due
from jiesu.sla.policy import load_calendar, policy_for

from .models import (
    AppealType,
    Assignment,
    AssignmentRole,
    Attachment,
    Callback,
    Channel,
    ExtensionRequest,
    Requester,
    RequestState,
    Resolution,
    ReturnRequest,
    Satisfaction,
    Ticket,
    TicketEvent,
    TicketNumberCounter,
    Urgency,
)
from .workflow import IN_HAND, PUBLIC_STATUS, Action, DispatchState, target_state

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
    unit = OrgUnit.objects.filter(code=str(code), is_active=True).first() if code else None
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
    return TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        actor=actor.user if actor else None,
        actor_unit=actor.unit if actor else None,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
        created_at=at or clock.now(),
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


def _next_number(day: dt.date) -> str:
    if not TicketNumberCounter.objects.filter(day=day).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                TicketNumberCounter.objects.create(day=day, last=1)
        except IntegrityError:
            TicketNumberCounter.objects.filter(day=day).update(last=F("last") + 1)
    return format_ticket_number(day, TicketNumberCounter.objects.get(day=day).last)


# --- intake ---------------------------------------------------------------------------------------------
@transaction.atomic
def intake(user: Any, *, answer: str = "", merge_into: str = "", **fields: Any) -> Ticket:
    """受理: register an appeal as a ticket. A repeated idempotency key returns the first ticket.
    In the same transaction, `answer` answers an inquiry directly (直接办结), and `merge_into` (a ticket
    number) records it as a repeat of that open ticket (并单)."""
    actor = access.require_role(user, Action.INTAKE)
    master = None
    if merge_into:
        try:
            master = access.get_ticket_by_number(user, str(merge_into).strip())
        except NotFound:
            raise InvalidInput(_("No ticket numbered “%(number)s”."), number=str(merge_into)[:20]) from None
    ticket = _register(actor, **fields)
    if ticket.dispatch_state != DispatchState.NEW:  # a repeated submission: already done
        return ticket
    if answer:
        answer_directly(user, ticket.pk, answer)
    elif master is not None:
        _merge(ticket, actor, master, _("Registered as a repeat of %(number)s.") % {"number": master.number})
    return ticket


@transaction.atomic
def submit_public(*, photos: Sequence[Any] = (), **fields: Any) -> Ticket:
    """A citizen's own submission from the portal: no staff actor, channel web, a phone number to track it by."""
    if not str(fields.get("requester_phone") or "").strip():
        raise InvalidInput(_("Give a phone number: you track the request by its number and your phone."))
    return _register(None, channel=Channel.WEB, photos=photos, **fields)


@transaction.atomic
def submit_external(*, source: str, event_data: dict[str, Any] | None = None, **fields: Any) -> Ticket:
    """A request from an integrated client system (Open311) with no staff actor: channel API, the client named in
    the intake event (`source`, e.g. "open311:3"). A repeated idempotency key returns the first ticket."""
    return _register(None, channel=Channel.API, source=source, event_data=event_data, **fields)


@transaction.atomic
def requester_note(number: str, note: str, *, source: str, data: dict[str, Any] | None = None) -> TicketEvent:
    """A requester's comment arriving through an integration (Open311 names tickets by their public number): it goes
    on the trail and never changes the state; `data` says e.g. that a reopening was asked. Returns the event."""
    ticket = access.open311_tickets().filter(number=str(number)[:20]).first()
    if ticket is None:
        raise NotFound()
    note = _text(note, "note")
    return _change(ticket, Action.REQUESTER_NOTE, None, note=note, data={"source": source} | (data or {}))


def _register(
    actor: Membership | None,
    *,
    channel: str,
    source: str = "",
    event_data: dict[str, Any] | None = None,
    appeal_type: str,
    title: str,
    content: str,
    category_code: str,
    requester_name: str = "",
    requester_phone: str = "",
    address: str = "",
    district_code: str | None = None,
    street_code: str | None = None,
    latitude: object = None,
    longitude: object = None,
    urgency: str = Urgency.NORMAL,
    idempotency_key: str | None = None,
    photos: Sequence[Any] = (),
) -> Ticket:
    if idempotency_key:
        idempotency_key = _text(idempotency_key, "idempotency key", limit_key="title")[:64]
        existing = Ticket.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return existing
    channel = _choice(channel, Channel, _("channel"))
    appeal_type = _choice(appeal_type, AppealType, _("appeal type"))
    urgency = _choice(urgency, Urgency, _("urgency"))
    title = _text(title, "title")
    content = _text(content, "content")
    address = _text(address, "address", required=False)
    name = _text(requester_name, "name", required=False)
    phone = (requester_phone or "").strip()
    if phone and not PHONE_RE.match(phone):
        raise InvalidInput(_("The phone number “%(phone)s” is not valid."), on="phone", phone=phone[:20])
    latitude = _coordinate(latitude, -90, 90, _("Latitude"))
    longitude = _coordinate(longitude, -180, 180, _("Longitude"))
    images = check_images(list(photos))

    now = clock.now()
    today = clock.local_date(now)
    category = effective_category(str(category_code or ""), today)
    if category is None or not category.is_leaf:
        raise InvalidInput(_("Unknown category: “%(code)s”."), on="category", code=str(category_code)[:50])
    try:
        street = _unit(street_code, kinds=STREET_TOWNSHIP_KINDS) if street_code else None
    except InvalidInput as error:
        error.on = "street"
        raise
    district = _unit(district_code, kinds={UnitKind.DISTRICT}) if district_code else None
    if street is not None:
        if district is not None and street.parent_id != district.pk:
            raise InvalidInput(_("The street/township does not belong to the district."))
        district = street.parent
    limit_class, policy = time_limit(category, urgency, today)
    if policy is None:
        raise InvalidInput(_("No time-limit policy is in force for this category."))

    requester = None
    if phone or name:
        requester = Requester.objects.filter(phone=phone, name=name).first() or Requester.objects.create(
            phone=phone, name=name
        )
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                number=_next_number(today),
                idempotency_key=idempotency_key or None,
                channel=channel,
                appeal_type=appeal_type,
                requester=requester,
                title=title,
                content=content,
                address=address,
                latitude=latitude,
                longitude=longitude,
                district=district,
                street=street,
                category=category,
                urgency=urgency,
                time_limit_class=limit_class,
                time_limit_policy=policy,
                due_at=compute_due(policy, now),
                intake_at=now,
                updated_at=now,
                created_by=actor.user if actor else None,
                dispatch_state=DispatchState.NEW,
                public_status=PUBLIC_STATUS[DispatchState.NEW],
            )
    except IntegrityError:
        existing = Ticket.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if existing is None:
            raise
        return existing
    data = {"channel": channel} | ({} if actor else {"source": source or "portal"}) | (event_data or {})
    _attach(ticket, _event(ticket, Action.INTAKE, actor, "", DispatchState.NEW, data=data, at=now), images)
    return ticket


def time_limit(category: Category, urgency: str, day: dt.date) -> tuple[str, TimeLimitPolicy | None]:
    """The time-limit class and the policy in force for a new ticket (emergencies are always the emergency class).
    Intake uses it, and the intake console shows it as the operator types."""
    limit_class = TimeLimitClass.EMERGENCY if urgency == Urgency.EMERGENCY else category.time_limit_class
    return limit_class, policy_for(category, limit_class, day)


def _attach(ticket: Ticket, event: TicketEvent, images: Sequence[CheckedImage]) -> None:
    for image in images:
        attachment = Attachment(
            ticket=ticket,
            event=event,
            content_type=image.content_type,
            size=image.size,
            original_name=image.name,
            created_at=event.created_at,
        )
        attachment.file.save("photo", image.file, save=False)
        attachment.save()


@transaction.atomic
def answer_directly(user: Any, ticket_id: int, reply: str, *, expected_version: int | None = None) -> Ticket:
    """直接办结: the hotline answers a consultation itself and closes it."""
    ticket, actor = _load(user, ticket_id, Action.ANSWER_DIRECTLY, expected_version)
    reply = _text(reply, "reply")
    if ticket.appeal_type != AppealType.INQUIRY:
        raise InvalidInput(_("Only an inquiry can be answered directly; dispatch the others."))
    now = clock.now()
    _change(
        ticket,
        Action.ANSWER_DIRECTLY,
        actor,
        note=reply,
        expected_version=expected_version,
        reply=reply,
        replied_at=now,
        closed_at=now,
    )
    return ticket


# --- dispatch and returns -------------------------------------------------------------------------------
def _dispatch_fields(ticket: Ticket, lead: OrgUnit, now: dt.datetime) -> dict[str, Any]:
    policy = _policy(ticket)
    return {
        "lead_unit": lead,
        "handler": None,
        "dispatched_at": now,
        "accept_due_at": now + dt.timedelta(hours=policy.accept_within_hours),
        "accepted_at": None,
        "accept_overdue_at": None,
        "due_at": compute_due(policy, now, load_calendar()),
        "overdue_at": None,
        "paused_at": None,
    }


def _send(
    ticket: Ticket,
    action: str,
    actor: Membership,
    lead: OrgUnit,
    assists: Sequence[OrgUnit],
    info: dict[str, Any],
    note: str,
    expected_version: int | None,
) -> dt.datetime:
    """Hand the ticket to `lead` (and `assists`) with fresh sign and handling clocks. Returns the moment."""
    now = clock.now()
    _change(
        ticket,
        action,
        actor,
        note=note,
        data=info,
        expected_version=expected_version,
        dispatch_rule_id=info.get("rule"),
        **_dispatch_fields(ticket, lead, now),
    )
    _assign(ticket, lead, assists, now)
    return now


def _resolve_units(
    ticket: Ticket, lead_code: str | None, assist_codes: Iterable[str], exclude: OrgUnit | None = None
) -> tuple[OrgUnit, list[OrgUnit], dict[str, Any]]:
    assists = _units(assist_codes)
    info: dict[str, Any] = {"fallback": False, "rule": None}
    if lead_code:
        lead = _unit(lead_code)
    else:
        suggestion = suggest_dispatch(ticket.category, ticket.district, ticket.street, clock.local_date(clock.now()))
        if suggestion is None or suggestion.lead == exclude:
            raise InvalidInput(_("The dispatch catalogue has no unit for this ticket; choose the lead unit."))
        lead = suggestion.lead
        assists = assists or list(suggestion.assists)
        info = {"fallback": suggestion.fallback, "rule": suggestion.rule.pk if suggestion.rule else None}
    assists = [u for u in assists if u.pk != lead.pk]
    info |= {"lead": lead.code, "assists": [u.code for u in assists]}
    return lead, assists, info


@transaction.atomic
def dispatch(
    user: Any,
    ticket_id: int,
    *,
    lead_code: str | None = None,
    assist_codes: Iterable[str] = (),
    note: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """派单: to a lead unit (from the catalogue when none is given; the district as fallback, 兜底)."""
    ticket, actor = _load(user, ticket_id, Action.DISPATCH, expected_version)
    note = _text(note, "note", required=False)
    lead, assists, info = _resolve_units(ticket, lead_code, assist_codes)
    _send(ticket, Action.DISPATCH, actor, lead, assists, info, note, expected_version)
    return ticket


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


@transaction.atomic
def request_return(user: Any, ticket_id: int, reason: str, *, expected_version: int | None = None) -> Ticket:
    """退单: the lead unit asks to hand the ticket back, within the policy's window."""
    ticket, actor = _load(user, ticket_id, Action.REQUEST_RETURN, expected_version)
    _require_lead(ticket, actor)
    reason = _text(reason, "reason", limit_key="note")
    now = clock.now()
    window = dt.timedelta(hours=_policy(ticket).return_within_hours)
    if ticket.dispatched_at and now > ticket.dispatched_at + window:
        raise InvalidInput(
            _("A return must be requested within %(hours)d hours of dispatch."),
            hours=_policy(ticket).return_within_hours,
        )
    if ticket.paused_at is not None:
        raise IllegalTransition(_("An extension request is pending; wait for the decision first."))
    _change(ticket, Action.REQUEST_RETURN, actor, note=reason, expected_version=expected_version)
    ReturnRequest.objects.create(
        ticket=ticket, unit=actor.unit, reason=reason, requested_by=actor.user, requested_at=now
    )
    return ticket


def _pending_return(ticket: Ticket) -> ReturnRequest:
    request = ticket.return_requests.filter(state=RequestState.PENDING).first()
    if request is None:
        raise IllegalTransition(_("There is no pending return request."))
    return request


@transaction.atomic
def approve_return(
    user: Any,
    ticket_id: int,
    *,
    lead_code: str | None = None,
    assist_codes: Iterable[str] = (),
    note: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """争议审核 → 改派: the return is justified; the ticket goes to another unit."""
    ticket, actor = _load(user, ticket_id, Action.APPROVE_RETURN, expected_version)
    note = _text(note, "note", required=False)
    request = _pending_return(ticket)
    lead, assists, info = _resolve_units(ticket, lead_code, assist_codes, exclude=ticket.lead_unit)
    if lead.pk == request.unit_id:
        raise InvalidInput(_("Re-dispatch to a different unit than the one that returned the ticket."))
    now = _send(ticket, Action.APPROVE_RETURN, actor, lead, assists, info, note, expected_version)
    request.decide(RequestState.APPROVED, actor.user, now, note)
    return ticket


@transaction.atomic
def reject_return(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """The return is not justified: back to the same unit, which must sign again."""
    ticket, actor = _load(user, ticket_id, Action.REJECT_RETURN, expected_version)
    note = _text(note, "note")
    now = clock.now()
    _change(
        ticket,
        Action.REJECT_RETURN,
        actor,
        note=note,
        expected_version=expected_version,
        accepted_at=None,
        accept_overdue_at=None,
        accept_due_at=now + dt.timedelta(hours=_policy(ticket).accept_within_hours),
    )
    _pending_return(ticket).decide(RequestState.REJECTED, actor.user, now, note)
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


# --- callback, close, reopen, merge, supervise ----------------------------------------------------------
def _needs_rehandling(resolution: str, satisfaction: str) -> bool:
    return (
        resolution in settings.JIESU_REHANDLE_ON_RESOLUTION or satisfaction in settings.JIESU_REHANDLE_ON_SATISFACTION
    )


def _reopen(ticket: Ticket, actor: Membership, note: str, expected_version: int | None = None) -> None:
    now = clock.now()
    policy = _policy(ticket)
    _change(
        ticket,
        Action.REOPEN,
        actor,
        note=note,
        expected_version=expected_version,
        data={"round": ticket.reopen_count + 2},
        reopen_count=ticket.reopen_count + 1,
        dispatched_at=now,
        accepted_at=None,
        accept_overdue_at=None,
        replied_at=None,
        closed_at=None,
        overdue_at=None,
        paused_at=None,
        accept_due_at=now + dt.timedelta(hours=policy.accept_within_hours),
        due_at=compute_due(policy, now),
    )


@transaction.atomic
def record_callback(
    user: Any,
    ticket_id: int,
    *,
    contacted: bool,
    resolution: str,
    satisfaction: str,
    comment: str = "",
    finalize: bool = True,
    expected_version: int | None = None,
) -> Ticket:
    """回访: three separate answers. With `finalize` the ticket then closes, or reopens (重办) when the
    caller is dissatisfied or the problem unsolved (configurable: JIESU_REHANDLE_ON_*). Without it, the
    ticket waits in "called back" for a separate close or reopen (e.g. after a review)."""
    ticket, actor = _load(user, ticket_id, Action.CALLBACK, expected_version)
    if not isinstance(contacted, bool):
        raise InvalidInput(_("Say whether the requester was contacted."))
    resolution = _choice(resolution, Resolution, _("resolution"))
    satisfaction = _choice(satisfaction, Satisfaction, _("satisfaction"))
    comment = _text(comment, "comment", required=False, limit_key="note")
    answers = {
        "contacted": contacted,
        "resolution": resolution,
        "satisfaction": satisfaction,
        "round": ticket.reopen_count + 1,
        "unit": ticket.lead_unit.code if ticket.lead_unit else None,
    }
    _change(ticket, Action.CALLBACK, actor, note=comment, data=answers, expected_version=expected_version)
    Callback.objects.create(
        ticket=ticket,
        round=ticket.reopen_count + 1,
        unit=ticket.lead_unit,
        agent=actor.user,
        contacted=contacted,
        resolution=resolution,
        satisfaction=satisfaction,
        comment=comment,
        signed_in_time=bool(
            ticket.accepted_at and (ticket.accept_due_at is None or ticket.accepted_at <= ticket.accept_due_at)
        ),
        created_at=clock.now(),
    )
    if not finalize:
        return ticket
    if _needs_rehandling(resolution, satisfaction):
        _reopen(ticket, actor, note=comment)
    else:
        _change(ticket, Action.CLOSE, actor, closed_at=clock.now())
    return ticket


@transaction.atomic
def close(user: Any, ticket_id: int, note: str = "", *, expected_version: int | None = None) -> Ticket:
    ticket, actor = _load(user, ticket_id, Action.CLOSE, expected_version)
    note = _text(note, "note", required=False)
    _change(ticket, Action.CLOSE, actor, note=note, expected_version=expected_version, closed_at=clock.now())
    return ticket


@transaction.atomic
def reopen(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """重办: back to the same lead unit with a new deadline."""
    ticket, actor = _load(user, ticket_id, Action.REOPEN, expected_version)
    note = _text(note, "note")
    if ticket.lead_unit is None:
        raise IllegalTransition(_("This ticket was never dispatched; it cannot be reopened."))
    _reopen(ticket, actor, note, expected_version)
    return ticket


@transaction.atomic
def merge(user: Any, ticket_id: int, master_id: int, note: str = "", *, expected_version: int | None = None) -> Ticket:
    """并单: the ticket is a duplicate of `master` and closes with it."""
    ticket, actor = _load(user, ticket_id, Action.MERGE, expected_version)
    master = access.get_ticket(user, master_id)
    _merge(ticket, actor, master, note, expected_version)
    return ticket


def _merge(ticket: Ticket, actor: Membership, master: Ticket, note: str, expected_version: int | None = None) -> None:
    note = _text(note, "note", required=False)
    if master.pk == ticket.pk or master.dispatch_state == DispatchState.MERGED:
        raise InvalidInput(_("Choose another ticket, not itself or a merged one, as the master."))
    _change(
        ticket,
        Action.MERGE,
        actor,
        note=note,
        expected_version=expected_version,
        data={"master": master.number},
        duplicate_of=master,
        closed_at=clock.now(),
        paused_at=None,
    )


@transaction.atomic
def supervise(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """督办: a supervisor puts the ticket under supervision (again, to urge)."""
    ticket, actor = _load(user, ticket_id, Action.SUPERVISE, expected_version)
    note = _text(note, "note")
    _change(ticket, Action.SUPERVISE, actor, note=note, expected_version=expected_version, supervised=True)
    return ticket


@transaction.atomic
def rate_by_requester(number: str, phone_tail: str, satisfaction: str, comment: str = "") -> Ticket:
    """The requester's own evaluation from the portal, once per handling round, after the reply.
    It is recorded beside the hotline's callback (回访), which stays the official judgement."""
    ticket = access.get_ticket_for_requester(number, phone_tail)
    satisfaction = _choice(satisfaction, Satisfaction, _("satisfaction"))
    comment = _text(comment, "comment", required=False, limit_key="note")
    _check_transition(ticket, Action.RATE)
    round_ = ticket.reopen_count + 1
    if ticket.events.filter(action=Action.RATE, data__round=round_).exists():
        raise IllegalTransition(_("You have already rated this reply. Thank you."))
    _change(
        ticket,
        Action.RATE,
        None,
        note=comment,
        data={"satisfaction": satisfaction, "round": round_, "source": "portal"},
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

    A compare-and-set on the flag being empty, in the same transaction as the event, makes it idempotent:
    a worker killed at any point either did both or neither, and a rerun does only what is left.
    The ticket's `version` is not bumped: this does not conflict with a user's edit.
    """
    with transaction.atomic():
        claimed = Ticket.objects.filter(pk=ticket_id, **deadline.pending(now)).update(**{deadline.flag_field: now})
        if not claimed:
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


def category_for(code: str) -> Category | None:
    return effective_category(code, clock.local_date(clock.now()))


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
                | {"id": next(event_ids), "action": Action.CLOSE.value, "from_state": DispatchState.NEW.value}
                | {"to_state": DispatchState.CLOSED.value, "note": order.reply[:2000], "created_at": order.closed_at}
                | {"data": {"imported": order.source}}
            )
    bulk.insert_rows(Ticket, tickets)
    bulk.insert_rows(TicketEvent, events)
    return len(tickets)
