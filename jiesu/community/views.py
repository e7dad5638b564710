"""Pages of the Party members' community service. Thin: reads through `selectors`, changes through `services`; a
refused change comes back as a message in the user's language and nothing is half-done.

- community staff (the community's own staff, or the street's): registry, service list, demand list, task list
  with the shortlists, call-outs with live coverage, quarterly reports;
- members (phone-sized, their own login): my tasks, claim, service record, points, call-outs;
- residents (phone-sized, no login): make a wish, track it by number plus the phone's last four digits, rate it.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jiesu.community import access as community_access
from jiesu.lib import clock, throttle
from jiesu.lib.errors import InvalidInput, NotFound, ServiceError
from jiesu.lib.masking import mask_name, mask_phone
from jiesu.lib.responses import refused
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as tickets_access

from . import selectors, services
from .models import (
    SLOTS,
    CallOut,
    DemandSource,
    DemandState,
    PartyMember,
    RegistrationState,
    TaskState,
)

View = Callable[..., HttpResponse]
TASK_ACTIONS = {
    "offer": gettext_lazy("pushed to the shortlist"),
    "claim": gettext_lazy("claimed"),
    "record": gettext_lazy("service recorded"),
    "rate": gettext_lazy("rated by the resident"),
    "escalate": gettext_lazy("not claimed in time"),
    "cancel": gettext_lazy("cancelled"),
}


def _slots(request: HttpRequest) -> int:
    total = 0
    for value in request.POST.getlist("slots"):
        try:
            total |= int(value)
        except ValueError:
            continue
    return total


def _community(request: HttpRequest, code: str, reports: bool = False) -> OrgUnit:
    try:
        return selectors.community_for(request.user, code, reports=reports)
    except NotFound:
        raise Http404 from None


def staff(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not community_access.community_report_area(request.user).exists():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _tabs(community: OrgUnit, active: str) -> dict[str, Any]:
    return {"community": community, "tab": active, "skills": selectors.skills(), "slot_choices": SLOTS}


# --- community staff -------------------------------------------------------------------------------------
@staff
def home(request: HttpRequest) -> HttpResponse:
    communities = list(community_access.community_report_area(request.user).order_by("path")[:400])
    if len(communities) == 1:
        return redirect("community-tasks", code=communities[0].code)
    return render(request, "community/home.html", {"communities": communities})


@staff
def registry(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code)
    if request.method == "POST":
        data = request.POST.dict() | {"skills": request.POST.getlist("skills"), "slots": _slots(request)}
        try:
            member, login = services.register_member(request.user, community, data)
        except ServiceError as error:
            messages.error(request, str(error))
            return render(request, "community/registry.html", _registry(community, request.POST), status=400)
        messages.success(
            request,
            _("%(name)s is registered. Login: %(user)s, one-time password: %(password)s (shown once).")
            % {"name": member.name, "user": login.username, "password": login.password},
        )
        return redirect("community-registry", code=code)
    return render(request, "community/registry.html", _registry(community, None))


def _registry(community: OrgUnit, posted: Any) -> dict[str, Any]:
    rows = list(selectors.members(community))
    for m in rows:
        m.masked_phone = mask_phone(m.phone)  # type: ignore[attr-defined]
    return _tabs(community, "registry") | {
        "pending": [m for m in rows if m.state == RegistrationState.PENDING],
        "confirmed": [m for m in rows if m.state == RegistrationState.CONFIRMED],
        "compounds": selectors.compounds(community),
        "groups": selectors.groups(community),
        "posted": posted,
    }


@staff
@require_POST
def registry_action(request: HttpRequest, code: str, op: str) -> HttpResponse:
    community = _community(request, code)
    back = reverse("community-registry", args=[code])
    p = request.POST
    try:
        if op == "confirm":
            login = services.confirm_member(request.user, p.get("member", ""), p.get("version"))
            messages.success(
                request,
                _("Confirmed. Login: %(user)s, one-time password: %(password)s (shown once).")
                % {"user": login.username, "password": login.password},
            )
        elif op == "reject":
            services.reject_member(request.user, p.get("member", ""), p.get("reason", ""), p.get("version"))
            messages.success(request, _("The registration is rejected."))
        elif op == "branches":
            n = services.form_compound_branches(request.user, community)
            messages.success(request, _("%(n)d compound branches are up to date.") % {"n": n})
        elif op == "group":
            services.create_interest_group(request.user, community, p.get("name", ""), p.getlist("members"))
            messages.success(request, _("The interest group is formed."))
        else:
            raise Http404
    except ServiceError as error:
        return refused(request, error, back)
    return redirect(back)


@staff
def posts(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code)
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("post"):
                services.join_post(request.user, p.get("post"), p.get("member"))
                messages.success(request, _("The member is on the post."))
            else:
                services.create_post(
                    request.user,
                    community,
                    p.get("name", ""),
                    p.get("skill", ""),
                    p.get("capacity"),
                    p.get("description", ""),
                )
                messages.success(request, _("The post is on the service list."))
        except ServiceError as error:
            return refused(request, error, reverse("community-posts", args=[code]))
        return redirect("community-posts", code=code)
    items = selectors.posts(community)
    return render(
        request,
        "community/posts.html",
        _tabs(community, "posts") | {"posts": items, "members": selectors.community_members(community)},
    )


@staff
def demands(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code)
    state = request.GET.get("state", DemandState.SUBMITTED)
    if request.method == "POST":
        data = request.POST.dict() | {"slots": _slots(request)}
        try:
            if request.POST.get("ticket"):
                ticket = tickets_access.get_ticket_by_number(request.user, request.POST["ticket"].strip())
                demand = services.demand_from_ticket(request.user, ticket.pk, community, request.POST.get("skill", ""))
            else:
                demand = services.submit_demand(request.user, community, data)
        except ServiceError as error:
            messages.error(request, str(error) if not isinstance(error, NotFound) else _("No such ticket."))
            return redirect(f"{reverse('community-demands', args=[code])}?state={state}")
        if demand.state == DemandState.REFUSED:
            messages.warning(request, f"{demand.number} · {demand.refusal_reason}")
        else:
            messages.success(request, _("Demand %(number)s is on the list.") % {"number": demand.number})
        return redirect(f"{reverse('community-demands', args=[code])}?state={state}")
    rows = list(selectors.demand_list(community, state)[:200])
    for d in rows:
        d.masked = f"{mask_name(d.resident_name)} {mask_phone(d.resident_phone)}"  # type: ignore[attr-defined]
    return render(
        request,
        "community/demands.html",
        _tabs(community, "demands")
        | {
            "rows": rows,
            "state": state,
            "states": DemandState.choices,
            "counts": selectors.demand_counts(community),
            "compounds": selectors.compounds(community),
            "sources": [c for c in DemandSource.choices if c[0] not in {DemandSource.RESIDENT, DemandSource.HOTLINE}],
            "key": uuid.uuid4().hex,
        },
    )


@staff
@require_POST
def demand_action(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    demand = selectors.demand(pk)
    if demand is None or not community_access.may_manage_community(request.user, demand.community):
        raise Http404
    back = reverse("community-demands", args=[demand.community.code])
    p = request.POST
    try:
        if op == "publish":
            task = services.publish_demand(request.user, pk, p.get("skill", ""), p.get("needed", 1), p.get("version"))
            messages.success(request, _("Published; pushed to %(n)d members.") % {"n": task.offers.count()})
            return redirect("community-task", pk=task.pk)
        if op == "refuse":
            services.refuse_demand(request.user, pk, p.get("reason", ""), p.get("version"))
            messages.success(request, _("The demand is refused with the reason."))
        else:
            raise Http404
    except ServiceError as error:
        return refused(request, error, back)
    return redirect(back)


@staff
def task_list(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code, reports=True)
    state = request.GET.get("state", "")
    states = (state,) if state in TaskState.values else None
    return render(
        request,
        "community/tasks.html",
        _tabs(community, "tasks")
        | {
            "rows": selectors.tasks(community, states)[:200],
            "state": state,
            "states": TaskState.choices,
            "counts": selectors.task_counts(community),
            "manages": community_access.may_manage_community(request.user, community),
        },
    )


@staff
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.tasks_by_pk(pk)
    if task is None or not community_access.community_report_area(request.user).filter(pk=task.community_id).exists():
        raise Http404
    manages = community_access.may_manage_community(request.user, task.community)
    events = selectors.task_events(task)
    for e in events:
        e.label = TASK_ACTIONS.get(e.action, e.action)  # type: ignore[attr-defined]
        e.from_label, e.to_label = (  # type: ignore[attr-defined]
            TaskState(e.from_state).label if e.from_state in TaskState.values else "",
            TaskState(e.to_state).label if e.to_state in TaskState.values else "",
        )
    return render(
        request,
        "community/task.html",
        _tabs(task.community, "tasks")
        | {
            "task": task,
            "manages": manages,
            "events": events,
            "resident": (task.demand.resident_name, task.demand.resident_phone)
            if manages
            else (mask_name(task.demand.resident_name), mask_phone(task.demand.resident_phone)),
        },
    )


@staff
@require_POST
def task_action(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    back = reverse("community-task", args=[pk])
    p = request.POST
    try:
        if op == "rematch":
            offers = services.rematch(request.user, pk)
            messages.success(request, _("Pushed to %(n)d more members.") % {"n": len(offers)})
        elif op == "rate":
            services.rate_task(request.user, pk, p.get("stars"), p.get("comment", ""))
            messages.success(request, _("The rating is recorded."))
        elif op == "cancel":
            services.cancel_task(request.user, pk, p.get("reason", ""))
            messages.success(request, _("The task is cancelled."))
        else:
            raise Http404
    except ServiceError as error:
        return refused(request, error, back)
    return redirect(back)


SHIFT_ROWS = 4


@staff
def callouts(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code)
    if request.method == "POST":
        p = request.POST
        try:
            shifts = _shift_inputs(request)
            callout = services.create_callout(request.user, community, p.get("title", ""), p.get("reason", ""), shifts)
        except ServiceError as error:
            messages.error(request, str(error))
            return render(request, "community/callouts.html", _callouts(community) | {"posted": p}, status=400)
        messages.success(request, _("The call-out is sent to the community's members."))
        return redirect("community-callout", pk=callout.pk)
    return render(request, "community/callouts.html", _callouts(community))


def _callouts(community: OrgUnit) -> dict[str, Any]:
    today = clock.local_date(clock.now())
    return _tabs(community, "callouts") | {
        "rows": selectors.callouts(community)[:50],
        "shift_rows": range(SHIFT_ROWS),
        "day": today.isoformat(),
    }


def _shift_inputs(request: HttpRequest) -> list[services.ShiftInput]:
    p = request.POST
    shifts = []
    for i in range(SHIFT_ROWS):
        role = p.get(f"role{i}", "").strip()
        if not role:
            continue
        try:
            day = dt.date.fromisoformat(p.get(f"day{i}", ""))
            start = dt.time.fromisoformat(p.get(f"start{i}", ""))
            end = dt.time.fromisoformat(p.get(f"end{i}", ""))
            needed = int(p.get(f"needed{i}", ""))
        except ValueError:
            raise InvalidInput(
                _("Shift %(n)d: enter the day, the times and how many members.") % {"n": i + 1}
            ) from None
        starts = dt.datetime.combine(day, start, tzinfo=clock.SHANGHAI)
        ends = dt.datetime.combine(day, end, tzinfo=clock.SHANGHAI)
        if ends <= starts:
            ends += dt.timedelta(days=1)  # a night shift
        shifts.append(services.ShiftInput(role, p.get(f"place{i}", ""), starts, ends, needed))
    return shifts


def _callout(request: HttpRequest, pk: int) -> CallOut:
    callout = selectors.callout(pk)
    if (
        callout is None
        or not community_access.community_report_area(request.user).filter(pk=callout.community_id).exists()
    ):
        raise Http404
    return callout


@staff
def callout_detail(request: HttpRequest, pk: int) -> HttpResponse:
    callout = _callout(request, pk)
    context = _tabs(callout.community, "callouts") | {
        "callout": callout,
        "rows": selectors.coverage(callout),
        "manages": community_access.may_manage_community(request.user, callout.community),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "community/_coverage.html", context)
    return render(request, "community/callout.html", context)


@staff
@require_POST
def callout_action(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    back = reverse("community-callout", args=[pk])
    try:
        if op == "attend":
            services.record_attendance(request.user, request.POST.get("signup"), request.POST.get("present") == "1")
        elif op == "close":
            services.close_callout(request.user, pk)
            messages.success(request, _("The call-out is closed."))
        else:
            raise Http404
    except ServiceError as error:
        return refused(request, error, back)
    return redirect(back)


@staff
def report(request: HttpRequest, code: str) -> HttpResponse:
    community = _community(request, code, reports=True)
    quarter, start, end = services.parse_quarter(request.GET.get("q"))
    rows = selectors.quarter_rows(selectors.community_members(community), start, end)
    totals, units = selectors.community_summary(rows)
    return render(
        request,
        "community/report.html",
        _tabs(community, "report")
        | {
            "quarter": quarter,
            "start": start,
            "end": end - dt.timedelta(days=1),
            "rows": rows,
            "totals": totals,
            "units": units,
            "quarters": _quarters(),
            "manages": community_access.may_manage_community(request.user, community),
        },
    )


def _quarters() -> list[str]:
    day = clock.local_date(clock.now())
    names = []
    for _i in range(4):
        name, start, _end = services.quarter_of(day)
        names.append(name)
        day = start - dt.timedelta(days=1)
    return names


@staff
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.member(pk)
    if (
        member is None
        or not community_access.community_report_area(request.user).filter(pk=member.community_id).exists()
    ):
        raise Http404
    manages = community_access.may_manage_community(request.user, member.community)
    if request.method == "POST" and manages:
        try:
            services.correct_points(
                request.user, request.POST.get("entry"), request.POST.get("points"), request.POST.get("note", "")
            )
            messages.success(request, _("The correction is a new ledger entry."))
        except ServiceError as error:
            return refused(request, error, reverse("community-member", args=[pk]))
        return redirect("community-member", pk=pk)
    quarter, start, end = services.parse_quarter(request.GET.get("q"))
    row = selectors.member_quarter(member, start, end)
    return render(
        request,
        "community/member.html",
        _tabs(member.community, "registry")
        | {
            "member": member,
            "phone": member.phone if manages else mask_phone(member.phone),
            "manages": manages,
            "row": row,
            "quarter": quarter,
            "ledger": selectors.ledger(member)[:200],
        },
    )


@login_required
def work_unit_report(request: HttpRequest) -> HttpResponse:
    """双重考核: the report a member's work unit uses — its leading cadres first, with what they did in their home
    communities this quarter."""
    unit = community_access.cadre_report_unit(request.user)
    if unit is None:
        raise Http404
    quarter, start, end = services.parse_quarter(request.GET.get("q"))
    rows = selectors.quarter_rows(selectors.work_unit_members(unit), start, end)
    rows.sort(key=lambda r: (not r.member.is_leading_cadre, -r.served, r.member.name))
    return render(
        request,
        "community/work_unit.html",
        {
            "unit": unit,
            "rows": rows,
            "quarter": quarter,
            "start": start,
            "end": end - dt.timedelta(days=1),
            "quarters": _quarters(),
        },
    )


def _limited(request: HttpRequest) -> HttpResponse:
    text = _("Too many requests from your network. Try again in an hour.")
    return render(request, "community/m_message.html", {"text": text}, status=429)


# --- members (phone pages) -------------------------------------------------------------------------------
def member_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = community_access.party_member(request.user)
        if member is None:
            raise Http404
        return view(request, member, *args, **kwargs)

    return wrapped


@member_only
def member_home(request: HttpRequest, member: PartyMember) -> HttpResponse:
    desk = selectors.member_desk(member)
    return render(request, "community/m_home.html", {"member": member, "desk": desk})


@member_only
def member_task(request: HttpRequest, member: PartyMember, pk: int) -> HttpResponse:
    try:
        task = selectors.member_task(member, pk)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "claim":
                services.claim_task(request.user, pk)
                messages.success(request, _("Claimed. Contact the resident and serve."))
            elif op == "record":
                services.record_service(
                    request.user,
                    pk,
                    request.POST.get("hours"),
                    request.POST.get("note", ""),
                    request.FILES.get("photo"),
                )
                messages.success(request, _("Thank you! The service is recorded."))
            else:
                raise Http404
        except ServiceError as error:
            messages.error(request, str(error))
        return redirect("member-task", pk=pk)
    claim = next((c for c in task.claims.all() if c.member_id == member.pk), None)
    return render(
        request,
        "community/m_task.html",
        {
            "member": member,
            "task": task,
            "claim": claim,
            "claimable": claim is None and task.state in (TaskState.OPEN, TaskState.ESCALATED),
            "offer": task.offers.filter(member=member).first(),
            "resident": (task.demand.resident_name, task.demand.resident_phone)
            if claim
            else (mask_name(task.demand.resident_name), ""),
        },
    )


@member_only
def member_points(request: HttpRequest, member: PartyMember) -> HttpResponse:
    quarter, start, end = services.parse_quarter(request.GET.get("q"))
    row = selectors.member_quarter(member, start, end)
    return render(
        request,
        "community/m_points.html",
        {"member": member, "row": row, "quarter": quarter, "ledger": selectors.ledger(member)[:100]},
    )


@member_only
def member_callouts(request: HttpRequest, member: PartyMember) -> HttpResponse:
    if request.method == "POST":
        try:
            services.sign_up(request.user, request.POST.get("shift"))
            messages.success(request, _("You are signed up. Thank you for reporting in!"))
        except ServiceError as error:
            messages.error(request, str(error))
        return redirect("member-callouts")
    open_ = selectors.open_callouts(member.community_id)
    mine = set(member.signups.values_list("shift_id", flat=True))
    return render(
        request,
        "community/m_callouts.html",
        {"member": member, "callouts": [(c, selectors.coverage(c)) for c in open_], "mine": mine},
    )


def member_register(request: HttpRequest) -> HttpResponse:
    """在职党员报到 from the phone, without a login: the community confirms and hands over the login."""
    context: dict[str, Any] = {
        "communities": selectors.public_communities(),
        "skills": selectors.skills(),
        "slot_choices": SLOTS,
        "compounds": selectors.public_compounds(),
    }
    if request.method == "POST":
        if not throttle.allow(request, "member-register", 20):
            return _limited(request)
        data = request.POST.dict() | {"skills": request.POST.getlist("skills"), "slots": _slots(request)}
        try:
            member = services.report_member(request.POST.get("community", ""), data)
        except ServiceError as error:
            return render(
                request, "community/m_register.html", context | {"posted": request.POST, "error": error}, status=400
            )
        return render(
            request,
            "community/m_message.html",
            {
                "text": _("Thank you, %(name)s. %(community)s will confirm your registration and give you a login.")
                % {"name": member.name, "community": member.community.name}
            },
        )
    return render(request, "community/m_register.html", context)


# --- residents (phone pages, no login) -------------------------------------------------------------------
def wish_new(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "communities": selectors.public_communities(),
        "compounds": selectors.public_compounds(),
        "slot_choices": SLOTS,
        "key": uuid.uuid4().hex,
    }
    if request.method == "POST":
        if not throttle.allow(request, "wish", 20):
            return _limited(request)
        data = request.POST.dict() | {"slots": _slots(request)}
        try:
            demand = services.submit_demand(None, request.POST.get("community", ""), data)
        except ServiceError as error:
            return render(
                request, "community/wish.html", context | {"posted": request.POST, "error": error}, status=400
            )
        return render(request, "community/wish_done.html", {"demand": demand})
    return render(request, "community/wish.html", context)


def wish_track(request: HttpRequest) -> HttpResponse:
    number = (request.POST.get("number") or request.GET.get("number") or "").strip()
    tail = (request.POST.get("tail") or request.GET.get("tail") or "").strip()
    demand = None
    if number or tail:
        if not throttle.allow(request, "wish-track", 60):
            return _limited(request)
        demand = selectors.demand_for_resident(number, tail)
        if demand is None:
            messages.error(request, _("No wish with this number and phone."))
    if demand is not None and request.method == "POST" and request.POST.get("stars"):
        task = getattr(demand, "task", None)
        try:
            if task is None:
                raise InvalidInput(_("Only a served task that is not rated yet can be rated."))
            services.rate_task(None, task.pk, request.POST.get("stars"), request.POST.get("comment", ""))
            messages.success(request, _("Thank you for your rating."))
        except ServiceError as error:
            messages.error(request, str(error))
        return redirect(f"{reverse('wish-track')}?number={number}&tail={tail}")
    return render(request, "community/wish_track.html", {"demand": demand, "number": number, "tail": tail})
