"""Pages of proactive governance. Thin: each view reads through `selectors` and changes through `services`; a refused
change comes back as a message in the user's language and nothing is half-done."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiesu.catalog import access as catalog_access
from jiesu.catalog.selectors import search_knowledge
from jiesu.governance import access as governance_access
from jiesu.lib import clock
from jiesu.lib.errors import ServiceError
from jiesu.lib.responses import refused
from jiesu.lib.routing import standby_reads
from jiesu.orgs import access
from jiesu.orgs.models import OrgUnit, UnitKind
from jiesu.tickets.models import AffectedGroup

from . import selectors, services
from .models import HotspotState, PolicyKind, TargetMetric

View = Callable[..., HttpResponse]


def steering(view: View) -> View:
    """Supervisors and administrators (their area: the city or their district); 404 for everybody else."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if governance_access.governance_area(request.user) is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _units() -> Any:
    return (
        OrgUnit.objects.filter(is_active=True)
        .exclude(kind__in=[UnitKind.COMMUNITY, UnitKind.VILLAGE])
        .only("code", "name")
    )


# --- hotspots --------------------------------------------------------------------------------------------
@steering
def hotspot_list(request: HttpRequest) -> HttpResponse:
    closed = request.GET.get("closed") == "1"
    tag = request.GET.get("tag", "")
    items = selectors.hotspots(request.user, include_closed=closed, tag=tag)
    if closed:
        items = items.filter(state=HotspotState.CLOSED).order_by("-closed_at")
    items, sorting = selectors.HOTSPOT_SORTS.apply(request.GET, items)
    return render(
        request,
        "governance/hotspots.html",
        {
            "items": items[:50] if closed else items,
            "closed": closed,
            "sorting": sorting,
            "tag": tag,
            "tags": AffectedGroup.choices,
        },
    )


@steering
def hotspot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    h = selectors.hotspot(request.user, pk)
    if h is None:
        raise Http404
    track = list(h.observations.order_by("at", "id").values_list("at", "heat", "volume"))
    chart = {
        "at": [
            clock.local_date(a).strftime("%m-%d") + a.astimezone(clock.SHANGHAI).strftime(" %H:%M")
            for a, _h, _v in track
        ],
        "heat": [round(x, 1) for _a, x, _v in track],
        "volume": [v for _a, _h, v in track],
    }
    return render(
        request,
        "governance/hotspot.html",
        {
            "h": h,
            "tickets": selectors.hotspot_tickets(request.user, h)[:100],
            "chart": chart,
            "events": selectors.events("hotspot", h.pk),
        },
    )


