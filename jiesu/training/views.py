"""Pages of training (能力提升) and care (人文关怀). Thin: selectors read, services act, access decides; a record the
user may not see answers 404, a refused change comes back as a message in the user's language."""

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

from jiesu.assessment.rules import parse_month, previous_month
from jiesu.cadres.access import own_profile
from jiesu.catalog.models import Category, TimeLimitClass
from jiesu.lib import clock
from jiesu.lib.errors import NotFound, ServiceError
from jiesu.lib.responses import refused
from jiesu.orgs.access import membership
from jiesu.orgs.models import OrgUnit, Role, UnitKind

from . import access, selectors, services, transfer
from .models import (
    CaseKind,
    Course,
    Enrolment,
    LostPoint,
    Merit,
    PracticeAttempt,
    SignalContext,
    Skill,
    Stage,
    TrainingCase,
    TrainingPlan,
    TransferSurvey,
    Wave,
)
from .practice import DIMENSION_LABELS, LTSI_ITEMS, RUBRIC_LABELS
from .strain import LABELS as SIGNAL_LABELS

View = Callable[..., HttpResponse]


def staff(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.is_staff_member(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def trainer(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.is_trainer(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _stage_of(user: Any) -> tuple[str, int | None]:
    """The person's stage: onboarding in the first 30 days of the post (from the cadre profile)."""
    profile = own_profile(user)
    if profile is None:
        return Stage.IN_SERVICE, None
    day = (clock.local_date(clock.now()) - profile.started_on).days + 1
    return (Stage.ONBOARDING if day <= 30 else Stage.IN_SERVICE), day


# --- training: home, library, lost points --------------------------------------------------------------------
@staff
def home(request: HttpRequest) -> HttpResponse:
    m = membership(request.user)
    stage, day = _stage_of(request.user)
    plans = TrainingPlan.objects.filter(is_active=True, role=m.role if m else "", stage=stage).prefetch_related(
        "courses"
    )
    enrolments = list(selectors.my_enrolments(request.user))
    enrolled = {e.course_id for e in enrolments}
    return render(
        request,
        "training/home.html",
        {
            "plans": plans,
            "stage": Stage(stage).label,
            "day": day,
            "enrolments": enrolments,
            "courses": selectors.courses(request.user).exclude(pk__in=enrolled)[:30],
            "is_trainer": access.is_trainer(request.user),
            "last_month": previous_month(clock.local_date(clock.now()).replace(day=1)),
        },
    )


@staff
def case_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.cases(request.user)
    kind = request.GET.get("kind", "")
    if kind in CaseKind.values:
        qs = qs.filter(kind=kind)
    skill = request.GET.get("skill", "")
    items = [c for c in qs[:300] if not skill or skill in c.skills]
    return render(
        request,
        "training/cases.html",
        {
            "items": items,
            "kinds": CaseKind.choices,
            "skills": Skill.choices,
            "kind": kind,
            "skill": skill,
            "is_trainer": access.is_trainer(request.user),
        },
    )


@trainer
def lost_points(request: HttpRequest) -> HttpResponse:
    try:
        month = parse_month(request.GET["month"]) if request.GET.get("month") else None
    except ServiceError as error:
        messages.error(request, str(error))
        month = None
    month = month or previous_month(clock.local_date(clock.now()).replace(day=1))
    rows = selectors.lost_point_tickets(request.user, month)
    reason = request.GET.get("reason", "")
    if reason in LostPoint.values:
        rows = [r for r in rows if reason in r.reasons]
    return render(
        request,
        "training/lost_points.html",
        {
            "rows": rows,
            "month": month,
            "reasons": LostPoint.choices,
            "reason": reason,
            "excellent": selectors.excellent_candidates(request.user, month, limit=20),
            "stages": Stage.choices,
        },
    )


@require_POST
@trainer
def make_cases(request: HttpRequest) -> HttpResponse:
    """Turn the chosen tickets into draft cases; with a course title, also a course of them."""
    back = reverse("training-lost-points")
    kind = request.POST.get("kind", CaseKind.LOST_POINT)
    try:
        month = parse_month(request.POST.get("month")) if kind == CaseKind.LOST_POINT else None
        ids = [int(x) for x in request.POST.getlist("ticket") if x.isdigit()]
        if not ids:
            messages.error(request, _("Choose at least one ticket."))
            return redirect(back)
        made = [services.make_case(request.user, i, kind, month=month) for i in ids]
        title = request.POST.get("course_title", "").strip()
        if title:
            course = services.make_course(
                request.user,
                title=title,
                case_ids=[c.pk for c in made],
                stage=request.POST.get("stage", Stage.REFRESHER),
            )
            messages.success(
                request,
                _("%(n)s cases made and the course “%(title)s” with them.") % {"n": len(made), "title": course.title},
            )
            return redirect("training-course", course.pk)
    except ServiceError as error:
        return refused(request, error, back)
    messages.success(request, _("%(n)s cases made: analyse and publish them.") % {"n": len(made)})
    return redirect("training-cases")


@staff
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.cases(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404
    return render(
        request,
        "training/case.html",
        {
            "case": case,
            "is_trainer": access.is_trainer(request.user),
            "skills": Skill.choices,
            "roles": Role.choices,
            "lost": [LostPoint(x).label for x in case.lost_points if x in LostPoint.values],
            "merits": [Merit(x).label for x in case.merits if x in Merit.values],
        },
    )


@require_POST
@trainer
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("training-case", args=[pk])
    try:
        texts = {f: request.POST.get(f, "") for f in services.CASE_TEXTS if f in request.POST}
        services.edit_case(
            request.user, pk, skills=request.POST.getlist("skills"), roles=request.POST.getlist("roles"), **texts
        )
        if request.POST.get("op") == "publish":
            services.publish_case(request.user, pk)
            messages.success(request, _("The case is published in the library."))
        else:
            messages.success(request, _("Saved."))
    except ServiceError as error:
        return refused(request, error, back)
    return redirect(back)


# --- courses, practice, questionnaires ----------------------------------------------------------------------
def _course(request: HttpRequest, pk: int) -> Course:
    course = selectors.courses(request.user).filter(pk=pk).first()
    if course is None:
        raise Http404
    return course


@staff
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = _course(request, pk)
    enrolment = Enrolment.objects.filter(course=course, trainee_id=request.user.pk).first()
    attempts = {a.case_id: a for a in PracticeAttempt.objects.filter(enrolment=enrolment)} if enrolment else {}
    surveys = {s.wave: s for s in TransferSurvey.objects.filter(enrolment=enrolment)} if enrolment else {}
    waves = []
    if enrolment and enrolment.completed_at:
        for wave, label in Wave.choices:
            window = services.survey_window(enrolment, wave)
            now = clock.now()
            open_ = window is not None and window[0] <= now and (window[1] is None or now <= window[1])
            waves.append({"wave": wave, "label": label, "done": surveys.get(wave), "open": open_, "window": window})
    is_owner = access.is_trainer(request.user)
    measured = selectors.course_transfer(course) if is_owner and request.GET.get("transfer") != "0" else None
    return render(
        request,
        "training/course.html",
        {
            "course": course,
            "cases": selectors.course_cases(course),
            "enrolment": enrolment,
            "attempts": attempts,
            "waves": waves,
            "is_owner": is_owner,
            "measured": measured,
            "metric_labels": METRIC_LABELS,
            "lower_is_better": transfer.LOWER_IS_BETTER,
            "dimension_labels": DIMENSION_LABELS,
        },
    )


METRIC_LABELS = {
    "on_time": gettext_lazy("On time"),
    "contacted": gettext_lazy("Requester contacted"),
    "solved": gettext_lazy("Solved"),
    "satisfied": gettext_lazy("Satisfied"),
    "reopened": gettext_lazy("Reopened"),
}


@trainer
def course_overview(request: HttpRequest) -> HttpResponse:
    """Which courses change behaviour and which do not: every course with completions and its measured transfer."""
    rows = []
    for course in selectors.courses(request.user).filter(enrolments__completed_at__isnull=False).distinct():
        measured = selectors.course_transfer(course, reps=150)
        rows.append({"course": course, "metrics": measured.metrics})
    return render(
        request,
        "training/overview.html",
        {"rows": rows, "metric_labels": METRIC_LABELS, "lower_is_better": transfer.LOWER_IS_BETTER},
    )


@require_POST
@staff
def course_action(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    back = reverse("training-course", args=[pk])
    try:
        if op == "enrol":
            services.enrol(request.user, pk)
            messages.success(request, _("You are enrolled. Work the cases one by one."))
        elif op == "publish":
            services.publish_course(request.user, pk)
            messages.success(request, _("The course is published."))
        else:
            raise Http404
    except ServiceError as error:
        return refused(request, error, back)
    return redirect(back)


@require_POST
@staff
def plan_join(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        made = services.join_plan(request.user, pk)
    except ServiceError as error:
        return refused(request, error, reverse("training-home"))
    messages.success(request, _("You are enrolled in %(n)s courses of the plan.") % {"n": len(made)})
    return redirect("training-home")


@staff
def practice_case(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    course = _course(request, pk)
    enrolment = Enrolment.objects.filter(course=course, trainee_id=request.user.pk).first()
    if enrolment is None or not course.items.filter(case_id=case_pk).exists():
        raise Http404
    case = TrainingCase.objects.select_related("category", "unit", "source_ticket__time_limit_policy").get(pk=case_pk)
    error = None
    if request.method == "POST":
        try:
            services.submit_practice(
                request.user,
                enrolment.pk,
                case.pk,
                category_code=request.POST.get("category", ""),
                unit_code=request.POST.get("unit", ""),
                time_limit_class=request.POST.get("time_limit_class", ""),
                reply=request.POST.get("reply", ""),
            )
            return redirect("training-practice", pk, case_pk)
        except ServiceError as e:
            if isinstance(e, NotFound):
                raise Http404 from None
            error = e
    attempt = PracticeAttempt.objects.filter(enrolment=enrolment, case=case).select_related("category", "unit").first()
    items = selectors.course_cases(course)
    position = [c.pk for c in items].index(case.pk)
    following = items[position + 1] if position + 1 < len(items) else None
    return render(
        request,
        "training/practice.html",
        {
            "course": course,
            "case": case,
            "attempt": attempt,
            "error": error,
            "form": request.POST if error else {},
            "position": position + 1,
            "count": len(items),
            "next_case": following,
            "categories": Category.objects.filter(level=3).order_by("code"),
            "units": OrgUnit.objects.filter(
                kind__in=[
                    UnitKind.SUBDISTRICT,
                    UnitKind.TOWNSHIP,
                    UnitKind.TOWN,
                    UnitKind.AREA_OFFICE,
                    UnitKind.DEPARTMENT,
                    UnitKind.PUBLIC_SERVICE_COMPANY,
                    UnitKind.DISTRICT,
                ]
            )
            .only("code", "name")
            .order_by("code"),
            "time_limits": TimeLimitClass.choices,
            "rubric_labels": RUBRIC_LABELS,
            "outcome_labels": OUTCOME_LABELS,
        },
    )


OUTCOME_LABELS = {
    "solved": gettext_lazy("Solved"),
    "partly": gettext_lazy("Partly solved"),
    "unsolved": gettext_lazy("Unsolved"),
    "satisfied": gettext_lazy("Satisfied"),
    "fairly_satisfied": gettext_lazy("Fairly satisfied"),
    "dissatisfied": gettext_lazy("Dissatisfied"),
    "not_rated": gettext_lazy("Not rated"),
}


@staff
def survey(request: HttpRequest, pk: int, wave: str) -> HttpResponse:
    enrolment = Enrolment.objects.select_related("course").filter(pk=pk, trainee_id=request.user.pk).first()
    if enrolment is None or wave not in Wave.values:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            services.submit_survey(request.user, enrolment.pk, wave, request.POST.dict())
            messages.success(request, _("Thank you. Your answers are recorded."))
            return redirect("training-course", enrolment.course_id)
        except ServiceError as e:
            error = e
    return render(
        request,
        "training/survey.html",
        {"enrolment": enrolment, "wave": Wave(wave).label, "items": LTSI_ITEMS, "error": error, "form": request.POST},
    )


@login_required
def record(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        person = access.get_person_for_record(request.user, pk)
    except NotFound:
        raise Http404 from None
    return render(request, "training/record.html", {"person": person, "rows": selectors.training_record(person)})


# --- care -----------------------------------------------------------------------------------------------------
def _signal_rows(signals: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "label": SIGNAL_LABELS.get(s["code"] if isinstance(s, dict) else s.code, ""),
            "value": s["value"] if isinstance(s, dict) else s.value,
            "threshold": s["threshold"] if isinstance(s, dict) else s.threshold,
        }
        for s in signals
    ]


@staff
def care_home(request: HttpRequest) -> HttpResponse:
    measures, on = services.my_signals(request.user)
    alerts = list(selectors.alerts_for(request.user).exclude(person_id=request.user.pk)[:100])
    for a in alerts:
        a.rows = _signal_rows(a.signals)  # type: ignore[attr-defined]
    return render(
        request,
        "training/care_home.html",
        {
            "measures": measures,
            "signals": _signal_rows(on),
            "alerts": alerts,
            "leads": access.leads_people(request.user),
            "people": selectors.unit_people(request.user),
            "aggregates": selectors.care_aggregates(request.user) if access.care_area(request.user) else None,
            "contexts": SignalContext.objects.filter(person_id=request.user.pk)[:10],
        },
    )


@staff
def care_person(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        person: Any = access.get_person_for_care(request.user, pk)
    except NotFound:
        raise Http404 from None
    measures, on = services.my_signals(person)
    alerts = list(access.visible_alerts(request.user).filter(person=person)[:20])
    for a in alerts:
        a.rows = _signal_rows(a.signals)  # type: ignore[attr-defined]
    return render(
        request,
        "training/care_person.html",
        {
            "person": person,
            "measures": measures,
            "signals": _signal_rows(on),
            "alerts": alerts,
            "talks": access.visible_talks(request.user).filter(person=person),
            "contexts": SignalContext.objects.filter(person=person)[:20],
            "may_talk": access.is_leader_of(request.user, person),
            "today": clock.local_date(clock.now()),
        },
    )


@require_POST
@staff
def care_talk(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("care-person", args=[pk])
    try:
        alert = request.POST.get("alert", "")
        talk = services.record_talk(
            request.user,
            pk,
            held_on=request.POST.get("held_on", ""),
            topic=request.POST.get("topic", ""),
            follow_up=request.POST.get("follow_up", ""),
            alert_id=int(alert) if alert.isdigit() else None,
        )
    except ServiceError as error:
        return refused(request, error, back)
    messages.success(request, _("The talk is recorded."))
    return redirect("care-talk", talk.pk)


@staff
def talk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    talk = access.visible_talks(request.user).filter(pk=pk).first()
    if talk is None:
        raise Http404
    return render(request, "training/talk.html", {"talk": talk})


@require_POST
@staff
def care_alert_close(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        alert = services.close_alert(request.user, pk)
    except ServiceError as error:
        return refused(request, error, reverse("care-home"))
    return redirect("care-person", alert.person_id)


@require_POST
@staff
def care_context(request: HttpRequest) -> HttpResponse:
    try:
        services.add_context(request.user, request.POST.get("text", ""))
    except ServiceError as error:
        return refused(request, error, reverse("care-home"))
    messages.success(request, _("Your note is added beside your signals."))
    return redirect("care-home")


@staff
def abusive(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            _mark, offer_break = services.mark_abusive(
                request.user, request.POST.get("number", ""), request.POST.get("note", "")
            )
        except ServiceError as error:
            return refused(request, error, reverse("care-abusive"))
        messages.success(request, _("Marked abusive: it is left out of your own quality figures."))
        if offer_break:
            messages.info(request, _("That was a hard call. Take a short break (5 minutes) before the next one."))
        return redirect("care-abusive")
    return render(request, "training/abusive.html", {"number": request.GET.get("number", "")})
