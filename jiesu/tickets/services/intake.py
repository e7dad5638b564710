"""受理: registering appeals from the console, the portal and partner systems; 直接办结 of inquiries."""

import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category, TimeLimitClass
from jiesu.catalog.selectors import effective_category
from jiesu.lib import clock, sms
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.lib.uploads import CheckedImage, check_images
from jiesu.lib.validation import normalize_phone
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, Membership, UnitKind
from jiesu.sla.models import TimeLimitPolicy
from jiesu.sla.policy import due_at as compute_due
from jiesu.sla.policy import policy_for
from jiesu.tickets import access as tickets_access

from ..models import (
    AppealType,
    Attachment,
    Channel,
    DeclineReason,
    Requester,
    Ticket,
    TicketEvent,
    TrackingCode,
    Urgency,
)
from ..numbering import next_number as _next_number  # per-day sequences, no hot row
from ..workflow import PUBLIC_STATUS, Action, DispatchState
from ._core import _change, _choice, _coordinate, _event, _load, _text, _unit
from .dispatch import _merge

logger = logging.getLogger("jiesu.tickets")


# --- intake ---------------------------------------------------------------------------------------------
@transaction.atomic
def intake(
    user: Any,
    *,
    answer: str = "",
    merge_into: str = "",
    then: Callable[[Ticket], object] | None = None,
    **fields: Any,
) -> Ticket:
    """受理: register an appeal as a ticket. A repeated idempotency key returns the first ticket.
    In the same transaction, `answer` answers an inquiry directly (直接办结), `merge_into` (a ticket
    number) records it as a repeat of that open ticket (并单), and `then` is called with a new ticket (a higher app's
    follow-up that must commit or roll back with the order, e.g. queueing it for the assistant)."""
    actor = tickets_access.require_role(user, Action.INTAKE)
    master = None
    if merge_into:
        try:
            master = tickets_access.get_ticket_by_number(user, str(merge_into).strip())
        except NotFound:
            raise InvalidInput(_("No ticket numbered “%(number)s”."), number=str(merge_into)[:20]) from None
    ticket = _register(actor, then=then, **fields)
    if ticket.repeated or ticket.dispatch_state != DispatchState.NEW:  # a repeated submission: already done
        return ticket
    phone = ticket.requester.phone if ticket.requester else ""
    if ticket.channel == Channel.PHONE and MOBILE.match(phone):
        # The caller's own tracking code goes by SMS, never through the operator's screen (staff cannot rate)
        TrackingCode.issue(ticket, sms_to=phone)
        ticket.tracking_sms_to = phone  # type: ignore[attr-defined]  # the console says a code is on its way
    if answer:  # the caller gets the ticket as it is now (closed), never the registered one
        ticket = answer_directly(user, ticket.pk, answer)
    elif master is not None:
        _merge(ticket, actor, master, _("Registered as a repeat of %(number)s.") % {"number": master.number})
    return ticket


MOBILE = re.compile(r"^1[3-9]\d{9}$")  # the canonical mobile number (lib.validation.normalize_phone)


def send_tracking_codes(limit: int = 100) -> int:
    """Hand the pending tracking-code SMS to the gateway (a step of `jiesu worker`), each in its own transaction:
    claimed with SKIP LOCKED, sent, then the code is blanked (only its hash stays). A failed send is retried next
    tick, up to `JIESU_SMS_MAX_ATTEMPTS`, then the code is dropped (the hotline's callback rates the request).
    A worker killed between the gateway's answer and the commit sends the message again: at least once."""
    sent, last = 0, 0
    for _n in range(limit):
        with transaction.atomic():
            row = (
                TrackingCode.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("ticket")
                .exclude(sms_code="")
                .filter(id__gt=last)  # one attempt per message and run
                .order_by("id")
                .first()
            )
            if row is None:
                break
            last = row.pk
            with translation.override("zh-hans"):  # citizens read Chinese
                text = str(
                    _(
                        "[Beijing 12345] Your request %(number)s is registered. Tracking code: %(code)s. "
                        "With the number and this code you can follow and rate it on the citizens' portal. "
                        "Do not share the code."
                    )
                    % {"number": row.ticket.number, "code": TrackingCode.shown(row.sms_code)}
                )
            try:
                sms.send(row.sms_to, text)
            except Exception:
                logger.exception("SMS for ticket %s not accepted by the gateway", row.ticket.number)
                row.sms_attempts += 1
                if row.sms_attempts >= settings.SMS_MAX_ATTEMPTS:
                    row.sms_code = ""
                row.save(update_fields=["sms_attempts", "sms_code"])
                continue
            row.sms_code, row.sms_sent_at, row.sms_attempts = "", clock.now(), row.sms_attempts + 1
            row.save(update_fields=["sms_code", "sms_sent_at", "sms_attempts"])
            sent += 1
    return sent