@steering
@require_POST
def hotspot_to_topic(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        topic = services.create_topic_from_hotspot(request.user, pk)
    except ServiceError as error:
        return refused(request, error, reverse("hotspot-detail", args=[pk]))
    messages.success(request, _("The monthly topic was created. Add its plan, targets and lists."))
    return redirect("topic-detail", topic.pk)


# --- monthly topics --------------------------------------------------------------------------------------
@steering
def topic_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        try:
            topic = services.create_topic(
                request.user,
                title=post.get("title", ""),
                month=clock.local_date(clock.now()),
                lead_unit_code=post.get("lead_unit", ""),
                plan=post.get("plan", ""),
                category_code=post.get("category", ""),
                district_code=post.get("district", ""),
                street_codes=post.get("streets", "").replace("，", ",").split(","),
                keywords=post.get("keywords", ""),
            )
        except ServiceError as error:
            return refused(request, error, reverse("topic-list"))
        return redirect("topic-detail", topic.pk)
    tag = request.GET.get("tag", "")
    rows = [(t, selectors.progress(t)) for t in selectors.topics_with_tag(request.user, tag)[:50]]
    return render(
        request, "governance/topics.html", {"rows": rows, "units": _units(), "tag": tag, "tags": AffectedGroup.choices}
    )


@steering
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    t = selectors.topic(request.user, pk)
    if t is None:
        raise Http404
    tasks = list(t.tasks.all())
    responsibility: dict[str, list[tuple[str, str]]] = {}
    for task in tasks:
        responsibility.setdefault(task.lead_unit.name, []).append((task.title, str(_("lead"))))
        for unit in task.cooperating_units.all():
            responsibility.setdefault(unit.name, []).append((task.title, str(_("cooperating"))))
    return render(
        request,
        "governance/topic.html",
        {
            "t": t,
            "p": selectors.progress(t),
            "tasks": tasks,
            "responsibility": sorted(responsibility.items()),
            "policies": t.policies.select_related("issuer"),
            "targets": t.targets.all(),
            "milestones": t.milestones.all(),
            "events": selectors.events("topic", t.pk),
            "units": _units(),
            "policy_kinds": PolicyKind.choices,
            "metrics": TargetMetric.choices,
            "today": clock.local_date(clock.now()),
            "scope_count": selectors.scope_tickets(t).count(),
        },
    )


@steering
@require_POST
def topic_change(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    post, user = request.POST, request.user
    back = reverse("topic-detail", args=[pk])
    try:
        version = int(post.get("version", ""))
    except ValueError:
        messages.error(request, _("The form is out of date. Reload the page and try again."))
        return redirect(back)
    try:
        if op == "plan":
            services.update_plan(user, pk, post.get("plan", ""), version)
        elif op == "task":
            services.add_task(
                user,
                pk,
                title=post.get("title", ""),
                lead_unit_code=post.get("lead_unit", ""),
                cooperating=post.getlist("cooperating"),
                due_on=post.get("due_on", ""),
                expected_version=version,
            )
        elif op == "policy":
            services.add_policy(
                user,
                pk,
                title=post.get("title", ""),
                kind=post.get("kind", ""),
                issuer_code=post.get("issuer", ""),
                due_on=post.get("due_on", ""),
                expected_version=version,
            )
        elif op == "target":
            services.add_target(
                user,
                pk,
                metric=post.get("metric", ""),
                value=post.get("value", ""),
                by_date=post.get("by_date", ""),
                expected_version=version,
            )
        elif op == "milestone":
            services.add_milestone(
                user, pk, title=post.get("title", ""), due_on=post.get("due_on", ""), expected_version=version
            )
        elif op == "done":
            services.mark_done(
                user, pk, post.get("kind", ""), int(post.get("item", "0") or 0), post.get("done_on", ""), version
            )
        elif op in services.TOPIC_MOVES:
            services.move_topic(user, pk, op, version, post.get("note", ""))
        else:
            raise Http404
    except ServiceError as error:
        return refused(request, error, back)
    messages.success(request, _("Saved."))
    return redirect(back)


# --- proactive proposals ---------------------------------------------------------------------------------
@login_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    items = selectors.proposals(request.user)
    if governance_access.governance_area(request.user) is None and access.membership(request.user) is None:
        raise Http404
    items, sorting = selectors.PROPOSAL_SORTS.apply(request.GET, items)
    return render(request, "governance/proposals.html", {"items": items[:100], "sorting": sorting})


@login_required
@require_POST
def proposal_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in ("accept", "dismiss"):
        raise Http404
    try:
        services.decide_proposal(request.user, pk, decision == "accept", request.POST.get("note", ""))
    except ServiceError as error:
        return refused(request, error, reverse("proposal-list"))
    messages.success(request, _("Saved."))
    return redirect("proposal-list")


# --- knowledge base --------------------------------------------------------------------------------------
@login_required
def knowledge(request: HttpRequest) -> HttpResponse:
    if not catalog_access.reads_knowledge(request.user):
        raise Http404
    q = request.GET.get("q", "")
    hits = search_knowledge(q, include_expired=request.GET.get("expired") == "1") if q.strip() else []
    template = "governance/_knowledge_hits.html" if request.htmx else "governance/knowledge.html"  # type: ignore[attr-defined]
    return render(request, template, {"q": q, "hits": hits, "today": clock.local_date(clock.now())})


@login_required
@require_POST
def knowledge_from_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        entry = services.knowledge_from_ticket(request.user, pk)
    except ServiceError as error:
        return refused(request, error, reverse("ticket-detail", args=[pk]))
    messages.success(request, _("Added to the knowledge base: %(title)s") % {"title": entry.title})
    return redirect("ticket-detail", pk)


# --- the city dashboard ----------------------------------------------------------------------------------
@steering
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "governance/dashboard.html",
        {"data": selectors.dashboard(request.user), "screen": request.GET.get("screen") == "1"},
    )


@steering
def dashboard_data(request: HttpRequest) -> JsonResponse:
    with standby_reads():  # read only, polled every 30 s: a standby may serve it
        data = selectors.dashboard(request.user)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
