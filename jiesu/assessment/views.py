"""Assessment pages: the supervisors' notification page, a unit's figures down to tickets (where units appeal),
the appeal desk, downloads, and the public disclosure page. Thin: selectors read, services act, access decides."""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiesu.assessment import access as assessment_access
from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput, ServiceError
from jiesu.lib.redirects import safe_next
from jiesu.orgs import access
from jiesu.orgs.models import OrgUnit, Role, UnitKind

from . import report as files
from . import selectors, services
from .models import AppealKind, AppealState, Snapshot
from .rules import parse_month, previous_month

SUPERVISING = {Role.SUPERVISOR, Role.ADMINISTRATOR}


def _supervising(request: HttpRequest) -> bool:
    m = access.membership(request.user)
    return bool(getattr(request.user, "is_superuser", False) or (m and m.role in SUPERVISING))


def _city_level(request: HttpRequest) -> bool:
    return access.sees_everything(request.user) and _supervising(request)


def _month(request: HttpRequest) -> dt.date:
    text = request.GET.get("month")
    if not text:
        return previous_month(clock.local_date(clock.now()).replace(day=1))
    try:
        return parse_month(text)
    except InvalidInput:
        raise Http404 from None


def _snapshot(request: HttpRequest, month: dt.date) -> Snapshot | None:
    version = request.GET.get("version")
    if version and version.isdigit():
        return Snapshot.objects.filter(month=month, version=int(version)).first()
    return selectors.current_snapshot(month, published_only=not _supervising(request))


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    """通报: rankings per group, trend chart, 约谈 / recognition / 治理类街乡 lists, each figure a link to tickets."""
    if not assessment_access.sees_assessment(request.user):
        raise Http404
    month = _month(request)
    member = access.membership(request.user)
    snapshot = _snapshot(request, month)
    if snapshot is not None and not snapshot.is_published and not _supervising(request):
        snapshot = None
    ctx: dict[str, Any] = {
        "month": month,
        "months": selectors.months_with_snapshots(published_only=not _supervising(request)),
        "snapshot": snapshot,
        "versions": selectors.versions(month) if _supervising(request) else [],
        "city_level": _city_level(request),
        "pending_appeals": selectors.pending_appeal_count(month),
        "own_unit": member.unit if member else None,
        # a unit sees its own figures (and appeals them) while the month is still a draft
        "own_snapshot": selectors.current_snapshot(month),
    }
    if snapshot is not None:
        rep = selectors.report(snapshot, published_only=not _supervising(request))
        ctx |= files.context(rep)
    return render(request, "assessment/report_page.html", ctx)


@login_required
def download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    snapshot = get_object_or_404(Snapshot, pk=pk)
    if fmt not in files.FORMATS or not assessment_access.sees_assessment(request.user):
        raise Http404
    if not snapshot.is_published and not _supervising(request):
        raise Http404
    body = files.FORMATS[fmt](selectors.report(snapshot), lang=request.LANGUAGE_CODE)
    response = HttpResponse(body, content_type=files.CONTENT_TYPES[fmt])
    name = f"jiesu-assessment-{snapshot.month:%Y-%m}-v{snapshot.version}.{fmt}"
    response["Content-Disposition"] = f'{"inline" if fmt == "html" else "attachment"}; filename="{name}"'
    return response


