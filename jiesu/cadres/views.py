"""Pages of the cadre module. Thin: reads go through `access`/`selectors`, changes through `services`. Whoever may
not read a record gets the same 404 as for a missing one; a refused change comes back as a message in the user's
language, nothing changed."""

from __future__ import annotations

import datetime as dt
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

from jiesu.assessment import selectors as assessment_selectors
from jiesu.governance import access as governance_access
from jiesu.governance import selectors as governance_selectors
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, NotFound, ServiceError
from jiesu.lib.responses import refused
from jiesu.orgs.models import OrgUnit

from . import access, chain, export, sections, selectors, services
from .models import (
    AccountabilityCase,
    CadreProfile,
    CaseState,
    Charter,
    Dimension,
    Evaluation,
    EvaluationState,
    FlagKind,
    FlagRule,
    FlagState,
    GoalSource,
    Interview,
    MeasureKind,
    Metric,
    PeriodKind,
    RecognitionKind,
    RectificationMetric,
    ResponsibilityItem,
    ScoringPeriod,
    ToleranceCase,
    ToleranceGround,
)
from .records import FIGURES

View = Callable[..., HttpResponse]


def cadre_pages(view: View) -> View:
    """Logged-in users who have cadre pages at all (a profile, or a personnel / discipline scope); 404 otherwise."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.sees_cadre_pages(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _month(request: HttpRequest, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("month", "") + "-01")
    except ValueError:
        return default


def _today() -> dt.date:
    return clock.local_date(clock.now())


def _half_year_end(day: dt.date) -> dt.date:
    return day.replace(month=7, day=1) if day.month <= 6 else dt.date(day.year + 1, 1, 1)


# --- home, profile and record ---------------------------------------------------------------------------
@cadre_pages
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    own = access.own_profile(user)
    profiles = list(selectors.profiles(user)[:300])
    if own is not None and len(profiles) <= 1:
        return redirect("cadre-profile", own.pk)
    units = sorted({p.unit for p in profiles}, key=lambda u: u.path)
    return render(
        request,
        "cadres/home.html",
        {
            "own": own,
            "profiles": profiles,
            "units": units,
            "org_area": access.org_department_area(user),
            "discipline_area": access.discipline_area(user),
        },
    )


def _profile_or_404(user: Any, pk: int) -> CadreProfile:
    try:
        return access.get_profile(user, pk)
    except NotFound:
        raise Http404 from None


@cadre_pages
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    p = _profile_or_404(user, pk)
    is_own = p.user_id == user.pk
    manages = access.may_manage_unit(user, p.unit)
    return render(
        request,
        "cadres/profile.html",
        {
            "p": p,
            "is_own": is_own,
            "manages": manages,
            "months": selectors.monthly(p, 6),
            "totals": selectors.period_totals(p),
            "scores": selectors.scores(p)[:60],
            "charters": Charter.objects.filter(profile=p).order_by("-year"),
            "items": services.items_in_force(p.unit, p.post, _today()),
            "recognitions": selectors.recognitions(p)[:30],
            "challenges": selectors.delivered_challenges(p),
            "cases": AccountabilityCase.objects.filter(profile=p),
            "tolerance": ToleranceCase.objects.filter(profile=p).prefetch_related("grounds"),
            "corrections": selectors.corrections(p),
            "events": selectors.events(p)[:40],
            "grounds": ToleranceGround.objects.filter(active=True),
            "recognition_kinds": RecognitionKind.choices,
            "evaluations": Evaluation.objects.filter(profile=p),
            "default_from": f"{_today().replace(month=1 if _today().month <= 6 else 7, day=1):%Y-%m-%d}",
            "default_to": f"{_half_year_end(_today()):%Y-%m-%d}",
            "sections": sections.for_profile(user, p),  # registered by higher apps (training: 培训档案)
        },
    )


FIGURE_LABELS = {
    "signed": gettext_lazy("Signed"),
    "signed_late": gettext_lazy("Signed late"),
    "handled": gettext_lazy("Replied"),
    "replied_late": gettext_lazy("Replied after the deadline"),
    "called_back": gettext_lazy("Called back"),
    "solved": gettext_lazy("Solved"),
    "rated": gettext_lazy("Rated"),
    "satisfied": gettext_lazy("Satisfied"),
    "reopens": gettext_lazy("Reopened"),
    "fake_closures": gettext_lazy("Fake-closure signals"),
    "whistles": gettext_lazy("Whistles"),
}


@cadre_pages
def record_figure(request: HttpRequest, pk: int, figure: str) -> HttpResponse:
    """A figure of the record down to its tickets (no requester data), each linking to the ticket where the viewer
    may open it."""
    p = _profile_or_404(request.user, pk)
    if figure not in FIGURES:
        raise Http404
    month = _month(request, _today().replace(day=1))
    rec = selectors.record(p, month, selectors.add_months(month, 1))
    ids = rec.figures[figure]
    tickets, openable = selectors.figure_tickets(request.user, ids)
    return render(
        request,
        "cadres/figure.html",
        {
            "p": p,
            "figure": figure,
            "label": FIGURE_LABELS[figure],
            "month": month,
            "tickets": tickets,
            "openable": openable,
        },
    )


@cadre_pages
def item_score_tickets(request: HttpRequest, pk: int, score_pk: int) -> HttpResponse:
    p = _profile_or_404(request.user, pk)
    score = selectors.scores(p).filter(pk=score_pk).first()
    if score is None:
        raise Http404
    tickets, openable = selectors.figure_tickets(request.user, score.tickets)
    return render(
        request,
        "cadres/figure.html",
        {
            "p": p,
            "label": f"{score.item.title} · {score.period}",
            "tickets": tickets,
            "openable": openable,
        },
    )


# --- a unit's responsibility (责任分解 → 目标责任书), periods and scoring ------------------------------------
def _unit_or_404(user: Any, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None or not access.may_read_unit(user, unit):
        raise Http404
    return unit


@cadre_pages
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit_or_404(request.user, code)
    today = _today()
    items = ResponsibilityItem.objects.filter(unit=unit).order_by("post", "dimension", "effective_from", "id")
    cadres = list(CadreProfile.objects.filter(unit=unit).select_related("user"))
    posts = sorted({c.post for c in cadres} | {i.post for i in items})
    by_post = [
        (
            post,
            [c for c in cadres if c.post == post],
            [i for i in items if i.post == post],
        )
        for post in posts
    ]
    periods = ScoringPeriod.objects.filter(unit=unit).order_by("-starts_on")[:12]
    return render(
        request,
        "cadres/unit.html",
        {
            "unit": unit,
            "by_post": by_post,
            "today": today,
            "periods": periods,
            "manages": access.may_manage_unit(request.user, unit),
            "dimensions": Dimension.choices,
            "sources": GoalSource.choices,
            "measures": MeasureKind.choices,
            "metrics": Metric.choices,
            "period_kinds": PeriodKind.choices,
            "cadres": cadres,
            "charters": {c.profile_id: c for c in Charter.objects.filter(profile__unit=unit, year=today.year)},
        },
    )


@cadre_pages
def period_page(request: HttpRequest, pk: int) -> HttpResponse:
    period = ScoringPeriod.objects.select_related("unit").filter(pk=pk).first()
    if period is None or not access.may_read_unit(request.user, period.unit):
        raise Http404
    scores = list(period.scores.select_related("profile__user", "item").prefetch_related("corrections"))
    table: dict[int, dict[str, Any]] = {}
    for s in scores:
        row = table.setdefault(s.profile_id, {"profile": s.profile, "scores": [], "points": 0, "weights": 0})
        row["scores"].append(s)
        row["points"] += s.points
        row["weights"] += s.weight
    for row in table.values():
        row["total"] = round(row["points"] * 100 / row["weights"], 2) if row["weights"] else None
    judged = []
    for c in CadreProfile.objects.filter(unit=period.unit).select_related("user"):
        for item in services.items_in_force(period.unit, c.post, period.starts_on):
            if item.measure == MeasureKind.JUDGED:
                judged.append((c, item))
    return render(
        request,
        "cadres/period.html",
        {
            "period": period,
            "rows": list(table.values()),
            "judged": judged,
            "manages": access.may_manage_unit(request.user, period.unit),
        },
    )


# --- 约谈 ----------------------------------------------------------------------------------------------
@cadre_pages
def interviews(request: HttpRequest) -> HttpResponse:
    user = request.user
    area = access.org_department_area(user)
    months = list(org_access_months())
    month = _month(request, months[0] if months else _today().replace(day=1))
    snapshot, bottom = selectors.bottom_list(user, month) if area else (None, [])
    scheduled = {i.unit_id: i for i in Interview.objects.filter(month=month)}
    drafts = [m for m in assessment_selectors.months_with_snapshots() if not months or m > months[0]]
    return render(
        request,
        "cadres/interviews.html",
        {
            "area": area,
            "month": month,
            "months": months,
            "snapshot": snapshot,
            "bottom": [(row, scheduled.get(row.unit_id)) for row in bottom],
            "interviews": selectors.interviews(user)[:100],
            "default_when": f"{_today() + dt.timedelta(days=7):%Y-%m-%d} 09:30",
            "draft": drafts[0] if drafts else None,
        },
    )


def org_access_months() -> list[dt.date]:
    return assessment_selectors.months_with_snapshots(published_only=True)


@cadre_pages
def interview_page(request: HttpRequest, pk: int) -> HttpResponse:
    interview = selectors.interviews(request.user).filter(pk=pk).first()
    if interview is None:
        raise Http404
    area = access.org_department_area(request.user)
    return render(
        request,
        "cadres/interview.html",
        {
            "i": interview,
            "items": interview.items.select_related("owner__user"),
            "owners": CadreProfile.objects.filter(unit__path__startswith=interview.unit.path).select_related("user"),
            "metrics": RectificationMetric.choices,
            "runs": area is not None and interview.unit.path.startswith(area.path),
            "default_due": f"{_today() + dt.timedelta(days=45):%Y-%m-%d}",
        },
    )


# --- supervision flags and cases ----------------------------------------------------------------------
@cadre_pages
def flags(request: HttpRequest) -> HttpResponse:
    user = request.user
    state = request.GET.get("state", FlagState.OPEN)
    items = selectors.flags(user)
    if state in FlagState.values:
        items = items.filter(state=state)
    return render(
        request,
        "cadres/flags.html",
        {
            "flags": items[:200],
            "state": state,
            "states": FlagState.choices,
            "rules": FlagRule.objects.all(),
            "kinds": FlagKind.choices,
            "decides": access.discipline_area(user) is not None,
        },
    )


@cadre_pages
def cases(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "cadres/cases.html",
        {"cases": selectors.cases(user)[:200], "tolerance": selectors.tolerance_cases(user)[:200]},
    )


@cadre_pages
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.cases(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404
    tickets, openable = selectors.figure_tickets(request.user, case.tickets)
    return render(
        request,
        "cadres/case.html",
        {
            "c": case,
            "tickets": tickets,
            "openable": openable,
            "is_own": case.profile.user_id == request.user.pk,
            "decides": access.discipline_area(request.user) is not None,
            "default_keep": f"{_today() + dt.timedelta(days=365):%Y-%m-%d}",
        },
    )


@cadre_pages
def tolerance_page(request: HttpRequest, pk: int) -> HttpResponse:
    tc = selectors.tolerance_cases(request.user).filter(pk=pk).prefetch_related("grounds").first()
    if tc is None:
        raise Http404
    tickets, openable = selectors.figure_tickets(request.user, tc.tickets)
    return render(
        request,
        "cadres/tolerance.html",
        {
            "tc": tc,
            "tickets": tickets,
            "openable": openable,
            "notes": [
                (CaseState(step).label if step in CaseState.values else step, note) for step, note in tc.notes.items()
            ],
            "decides": access.discipline_area(request.user) is not None
            or access.org_department_area(request.user) is not None,
            "scores": selectors.scores(tc.profile).filter(frozen=True)[:30],
            "corrections": selectors.corrections(tc.profile),
        },
    )


# --- 揭榜挂帅 ------------------------------------------------------------------------------------------
@cadre_pages
def challenges(request: HttpRequest) -> HttpResponse:
    user = request.user
    area = access.org_department_area(user) or governance_access.governance_area(user)
    hotspots = governance_selectors.hotspots(user)[:10] if governance_access.governance_area(user) else []
    if not hotspots and area is not None:
        from jiesu.governance.models import OPEN_HOTSPOT_STATES, Hotspot

        hotspots = list(
            Hotspot.objects.filter(state__in=OPEN_HOTSPOT_STATES, district__path__startswith=area.path)
            .select_related("street", "district")
            .order_by("-heat")[:10]
        )
    return render(
        request,
        "cadres/challenges.html",
        {
            "tasks": selectors.challenges(user)[:100],
            "posts": area is not None,
            "hotspots": hotspots,
            "default_deadline": f"{_today() + dt.timedelta(days=60):%Y-%m-%d}",
        },
    )


@cadre_pages
def challenge_page(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.challenges(request.user).filter(pk=pk).first()
    if task is None:
        raise Http404
    own = access.own_profile(request.user)
    return render(
        request,
        "cadres/challenge.html",
        {
            "t": task,
            "m": selectors.measure(task),
            "applications": task.applications.select_related("profile__user", "profile__unit"),
            "milestones": task.milestones.all(),
            "may_apply": own is not None and own.unit.path.startswith(task.area.path),
            "is_leader": task.leader is not None and task.leader.user_id == request.user.pk,
            "scope_count": selectors.challenge_scope(task).count(),
        },
    )


# --- the township duty chain --------------------------------------------------------------------------
@cadre_pages
def duty_chain(request: HttpRequest, code: str) -> HttpResponse:
    unit = _unit_or_404(request.user, code)
    month = _month(request, _today().replace(day=1))
    return render(
        request, "cadres/chain.html", {"unit": unit, "month": month, "c": chain.duty_chain(request.user, unit, month)}
    )


# --- the recognition wall and the monthly honours list ----------------------------------------------------
@cadre_pages
def honours(request: HttpRequest) -> HttpResponse:
    last = selectors.add_months(_today().replace(day=1), -1)
    month = _month(request, last)
    return render(
        request,
        "cadres/honours.html",
        {
            "month": month,
            "honours": selectors.honours(request.user, month),
            "wall": selectors.wall(request.user, month),
            "screen": request.GET.get("screen") == "1",
            "manages": access.personnel_scope(request.user) is not None,
        },
    )


# --- rewards and the spending ledger -----------------------------------------------------------------------
@cadre_pages
def rewards(request: HttpRequest) -> HttpResponse:
    user = request.user
    area = access.org_department_area(user)
    from .models import RewardRule

    return render(
        request,
        "cadres/rewards.html",
        {
            "rewards": selectors.rewards(user),
            "area": area,
            "rules": RewardRule.objects.filter(active=True),
            "months": org_access_months(),
        },
    )


# --- 评议 -----------------------------------------------------------------------------------------------
def _evaluation_or_404(user: Any, pk: int) -> Evaluation:
    ev = Evaluation.objects.select_related("profile__user", "profile__unit").filter(pk=pk).first()
    if ev is None or not access.visible_profiles(user).filter(pk=ev.profile_id).exists():
        raise Http404
    return ev


@cadre_pages
def evaluation_page(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _evaluation_or_404(request.user, pk)
    is_own = ev.profile.user_id == request.user.pk
    manages = access.may_manage_unit(request.user, ev.profile.unit) and not is_own
    open_ = ev.state == EvaluationState.OPEN
    form_op = ("self_assess" if is_own else "leader_assess" if manages else "") if open_ else ""
    return render(
        request,
        "cadres/evaluation.html",
        {
            "ev": ev,
            "rows": export._rows(ev),
            "form_op": form_op,
            "may_record": manages and open_ and ev.leader_score is not None,
        },
    )


@cadre_pages
def evaluation_tickets(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _evaluation_or_404(request.user, pk)
    tickets, openable = selectors.figure_tickets(request.user, ev.residents_tickets)
    return render(
        request,
        "cadres/figure.html",
        {"p": ev.profile, "label": _("residents' voice"), "tickets": tickets, "openable": openable},
    )


@cadre_pages
def evaluation_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    ev = _evaluation_or_404(request.user, pk)
    if fmt not in export.FORMATS or ev.state != EvaluationState.RECORDED:
        raise Http404
    body = export.FORMATS[fmt](ev, lang=request.LANGUAGE_CODE)
    response = HttpResponse(body, content_type=export.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="jiesu-evaluation-{ev.pk}-{ev.starts_on:%Y-%m}.{fmt}"'
    return response


# --- every change -------------------------------------------------------------------------------------
def _back(request: HttpRequest) -> str:
    back = request.POST.get("back", "")
    return back if back.startswith("/") and not back.startswith("//") else reverse("cadre-home")


def _grounds(request: HttpRequest) -> list[str]:
    return request.POST.getlist("grounds")


def _corrections(request: HttpRequest) -> list[tuple[int, Any]]:
    out = []
    for score_id, points in zip(request.POST.getlist("score"), request.POST.getlist("points"), strict=False):
        if score_id and points.strip():
            try:
                out.append((int(score_id), points))
            except ValueError:
                continue
    return out


def _tolerated(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


ACTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "acknowledge": lambda u, p: services.acknowledge_charter(u, int(p["charter"])),
    "issue_charter": lambda u, p: services.issue_charter(u, int(p["profile"]), int(p.get("year") or 0)),
    "add_item": lambda u, p: services.add_item(
        u,
        unit=p.get("unit", ""),
        post=p.get("post", ""),
        title=p.get("title", ""),
        measure=p.get("measure", ""),
        metric=p.get("metric", ""),
        dimension=p.get("dimension") or Dimension.JI,
        source=p.get("source") or GoalSource.TYPED,
        target=p.get("target", ""),
        weight=p.get("weight", ""),
        effective_from=p.get("effective_from", ""),
    ),
    "revise_item": lambda u, p: services.revise_item(
        u,
        int(p["item"]),
        target=p.get("target", ""),
        weight=p.get("weight", ""),
        effective_from=p.get("effective_from", ""),
    ),
    "open_period": lambda u, p: services.open_period(
        u, unit=p.get("unit", ""), kind=p.get("kind", ""), starts_on=p.get("starts_on", "")
    ),
    "score_period": lambda u, p: services.score_period(u, int(p["period"])),
    "close_period": lambda u, p: services.close_period(u, int(p["period"])),
    "judge": lambda u, p: services.judge(
        u, int(p["period"]), int(p["profile"]), int(p["item"]), p.get("value", ""), p.get("evidence", "")
    ),
    "schedule_interview": lambda u, p: services.schedule_interview(
        u,
        unit=p.get("unit", ""),
        month=p.get("month", ""),
        scheduled_for=p.get("scheduled_for", ""),
        attendees=p.get("attendees", ""),
        place=p.get("place", ""),
    ),
    "minutes": lambda u, p: services.record_minutes(u, int(p["interview"]), p.get("minutes", "")),
    "rectification": lambda u, p: services.add_rectification(
        u,
        int(p["interview"]),
        title=p.get("title", ""),
        owner=p.get("owner", ""),
        due_on=p.get("due_on", ""),
        metric=p.get("metric", ""),
        target=p.get("target", ""),
    ),
    "verify": lambda u, p: _verify(u),
    "run_flags": lambda u, p: _run_flags(u),
    "decide_flag": lambda u, p: services.decide_flag(u, int(p["flag"]), p.get("decision", ""), p.get("reason", "")),
    "open_case": lambda u, p: services.open_case(
        u,
        int(p["profile"]),
        p.get("allegation", ""),
        tickets=p.get("tickets", ""),
        interview_id=p.get("interview") or None,
    ),
    "statement": lambda u, p: services.case_statement(u, int(p["case"]), p.get("statement", "")),
    "decide_case": lambda u, p: services.decide_case(
        u, int(p["case"]), p.get("decision", ""), p.get("retention_until", "")
    ),
    "appeal_case": lambda u, p: services.appeal_case(u, int(p["case"]), p.get("appeal", "")),
    "decide_appeal": lambda u, p: services.decide_case_appeal(u, int(p["case"]), p.get("decision", "")),
    "commend_on_ticket": lambda u, p: services.commend_on_ticket(
        u, int(p["ticket"]), int(p["profile"]), p.get("kind", ""), p.get("note", "")
    ),
    "recognise": lambda u, p: services.recognise(
        u, int(p["profile"]), p.get("kind", ""), p.get("note", ""), p.get("ticket", "")
    ),
    "post_challenge": lambda u, p: services.post_challenge(
        u,
        title=p.get("title", ""),
        goal=p.get("goal", ""),
        deadline=p.get("deadline", ""),
        target_change=p.get("target_change", "-30") or "-30",
        resources=p.get("resources", ""),
        hotspot_id=p.get("hotspot") or None,
        topic_id=p.get("topic") or None,
        category=p.get("category", ""),
        district=p.get("district", ""),
        street=p.get("street", ""),
        keywords=p.get("keywords", ""),
    ),
    "apply_challenge": lambda u, p: services.apply_challenge(u, int(p["task"]), p.get("plan", "")),
    "appoint": lambda u, p: services.appoint(u, int(p["task"]), int(p.get("application") or 0)),
    "milestone": lambda u, p: services.add_challenge_milestone(
        u, int(p["task"]), p.get("title", ""), p.get("due_on", "")
    ),
    "reach_milestone": lambda u, p: services.reach_milestone(u, int(p["milestone"])),
    "deliver": lambda u, p: services.deliver(u, int(p["task"])),
    "praise": lambda u, p: _praise(u, p.get("month", "")),
    "compute_rewards": lambda u, p: services.compute_rewards(u, p.get("month", "")),
    "spend": lambda u, p: services.spend(
        u,
        int(p["reward"]),
        amount=p.get("amount", ""),
        purpose=p.get("purpose", ""),
        tickets=p.get("tickets", ""),
        topic_id=p.get("topic") or None,
    ),
    "open_evaluation": lambda u, p: services.open_evaluation(
        u, int(p["profile"]), p.get("starts_on", ""), p.get("ends_on", "")
    ),
    "self_assess": lambda u, p: services.self_assess(u, int(p["evaluation"]), p),
    "leader_assess": lambda u, p: services.leader_assess(u, int(p["evaluation"]), p, p.get("note", "")),
    "record_evaluation": lambda u, p: services.record_evaluation(u, int(p["evaluation"])),
}


def _verify(user: Any) -> Any:
    if access.org_department_area(user) is None:
        raise Forbidden()
    return services.verify_rectifications(user)


def _praise(user: Any, month: str) -> Any:
    if access.personnel_scope(user) is None:
        raise Forbidden()
    return services.praise_from_callbacks(month, user)


def _run_flags(user: Any) -> Any:
    if access.discipline_area(user) is None:
        raise Forbidden()
    services.ensure_flag_rules()
    return services.run_flag_rules(user)


def _next(op: str, result: Any, back: str) -> str:
    """Where a successful change leads: the new object's page where it has one."""
    if op == "schedule_interview":
        return reverse("cadre-interview", args=[result.pk])
    if op == "post_challenge":
        return reverse("cadre-challenge", args=[result.pk])
    if op == "open_period":
        return reverse("cadre-period", args=[result.pk])
    if op in {"apply_tolerance"}:
        return reverse("cadre-tolerance", args=[result.pk])
    if op == "open_evaluation":
        return reverse("cadre-evaluation", args=[result.pk])
    return back


