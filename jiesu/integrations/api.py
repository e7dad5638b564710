"""The REST API for partner systems (django-ninja; OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

A bearer token is an `ApiClient` key; the client acts as its user, so every read goes through `jiesu.orgs.access`
and every change through `jiesu.tickets.services` exactly as that user's web session would: an API user sees and
does what the equivalent web user can, no more. Errors carry a message in the caller's language (Accept-Language;
Chinese first): 400 invalid input, 401 no or bad token, 403 forbidden, 404 not found (or not visible), 409 illegal
transition or concurrent edit, 429 over the client's hourly limit.
"""

import datetime as dt
import hashlib
import json
import logging
import re
from typing import Any, Literal

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.params.functions import Header, Query
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer

from jiesu.intel import selectors as intel
from jiesu.intel import services as intel_services
from jiesu.lib import clock, logins, throttle
from jiesu.lib.errors import ConcurrentEdit, Forbidden, IllegalTransition, InvalidInput, NotFound, ServiceError
from jiesu.lib.masking import mask_for, mask_name, mask_phone, mask_text
from jiesu.orgs import access
from jiesu.tickets import access as tickets_access
from jiesu.tickets import services
from jiesu.tickets.models import AppealType, Channel, Ticket, TicketEvent, Urgency
from jiesu.tickets.workflow import Action, DispatchState

from .models import ApiClient

logger = logging.getLogger("jiesu.api")
STATUS = {InvalidInput: 400, Forbidden: 403, NotFound: 404, IllegalTransition: 409, ConcurrentEdit: 409}


class RateLimited(Exception):
    pass


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before with a different body."""


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiClient | None:
        # The address's lockout count comes in the key lookup's own statement: no extra query per request, and an
        # address locked out is refused even with a valid key (so guessing gains nothing while locked).
        client, failures = ApiClient.by_key_checked(token, logins.api_key_failures_sql(request))
        if logins.api_key_over_limit(failures):
            raise RateLimited()
        if client is None or client.user is None or not client.user.is_active:
            logins.api_key_failed(request)
            return None
        if not throttle.allow_client(f"api:{client.pk}", client.rate_limit_per_hour):
            raise RateLimited()
        request.user = client.user
        return client


class Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Chinese as it is, readable with curl


api = NinjaAPI(
    renderer=Renderer(),
    title="jiesu REST API",
    version="1",
    description=__doc__ or "",
    auth=TokenAuth(),
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, detail: str, code: str, **extra: Any) -> HttpResponse:
    """Every error body: the message, a code, and the request id (also in the X-Request-ID header and the logs)."""
    rid = getattr(request, "request_id", None)
    return api.create_response(request, {"detail": detail, "code": code, "request_id": rid} | extra, status=status)


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, _("The request body is too large."), "too_large")


@api.exception_handler(Exception)
def unexpected_error(request: HttpRequest, error: Exception) -> HttpResponse:
    """A fault of ours: logged with its traceback; the client gets JSON with the request id to quote."""
    logger.error("API error on %s", request.path, exc_info=error)
    return _error(request, 500, _("Something went wrong on our side; quote the request id when reporting."), "error")


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, error: ServiceError) -> HttpResponse:
    status = next((s for kind, s in STATUS.items() if isinstance(error, kind)), 400)
    return _error(request, status, str(error), error.code, field=error.on)


WHEN = pgettext_lazy("api schema", "Give a date and time (ISO 8601, e.g. 2026-11-30T09:30:00+08:00).")
# pydantic's refusals in the caller's language (its own `msg` is English): by its error type, with its context's
# limits; the type and location stay as pydantic gives them, for programs.
SCHEMA_MESSAGES = {
    "missing": pgettext_lazy("api schema", "This field is required."),
    "string_type": pgettext_lazy("api schema", "Give text."),
    "string_too_short": pgettext_lazy("api schema", "Give at least %(min_length)s characters."),
    "string_too_long": pgettext_lazy("api schema", "Give at most %(max_length)s characters."),
    "int_type": pgettext_lazy("api schema", "Give a whole number."),
    "int_parsing": pgettext_lazy("api schema", "Give a whole number."),
    "float_type": pgettext_lazy("api schema", "Give a number."),
    "float_parsing": pgettext_lazy("api schema", "Give a number."),
    "decimal_parsing": pgettext_lazy("api schema", "Give a number."),
    "bool_type": pgettext_lazy("api schema", "Give true or false."),
    "bool_parsing": pgettext_lazy("api schema", "Give true or false."),
    "literal_error": pgettext_lazy("api schema", "Give one of: %(expected)s."),
    "enum": pgettext_lazy("api schema", "Give one of: %(expected)s."),
    "datetime_type": WHEN,
    "datetime_parsing": WHEN,
    "datetime_from_date_parsing": WHEN,
    "greater_than_equal": pgettext_lazy("api schema", "Give at least %(ge)s."),
    "less_than_equal": pgettext_lazy("api schema", "Give at most %(le)s."),
    "dict_type": pgettext_lazy("api schema", "Give a JSON object."),
    "model_attributes_type": pgettext_lazy("api schema", "Give a JSON object."),
    "list_type": pgettext_lazy("api schema", "Give a list."),
}


def _readable(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        message = SCHEMA_MESSAGES.get(str(e.get("type")))
        ctx = dict(e.get("ctx") or {})
        if isinstance(ctx.get("expected"), str):  # pydantic's "'a', 'b' or 'c'" has an English "or": just the values
            ctx["expected"] = ", ".join(re.findall(r"'([^']*)'", ctx["expected"])) or ctx["expected"]
        try:
            text = str(message) % ctx if message else str(_("This value is not valid."))
        except (KeyError, TypeError, ValueError):  # a context without the limit the message names
            text = str(_("This value is not valid."))
        out.append(e | {"msg": text})
    return out


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    fields = [".".join(str(p) for p in e.get("loc", ())[1:]) for e in error.errors]
    return _error(
        request,
        400,
        _("The input is not valid: %(fields)s") % {"fields": ", ".join(fields)},
        "invalid",
        errors=_readable(error.errors),
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    """ninja's own refusals; the one users meet is an unreadable body."""
    if error.status_code == 400:
        return _error(request, 400, _("The request body is not valid JSON."), "invalid")
    return _error(request, error.status_code, str(error), "error")


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("Give a valid API token: Authorization: Bearer <key>."), "unauthenticated")


