"""The Open311 GeoReport v2 edge, exactly to the specification (`shared/reference/open311.md`).

Every URL ends in `.xml` or `.json`. GETs are keyless; POSTs and the update feed take an `api_key`. Errors are the
spec's error list with 400 (validation too, never 422), 403 (key) or 404 (unknown resource); 429 when a client or
address is over its hourly limit. jiesu's states become `open`/`closed` here and nowhere else (`open311_status`).
Requester fields are never rendered.
"""

import datetime as dt
import logging
import math
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from jiesu.catalog.models import Category
from jiesu.intel import services as intel_services
from jiesu.lib import clock, logins, throttle
from jiesu.lib.errors import Forbidden, NotFound, ServiceError
from jiesu.lib.masking import mask_text
from jiesu.orgs.selectors import place_codes, resolve_place
from jiesu.tickets import services
from jiesu.tickets.models import AppealType, Ticket, TicketEvent
from jiesu.tickets.workflow import PUBLIC_STEPS, Action, DispatchState

from . import render, selectors
from .models import ApiClient, Datatype, RequesterUpdate, ServiceAttribute

logger = logging.getLogger("jiesu.open311")
MAX_DAYS = 90
MAX_ROWS = 1000
CLOSED_STATES = {DispatchState.CLOSED, DispatchState.MERGED, DispatchState.DECLINED}
UPDATE_STATUSES = {
    "OPEN", "CLOSED", "FIXED", "IN_PROGRESS", "ACTION_SCHEDULED", "INVESTIGATING", "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY", "NO_FURTHER_ACTION", "INTERNAL_REFERRAL", "FOR_TRIAGE", "CANCELLED", "REOPEN",
}  # fmt: skip
# FixMyStreet's extended statuses for jiesu's public steps (external_status_code)
EXTERNAL_STATUS: dict[str, str] = {
    Action.INTAKE: "FOR_TRIAGE",
    Action.DISPATCH: "ACTION_SCHEDULED",
    Action.APPROVE_RETURN: "ACTION_SCHEDULED",
    Action.ACCEPT: "IN_PROGRESS",
    Action.ADD_PROGRESS: "IN_PROGRESS",
    Action.REPLY: "IN_PROGRESS",
    Action.CALLBACK: "IN_PROGRESS",
    Action.ANSWER_DIRECTLY: "CLOSED",
    Action.CLOSE: "CLOSED",
    Action.LOAD_HISTORY: "CLOSED",
    Action.REOPEN: "IN_PROGRESS",
    Action.MERGE: "DUPLICATE",
    Action.RATE: "IN_PROGRESS",
}
UNENCODED_OFFSET = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:\d\d)$")
ATTRIBUTE_RE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = descriptions


# --- the one mapping of states ----------------------------------------------------------------------------
def open311_status(state: str) -> str:
    """open = every state before 办结; closed = 办结, merged duplicate, declined (不予受理)."""
    return "closed" if state in CLOSED_STATES else "open"


def status_notes(ticket: Ticket) -> str:
    state = DispatchState(ticket.dispatch_state)
    if state == DispatchState.MERGED and ticket.duplicate_of_id:
        return _("Duplicate, merged into %(number)s.") % {"number": ticket.duplicate_of.number}  # type: ignore[union-attr]
    note = str(state.label)
    if ticket.lead_unit_id:
        note += f"（{ticket.lead_unit.name}）"  # type: ignore[union-attr]
    if ticket.reply:
        note += "：" + mask_text(ticket.reply)[:500]
    return note