@login_required
@require_POST
def act(request: HttpRequest, op: str) -> HttpResponse:
    back = _back(request)
    user, post = request.user, request.POST
    try:
        if op == "apply_tolerance":
            result: Any = services.apply_tolerance(
                user,
                int(post.get("profile") or 0),
                facts=post.get("facts", ""),
                grounds=_grounds(request),
                tickets=post.get("tickets", ""),
                case_id=int(post["case"]) if post.get("case", "").isdigit() else None,
            )
        elif op == "advance_tolerance":
            result = services.advance_tolerance(
                user,
                int(post.get("tolerance") or 0),
                post.get("note", ""),
                tolerated=_tolerated(post.get("tolerated", "")),
                corrections=_corrections(request),
            )
        elif op in ACTIONS:
            result = ACTIONS[op](user, post)
        else:
            raise Http404
    except (KeyError, ValueError):
        messages.error(request, _("The form is incomplete. Reload the page and try again."))
        return redirect(back)
    except ServiceError as error:
        return refused(request, error, back)
    if op == "verify":
        messages.success(request, _("Verified: %(verified)d, escalated: %(escalated)d.") % dict(result.items()))
    elif op == "praise":
        messages.success(request, _("Residents' praise added: %(count)d.") % {"count": result})
    elif op == "run_flags":
        messages.success(request, _("New flags: %(count)d.") % {"count": len(result)})
    else:
        messages.success(request, _("Saved."))
    return redirect(_next(op, result, back))
