"""The workbench: one page per role's daily work. Thin: selectors read, services act, access decides."""

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiesu.catalog.models import TimeLimitClass
from jiesu.catalog.selectors import effective_category, knowledge_for
from jiesu.community import access as community_access
from jiesu.integrations import selectors as telephony_selectors
from jiesu.integrations import telephony
from jiesu.integrations.models import CallBackOutcome
from jiesu.intel import selectors as intel
from jiesu.intel import services as intel_services
from jiesu.intel.models import Feature
from jiesu.lib import clock
from jiesu.lib.errors import NotFound, ServiceError
from jiesu.lib.masking import mask_phone
from jiesu.orgs import access
from jiesu.orgs.models import COMMUNITY_KINDS, STREET_TOWNSHIP_KINDS, UNIT_ROLES, OrgUnit, Role, UnitKind
from jiesu.orgs.selectors import place_codes, resolve_place
from jiesu.sla.policy import due_at
from jiesu.tickets import access as tickets_access
from jiesu.tickets import services
from jiesu.tickets.forms import INTAKE_INPUTS
from jiesu.tickets.models import Attachment, CallbackOutcome, Resolution, Satisfaction
from jiesu.tickets.workflow import DispatchState

from . import exports, ratings, selectors
from .forms import IntakeConsoleForm, SupervisionFilterForm

PAGE_SIZE = 30

View = Callable[..., HttpResponse]


def roles(*allowed: str) -> Callable[[View], View]:
    """Only users whose role is one of `allowed` see the page; others get 404 like a missing page."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            m = access.membership(request.user)
            if m is None or m.role not in allowed:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _query(request: HttpRequest) -> str:
    """The list's filters, to keep them across pages."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


HOME: dict[str, str] = {
    Role.HOTLINE_OPERATOR: "intake-console",
    Role.DISPATCHER: "dispatch-desk",
    Role.CALLBACK_AGENT: "callback-worklist",
    Role.UNIT_HANDLER: "unit-inbox",
    Role.UNIT_LEADER: "unit-inbox",
    Role.SUPERVISOR: "supervision",
    # the cadre and training roles land on their own pages (URL names: the pages layer imports neither app)
    Role.ORG_DEPARTMENT: "cadre-interviews",
    Role.PARTY_SECRETARY: "cadre-home",
    Role.DISCIPLINE: "cadre-flags",
    Role.TRAINER: "training-home",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    m = access.membership(request.user)
    if m is None:  # a registered Party member (no staff membership) lands on their phone page
        return redirect("member-home" if community_access.party_member(request.user) else "ticket-list")
    if m.unit.kind in COMMUNITY_KINDS and m.role in UNIT_ROLES:
        return redirect("community-home")
    return redirect(HOME.get(m.role, "ticket-list"))


# --- hotline operator -----------------------------------------------------------------------------------
@roles(Role.HOTLINE_OPERATOR, Role.DISPATCHER)
def intake_console(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "channel": "phone"}
    if request.GET.get("phone"):  # from the missed-call queue
        initial["requester_phone"] = request.GET["phone"][:20]
    call = telephony_selectors.call_for_console(request.user, request.GET.get("call", ""))
    if call is not None:  # screen pop: the caller's number (history follows in the panel) and the recording
        initial |= {"requester_phone": call.caller_phone, "recording_id": call.recording_id, "call": call.pk}
    form = IntakeConsoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        call_pk = data.pop("call", None)
        if data.get("street_code"):  # the street decides the district
            data["district_code"] = ""
        try:
            ticket = services.intake(request.user, **data)
        except ServiceError as error:
            form.add_error(INTAKE_INPUTS.get(error.on or ""), str(error))
        else:
            if intel_services.after_intake(request.user, ticket, title=data["title"], content=data["content"]):
                ticket.refresh_from_db()
                messages.info(request, _("Dispatched automatically to %(unit)s.") % {"unit": ticket.lead_unit})
            if call_pk:
                telephony.attach_ticket(request.user, call_pk, ticket)
            messages.success(request, f"{ticket.number} · {ticket.get_dispatch_state_display()}")
            if getattr(ticket, "tracking_sms_to", ""):  # the code itself is never shown to staff
                messages.info(
                    request,
                    _("The caller's tracking code goes by SMS to %(phone)s: tell them to keep it to follow and rate.")
                    % {"phone": mask_phone(ticket.tracking_sms_to)},  # type: ignore[attr-defined]
                )
            return redirect(f"{reverse('intake-console')}?last={ticket.pk}")
    last = None
    if request.GET.get("last"):
        try:
            last = tickets_access.get_ticket(request.user, request.GET["last"])
        except NotFound:
            last = None
    day = clock.local_date(clock.now())
    leaves = selectors.leaf_categories(day)
    return render(
        request,
        "workbench/intake.html",
        {"form": form, "last": last, "leaves": leaves, "call": call, "tree": selectors.category_tree(day)},
    )


@roles(Role.HOTLINE_OPERATOR, Role.DISPATCHER)
def intake_calls(request: HttpRequest) -> HttpResponse:
    """The console's call strip, polled: screen pops waiting for this operator and the 漏接回拨 queue's size."""
    missed = telephony_selectors.missed_calls()
    return render(
        request,
        "workbench/_calls.html",
        {
            "ringing": list(telephony_selectors.ringing_for(request.user)[:3]),
            "missed": missed.count(),
            "missed_overdue": missed.filter(callback_due_at__lt=clock.now()).count(),
        },
    )


@roles(Role.HOTLINE_OPERATOR, Role.DISPATCHER, Role.SUPERVISOR)
def missed_calls(request: HttpRequest) -> HttpResponse:
    """漏接回拨: missed calls with their call-back deadline; operators record the call back."""
    if request.method == "POST":
        try:
            telephony.call_back_missed(
                request.user,
                int(request.POST.get("call") or 0),
                request.POST.get("outcome", ""),
                request.POST.get("note", ""),
            )
        except NotFound:
            raise Http404 from None
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, gettext("The call back is recorded."))
        return redirect("missed-calls")
    done = request.GET.get("show") == "done"
    calls = telephony_selectors.missed_calls(include_done=done)
    if done:
        calls = calls.filter(called_back_at__isnull=False)
    calls, sorting = selectors.MISSED_CALL_SORTS.apply(request.GET, calls)
    m = access.membership(request.user)
    return render(
        request,
        "workbench/missed_calls.html",
        {
            "page": _page(request, calls),
            "sorting": sorting,
            "done": done,
            "query": _query(request),
            "now": clock.now(),
            "outcomes": CallBackOutcome.choices,
            "acts": m is not None and m.role != Role.SUPERVISOR,
            "unmasked": access.may_see_requester(request.user),
        },
    )