@api.exception_handler(IdempotencyMismatch)
def idempotency_mismatch(request: HttpRequest, error: IdempotencyMismatch) -> HttpResponse:
    return _error(
        request,
        422,
        _("This Idempotency-Key was already used with a different request body; use a new key for a new order."),
        "idempotency_key_reused",
    )


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    return _error(request, 429, _("Too many requests from this client; try again in the next hour."), "rate_limited")


# --- schemas ---------------------------------------------------------------------------------------------
class Error(Schema):
    detail: str
    code: str
    request_id: str | None = None


class UnitOut(Schema):
    code: str
    name: str


class OrderIn(Schema):
    title: str = Field(..., description="诉求标题", examples=["小区门口占道经营"])  # i18n: data
    content: str = Field(
        ...,
        description="诉求内容",
        examples=["每天傍晚有摊贩在小区门口占道经营，影响通行。"],  # i18n: data
    )
    category_code: str = Field(
        "",
        description="三级分类代码；不填时由智能助手按文本分类（仅在其有把握时，否则 400）",  # i18n: data
        examples=["010101"],
    )
    appeal_type: Literal[tuple(AppealType.values)] = "complaint"  # type: ignore[valid-type]
    channel: Literal[tuple(Channel.values)] = "api"  # type: ignore[valid-type]
    urgency: Literal[tuple(Urgency.values)] = "normal"  # type: ignore[valid-type]
    address: str = Field("", examples=["朝阳区建外街道建国门外大街1号"])  # i18n: data
    district_code: str | None = None
    street_code: str | None = None
    latitude: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    requester_name: str = ""
    requester_phone: str = Field("", examples=["13800138000"])


class OrderOut(Schema):
    number: str
    version: int
    state: str
    state_label: str
    public_status: str
    channel: str
    appeal_type: str
    urgency: str
    category_code: str
    category_name: str
    title: str
    content: str
    address: str
    district: UnitOut | None
    street: UnitOut | None
    lead_unit: UnitOut | None
    requester_name: str
    requester_phone: str
    intake_at: dt.datetime
    dispatched_at: dt.datetime | None
    accepted_at: dt.datetime | None
    due_at: dt.datetime | None
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None
    updated_at: dt.datetime
    reply: str


class OrderPage(Schema):
    count: int
    items: list[OrderOut]


class EventOut(Schema):
    id: int
    order: str
    action: str
    action_label: str
    from_state: str
    to_state: str
    at: dt.datetime
    unit: UnitOut | None
    note: str


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: int = Field(..., description="Pass as `after` to read on; unchanged when nothing is new.")