@transaction.atomic
def submit_public(*, photos: Sequence[Any] = (), **fields: Any) -> Ticket:
    """A citizen's own submission from the portal: no staff actor, channel web, a phone number to track it by."""
    if not str(fields.get("requester_phone") or "").strip():
        raise InvalidInput(_("Give a phone number: you track the request by its number and your phone."))
    ticket = _register(None, channel=Channel.WEB, photos=photos, **fields)
    if not TrackingCode.objects.filter(ticket=ticket).exists():  # a repeated submission keeps the first code
        ticket.new_tracking_code = TrackingCode.issue(ticket)  # type: ignore[attr-defined]  # shown once
    return ticket


@transaction.atomic
def submit_external(*, source: str, event_data: dict[str, Any] | None = None, **fields: Any) -> Ticket:
    """A request from an integrated client system (Open311) with no staff actor: channel API, the client named in
    the intake event (`source`, e.g. "open311:3"). A repeated idempotency key returns the first ticket."""
    return _register(None, channel=Channel.API, source=source, event_data=event_data, **fields)


@transaction.atomic
def requester_note(number: str, note: str, *, source: str, data: dict[str, Any] | None = None) -> TicketEvent:
    """A requester's comment arriving through an integration (Open311 names tickets by their public number): it goes
    on the trail and never changes the state; `data` says e.g. that a reopening was asked. Returns the event."""
    ticket = tickets_access.open311_tickets().filter(number=str(number)[:20]).first()
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
    confidential: bool = False,
    recording_id: str = "",
    then: Callable[[Ticket], object] | None = None,
) -> Ticket:
    if idempotency_key:
        idempotency_key = _text(idempotency_key, "idempotency key", limit_key="title")[:64]
        existing = _earlier(idempotency_key)
        if existing:
            return existing
    channel = _choice(channel, Channel, _("channel"))
    appeal_type = _choice(appeal_type, AppealType, _("appeal type"))
    urgency = _choice(urgency, Urgency, _("urgency"))
    title = _text(title, "title")
    content = _text(content, "content")
    address = _text(address, "address", required=False)
    name = _text(requester_name, "name", required=False)
    phone = normalize_phone(requester_phone or "")
    recording_id = _text(recording_id, "recording", required=False, limit_key="name")
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
    try:
        district = _unit(district_code, kinds={UnitKind.DISTRICT}) if district_code else None
    except InvalidInput as error:
        error.on = "district"
        raise
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
    ticket = Ticket.objects.create(
        number=_next_number(today),
        idempotency_key=idempotency_key or None,
        confidential=bool(confidential),
        recording_id=recording_id,
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
    data = {"channel": channel} | ({} if actor else {"source": source or "portal"}) | (event_data or {})
    _attach(ticket, _event(ticket, Action.INTAKE, actor, "", DispatchState.NEW, data=data, at=now), images)
    if then is not None:  # a new ticket only (a repeated key returned above)
        then(ticket)
    return ticket


def _earlier(key: str) -> Ticket | None:
    """The ticket an earlier submission with this idempotency key made, marked `repeated`, or None.

    Checked once, inside the intake transaction, with no savepoint: on PostgreSQL a transaction-scoped advisory
    lock on the key makes a concurrent retry with the same key wait until this one commits, then find its ticket;
    SQLite has one writer at a time (`BEGIN IMMEDIATE`), so nobody can come between the check and the insert."""
    with connection.cursor() as cursor:
        # A new key is the common case: a bare probe (the ORM's compilation of the full query below cost more
        # processor time than the rest of the intake's queries together); the ticket is loaded only on a repeat.
        if connection.vendor == "postgresql":  # the lock, then the probe, in one round trip (migration 0018)
            cursor.execute("SELECT jiesu_idempotency_probe(%s)", [key])
        else:
            cursor.execute(_PROBE, [key])
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    found = Ticket.objects.select_related("category", "district", "street", "lead_unit", "requester").get(pk=row[0])
    found.repeated = True
    return found


_PROBE = f'SELECT "id" FROM "{Ticket._meta.db_table}" WHERE "idempotency_key" = %s'


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


def category_for(code: str) -> Category | None:
    return effective_category(code, clock.local_date(clock.now()))


# --- 不予受理 ----------------------------------------------------------------------------------------------
@transaction.atomic
def decline(
    user: Any, ticket_id: int, reason_code: str, note: str = "", *, expected_version: int | None = None
) -> Ticket:
    """不予受理: the hotline declines a registered request with a reason from the published list (and a note
    for the requester). The requester may appeal once (`appeal_decline`)."""
    ticket, actor = _load(user, ticket_id, Action.DECLINE, expected_version)
    reason = DeclineReason.objects.filter(code=str(reason_code or ""), is_active=True).first()
    if reason is None:
        raise InvalidInput(_("Choose a reason from the published list."), on="reason")
    note = _text(note, "note", required=False)
    # A phone caller without a tracking code (a landline or a hidden number: mobiles get theirs by SMS at intake) gets
    # one with the first decline (told to the caller, shown once to the staff member, kept only as a hash), with which
    # they appeal on the portal or on the phone.
    code = ""
    first = ticket.channel == Channel.PHONE and not ticket.decline_appealed
    held = TrackingCode.objects.filter(ticket=ticket).first()
    # an SMS the gateway never delivered (given up) leaves the caller without the code: a new one replaces it
    undelivered = held is not None and bool(held.sms_to) and held.sms_sent_at is None and not held.sms_code
    if first and (held is None or undelivered):
        if held is not None:
            held.delete()
        code = TrackingCode.issue(ticket)
    _change(
        ticket,
        Action.DECLINE,
        actor,
        note=note,
        data={"reason": reason.code, "after_appeal": ticket.decline_appealed, "appeal_code_issued": bool(code)},
        expected_version=expected_version,
        decline_reason=reason,
        closed_at=clock.now(),
    )
    if code:
        ticket.new_tracking_code = code  # type: ignore[attr-defined]  # shown once, to be told to the caller
    elif first and held is not None and held.sms_to:
        ticket.appeal_code_by_sms = True  # type: ignore[attr-defined]  # the caller appeals with the SMS code
    return ticket


@transaction.atomic
def appeal_decline(number: str, phone_tail: str, reason: str) -> Ticket:
    """The requester appeals a decline from the portal (number + last four digits of the phone), once: the request
    goes back to registration for review by another look (dispatch, answer, or a final decline)."""
    ticket = tickets_access.get_ticket_for_requester(number, phone_tail)
    if not tickets_access.requester_holds_code(ticket, phone_tail):
        raise Forbidden(
            _(
                "An appeal needs the code you were given: on the portal when you submitted, or on the phone with the "
                "decline. Without it, call 12345 from the number you called from."
            )
        )
    reason = _text(reason, "reason", limit_key="note")
    if ticket.dispatch_state == DispatchState.DECLINED and ticket.decline_appealed:
        raise IllegalTransition(_("This decline was appealed already; the review's decision is final."))
    _change(
        ticket,
        Action.APPEAL_DECLINE,
        None,
        note=reason,
        data={"source": "portal", "reason": ticket.decline_reason.code if ticket.decline_reason else None},
        decline_appealed=True,
        decline_reason=None,
        closed_at=None,
    )
    return ticket


@transaction.atomic
def record_decline_appeal(
    user: Any,
    ticket_id: int,
    reason: str,
    *,
    caller_phone: str = "",
    code: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """A caller appeals a decline on the phone; the operator records it, once. The caller proves the request is
    theirs by calling from the number it was registered with (the operator enters the number on the screen), or by
    telling the code they were given with the decline. Then the request goes back to registration, as from the
    portal."""
    ticket, actor = _load(user, ticket_id, Action.APPEAL_DECLINE, expected_version)
    if ticket.dispatch_state == DispatchState.DECLINED and ticket.decline_appealed:
        raise IllegalTransition(_("This decline was appealed already; the review's decision is final."))
    phone = normalize_phone(str(caller_phone or "").strip()[:32]) if str(caller_phone or "").strip() else ""
    by_number = bool(phone and ticket.requester and ticket.requester.phone == phone)
    by_code = bool(str(code or "").strip()) and tickets_access.requester_holds_code(ticket, str(code))
    if not (by_number or by_code):
        raise InvalidInput(
            _(
                "The caller must call from the number the request was registered with, or tell the code given with "
                "the decline."
            ),
            on="caller_phone",
        )
    reason = _text(reason, "reason", limit_key="note")
    _change(
        ticket,
        Action.APPEAL_DECLINE,
        actor,
        note=reason,
        data={
            "source": "phone",
            "proof": "number" if by_number else "code",
            "reason": ticket.decline_reason.code if ticket.decline_reason else None,
        },
        expected_version=expected_version,
        decline_appealed=True,
        decline_reason=None,
        closed_at=None,
    )
    return ticket