def iso(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    """Optional fields without a value are left out (never an empty string where a uri or datetime is due)."""
    return {k: v for k, v in record.items() if v is not None and v != ""}


def request_record(ticket: Ticket) -> dict[str, Any]:
    is_closed = ticket.dispatch_state in CLOSED_STATES
    return _compact(
        {
            "service_request_id": ticket.number,
            "status": open311_status(ticket.dispatch_state),
            "status_notes": status_notes(ticket),
            "service_name": ticket.category.name,
            "service_code": ticket.category.code,
            "description": mask_text(ticket.content)[:4000],
            "agency_responsible": ticket.lead_unit.name if ticket.lead_unit_id else None,  # type: ignore[union-attr]
            "requested_datetime": iso(ticket.intake_at),
            "updated_datetime": iso(ticket.closed_at if is_closed and ticket.closed_at else ticket.updated_at),
            "expected_datetime": None if is_closed else iso(ticket.due_at),
            "address": mask_text(ticket.address)[:255],  # a public feed: house numbers stay, phone numbers do not
            "address_id": ticket.street.code if ticket.street_id else None,  # type: ignore[union-attr]
            "lat": float(ticket.latitude) if ticket.latitude is not None else None,
            "long": float(ticket.longitude) if ticket.longitude is not None else None,
        }
    )


# --- request plumbing ---------------------------------------------------------------------------------------
def _param(request: HttpRequest, name: str) -> str | None:
    """A parameter from the query or the form body; empty behaves exactly like absent."""
    value = request.POST.get(name) if request.method == "POST" else None
    if value is None:
        value = request.GET.get(name)
    value = (value or "").strip()
    return value or None


def _list(request: HttpRequest, name: str) -> list[str] | None:
    value = _param(request, name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _datetime(request: HttpRequest, name: str) -> dt.datetime | None:
    value = _param(request, name)
    if value is None:
        return None
    # An unencoded "+08:00" in a URL or form arrives as " 08:00"; read it as the offset it was meant to be.
    value = UNENCODED_OFFSET.sub(r"\1+\2", value)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not _sane(moment):
        raise Open311Error(
            400, _("%(name)s is not a W3C datetime with an offset: %(value)s") % {"name": name, "value": value[:40]}
        )
    return moment


def _sane(moment: dt.datetime) -> bool:
    """A moment this server can compute with: 1900 to 2200 in UTC (years 1 or 9999 with an offset overflow)."""
    try:
        return (
            dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
            <= moment.astimezone(dt.UTC)
            <= dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
        )
    except (OverflowError, ValueError):
        return False


def _finite_between(value: str, low: float, high: float) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and low <= number <= high


def _positive(request: HttpRequest, name: str, default: int, high: int) -> int:
    value = _param(request, name)
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise Open311Error(400, _("%(name)s must be a whole number from 1 to %(high)s.") % {"name": name, "high": high})
    return int(value)


def _client(request: HttpRequest) -> ApiClient:
    key = _param(request, "api_key")
    client = None
    if key:  # the lockout count in the key lookup's statement (see api.TokenAuth)
        client, failures = ApiClient.by_key_checked(key, logins.api_key_failures_sql(request))
        if logins.api_key_over_limit(failures):
            raise Open311Error(429, _("Too many invalid API keys from this address; try again later."))
    if client is None:
        if key:
            logins.api_key_failed(request)
        raise Open311Error(403, _("Invalid api_key") if key else _("api_key not provided"))
    if not throttle.allow_client(f"api:{client.pk}", client.rate_limit_per_hour):
        raise Open311Error(429, _("Too many requests from this client; try again in the next hour."))
    return client


def edge(method: str, *, keyed: bool = False) -> Callable[..., Callable[..., HttpResponse]]:
    """One Open311 method: checks the format suffix, the HTTP method and the jurisdiction, limits keyless callers per
    address, and turns every failure into the spec's error list."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        def inner(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in render.FORMATS:
                return render.error("xml", 400, _("Unknown format “%(fmt)s”: use xml or json.") % {"fmt": fmt[:10]})
            try:
                if request.method != method:
                    raise Open311Error(400, _("Use %(method)s for this method.") % {"method": method})
                jurisdiction = _param(request, "jurisdiction_id")
                if jurisdiction is not None and jurisdiction != settings.OPEN311_JURISDICTION_ID:
                    raise Open311Error(404, _("jurisdiction_id %(id)s not found") % {"id": jurisdiction[:50]})
                if not keyed and not throttle.allow(request, "open311", settings.OPEN311_ANONYMOUS_PER_HOUR):
                    raise Open311Error(429, _("Too many requests from this address; try again in the next hour."))
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return render.error(fmt, error.status, *error.descriptions)
            except NotFound as error:
                return render.error(fmt, 404, str(error))
            except Forbidden as error:
                return render.error(fmt, 403, str(error))
            except ServiceError as error:
                return render.error(fmt, 400, str(error))
            except RequestDataTooBig:
                return render.error(fmt, 413, _("The request body is too large."))
            except Exception:  # a fault of ours: logged with the request id; the client still gets the spec's format
                logger.exception("Open311 error on %s", request.path)
                rid = getattr(request, "request_id", "-")
                return render.error(fmt, 500, _("Something went wrong on our side (request id %(id)s).") % {"id": rid})

        inner.__name__ = view.__name__
        return inner

    return wrap


# --- discovery and services ---------------------------------------------------------------------------------
@edge("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    changed = iso(selectors.catalogue_changed_at() or clock.now())
    body = {
        "changeset": changed,
        "contact": settings.OPEN311_CONTACT,
        "key_service": settings.OPEN311_KEY_SERVICE,
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": settings.OPEN311_BASE_URL or request.build_absolute_uri("/open311/v2"),
                "changeset": changed,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render.respond(fmt, "discovery", body)


def service_record(category: Category, with_metadata: set[str]) -> dict[str, Any]:
    group = category.parent.parent if category.parent and category.parent.parent else category.parent
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.full_name(),
        "metadata": category.code in with_metadata,
        "type": settings.OPEN311_SERVICE_TYPE,
        "keywords": ",".join(category.keywords.split()),
        "group": group.name if group else "",
    }


@edge("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    day = clock.local_date(clock.now())
    with_metadata = selectors.codes_with_attributes()
    return render.respond(fmt, "services", [service_record(c, with_metadata) for c in selectors.services(day)])


def attribute_record(attribute: ServiceAttribute) -> dict[str, Any]:
    record: dict[str, Any] = {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": attribute.order,
        "description": attribute.description,
    }
    if attribute.datatype in {Datatype.SINGLE, Datatype.MULTI}:
        record["values"] = [{"key": str(v["key"]), "name": str(v["name"])} for v in attribute.values]
    return _compact(record) | {"variable": attribute.variable, "required": attribute.required}


@edge("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    if selectors.service(code, clock.local_date(clock.now())) is None:
        raise Open311Error(404, _("service_code %(code)s not found") % {"code": code[:32]})
    body = {"service_code": code, "attributes": [attribute_record(a) for a in selectors.attributes(code)]}
    return render.respond(fmt, "service_definition", body)


# --- requests -----------------------------------------------------------------------------------------------
@edge("GET")
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    numbers = _list(request, "service_request_id")
    page = _positive(request, "page", 1, 100_000)
    size = _positive(request, "page_size", MAX_ROWS, MAX_ROWS)
    if numbers is not None:  # overrides every other argument
        tickets = selectors.requests(numbers=numbers[:MAX_ROWS])
    else:
        statuses = _list(request, "status")
        if statuses and not set(statuses) <= {"open", "closed"}:
            raise Open311Error(400, _("status must be open, closed or both."))
        start, end = _datetime(request, "start_date"), _datetime(request, "end_date")
        if start and end and end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        span = dt.timedelta(days=MAX_DAYS)
        if start and end and end - start > span:
            raise Open311Error(400, _("The date range may not exceed %(days)s days.") % {"days": MAX_DAYS})
        if start is None:
            end = end or clock.now()
            start = end - span
        elif end is None:
            end = start + span
        tickets = selectors.requests(codes=_list(request, "service_code"), start=start, end=end)
        if statuses and len(set(statuses)) == 1:
            closed = {s.value for s in CLOSED_STATES}
            tickets = (
                tickets.filter(dispatch_state__in=closed)
                if statuses[0] == "closed"
                else tickets.exclude(dispatch_state__in=closed)
            )
    rows = tickets[(page - 1) * size : page * size]
    return render.respond(fmt, "service_requests", [request_record(t) for t in rows])


@edge("GET")
def request_detail(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    ticket = selectors.by_number(number)
    if ticket is None:
        raise Open311Error(404, _("service_request_id %(id)s not found") % {"id": number[:30]})
    return render.respond(fmt, "service_requests", [request_record(ticket)])


@edge("GET")
def token_lookup(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    ticket = selectors.by_token(token) if re.fullmatch(r"[0-9a-f]{32}", token) else None
    if ticket is None:
        raise Open311Error(404, _("token %(token)s not found") % {"token": token[:40]})
    return render.respond(fmt, "service_requests", [{"service_request_id": ticket.number, "token": token}])


def _attribute_values(request: HttpRequest, definitions: list[ServiceAttribute]) -> tuple[dict[str, Any], list[str]]:
    """The declared attributes' values, checked; unknown attribute codes are ignored, as the spec asks."""
    given: dict[str, list[str]] = {}
    for key in request.POST:
        if match := ATTRIBUTE_RE.match(key):
            values = [v.strip() for v in request.POST.getlist(key) if v.strip()]
            if values:
                given.setdefault(match.group(1), []).extend(values)
    chosen: dict[str, Any] = {}
    lines: list[str] = []
    for attribute in definitions:
        if not attribute.variable:
            continue
        found = given.get(attribute.code, [])
        if not found:
            if attribute.required:
                raise Open311Error(400, _("attribute[%(code)s] is required") % {"code": attribute.code})
            continue
        if attribute.datatype in {Datatype.SINGLE, Datatype.MULTI}:
            names = {str(v["key"]): str(v["name"]) for v in attribute.values}
            wrong = [v for v in found if v not in names]
            if wrong or (attribute.datatype == Datatype.SINGLE and len(found) > 1):
                raise Open311Error(
                    400,
                    _("attribute[%(code)s] has a value not in its list: %(value)s")
                    % {"code": attribute.code, "value": ",".join(found)[:60]},
                )
            chosen[attribute.code] = found if attribute.datatype == Datatype.MULTI else found[0]
            shown = "、".join(names[v] for v in found)
        else:
            value = found[0][:1000]
            if attribute.datatype == Datatype.NUMBER:
                try:
                    float(value)
                except ValueError:
                    raise Open311Error(
                        400, _("attribute[%(code)s] must be a number") % {"code": attribute.code}
                    ) from None
            if attribute.datatype == Datatype.DATETIME:
                try:
                    moment = dt.datetime.fromisoformat(value)
                except ValueError:
                    moment = None
                if moment is None or moment.tzinfo is None:
                    raise Open311Error(
                        400, _("attribute[%(code)s] must be a datetime with an offset") % {"code": attribute.code}
                    )
            chosen[attribute.code] = value
            shown = value
        lines.append(f"{attribute.description}：{shown}")
    return chosen, lines


@edge("POST", keyed=True)
def request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client(request)
    code = _param(request, "service_code")
    if code is None:
        raise Open311Error(400, _("service_code not provided"))
    category = selectors.service(code, clock.local_date(clock.now()))
    if category is None:
        raise Open311Error(404, _("service_code %(code)s not found") % {"code": code[:32]})
    lat, long = _param(request, "lat"), _param(request, "long")
    for label, value, low, high in ((_("Latitude"), lat, -90, 90), (_("Longitude"), long, -180, 180)):
        if value is not None and not _finite_between(value, low, high):
            raise Open311Error(
                400,
                _("%(name)s must be a number from %(low)s to %(high)s.") % {"name": label, "low": low, "high": high},
            )
    address, address_id = _param(request, "address_string"), _param(request, "address_id")
    if (lat is None) != (long is None):
        raise Open311Error(400, _("lat and long must be given together"))
    if lat is None and address is None and address_id is None:
        raise Open311Error(400, _("A location is required: lat and long, address_string or address_id."))
    description = strip_tags(_param(request, "description") or "")
    if len(description) > 4000:
        raise Open311Error(400, _("description may be at most 4,000 characters"))
    values, lines = _attribute_values(request, list(selectors.attributes(code)))

    district_code = street_code = None
    if address_id is not None:
        street_code = address_id
    elif address:
        district_code, street_code = place_codes(resolve_place(address))
    name = " ".join(n for n in (_param(request, "last_name"), _param(request, "first_name")) if n)
    token = uuid.uuid4().hex
    content = "\n".join([description or category.name, *lines])
    first_line = (description or address or "").strip().splitlines()[:1]
    title = f"{category.name}：{first_line[0][:60]}" if first_line else category.name
    media = [u.strip() for u in request.POST.getlist("media_url") if u.strip()][:5]
    for url in media:  # a link staff will open: http(s) only, never javascript: or a local path
        if len(url) > 500 or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise Open311Error(400, _("media_url must be an http or https URL of at most 500 characters."))
    try:
        ticket = services.submit_external(
            source=f"open311:{client.pk}",
            event_data={"open311": {"client": client.name, "attributes": values, "media_url": media}},
            appeal_type=AppealType.HELP,
            title=title,
            content=content,
            category_code=code,
            requester_name=name[:50],
            requester_phone=_param(request, "phone") or "",
            address=(address or "")[:255],
            district_code=district_code,
            street_code=street_code,
            latitude=lat,
            longitude=long,
            idempotency_key=f"o311:{token}",
            # the assistant records its proposals beside the client's service code (and may dispatch on its own)
            # in the worker, not in this request
            then=intel_services.queue_assist,
        )
    except ServiceError as error:
        if error.on == "street":
            raise Open311Error(400, _("address_id %(id)s is not a street/township code") % {"id": address_id}) from None
        raise
    notice = (
        _("Received. A reply is due by %(due)s.")
        % {"due": timezone.localtime(ticket.due_at).strftime("%Y-%m-%d %H:%M")}
        if ticket.due_at
        else None
    )
    key = "token" if settings.OPEN311_SERVICE_TYPE == "batch" else "service_request_id"
    record = _compact({key: token if key == "token" else ticket.number, "service_notice": notice})
    return render.respond(fmt, "service_requests", [record])


# --- servicerequestupdates (FixMyStreet's extension) ----------------------------------------------------------
def update_record(event: TicketEvent) -> dict[str, Any]:
    ticket = event.ticket
    if event.action in {Action.REPLY, Action.ANSWER_DIRECTLY} and event.note:
        text = mask_text(event.note)[:4000]
    else:
        text = str(PUBLIC_STEPS[event.action])
    return {
        "update_id": f"E{event.pk}",
        "service_request_id": ticket.number,
        "status": open311_status(event.to_state),
        "description": text,
        "updated_datetime": iso(event.created_at),
        "external_status_code": EXTERNAL_STATUS.get(event.action, "IN_PROGRESS"),
    }


@edge("GET", keyed=True)
def update_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _client(request)
    start, end = _datetime(request, "start_date"), _datetime(request, "end_date")
    if (start is None) != (end is None):
        raise Open311Error(400, _("Give both start_date and end_date, or neither."))
    if start is None or end is None:
        end = clock.now()
        start = end - dt.timedelta(days=1)
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."))
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise Open311Error(400, _("The date range may not exceed %(days)s days.") % {"days": MAX_DAYS})
    events = selectors.public_updates(start, end, MAX_ROWS)
    return render.respond(fmt, "service_requests_updates", [update_record(e) for e in events])


@edge("POST", keyed=True)
def update_create(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client(request)
    for field in ("service_request_id", "update_id", "updated_datetime", "status", "description"):
        if _param(request, field) is None:
            raise Open311Error(400, _("%(field)s not provided") % {"field": field})
    _datetime(request, "updated_datetime")
    status = str(_param(request, "status")).upper()
    if status not in UPDATE_STATUSES:
        raise Open311Error(400, _("status %(status)s is not known") % {"status": status[:30]})
    number, update_id = str(_param(request, "service_request_id")), str(_param(request, "update_id"))[:64]
    description = strip_tags(str(_param(request, "description")))[:2000]
    reopen = status == "REOPEN"
    try:
        with transaction.atomic():  # the note and its RequesterUpdate row together; a repeated update_id undoes both
            event = services.requester_note(
                number,
                description,
                source=f"open311:{client.pk}",
                data={"update_id": update_id, "status": status} | ({"reopen_requested": True} if reopen else {}),
            )
            RequesterUpdate.objects.create(
                client=client, ticket=event.ticket, update_id=update_id, event=event, created_at=event.created_at
            )
    except NotFound:
        raise Open311Error(404, _("service_request_id %(id)s not found") % {"id": number[:30]}) from None
    except IntegrityError:
        raise Open311Error(400, _("Update %(id)s already exists") % {"id": update_id}) from None
    return render.respond(fmt, "service_request_updates", [{"update_id": f"E{event.pk}"}])


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other URL under /open311/: the spec's error list (the suffix chooses the format, XML by default)."""
    fmt = path.rsplit(".", 1)[-1].lower() if "." in path else "xml"
    return render.error(fmt, 404, _("No such Open311 method: %(path)s") % {"path": path[:60]})


# --- one URL, two methods -------------------------------------------------------------------------------------
@csrf_exempt
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """`requests.{fmt}`: GET lists, POST creates."""
    return request_create(request, fmt) if request.method == "POST" else request_list(request, fmt)


@csrf_exempt
def updates(request: HttpRequest, fmt: str) -> HttpResponse:
    """`servicerequestupdates.{fmt}`: GET polls the public updates, POST adds a requester's comment."""
    return update_create(request, fmt) if request.method == "POST" else update_list(request, fmt)