@login_required
def unit_page(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """One unit's figures in a snapshot, down to each ticket and why it counted; unit staff appeal from here."""
    snapshot = get_object_or_404(Snapshot, pk=pk)
    unit = get_object_or_404(OrgUnit, code=code)
    if not assessment_access.may_view_unit_assessment(request.user, unit):
        raise Http404
    score = snapshot.scores.filter(unit=unit).first()
    figure = request.GET.get("figure", "all")
    if figure not in selectors.FIGURES:
        figure = "all"
    lines = selectors.explain(request.user, snapshot, unit, figure)
    m = access.membership(request.user)
    may_appeal = bool(
        m
        and m.role in {Role.UNIT_HANDLER, Role.UNIT_LEADER}
        and not services.is_published(snapshot.month)
        and snapshot.version == selectors.versions(snapshot.month).first().version  # type: ignore[union-attr]
    )
    appealed = {
        a.ticket_id: a
        for a in selectors.appeals(request.user, month=snapshot.month).filter(unit=unit).order_by("filed_at")
    }
    for line in lines:
        line.appeal = appealed.get(line.ticket_id)
    return render(
        request,
        "assessment/unit_page.html",
        {
            "snapshot": snapshot,
            "unit": unit,
            "score": score,
            "figure": figure,
            "figures": selectors.FIGURES,
            "lines": lines,
            "may_appeal": may_appeal,
            "kinds": AppealKind.choices,
            # the rank of a draft is the supervisors' working figure; units see ranks once the month is published,
            # like the main page
            "show_rank": snapshot.is_published or _supervising(request),
        },
    )


@login_required
@require_POST
def file_appeal(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        appeal = services.file_appeal(
            request.user, ticket_id, request.POST.get("kind", ""), request.POST.get("reason", "")
        )
        messages.success(request, _("The appeal is filed; a city supervisor will decide it before publication."))
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect(safe_next(request, reverse("assessment-report")))
    return redirect(safe_next(request, reverse("assessment-appeals") + f"?month={appeal.month:%Y-%m}"))


@login_required
def appeals_page(request: HttpRequest) -> HttpResponse:
    if not assessment_access.sees_assessment(request.user):
        raise Http404
    state = request.GET.get("state") or AppealState.PENDING
    month = parse_month(request.GET["month"]) if request.GET.get("month", "").strip() else None
    rows = selectors.appeals(request.user, month=month, state=state if state in AppealState.values else None)
    return render(
        request,
        "assessment/appeals.html",
        {
            "appeals": rows[:300],
            "state": state,
            "states": AppealState.choices,
            "month": month,
            "may_decide": _city_level(request),
        },
    )


@login_required
@require_POST
def decide_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.decide_appeal(
            request.user, pk, upheld=request.POST.get("decision") == "uphold", note=request.POST.get("note", "")
        )
        messages.success(request, _("The decision is recorded; the next computation of the month reflects it."))
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect(safe_next(request, reverse("assessment-appeals")))


@login_required
@require_POST
def act(request: HttpRequest) -> HttpResponse:
    """City-level supervisors compute, correct and publish a month from the page (as `jiesu assess` does)."""
    if not _city_level(request):
        raise Http404
    try:
        month = parse_month(request.POST.get("month"))
        what = request.POST.get("what")
        if what == "publish":
            snap = services.publish(month, by=request.user)
            messages.success(
                request, _("Published %(month)s, version %(v)s.") % {"month": f"{month:%Y-%m}", "v": snap.version}
            )
        else:
            snap = services.compute(month, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(
                request, _("Computed %(month)s, version %(v)s.") % {"month": f"{month:%Y-%m}", "v": snap.version}
            )
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect(reverse("assessment-report") + f"?month={request.POST.get('month', '')}")
    return redirect(reverse("assessment-report") + f"?month={month:%Y-%m}")


def public_page(request: HttpRequest) -> HttpResponse:
    """公开: the published monthly rates per district and street, with no personal data and no ticket."""
    months = selectors.months_with_snapshots(published_only=True)
    month = None
    if request.GET.get("month"):
        try:
            month = parse_month(request.GET["month"])
        except InvalidInput:
            raise Http404 from None
    month = month or (months[0] if months else None)
    snapshot = selectors.current_snapshot(month, published_only=True) if month else None
    districts: list[dict[str, Any]] = []
    if snapshot is not None:
        streets = snapshot.scores.filter(
            unit__kind__in=["subdistrict", "township", "town", "area_office"]
        ).select_related("unit", "unit__parent")
        by_district: dict[OrgUnit, list[Any]] = {}
        for s in streets:
            parent = s.unit.parent
            if parent is not None and parent.kind == UnitKind.DISTRICT:
                by_district.setdefault(parent, []).append(s)
        for district, rows in sorted(by_district.items(), key=lambda kv: kv[0].code):
            rows.sort(key=lambda s: (s.rank is None, s.rank or 0, s.unit.code))
            volume = sum(s.volume for s in rows)
            districts.append({"district": district, "rows": rows, "volume": volume, **_sums(rows)})
    return render(
        request,
        "assessment/public.html",
        {
            "snapshot": snapshot,
            "months": months,
            "month": month,
            "districts": districts,
            "trend_svg": files.trend_svg(selectors.trend(month, published_only=True)) if month else "",
        },
    )


def _sums(rows: list[Any]) -> dict[str, Any]:
    from . import engine

    c = engine.Counts()
    for s in rows:
        c = c + engine.Counts(*(getattr(s, f) for f in engine.COUNT_FIELDS))
    response, resolution, satisfaction = (engine.rounded(x) for x in engine.rates(c))
    return {"response_rate": response, "resolution_rate": resolution, "satisfaction_rate": satisfaction}