@roles(Role.HOTLINE_OPERATOR, Role.DISPATCHER)
def intake_assist(request: HttpRequest) -> HttpResponse:
    """The console's side panel, refreshed while the operator types: caller history, place, deadline,
    similar open tickets and knowledge entries."""
    q = request.GET
    day = clock.local_date(clock.now())
    title, content = q.get("title", "")[:200], q.get("content", "")[:2000]
    text = f"{title} {content}"
    address = q.get("address", "")[:255]
    places = resolve_place(address)
    street = _unit(q.get("street_code", ""), set(STREET_TOWNSHIP_KINDS))
    if street is None and len(places) == 1:
        street = places[0].street
    common_district, _street = place_codes(places)
    district = (
        street.parent
        if street is not None
        else (places[0].district if len(places) == 1 else _unit(common_district or "", {UnitKind.DISTRICT}))
    )
    category = effective_category(q.get("category_code", "").strip()[:12], day)
    assist = intel.assess_category(title, content, day, user=request.user)  # shown even once chosen
    routed = category if category is not None and category.is_leaf else None
    if routed is None and intel.auto_applies(assist):
        routed = assist.proposals[0].category
    deadline = None
    if category is not None and category.is_leaf:
        limit_class, policy = services.time_limit(category, q.get("urgency", ""), day)
        if policy is not None:
            deadline = {
                "policy": policy,
                "class": TimeLimitClass(limit_class).label,
                "due": due_at(policy, clock.now()),
            }
    context = {
        "history": selectors.caller_history(request.user, q.get("requester_phone", "")[:20]),
        "places": places,
        "street": street,
        "district": district,
        "category": category,
        "categories": selectors.search_categories(q.get("category_code", "")[:20], day) if category is None else [],
        "proposals": assist.proposals,
        "assist": assist,
        "auto_apply": intel.auto_applies(assist),
        "units": intel.propose_units(routed, district, street, title, content, day)
        if routed is not None or street is not None
        else [],
        "deadline": deadline,
        "similar": intel.possible_duplicates(
            request.user,
            text,
            street,
            district,
            address=address,
            phone=q.get("requester_phone", "").strip()[:20],
            latitude=_coordinate(q.get("latitude", ""), 90),
            longitude=_coordinate(q.get("longitude", ""), 180),
        ),
        "tags": intel.propose_tags(title, content),
        "knowledge": knowledge_for(text) if q.get("appeal_type") == "inquiry" else [],
        "now": clock.now(),
    }
    return render(request, "workbench/_intake_assist.html", context)


