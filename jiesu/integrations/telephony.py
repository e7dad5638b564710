"""The telephony system's contract: incoming calls (screen pop) and missed calls (漏接回拨).

    POST /telephony/calls/
    Authorization: Bearer <key of an API client marked "telephony system">
    Content-Type: application/json

    {"call_id": "CTI-20261130-000123",       required, the telephony system's unique id of the call (≤ 64)
     "event": "answered" | "missed",         required
     "caller": "010-6512 3456",              the caller's number as the switch gives it ("" for a hidden number)
     "recording_id": "REC-8812",             the recording, kept on the ticket made from the call (≤ 50)
     "agent": "operator",                    the login of the operator who took it (answered calls)
     "at": "2026-11-30T09:05:00+08:00"}      required, when it rang (ISO 8601 with offset)

Answers: 201 {"id", "kind", "caller", "open_url"} — the softphone opens `open_url` (the intake console with the
caller's number, history and the recording id filled in); 400 {"error": "invalid", "detail"} for a bad payload
(unknown event, unreadable number or time, a time further than JIESU_TELEPHONY_MAX_SKEW_SECONDS from now); 401
without a valid telephony key; 409 {"error": "replayed"} when the client already reported that call id (nothing is
recorded twice). Missed calls join the 漏接回拨 queue with a deadline of JIESU_MISSED_CALL_CALLBACK_MINUTES.

一次一评 from the IVR after the call: {"call_id": <the answered call's id>, "event": "rating", "satisfaction":
"satisfied" | "fairly_satisfied" | "dissatisfied"}. 200 {"ticket": <number>}; 404 when the call has no ticket yet;
409 when the call was rated already.
"""

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.lib.events import record
from jiesu.lib.validation import clean_text, normalize_phone
from jiesu.orgs import access
from jiesu.orgs.models import HOTLINE_ROLES
from jiesu.tickets import services

from .models import ApiClient, CallBackOutcome, CallEvent, CallKind, IncomingCall


class Replayed(Exception):
    """The client already reported this call id."""


def report_call(client: ApiClient, payload: Any) -> IncomingCall:
    """Record one reported call (validated whole before anything is written; one event)."""
    if not isinstance(payload, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    call_id = clean_text(payload.get("call_id"), on="call_id", label="call_id", limit=64)
    kind = payload.get("event")
    if kind not in CallKind.values:
        raise InvalidInput(_("“event” must be “answered” or “missed”."), on="event")
    phone = normalize_phone(payload.get("caller") or "")
    recording = clean_text(
        payload.get("recording_id"), on="recording_id", label="recording_id", limit=50, required=False
    )
    raw_at = payload.get("at")
    at = parse_datetime(raw_at) if isinstance(raw_at, str) else None
    if at is None or at.tzinfo is None:
        raise InvalidInput(_("“at” must be a date and time with its offset, e.g. 2026-11-30T09:05:00+08:00."), on="at")
    now = clock.now()
    if abs((now - at).total_seconds()) > settings.JIESU_TELEPHONY_MAX_SKEW_SECONDS:
        raise InvalidInput(_("“at” is too far from the server's time: stale or replayed report."), on="at")
    operator = None
    if payload.get("agent"):
        operator = get_user_model().objects.filter(username=str(payload["agent"])[:150], is_active=True).first()
        m = access.membership(operator) if operator is not None else None
        if m is None or m.role not in HOTLINE_ROLES:
            raise InvalidInput(_("“agent” is not a hotline operator's login."), on="agent")
    try:
        with transaction.atomic():
            call = IncomingCall.objects.create(
                client=client,
                call_id=call_id,
                kind=kind,
                caller_phone=phone,
                recording_id=recording,
                operator=operator,
                rang_at=at,
                callback_due_at=at + dt.timedelta(minutes=settings.JIESU_MISSED_CALL_CALLBACK_MINUTES)
                if kind == CallKind.MISSED
                else None,
            )
            record(CallEvent, call=call, action=kind, data={"client": client.pk})
    except IntegrityError:
        raise Replayed() from None
    return call


@transaction.atomic
def call_back_missed(user: Any, call_id: int, outcome: str, note: str = "") -> IncomingCall:
    """漏接回拨: an operator called a missed caller back. Reached or a wrong number closes it; no answer is recorded
    on the trail and the call stays in the queue."""
    m = access.membership(user)
    if m is None or m.role not in HOTLINE_ROLES:
        raise Forbidden()
    call = IncomingCall.objects.select_for_update().filter(pk=call_id, kind=CallKind.MISSED).first()
    if call is None:
        raise NotFound()
    if call.called_back_at is not None:
        raise IllegalTransition(_("This missed call has been called back already."))
    if outcome not in CallBackOutcome.values:
        raise InvalidInput(_("Unknown %(field)s: “%(value)s”."), field=_("outcome"), value=str(outcome)[:20])
    note = clean_text(note, on="note", label=_("Note"), limit=2000, required=False)
    now = clock.now()
    if outcome != CallBackOutcome.NO_ANSWER:
        IncomingCall.objects.filter(pk=call.pk).update(called_back_at=now, callback_outcome=outcome)
        call.called_back_at, call.callback_outcome = now, outcome
    record(CallEvent, call=call, action="call_back", actor=user, note=note, data={"outcome": outcome})
    return call


@transaction.atomic
def attach_ticket(user: Any, call_id: int, ticket: Any) -> None:
    """The ticket an operator registered from a screen-popped call (the recording id is on the ticket too)."""
    call = IncomingCall.objects.select_for_update().filter(pk=call_id, ticket__isnull=True).first()
    if call is None:
        return
    IncomingCall.objects.filter(pk=call.pk).update(ticket=ticket)
    record(CallEvent, call=call, action="ticket", actor=user, data={"ticket": ticket.number})


def _rating(client: ApiClient, payload: dict[str, Any]) -> JsonResponse:
    """一次一评 from the IVR: the rating of an answered call, onto the ticket made from it."""
    call = IncomingCall.objects.filter(
        client=client, call_id=str(payload.get("call_id", ""))[:64], kind=CallKind.ANSWERED, ticket__isnull=False
    ).first()
    if call is None or call.ticket_id is None:
        return _error(404, "not_found", _("No ticket was made from this call."))
    try:
        ticket = services.rate_call(call.ticket_id, str(payload.get("satisfaction", "")), source=f"ivr:{client.pk}")
    except InvalidInput as error:
        return _error(400, "invalid", str(error))
    except IllegalTransition as error:
        return _error(409, "replayed", str(error))
    record(CallEvent, call=call, action="rating", data={"satisfaction": payload.get("satisfaction")})
    return JsonResponse({"ticket": ticket.number}, status=200)


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def calls_endpoint(request: HttpRequest) -> JsonResponse:
    header = request.headers.get("Authorization", "")
    client = ApiClient.by_key(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else None
    if client is None or not client.telephony:
        return _error(401, "unauthenticated", _("Give the telephony system's key: Authorization: Bearer <key>."))
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid", _("The body must be a JSON object."))
    if isinstance(payload, dict) and payload.get("event") == "rating":
        return _rating(client, payload)
    try:
        call = report_call(client, payload)
    except InvalidInput as error:
        return _error(400, "invalid", str(error))
    except Replayed:
        return _error(409, "replayed", _("This call id was reported already; nothing was recorded again."))
    return JsonResponse(
        {
            "id": call.pk,
            "kind": call.kind,
            "caller": call.caller_phone,
            "open_url": f"{reverse('intake-console')}?call={call.pk}" if call.kind == CallKind.ANSWERED else "",
        },
        status=201,
    )
