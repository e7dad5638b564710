"""The citizens' portal: phone-sized pages, no login. Submit with photos, track by number plus the phone's
last four digits, read the reply, rate it. Protected by per-address rate limits and size and type checks."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiesu.catalog.models import Category
from jiesu.intel import services as intel_services
from jiesu.lib import clock, throttle
from jiesu.lib.errors import NotFound, ServiceError
from jiesu.orgs.selectors import place_codes, resolve_place
from jiesu.tickets import access, selectors, services
from jiesu.tickets.forms import INTAKE_INPUTS
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.workflow import PUBLIC_STEPS, Action, DispatchState, target_state

from .forms import AppealDeclineForm, RateForm, SubmitForm, TrackForm

PORTAL_ATTEMPTS_PER_SUBMIT = 4  # attempts (rejected forms included) allowed per accepted submission


def _limited(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/message.html",
        {"title": _("Too many requests"), "text": _("Too many requests from your network. Try again in an hour.")},
        status=429,
    )


def _too_large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > settings.JIESU_MAX_REQUEST_BYTES
    except ValueError:
        return True


def _leaves() -> list[tuple[str, list[tuple[str, str]]]]:
    day = clock.local_date(clock.now())
    groups: dict[str, list[tuple[str, str]]] = {}
    for leaf in Category.objects.effective_on(day).filter(level=3).select_related("parent__parent").order_by("code"):
        top = leaf.parent.parent.name if leaf.parent and leaf.parent.parent else ""
        groups.setdefault(top, []).append((leaf.code, f"{leaf.parent.name if leaf.parent else ''} · {leaf.name}"))
    return list(groups.items())


def submit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and _too_large(request):
        return render(
            request,
            "portal/message.html",
            {"title": _("Too large"), "text": _("The request is too large. Send smaller or fewer photos.")},
            status=413,
        )
    form = SubmitForm(
        request.POST or None,
        request.FILES or None,
        leaves=_leaves(),
        initial={"idempotency_key": uuid.uuid4().hex},
    )
    photo_error = ""
    if request.method == "POST":
        # Two counts per address and hour: every attempt, generously (a script posting junk), and the accepted
        # submissions at the published limit, so a citizen who corrects a few mistakes is not locked out.
        limit = settings.JIESU_PORTAL_SUBMITS_PER_HOUR
        if not throttle.allow(request, "submit-attempt", limit * PORTAL_ATTEMPTS_PER_SUBMIT):
            return _limited(request)
        if form.is_valid() and not throttle.allow(request, "submit", limit):
            return _limited(request)
        if form.is_valid():
            data: dict[str, Any] = dict(form.cleaned_data)
            # the portal's own namespace: a key can never name a ticket made elsewhere (the API, the intake console)
            data["idempotency_key"] = f"portal:{data['idempotency_key']}"[:64] if data.get("idempotency_key") else None
            # an unambiguous address places the ticket; an ambiguous street keeps its district; the dispatcher
            # places the rest
            district_code, street_code = place_codes(resolve_place(data.get("address", "")))
            data["street_code"], data["district_code"] = street_code, None if street_code else district_code
            try:
                # the assistant records its proposals beside the citizen's choice, in the worker
                ticket = services.submit_public(
                    photos=request.FILES.getlist("photos"), then=intel_services.queue_assist, **data
                )
            except ServiceError as error:
                if error.on == "photos":
                    photo_error = str(error)
                else:
                    field = INTAKE_INPUTS.get(error.on or "")
                    form.add_error(field if field in form.fields else None, str(error))
            else:
                # the tracking code is shown once, from the session, never in a URL (logs, Referer)
                code = getattr(ticket, "new_tracking_code", "")
                request.session["portal_receipt"] = {"number": ticket.number, "code": code}
                return redirect(f"{reverse('portal-submitted')}?n={ticket.number}")
    return render(request, "portal/submit.html", {"form": form, "photo_error": photo_error})


def submitted(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("n", "")[:20]
    receipt = request.session.pop("portal_receipt", None) or {}
    code = receipt.get("code", "") if receipt.get("number") == number else ""
    return render(request, "portal/submitted.html", {"number": number if number.isdigit() else "", "code": code})


def track(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.GET or None)
    ticket = None
    if request.GET and form.is_valid():
        if not throttle.allow(request, "lookup", settings.JIESU_PORTAL_LOOKUPS_PER_HOUR):
            return _limited(request)
        try:
            ticket = access.get_ticket_for_requester(form.cleaned_data["number"], form.cleaned_data["phone_tail"])
        except NotFound:
            form.add_error(None, _("No request matches this number and phone."))
    return render(request, "portal/track.html", _ticket_context(form, ticket))


def _ticket_context(form: Any, ticket: Ticket | None, rate_form: RateForm | None = None) -> dict[str, Any]:
    if ticket is None:
        return {"form": form}
    events: list[TicketEvent] = list(ticket.events.filter(action__in=PUBLIC_STEPS).order_by("id"))
    steps = [(e.created_at, PUBLIC_STEPS[e.action]) for e in events]
    round_ = ticket.reopen_count + 1
    rated = any(e.action == Action.RATE and e.data.get("round") == round_ for e in events)
    can_rate = target_state(Action.RATE, ticket.dispatch_state) is not None and not rated
    initial = {"number": ticket.number, "phone_tail": form.cleaned_data.get("phone_tail", "")}
    can_appeal = (
        ticket.dispatch_state == DispatchState.DECLINED
        and not ticket.decline_appealed
        and access.requester_holds_code(ticket, form.cleaned_data.get("phone_tail", ""))
    )
    return {
        "form": form,
        "ticket": ticket,
        "steps": steps,
        "rated": rated,
        "rate_form": rate_form or (RateForm(initial=initial) if can_rate else None),
        "appeal_form": AppealDeclineForm(initial=initial) if can_appeal else None,
    }


def _back_to_track(number: str, phone_tail: str) -> HttpResponse:
    return redirect(f"{reverse('portal-track')}?number={number}&phone_tail={phone_tail}")


@require_POST
def appeal_decline(request: HttpRequest) -> HttpResponse:
    """A declined request's appeal (once)."""
    if not throttle.allow(request, "lookup", settings.JIESU_PORTAL_LOOKUPS_PER_HOUR):
        return _limited(request)
    form = AppealDeclineForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": TrackForm(), "rate_errors": form.errors})
    d = form.cleaned_data
    try:
        services.appeal_decline(d["number"], d["phone_tail"], d["reason"])
    except NotFound:
        return render(request, "portal/track.html", {"form": TrackForm(), "rate_errors": [_("No request matches.")]})
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your appeal is registered; the hotline reviews the request again."))
    return _back_to_track(d["number"], d["phone_tail"])