def _coordinate(value: str, bound: float) -> float | None:
    """A latitude or longitude from the query (where the caller's client knows one), None when absent or bad."""
    try:
        number = float(value[:20])
    except ValueError:
        return None
    return number if -bound <= number <= bound else None


def _unit(code: str, kinds: set[str]) -> OrgUnit | None:
    code = code.strip()[:32]
    if not code:
        return None
    unit = OrgUnit.objects.filter(code=code, is_active=True).select_related("parent").first()
    return unit if unit is not None and unit.kind in kinds else None


@login_required
def call_ratings(request: HttpRequest) -> HttpResponse:
    """一次一评: an operator's own call ratings; the centre's view across operators, and one operator's ratings
    (`?operator=<login>`). Apart from the units' three rates."""
    scope = tickets_access.call_ratings_scope(request.user)
    if not scope:
        raise Http404
    today = clock.local_date(clock.now())
    first = ratings.month_of(request.GET.get("month", ""), today)
    operator: Any = request.user if scope == "own" else None
    if scope == "all" and request.GET.get("operator"):
        operator = get_user_model().objects.filter(username=request.GET["operator"][:150]).first()
        if operator is None:
            raise Http404
    context: dict[str, Any] = {"scope": scope, "month": first, "months": ratings.months(today), "operator": operator}
    if operator is None:
        rows, sorting = ratings.OPERATOR_SORTS.apply(request.GET, ratings.per_operator(first))
        context |= {"page": _page(request, rows), "totals": ratings.totals(first)}
    else:
        context["summary"] = ratings.per_operator(first).filter(pk=operator.pk).first()
        rows, sorting = ratings.RATING_SORTS.apply(request.GET, ratings.ratings_of(operator, first))
        page = _page(request, rows)
        labels = dict(Satisfaction.choices)
        for e in page:
            e.answer = labels.get(e.data.get("satisfaction"), "—")
        context["page"] = page
    context |= {"sorting": sorting, "query": _query(request)}
    return render(request, "workbench/call_ratings.html", context)


# --- dispatcher -----------------------------------------------------------------------------------------
DISPATCH_TABS = ("queue", "returns", "extensions", "merge")


@roles(Role.DISPATCHER)
def dispatch_desk(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "queue")
    if tab not in DISPATCH_TABS:
        tab = "queue"
    user = request.user
    counts = {
        "queue": selectors.dispatch_queue(user).count(),
        "returns": selectors.pending_returns(user).count(),
        "extensions": selectors.pending_extensions(user).count(),
    }
    q = request.GET.get("q", "")
    items: Any
    sorting = None
    if tab == "queue":
        items = selectors.search(selectors.dispatch_queue(user), q, by_phone=tickets_access.searches_by_phone(user))
        items, sorting = selectors.DISPATCH_SORTS.apply(request.GET, items)
    elif tab == "returns":
        items = selectors.search(selectors.pending_returns(user), q, "ticket__")
        items, sorting = selectors.RETURN_SORTS.apply(request.GET, items)
    elif tab == "extensions":
        items = selectors.search(selectors.pending_extensions(user), q, "ticket__")
        items, sorting = selectors.EXTENSION_SORTS.apply(request.GET, items)
    else:  # proposals, best first
        items = selectors.merge_candidates(user)
    counts["merge"] = len(items) if tab == "merge" else -1
    return render(
        request,
        "workbench/dispatch.html",
        {
            "tab": tab,
            "page": _page(request, items),
            "sorting": sorting,
            "counts": counts,
            "q": q,
            "query": _query(request),
            "now": clock.now(),
        },
    )


# The deadline each inbox tab is about, shown in its own column.
INBOX_DEADLINES: dict[str, Any] = {
    "sign": gettext_lazy("sign by"),
    "supervised": gettext_lazy("answer by"),
    "report_in": gettext_lazy("report in by"),
}


