"""Reading training and care: last month's lost-point tickets, the library, courses, transfer figures, care
pages. Every query starts from `jiesu.training.access`."""

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from jiesu.assessment import facts
from jiesu.assessment.reference_engine import judge
from jiesu.assessment.rules import RESOLUTION_CODES, SATISFACTION_CODES, rules_for
from jiesu.cadres.models import Recognition
from jiesu.lib import clock
from jiesu.orgs.access import AnyUser, membership
from jiesu.orgs.models import Membership, OrgUnit
from jiesu.tickets import access as ticket_access
from jiesu.tickets.models import Callback, Satisfaction, TicketEvent
from jiesu.tickets.workflow import Action

from . import access, transfer
from .models import (
    CareAlert,
    Course,
    Enrolment,
    LostPoint,
    Merit,
    PublishState,
    TrainingCase,
    TransferSurvey,
)
from .outcomes import outcomes
from .practice import mask_case_text


# --- lost points ------------------------------------------------------------------------------------------
@dataclasses.dataclass
class LostPointRow:
    ticket_id: int
    title: str
    category: str
    unit: str
    month: dt.date
    reasons: list[str]
    case_id: int | None = None

    @property
    def reason_labels(self) -> list[str]:
        return [str(LostPoint(r).label) for r in self.reasons]


def lost_points_of(row: dict[str, Any], rules: Any, rejected_return: bool) -> list[str]:
    """Why one assessed ticket lost credit, from its fact row (the assessment's own judgement)."""
    j = judge(row, rules)
    if not j.counted:
        return []
    reasons = []
    if not row["signed_in_time"]:
        reasons.append(LostPoint.LATE)
    if not (row["contacted"] or row["callback_voided"]):
        reasons.append(LostPoint.NOT_CONTACTED)
    if not row["callback_voided"]:
        if RESOLUTION_CODES[row["resolution"]] != "solved":
            reasons.append(LostPoint.UNSOLVED)
        if SATISFACTION_CODES[row["satisfaction"]] == "dissatisfied":
            reasons.append(LostPoint.DISSATISFIED)
    if row["round"] > 1:
        reasons.append(LostPoint.REOPENED)
    if rejected_return:
        reasons.append(LostPoint.RETURNED)
    return [str(r) for r in reasons]


def lost_point_tickets(user: AnyUser, month: dt.date, *, limit: int = 300) -> list[LostPointRow]:
    """The tickets the month's assessment docked in the trainer's area, each with its reasons (the same facts
    the assessment computes from). Only titles are read; the page shows no number and no requester."""
    area = access.trainer_area(user)
    if area is None:
        return []
    table = facts.extract(month).to_pylist()
    rules = rules_for(month)
    units = dict(OrgUnit.objects.filter(path__startswith=area.path).values_list("pk", "name"))
    table = [r for r in table if r["unit_id"] in units]
    ids = [r["ticket_id"] for r in table]
    rejected = set(
        TicketEvent.objects.filter(ticket_id__in=ids, action=Action.REJECT_RETURN).values_list("ticket_id", flat=True)
    )
    out: list[LostPointRow] = []
    for row in table:
        reasons = lost_points_of(row, rules, row["ticket_id"] in rejected)
        if reasons:
            out.append(LostPointRow(row["ticket_id"], "", "", units[row["unit_id"]], month, reasons))
    out = out[:limit]
    info = {
        t.pk: (_masked_title(t), t.category.name)
        for t in ticket_access.all_tickets()
        .filter(pk__in=[r.ticket_id for r in out])
        .select_related("category", "requester")
    }
    cases = dict(
        TrainingCase.objects.filter(source_ticket_id__in=[r.ticket_id for r in out]).values_list(
            "source_ticket_id", "pk"
        )
    )
    for r in out:
        r.title, r.category = info.get(r.ticket_id, ("", ""))
        r.case_id = cases.get(r.ticket_id)
    return out


def _masked_title(ticket: Any) -> str:
    """A ticket's title as the candidate lists show it: masked like a case (no caller's name, phone or house)."""
    r = ticket.requester
    return mask_case_text(ticket.title, name=r.name if r else "", phone=r.phone if r else "")


@dataclasses.dataclass
class CandidateRow:
    """A candidate excellent case: the ticket (title, category, unit; no number, no requester) and its merits."""

    ticket_id: int
    title: str
    category: str
    unit: str
    merits: list[str]

    @property
    def merit_labels(self) -> list[str]:
        return [str(Merit(m).label) for m in self.merits]