def declined_digest(request: HttpRequest) -> HttpResponse:
    """The public, anonymised digest of declined requests (不予受理): per month and reason, with the category and
    district of each, never the text or the requester; and the published list of reasons."""
    return render(request, "portal/declined.html", selectors.declined_digest())


@require_POST
def rate(request: HttpRequest) -> HttpResponse:
    if not throttle.allow(request, "lookup", settings.JIESU_PORTAL_LOOKUPS_PER_HOUR):
        return _limited(request)
    form = RateForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": TrackForm(), "rate_errors": form.errors})
    d = form.cleaned_data
    try:
        services.rate_by_requester(d["number"], d["phone_tail"], d["satisfaction"], d["comment"])
    except NotFound:
        return render(request, "portal/track.html", {"form": TrackForm(), "rate_errors": [_("No request matches.")]})
    except ServiceError as error:
        track_form = TrackForm({"number": d["number"], "phone_tail": d["phone_tail"]})
        track_form.is_valid()
        ticket = access.get_ticket_for_requester(d["number"], d["phone_tail"])
        form.add_error(None, str(error))
        return render(request, "portal/track.html", _ticket_context(track_form, ticket, form))
    return redirect(f"{reverse('portal-track')}?number={d['number']}&phone_tail={d['phone_tail']}")
