"""Plain order pages: list, detail with the event timeline, intake, and one POST endpoint per action.
Thin: access and selectors read, services act."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiesu.catalog.selectors import suggest_dispatch
from jiesu.lib import clock
from jiesu.lib.errors import NotFound, ServiceError
from jiesu.lib.masking import mask_name, mask_phone
from jiesu.orgs.models import UNIT_ROLES, Membership
from jiesu.tickets import access as tickets_access

from . import panels, selectors, services
from .forms import ActionForm
from .models import AffectedGroup, CallbackOutcome, DeclineReason, Resolution, Satisfaction
from .workflow import Action, DispatchState

# Fields each action's form shows, in order.
ACTION_FIELDS: dict[str, list[str]] = {
    Action.ANSWER_DIRECTLY: ["text"],
    Action.DECLINE: ["decline_reason", "note"],
    Action.APPEAL_DECLINE: ["caller_phone", "appeal_code", "note"],
    Action.DISPATCH: ["lead_code", "assist_codes", "note"],
    Action.ACCEPT: [],
    Action.REQUEST_RETURN: ["note"],
    Action.APPROVE_RETURN: ["lead_code", "assist_codes", "note"],
    Action.REJECT_RETURN: ["note"],
    Action.ADD_PROGRESS: ["note", "photos"],
    Action.REQUEST_EXTENSION: ["requested_due_at", "note"],
    Action.APPROVE_EXTENSION: ["note"],
    Action.DENY_EXTENSION: ["note"],
    Action.WHISTLE: ["department_codes", "note"],
    Action.REPORT_IN: ["note"],
    Action.REPLY: ["text"],
    Action.CALLBACK: ["outcome", "contacted", "resolution", "satisfaction", "note"],
    Action.CLOSE: ["note"],
    Action.REOPEN: ["note"],
    Action.MERGE: ["master_number", "note"],
    Action.UNDO_AUTO_DISPATCH: ["note"],
    Action.SPLIT: ["note"],
    Action.SUPERVISE: ["note", "respond_by"],
    Action.ANSWER_SUPERVISION: ["text"],
    Action.ASSIGN_HANDLER: ["handler_id", "note"],
    Action.SET_TAGS: ["tags", "note"],
}


def _perform(user: Any, ticket_id: int, action: str, form: ActionForm, photos: list[Any]) -> Any:
    d = form.cleaned_data
    v = d.get("version")
    note, text = d.get("note", ""), d.get("text", "")
    calls: dict[str, Callable[[], Any]] = {
        Action.ANSWER_DIRECTLY: lambda: services.answer_directly(user, ticket_id, text, expected_version=v),
        Action.DECLINE: lambda: services.decline(
            user, ticket_id, d.get("decline_reason", ""), note, expected_version=v
        ),
        Action.APPEAL_DECLINE: lambda: services.record_decline_appeal(
            user,
            ticket_id,
            note,
            caller_phone=d.get("caller_phone", ""),
            code=d.get("appeal_code", ""),
            expected_version=v,
        ),
        Action.DISPATCH: lambda: services.dispatch(
            user,
            ticket_id,
            lead_code=d["lead_code"] or None,
            assist_codes=form.codes("assist_codes"),
            note=note,
            expected_version=v,
        ),
        Action.ACCEPT: lambda: services.accept(user, ticket_id, expected_version=v),
        Action.REQUEST_RETURN: lambda: services.request_return(user, ticket_id, note, expected_version=v),
        Action.APPROVE_RETURN: lambda: services.approve_return(
            user,
            ticket_id,
            lead_code=d["lead_code"] or None,
            assist_codes=form.codes("assist_codes"),
            note=note,
            expected_version=v,
        ),
        Action.REJECT_RETURN: lambda: services.reject_return(user, ticket_id, note, expected_version=v),
        Action.ADD_PROGRESS: lambda: services.add_progress(user, ticket_id, note, photos=photos, expected_version=v),
        Action.REQUEST_EXTENSION: lambda: services.request_extension(
            user, ticket_id, d["requested_due_at"], note, expected_version=v
        ),
        Action.APPROVE_EXTENSION: lambda: services.approve_extension(user, ticket_id, note, expected_version=v),
        Action.DENY_EXTENSION: lambda: services.deny_extension(user, ticket_id, note, expected_version=v),
        Action.WHISTLE: lambda: services.whistle(
            user, ticket_id, form.codes("department_codes"), note, expected_version=v
        ),
        Action.REPORT_IN: lambda: services.report_in(user, ticket_id, note, expected_version=v),
        Action.REPLY: lambda: services.reply(user, ticket_id, text, expected_version=v),
        Action.CALLBACK: lambda: services.record_callback(
            user,
            ticket_id,
            outcome=d.get("outcome") or "reached",
            contacted={"yes": True, "no": False}.get(d.get("contacted") or ""),
            resolution=d["resolution"],
            satisfaction=d["satisfaction"],
            comment=note,
            expected_version=v,
        ),
        Action.CLOSE: lambda: services.close(user, ticket_id, note, expected_version=v),
        Action.REOPEN: lambda: services.reopen(user, ticket_id, note, expected_version=v),
        Action.MERGE: lambda: services.merge(
            user,
            ticket_id,
            tickets_access.get_ticket_by_number(user, d["master_number"].strip()).pk,
            note,
            expected_version=v,
        ),
        Action.SPLIT: lambda: services.split(user, ticket_id, note, expected_version=v),
        Action.SUPERVISE: lambda: services.supervise(
            user, ticket_id, note, respond_by=d.get("respond_by"), expected_version=v
        ),
        Action.ANSWER_SUPERVISION: lambda: services.answer_supervision(user, ticket_id, text, expected_version=v),
        Action.UNDO_AUTO_DISPATCH: lambda: services.undo_auto_dispatch(user, ticket_id, note, expected_version=v),
        Action.ASSIGN_HANDLER: lambda: services.assign_handler(
            user, ticket_id, d["handler_id"] or 0, note, expected_version=v
        ),
        Action.SET_TAGS: lambda: services.set_tags(user, ticket_id, d.get("tags") or [], note, expected_version=v),
    }
    return calls[action]()


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    tickets = selectors.ticket_list(
        request.user,
        state=state if state in DispatchState.values else "",
        q=request.GET.get("q", "")[:50],
        overdue=request.GET.get("overdue") == "1",
    )
    tickets, sorting = selectors.TICKET_SORTS.apply(request.GET, tickets)
    page = Paginator(tickets, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/list.html",
        {
            "page": page,
            "sorting": sorting,
            "query": query.urlencode(),
            "states": DispatchState.choices,
            "state": state,
            "q": request.GET.get("q", ""),
            "overdue": request.GET.get("overdue") == "1",
            "now": clock.now(),
            "can_intake": Action.INTAKE in tickets_access.allowed_actions(request.user),
        },
    )


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        ticket = selectors.ticket_detail(request.user, pk)
    except NotFound:
        raise Http404 from None
    requester = ticket.requester
    unmasked = tickets_access.sees_caller(request.user, ticket)
    caller = None
    if requester:
        caller = {
            "name": requester.name if unmasked else mask_name(requester.name),
            "phone": requester.phone if unmasked else mask_phone(requester.phone),
            "dial": requester.phone.split("-")[0] if unmasked else "",
        }
    actions = [
        (a, Action(a).label, ACTION_FIELDS[a])
        for a in tickets_access.offered_actions(request.user, ticket, list(ACTION_FIELDS))
        if a != Action.UNDO_AUTO_DISPATCH or services.last_auto_dispatch(ticket) is not None
    ]
    suggestion = None
    if any(a in {Action.DISPATCH, Action.APPROVE_RETURN} for a, _, _ in actions):
        suggestion = suggest_dispatch(ticket.category, ticket.district, ticket.street, clock.local_date(clock.now()))
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "caller": caller,
            "events": selectors.timeline(ticket),
            "assignments": ticket.assignments.select_related("unit").order_by("assigned_at", "id"),
            "photos": ticket.attachments.all(),
            "callbacks": ticket.callbacks.select_related("unit", "agent").order_by("round"),
            "supervision_orders": ticket.supervision_orders.select_related("unit").order_by("issued_at")
            if ticket.supervised
            else [],
            "unit_members": Membership.objects.filter(unit=ticket.lead_unit_id, role__in=UNIT_ROLES)
            .select_related("user")
            .order_by("user__username")
            if any(a == Action.ASSIGN_HANDLER for a, _, _ in actions)
            else [],
            "actions": actions,
            "suggestion": suggestion,
            "library_name": settings.SOLUTION_LIBRARY_NAME or _("Solution library"),
            **panels.context(request.user, ticket, (a for a, _, _ in actions)),
            "form": ActionForm(),
            "affected_groups": AffectedGroup.choices,
            "now": clock.now(),
            "satisfaction_choices": Satisfaction.answers(),
            "resolution_choices": Resolution.answers(),
            "callback_outcomes": CallbackOutcome.choices,
            "decline_reasons": DeclineReason.objects.filter(is_active=True)
            if any(a == Action.DECLINE for a, _, _ in actions)
            else [],
        },
    )


@login_required
@require_POST
def ticket_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTION_FIELDS:
        raise Http404
    form = ActionForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back or reverse("ticket-detail", args=[pk]))
    try:
        done = _perform(request.user, pk, action, form, request.FILES.getlist("photos"))
    except NotFound:
        raise Http404 from None
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect(back or reverse("ticket-detail", args=[pk]))
    messages.success(request, Action(action).label)
    code = getattr(done, "new_tracking_code", "")
    if code:  # a phone request declined: the caller appeals with this code (shown only now)
        messages.warning(
            request,
            _(
                "Tell the caller: request %(number)s, appeal code %(code)s. With it they may appeal once, on the "
                "portal's tracking page or by calling 12345. The code is shown only now."
            )
            % {"number": done.number, "code": code},
        )
    elif getattr(done, "appeal_code_by_sms", False):  # a mobile caller: the code came by SMS at intake
        messages.warning(
            request,
            _(
                "Tell the caller: request %(number)s. The tracking code sent to them by SMS is their appeal code: "
                "with it they may appeal once, on the portal's tracking page, or by calling 12345 from this number."
            )
            % {"number": done.number},
        )
    return redirect(back or reverse("ticket-detail", args=[pk]))