@roles(Role.DISPATCHER)
@require_POST
def dispatch_batch(request: HttpRequest) -> HttpResponse:
    """批量派单: each ticked ticket is dispatched as the catalogue decides, each in its own transaction with its own
    event; a ticket someone changed meanwhile (its version) or that cannot be dispatched is reported, not forced."""
    done, refused = [], []
    for value in request.POST.getlist("t")[:200]:
        pk, _sep, version = value.partition(":")
        try:
            ticket = services.dispatch(
                request.user, int(pk), lead_code=None, assist_codes=[], note="", expected_version=int(version)
            )
        except (ValueError, NotFound):
            continue
        except ServiceError as error:
            refused.append(f"{pk}: {error}")
        else:
            done.append(ticket.number)
    if done:
        messages.success(request, gettext("Dispatched: %(numbers)s") % {"numbers": ", ".join(done)})
    for line in refused:
        messages.error(request, line)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/dispatch/") else reverse("dispatch-desk"))


# --- handling unit --------------------------------------------------------------------------------------
@roles(*UNIT_ROLES)
def unit_inbox(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "sign")
    if tab not in selectors.INBOX_TABS:
        tab = "sign"
    mine = request.GET.get("mine") == "1"
    q = request.GET.get("q", "")
    tickets = selectors.search(selectors.inbox(request.user, tab, mine=mine), q)
    tickets, sorting = selectors.inbox_sorts(tab).apply(request.GET, tickets)
    m = access.membership(request.user)
    workload, unassigned = (None, 0)
    if m is not None and m.role == Role.UNIT_LEADER:
        workload, unassigned = selectors.unit_workload(request.user)
    page = _page(request, tickets)
    deadline_label = INBOX_DEADLINES.get(tab)
    if deadline_label:
        field = selectors.INBOX_DEADLINE_FIELDS[tab]
        for t in page:
            t.deadline = getattr(t, field, None)  # type: ignore[attr-defined]
    return render(
        request,
        "workbench/inbox.html",
        {
            "deadline_label": deadline_label,
            "tab": tab,
            "tabs": selectors.INBOX_TABS,
            "sorting": sorting,
            "mine": mine,
            "q": q,
            "query": _query(request),
            "page": page,
            "counts": selectors.inbox_counts(request.user),
            "workload": workload,
            "unassigned": unassigned,
            "now": clock.now(),
        },
    )