class NoteIn(Schema):
    note: str = Field(..., examples=["已联系城管执法队现场处置。"])  # i18n: data
    expected_version: int | None = Field(None, description="The version you saw; a stale one gets 409.")


class ReplyIn(Schema):
    text: str = Field(..., examples=["经核查，已清理占道摊点并加强巡查。"])  # i18n: data
    expected_version: int | None = None


class VersionIn(Schema):
    expected_version: int | None = None


class Me(Schema):
    client: str
    user: str
    role: str | None
    unit: UnitOut | None


def _unit(unit: Any) -> dict[str, str] | None:
    return {"code": unit.code, "name": unit.name} if unit is not None else None


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """Times as the database gives them (UTC), also for an order built from the objects in hand."""
    return moment.astimezone(dt.UTC) if moment is not None else None


def order_out(ticket: Ticket, user: Any) -> dict[str, Any]:
    unmasked = access.may_see_requester(user)
    requester = ticket.requester
    name = requester.name if requester else ""
    phone = requester.phone if requester else ""
    return {
        "number": ticket.number,
        "version": ticket.version,
        "state": ticket.dispatch_state,
        "state_label": str(DispatchState(ticket.dispatch_state).label),
        "public_status": ticket.public_status,
        "channel": ticket.channel,
        "appeal_type": ticket.appeal_type,
        "urgency": ticket.urgency,
        "category_code": ticket.category.code,
        "category_name": ticket.category.name,
        "title": mask_for(ticket.title, unmasked),
        "content": mask_for(ticket.content, unmasked),
        "address": mask_for(ticket.address, unmasked),
        "district": _unit(ticket.district),
        "street": _unit(ticket.street),
        "lead_unit": _unit(ticket.lead_unit),
        "requester_name": name if unmasked else mask_name(name),
        "requester_phone": phone if unmasked else mask_phone(phone),
        "intake_at": _utc(ticket.intake_at),
        "dispatched_at": _utc(ticket.dispatched_at),
        "accepted_at": _utc(ticket.accepted_at),
        "due_at": _utc(ticket.due_at),
        "replied_at": _utc(ticket.replied_at),
        "closed_at": _utc(ticket.closed_at),
        "updated_at": _utc(ticket.updated_at),
        "reply": mask_for(ticket.reply, unmasked),
    }


def event_out(event: TicketEvent, unmasked: bool) -> dict[str, Any]:
    return {
        "id": event.pk,
        "order": event.ticket.number,
        "action": event.action,
        "action_label": str(Action(event.action).label),
        "from_state": event.from_state,
        "to_state": event.to_state,
        "at": event.created_at,
        "unit": _unit(event.actor_unit),
        "note": event.note if unmasked else mask_text(event.note),
    }


def _order(request: HttpRequest, number: str) -> Ticket:
    return tickets_access.get_ticket_by_number(request.user, number[:20])


def _fresh(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    return order_out(_order(request, ticket.number), request.user)


ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 413: Error, 429: Error}


# --- endpoints -------------------------------------------------------------------------------------------
@api.get("/me", response={200: Me, **ERRORS}, summary="Who this token acts as")
def me(request: HttpRequest) -> dict[str, Any]:
    m = access.membership(request.user)
    return {
        "client": str(request.auth),  # type: ignore[attr-defined]
        "user": request.user.get_username(),
        "role": m.role if m else None,
        "unit": _unit(m.unit) if m else None,
    }


@api.post(
    "/orders", response={200: OrderOut, 201: OrderOut, 422: Error, **ERRORS}, summary="Register an order (intake)"
)
def create_order(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description="Retry with the same key: the first order comes back (200)."
    ),
) -> tuple[int, dict[str, Any]]:
    client: ApiClient = request.auth  # type: ignore[attr-defined]
    key = None
    fields = payload.dict()
    fingerprint = hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    if idempotency_key:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
        key = f"api:{client.pk}:{digest}"
    data: dict[str, Any] = {"request_sha256": fingerprint}
    texts = str(fields["title"]).strip() and str(fields["content"]).strip()  # else intake names the empty field
    if texts and not str(fields.get("category_code") or "").strip():  # classified, and the trail says so
        fields["category_code"], data["category"] = _classify(fields["title"], fields["content"])
    # The assistant records its proposals beside the client's choice (and may dispatch on its own) in the worker:
    # the order is queued for it in the intake's transaction, and this request does not wait for its CPU.
    ticket = services.intake(
        request.user, idempotency_key=key, event_data=data, then=intel_services.queue_assist, **fields
    )
    if not ticket.repeated:  # the answer is built from the objects in hand (no second read)
        return 201, order_out(ticket, request.user)
    # The same key again (also from a concurrent request that waited for the first): the first order, if the body is
    # the same; the key is this client's own, so a repeat returns the client's own order.
    first = ticket.events.filter(action=Action.INTAKE).values_list("data", flat=True).first() or {}
    if first.get("request_sha256", fingerprint) != fingerprint:
        raise IdempotencyMismatch()
    return 200, order_out(ticket, request.user)