def merits_of(ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """Why each ticket is a candidate excellent case (`Merit` codes, in the order of `Merit`), in three queries:
    the recognitions naming it (点赞, 一事一评, residents' praise, honours), the requester's own rating "satisfied"
    (一事一评 on the portal or the call), a first round signed in time, contacted, solved and satisfied."""
    ids = list(ticket_ids)
    found: dict[int, set[str]] = {i: set() for i in ids}
    for ticket_id, kind in Recognition.objects.filter(ticket_id__in=ids).values_list("ticket_id", "kind"):
        if kind in Merit.values:
            found[ticket_id].add(kind)
    for ticket_id in TicketEvent.objects.filter(
        ticket_id__in=ids, action=Action.RATE, data__satisfaction=Satisfaction.SATISFIED
    ).values_list("ticket_id", flat=True):
        found[ticket_id].add(Merit.RATED)
    for ticket_id in Callback.objects.filter(ticket_id__in=ids, **EXEMPLARY_CALLBACK).values_list(
        "ticket_id", flat=True
    ):
        found[ticket_id].add(Merit.EXEMPLARY)
    order = list(Merit.values)
    return {i: sorted(m, key=order.index) for i, m in found.items()}


EXEMPLARY_CALLBACK = {
    "round": 1,
    "contacted": True,
    "resolution": "solved",
    "satisfaction": "satisfied",
    "signed_in_time": True,
    "ticket__reopen_count": 0,
}


def excellent_candidates(user: AnyUser, month: dt.date, *, limit: int = 50) -> list[CandidateRow]:
    """Candidates for excellent cases in the trainer's area, from the month's
    - recognitions naming a ticket (a leader's 点赞, 一事一评, residents' praise, the honours list: `cadres`),
    - the requesters' own ratings "satisfied" (一事一评),
    - first-round tickets signed in time, contacted, solved and satisfied;
    commended ones first, then by how many merits they have. Tickets already in the library are left out."""
    area = access.trainer_area(user)
    if area is None:
        return []
    start, end = facts.month_bounds(month)
    commended = Recognition.objects.filter(at__gte=start, at__lt=end, ticket__isnull=False).values("ticket_id")
    rated = TicketEvent.objects.filter(
        created_at__gte=start, created_at__lt=end, action=Action.RATE, data__satisfaction=Satisfaction.SATISFIED
    ).values("ticket_id")
    exemplary = Callback.objects.filter(created_at__gte=start, created_at__lt=end, **EXEMPLARY_CALLBACK).values(
        "ticket_id"
    )
    tickets = list(
        ticket_access.all_tickets()
        .filter(Q(pk__in=commended) | Q(pk__in=rated) | Q(pk__in=exemplary), lead_unit__path__startswith=area.path)
        .exclude(reply="")
        .exclude(idempotency_key__startswith="gen:")
        .exclude(training_case__isnull=False)
        .select_related("category", "lead_unit", "requester")
        .order_by("-closed_at", "-id")[: limit * 4]
    )
    merits = merits_of(t.pk for t in tickets)
    recognised = {m.value for m in (Merit.LIKE, Merit.CASE_REVIEW, Merit.RESIDENT_PRAISE, Merit.HONOURS)}
    rows = [
        CandidateRow(t.pk, _masked_title(t), t.category.name, t.lead_unit.name if t.lead_unit else "", merits[t.pk])
        for t in tickets
        if merits[t.pk]
    ]
    rows.sort(key=lambda r: (not recognised & set(r.merits), -len(r.merits)))
    return rows[:limit]


# --- library and courses ----------------------------------------------------------------------------------
def cases(user: AnyUser) -> QuerySet[TrainingCase]:
    qs = TrainingCase.objects.select_related("category", "unit")
    if access.is_trainer(user):
        return qs
    if access.is_staff_member(user):
        return qs.filter(state=PublishState.PUBLISHED)
    return qs.none()


def courses(user: AnyUser) -> QuerySet[Course]:
    qs = Course.objects.select_related("owner").annotate(n_cases=Count("items", distinct=True))
    if access.is_trainer(user):
        return qs
    if access.is_staff_member(user):
        return qs.filter(state=PublishState.PUBLISHED)
    return qs.none()


def course_cases(course: Course) -> list[TrainingCase]:
    return [item.case for item in course.items.select_related("case", "case__category", "case__unit")]


def my_enrolments(user: AnyUser) -> QuerySet[Enrolment]:
    if not user.is_authenticated:
        return Enrolment.objects.none()
    return Enrolment.objects.filter(trainee_id=user.pk).select_related("course")


def training_record(person: AnyUser) -> list[dict[str, Any]]:
    """The person's 培训档案: every course with its practice scores and questionnaires."""
    out = []
    for e in (
        Enrolment.objects.filter(trainee_id=person.pk).select_related("course").prefetch_related("attempts", "surveys")
    ):
        attempts = list(e.attempts.all())
        out.append(
            {
                "enrolment": e,
                "attempts": len(attempts),
                "average": round(sum(a.score for a in attempts) / len(attempts)) if attempts else None,
                "surveys": {s.wave: s for s in e.surveys.all()},
            }
        )
    return out


# --- transfer -----------------------------------------------------------------------------------------------
@dataclasses.dataclass
class CourseTransfer:
    course: Course
    window_days: int
    metrics: dict[str, transfer.Estimate]
    names: dict[int, str]
    surveys: dict[str, dict[str, float | None]]  # wave → dimension → mean

    def per_trainee(self) -> list[dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        for metric, est in self.metrics.items():
            for t in est.per_trainee:
                row = rows.setdefault(t.person, {"person": t.person, "name": self.names.get(t.person, "")})
                row[metric] = t
        return list(rows.values())


def course_categories(course: Course) -> list[str]:
    return list(course.categories.values_list("code", flat=True))


def comparable_colleagues(course: Course, trainees: list[int]) -> list[int]:
    """Comparable untrained colleagues: the same roles, in units of the same kinds as the trainees', never
    enrolled in this course."""
    found = Membership.objects.filter(user_id__in=trainees)
    roles = set(found.values_list("role", flat=True))
    kinds = set(found.values_list("unit__kind", flat=True))
    enrolled = Enrolment.objects.filter(course=course).values("trainee_id")
    return list(
        Membership.objects.filter(role__in=roles, unit__kind__in=kinds)
        .exclude(user_id__in=enrolled)
        .values_list("user_id", flat=True)
    )


def course_transfer(course: Course, *, window_days: int = 60, reps: int = 300) -> CourseTransfer:
    """The course's transfer: the DiD estimate per outcome, per course and per trainee (completed enrolments)."""
    done = {
        e.trainee_id: e.completed_at
        for e in Enrolment.objects.filter(course=course, completed_at__isnull=False)
        if e.completed_at is not None
    }
    codes = course_categories(course)
    metrics: dict[str, transfer.Estimate] = {}
    names: dict[int, str] = {}
    if done:
        first, last = min(done.values()), max(done.values())
        since = first - dt.timedelta(days=window_days)
        until = min(last + dt.timedelta(days=window_days), clock.now())
        controls = comparable_colleagues(course, list(done))
        found = outcomes(list(done) + controls, since, until, category_codes=codes or None)
        for metric in transfer.METRICS:

            def series(pid: int, metric: str = metric) -> transfer.Series:
                items = found.get(pid, [])
                return transfer.Series(pid, [o.at for o in items], [o.value(metric) for o in items])

            metrics[metric] = transfer.estimate(
                [series(p) for p in done],
                done,
                [series(p) for p in controls if found.get(p)],
                window_days=window_days,
                reps=reps,
            )
        names = {u.pk: u.get_full_name() or u.username for u in get_user_model().objects.filter(pk__in=list(done))}
    surveys: dict[str, dict[str, float | None]] = {}
    for wave in ("end", "follow_up"):
        rows = TransferSurvey.objects.filter(enrolment__course=course, wave=wave)
        n = rows.count()
        surveys[wave] = {
            "n": float(n),
            **{
                dim: (round(sum(getattr(s, dim) for s in rows) / n, 2) if n else None)
                for dim in ("ability", "motivation", "environment")
            },
        }
    return CourseTransfer(course, window_days, metrics, names, surveys)


# --- care ---------------------------------------------------------------------------------------------------
def alerts_for(user: AnyUser, *, state: str | None = None) -> QuerySet[CareAlert]:
    qs = access.visible_alerts(user)
    return qs.filter(state=state) if state else qs


def care_aggregates(user: AnyUser, as_of: dt.datetime | None = None) -> dict[str, Any]:
    """The organisation department's view: per unit of its area, how many people, how many with a care alert in
    the last 90 days, and how many talks were held. Units with fewer than `min_group` people are not shown."""
    from .care import settings_on
    from .models import TalkRecord

    area = access.care_area(user)
    if area is None:
        return {"rows": [], "hidden": 0, "min_group": 0}
    as_of = as_of or clock.now()
    cs = settings_on(clock.local_date(as_of))
    since = as_of - dt.timedelta(days=90)
    sizes = dict(
        Membership.objects.filter(unit__path__startswith=area.path)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    alerted = dict(
        CareAlert.objects.filter(unit_id__in=sizes, created_at__gte=since)
        .values("unit_id")
        .annotate(n=Count("person_id", distinct=True))
        .values_list("unit_id", "n")
    )
    talks = dict(
        TalkRecord.objects.filter(unit_id__in=sizes, created_at__gte=since)
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    names = dict(OrgUnit.objects.filter(pk__in=sizes).values_list("pk", "name"))
    rows, hidden = [], 0
    for unit_id, n in sorted(sizes.items(), key=lambda kv: names.get(kv[0], "")):
        if n < cs.min_group:
            hidden += 1
            continue
        rows.append(
            {"unit": names[unit_id], "people": n, "alerted": alerted.get(unit_id, 0), "talks": talks.get(unit_id, 0)}
        )
    return {"rows": rows, "hidden": hidden, "min_group": cs.min_group}


def own_membership_unit(user: AnyUser) -> OrgUnit | None:
    m = membership(user)
    return m.unit if m else None


def unit_people(user: Any) -> list[Any]:
    """The people of a leader's or Party secretary's unit (to open their care pages)."""
    m = membership(user)
    if not access.leads_people(user) or m is None:
        return []
    return list(
        get_user_model()
        .objects.filter(membership__unit=m.unit)
        .exclude(pk=user.pk)
        .filter(~Q(membership__role__in=["unit_leader", "party_secretary"]))
        .order_by("username")
    )