# --- callback agent -------------------------------------------------------------------------------------
@roles(Role.CALLBACK_AGENT)
def callback_worklist(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    rows = selectors.search(selectors.callback_worklist(request.user), q, by_phone=True)
    rows, sorting = selectors.CALLBACK_SORTS.apply(request.GET, rows)
    return render(
        request,
        "workbench/callbacks.html",
        {
            "page": _page(request, rows),
            "sorting": sorting,
            "q": q,
            "query": _query(request),
            "resolution_choices": Resolution.answers(),
            "callback_outcomes": CallbackOutcome.choices,
            "satisfaction_choices": Satisfaction.answers(),
            "now": clock.now(),
        },
    )


# --- supervisor -----------------------------------------------------------------------------------------
@roles(Role.SUPERVISOR)
def supervision(request: HttpRequest) -> HttpResponse:
    form = SupervisionFilterForm(request.GET or None)
    f = form.filter()
    rows, sorting = selectors.SUPERVISION_SORTS.apply(request.GET, selectors.supervision_list(request.user, f))
    return render(
        request,
        "workbench/supervision.html",
        {
            "form": form,
            "f": f,
            "page": _page(request, rows),
            "sorting": sorting,
            "query": _query(request),
            "districts": selectors.districts(request.user),
            "categories": selectors.top_categories(clock.local_date(clock.now())),
            "states": DispatchState.choices,
            "now": clock.now(),
        },
    )


@roles(Role.SUPERVISOR)
def overview(request: HttpRequest) -> HttpResponse:
    data = selectors.overview(request.user)
    return render(
        request,
        "workbench/overview.html",
        {"data": data, "chart_json": json.dumps(data, ensure_ascii=False, default=str), "now": clock.now()},
    )


# --- the unit picker ---------------------------------------------------------------------------------------
@login_required
def unit_picker(request: HttpRequest) -> HttpResponse:
    """The unit picker's tree (a fragment the picker loads when first opened): district → streets/townships and
    district departments, then the city's departments and companies; `?pick=all|summonable|streets`."""
    if access.membership(request.user) is None:
        raise Http404
    pick = request.GET.get("pick", "all")
    if pick not in selectors.UNIT_PICKS:
        pick = "all"
    response = render(request, "workbench/_unit_tree.html", {"groups": selectors.unit_tree(pick), "pick": pick})
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- exports -------------------------------------------------------------------------------------------
@login_required
def export_list(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """A list as CSV or Excel, with the page's filters and the masking rules (`exports`): the supervision list
    (overdue by default), the dispatch queue, the unit inbox tab, the callback worklist."""
    m = access.membership(request.user)
    if fmt not in exports.FORMATS or m is None:
        raise Http404
    user, q = request.user, request.GET.get("q", "")
    if name == "call-ratings":  # 一次一评 across operators (the centre's view), in the page's month and order
        if tickets_access.call_ratings_scope(user) != "all":
            raise Http404
        first = ratings.month_of(request.GET.get("month", ""), clock.local_date(clock.now()))
        operators, _sorting = ratings.OPERATOR_SORTS.apply(request.GET, ratings.per_operator(first))
        header, table = ratings.table(operators[: exports.MAX_ROWS])
        title = gettext("Call ratings") + first.strftime(" %Y-%m")
        return _file(name, fmt, exports.render(fmt, title, header, table))
    if name == "supervision" and m.role == Role.SUPERVISOR:
        rows = selectors.supervision_list(user, SupervisionFilterForm(request.GET or None).filter())
        sorts, title = selectors.SUPERVISION_SORTS, gettext("Supervision")
    elif name == "inbox" and m.role in UNIT_ROLES:
        tab = request.GET.get("tab", "sign")
        if tab not in selectors.INBOX_TABS:
            raise Http404
        rows = selectors.search(selectors.inbox(user, tab, mine=request.GET.get("mine") == "1"), q)
        sorts, title = selectors.inbox_sorts(tab), gettext("Inbox")
    elif name == "dispatch" and m.role == Role.DISPATCHER:
        rows = selectors.search(selectors.dispatch_queue(user), q, by_phone=True)
        sorts, title = selectors.DISPATCH_SORTS, gettext("Dispatch desk")
    elif name == "callbacks" and m.role == Role.CALLBACK_AGENT:
        rows = selectors.search(selectors.callback_worklist(user), q, by_phone=True)
        sorts, title = selectors.CALLBACK_SORTS, gettext("Callbacks")
    else:
        raise Http404
    rows, _sorting = sorts.apply(request.GET, rows)  # the page's order, over the whole list
    header, table = exports.ticket_table(user, rows.select_related("requester")[: exports.MAX_ROWS])
    return _file(name, fmt, exports.render(fmt, str(title), header, table))


def _file(name: str, fmt: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type=exports.FORMATS[fmt])
    stamp = clock.now().astimezone(clock.SHANGHAI).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="jiesu-{name}-{stamp}.{fmt}"'
    return response


# --- attachments ----------------------------------------------------------------------------------------
@login_required
def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A photo, only for those who may see its ticket (404 otherwise, like a missing one)."""
    found = Attachment.objects.filter(pk=pk, ticket__in=tickets_access.visible_tickets(request.user)).first()
    if found is None:
        raise Http404
    response = FileResponse(found.file.open("rb"), content_type=found.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- administrator: the assistant's switches, acceptance and coverage curves --------------------------------
@roles(Role.ADMINISTRATOR)
def assistant_settings(request: HttpRequest) -> HttpResponse:
    """Each AI feature on or off, how often staff accepted its proposals, and for automatic dispatch the precision
    it must hold with the coverage–accuracy curve measured on the city's closed history."""
    if request.method == "POST":
        feature = request.POST.get("feature", "")
        try:
            asked = request.POST.get("precision", "").strip()
            intel_services.set_feature(
                request.user,
                feature,
                enabled=request.POST.get("enabled") == "1",
                precision=float(asked) / 100 if asked else None,
            )
        except ValueError:
            messages.error(request, _("The precision must be a number."))
        except ServiceError as error:
            messages.error(request, str(error))
        return redirect("assistant-settings")
    precision = intel_services.auto_dispatch_precision()
    rates = {r["feature"]: r for r in intel_services.acceptance()}
    features = [(f, label, on, rates.get(f)) for f, label, on in intel.switches()]
    undo = sorted(intel_services.undo_rates().items(), key=lambda p: -p[1][1])
    return render(
        request,
        "workbench/assistant.html",
        {
            "features": features,
            "precision": precision,
            "precision_percent": round(precision * 100, 1),
            "curves": intel.coverage_curves(precision),
            "undo": undo,
            "auto_dispatch": Feature.AUTO_DISPATCH.value,
        },
    )