def _classify(title: str, content: str) -> tuple[str, dict[str, Any]]:
    """An order without a category: the assistant's category when it is sure (its measured threshold, as the
    console's auto-fill), else 400 asking for one."""
    assist = intel.assess_category(str(title), str(content), clock.local_date(clock.now()), evidence=False)
    if not assist.sure:
        raise InvalidInput(
            _("Give category_code: the assistant is not sure which category this text belongs to."), on="category"
        )
    top = assist.proposals[0]
    return top.category.code, {"by": "assistant", "p": round(top.probability, 4)}


@api.get("/orders", response={200: OrderPage, **ERRORS}, summary="Orders this token may see, newest first")
def list_orders(
    request: HttpRequest,
    state: str | None = Query(None, description="A dispatch state, e.g. dispatched, accepted, closed"),
    updated_after: dt.datetime | None = None,
    category_code: str | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    tickets = tickets_access.visible_tickets(request.user).select_related(
        "category", "district", "street", "lead_unit", "requester"
    )
    if state:
        if state not in DispatchState.values:
            raise InvalidInput(_("Unknown state: “%(state)s”."), state=state[:30])
        tickets = tickets.filter(dispatch_state=state)
    if updated_after:
        try:
            sane = 1900 <= updated_after.astimezone(dt.UTC).year < 2200
        except (OverflowError, ValueError):
            sane = False
        if not sane:
            raise InvalidInput(_("updated_after must be a date-time between 1900 and 2200."))
        tickets = tickets.filter(updated_at__gt=updated_after)
    if category_code:
        tickets = tickets.filter(category__code=category_code)
    tickets = tickets.order_by("-intake_at", "-id")
    return {"count": tickets.count(), "items": [order_out(t, request.user) for t in tickets[offset : offset + limit]]}


@api.get("/orders/{number}", response={200: OrderOut, **ERRORS}, summary="One order")
def get_order(request: HttpRequest, number: str) -> dict[str, Any]:
    return order_out(_order(request, number), request.user)


@api.get("/orders/{number}/events", response={200: list[EventOut], **ERRORS}, summary="An order's trail")
def order_events(request: HttpRequest, number: str) -> list[dict[str, Any]]:
    ticket = _order(request, number)
    unmasked = access.may_see_requester(request.user)
    return [event_out(e, unmasked) for e in ticket.events.select_related("ticket", "actor_unit").order_by("id")]


@api.post("/orders/{number}/accept", response={200: OrderOut, **ERRORS}, summary="Sign for an order (accept)")
def accept_order(request: HttpRequest, number: str, payload: VersionIn) -> dict[str, Any]:
    ticket = services.accept(request.user, _order(request, number).pk, expected_version=payload.expected_version)
    return _fresh(request, ticket)


@api.post("/orders/{number}/progress", response={200: OrderOut, **ERRORS}, summary="Add a progress note")
def add_progress(request: HttpRequest, number: str, payload: NoteIn) -> dict[str, Any]:
    ticket = services.add_progress(
        request.user, _order(request, number).pk, payload.note, expected_version=payload.expected_version
    )
    return _fresh(request, ticket)


@api.post("/orders/{number}/reply", response={200: OrderOut, **ERRORS}, summary="Reply as the lead unit")
def reply_order(request: HttpRequest, number: str, payload: ReplyIn) -> dict[str, Any]:
    ticket = services.reply(
        request.user, _order(request, number).pk, payload.text, expected_version=payload.expected_version
    )
    return _fresh(request, ticket)


@api.get("/events", response={200: EventPage, **ERRORS}, summary="Events since a cursor, oldest first")
def events(
    request: HttpRequest,
    after: int = Query(0, ge=0, le=2**62, description="The last event id you have (0: from the start)"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    rows = list(tickets_access.visible_events(request.user).select_related("actor_unit").filter(id__gt=after)[:limit])
    unmasked = access.may_see_requester(request.user)
    return {"items": [event_out(e, unmasked) for e in rows], "next_cursor": rows[-1].pk if rows else after}
