"""Queries of the cadre module: the trail rows behind the performance record, a cadre's record for a period, the
bottom list, the 揭榜 task's measured result, and the lists each page shows. Visibility comes from `access`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Count, Q, QuerySet

from jiesu.assessment import selectors as assessment_selectors
from jiesu.assessment.models import UnitScore
from jiesu.lib import clock
from jiesu.orgs import access as org_access
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as ticket_access
from jiesu.tickets.models import Callback, Ticket, TicketEvent

from . import access
from .models import (
    AccountabilityCase,
    CadreEvent,
    CadreProfile,
    ChallengeState,
    ChallengeTask,
    Correction,
    Flag,
    Interview,
    ItemScore,
    Recognition,
    ToleranceCase,
)
from .records import ACTION_CODES, ACTIONS, RESOLUTION_CODES, SATISFACTION_CODES, Record, Row, compute


def trail_rows(start: dt.datetime, end: dt.datetime, actor_ids: list[int] | None = None) -> list[Row]:
    """The events the record is derived from, sorted by ticket and event: every ticket with an event of interest in
    [start, end) (or, for given people, every ticket they signed, replied to or whistled on before `end`)."""
    if actor_ids is None:
        tickets = TicketEvent.objects.filter(action__in=ACTIONS, created_at__gte=start, created_at__lt=end)
    else:
        tickets = TicketEvent.objects.filter(
            actor_id__in=actor_ids, action__in=("accept", "reply", "whistle", "request_return"), created_at__lt=end
        )
    rows = (
        TicketEvent.objects.filter(ticket_id__in=tickets.values("ticket_id"), action__in=ACTIONS, created_at__lt=end)
        .order_by("ticket_id", "id")
        .values_list("ticket_id", "id", "action", "actor_id", "data", "created_at")
    )
    return list(rows)


def trail_columns(start: dt.datetime, end: dt.datetime) -> dict[str, np.ndarray]:
    """The rows of `trail_rows(start, end)` as columns for the column path (`records.fast_counts`,
    `records.flag_events`): ticket, action code, actor (-1 for none), late, resolution and satisfaction codes, and
    `counted` (the row lies in [start, end)). The JSON fields are read by the database, not parsed here."""
    tickets = TicketEvent.objects.filter(action__in=ACTIONS, created_at__gte=start, created_at__lt=end)
    rows = (
        TicketEvent.objects.filter(ticket_id__in=tickets.values("ticket_id"), action__in=ACTIONS, created_at__lt=end)
        .order_by("ticket_id", "id")
        .values_list(
            "ticket_id", "action", "actor_id", "data__late", "data__resolution", "data__satisfaction", "created_at"
        )
    )
    codes, res, sat = ACTION_CODES, RESOLUTION_CODES, SATISFACTION_CODES
    t, a, who, late, r, f, counted = [], [], [], [], [], [], []
    for ticket_id, action, actor_id, is_late, resolution, satisfaction, at in rows.iterator(chunk_size=5000):
        t.append(ticket_id)
        a.append(codes[action])
        who.append(-1 if actor_id is None else actor_id)
        late.append(bool(is_late))
        r.append(res.get(resolution, 0))
        f.append(sat.get(satisfaction, 0))
        counted.append(start <= at < end)
    return {
        "ticket": np.array(t, dtype=np.int64),
        "action": np.array(a, dtype=np.int8),
        "actor": np.array(who, dtype=np.int64),
        "late": np.array(late, dtype=bool),
        "resolution": np.array(r, dtype=np.int8),
        "satisfaction": np.array(f, dtype=np.int8),
        "counted": np.array(counted, dtype=bool),
    }


def record(profile: CadreProfile, start: dt.date, end: dt.date) -> Record:
    """A cadre's record for the days [start, end)."""
    s, e = clock.start_of_day(start), clock.start_of_day(end)
    return compute(trail_rows(s, e, [profile.user_id]), s, e).get(profile.user_id, Record())


def records(start: dt.date, end: dt.date) -> dict[int, Record]:
    """Everybody's record for [start, end), by user id (flags, scoring a unit, the bench)."""
    s, e = clock.start_of_day(start), clock.start_of_day(end)
    return compute(trail_rows(s, e), s, e)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.month - 1 + n, 12)
    return dt.date(day.year + y, m + 1, 1)


@dataclass
class MonthRow:
    month: dt.date
    record: Record
    recognitions: int = 0  # commendations that landed on the profile in the month (点赞, 一事一评, praise, honours)


def monthly(profile: CadreProfile, months: int = 6) -> list[MonthRow]:
    """The last `months` months (this one included), newest first, from one read of the trail."""
    today = clock.local_date(clock.now())
    first = add_months(month_start(today), -(months - 1))
    end = add_months(month_start(today), 1)
    s, e = clock.start_of_day(first), clock.start_of_day(end)
    rows = trail_rows(s, e, [profile.user_id])
    commended = list(Recognition.objects.filter(profile=profile, at__gte=s, at__lt=e).values_list("at", flat=True))
    out = []
    for i in range(months):
        m = add_months(first, i)
        ms, me = clock.start_of_day(m), clock.start_of_day(add_months(m, 1))
        n = sum(1 for at in commended if ms <= at < me)
        out.append(MonthRow(m, compute(rows, ms, me).get(profile.user_id, Record()), n))
    return list(reversed(out))


def figure_tickets(user: Any, ids: set[int] | list[int]) -> tuple[list[Ticket], set[int]]:
    """The tickets behind a figure (number, title, category, outcome: no requester) and which of them the viewer
    may open on the ticket page. Who reads the record sees the list, as on the assessment's drill-down."""
    tickets = list(
        ticket_access.all_tickets()
        .filter(pk__in=list(ids))
        .select_related("category", "street", "lead_unit")
        .order_by("-intake_at")
    )
    openable = set(ticket_access.visible_tickets(user).filter(pk__in=list(ids)).values_list("pk", flat=True))
    callbacks = last_callbacks([t.pk for t in tickets])
    for t in tickets:
        t.last_cb = callbacks.get(t.pk)  # type: ignore[attr-defined]
    return tickets, openable


def last_callbacks(ids: list[int]) -> dict[int, Callback]:
    out: dict[int, Callback] = {}
    for cb in Callback.objects.filter(ticket_id__in=ids).order_by("ticket_id", "round"):
        out[cb.ticket_id] = cb
    return out


# --- lists ------------------------------------------------------------------------------------------------
def profiles(user: Any) -> QuerySet[CadreProfile]:
    return access.visible_profiles(user)


def events(profile: CadreProfile) -> QuerySet[CadreEvent]:
    return CadreEvent.objects.filter(profile=profile).select_related("actor").order_by("-at", "-id")


def scores(profile: CadreProfile) -> QuerySet[ItemScore]:
    return (
        ItemScore.objects.filter(profile=profile)
        .select_related("item", "period")
        .prefetch_related("corrections")
        .order_by("-period__starts_on", "item__dimension", "item_id")
    )


def period_totals(profile: CadreProfile) -> list[dict[str, Any]]:
    """Per period: the published total (points / weights × 100) and, beside it, the total after corrections."""
    by_period: dict[int, dict[str, Any]] = {}
    for s in scores(profile):
        row = by_period.setdefault(
            s.period_id, {"period": s.period, "points": Decimal(0), "weights": Decimal(0), "corrected": Decimal(0)}
        )
        row["points"] += s.points
        row["weights"] += s.weight
        corrections = list(s.corrections.all())
        row["corrected"] += corrections[-1].new_points if corrections else s.points
        row.setdefault("corrections", []).extend(corrections)
    out = []
    for row in by_period.values():
        w = row["weights"]
        row["total"] = (row["points"] * 100 / w).quantize(Decimal("0.01")) if w else None
        row["corrected_total"] = (row["corrected"] * 100 / w).quantize(Decimal("0.01")) if w else None
        out.append(row)
    return out


def recognitions(profile: CadreProfile) -> QuerySet[Recognition]:
    return Recognition.objects.filter(profile=profile).select_related("by", "ticket")


def flags(user: Any) -> QuerySet[Flag]:
    return Flag.objects.filter(profile__in=access.flag_profiles(user)).select_related(
        "rule", "profile__user", "profile__unit"
    )


def cases(user: Any) -> QuerySet[AccountabilityCase]:
    return AccountabilityCase.objects.filter(profile__in=access.flag_profiles(user)).select_related(
        "profile__user", "profile__unit"
    )


def tolerance_cases(user: Any) -> QuerySet[ToleranceCase]:
    return ToleranceCase.objects.filter(profile__in=access.flag_profiles(user)).select_related(
        "profile__user", "profile__unit"
    )


def corrections(profile: CadreProfile) -> QuerySet[Correction]:
    return Correction.objects.filter(profile=profile).select_related("item_score__item", "item_score__period", "by")


def interviews(user: Any) -> QuerySet[Interview]:
    """约谈 of the units whose personnel the user reads (org department, the unit's secretary and leader), and those
    in which the user owns a rectification item."""
    mine = Q(items__owner__user_id=user.pk) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    return Interview.objects.filter(Q(unit__in=access.personnel_units(user)) | mine).distinct().select_related("unit")


def bottom_list(user: Any, month: dt.date) -> tuple[Any, list[UnitScore]]:
    """The published month's 约谈 list, in the organisation department's area."""
    area = access.org_department_area(user)
    snapshot = assessment_selectors.current_snapshot(month, published_only=True)
    if area is None or snapshot is None:
        return snapshot, []
    rows = (
        UnitScore.objects.filter(snapshot=snapshot, interview=True, unit__path__startswith=area.path)
        .select_related("unit")
        .order_by("group", "rank")
    )
    return snapshot, list(rows)


def challenges(user: Any) -> QuerySet[ChallengeTask]:
    """The board: every task in an area the user belongs to or reads (a cadre sees the tasks above their unit)."""
    qs = ChallengeTask.objects.select_related("area", "leader__user", "hotspot", "topic").annotate(
        applicants=Count("applications")
    )
    if access.is_operator(user):
        return qs
    q = Q(pk__in=[])
    scope = access.personnel_scope(user)
    if scope is not None:
        q |= Q(area__path__startswith=scope)
    own = access.own_profile(user)
    m = org_access.membership(user)
    unit = own.unit if own else (m.unit if m else None)
    if unit is not None:
        ancestors = [p for p in unit.path.split("/") if p]
        q |= Q(area__code__in=ancestors)
    return qs.filter(q)


@dataclass
class Measured:
    baseline_per_30: float
    last_30: int
    change: float | None
    since_start: int
    called_back: int
    resolution_rate: float | None
    milestones_done: int
    milestones: int
    met: bool | None


def challenge_scope(task: ChallengeTask) -> QuerySet[Ticket]:
    """The requests a 揭榜 task is measured on: category (and below), district, street, one of the keywords."""
    qs = ticket_access.all_tickets().filter(duplicate_of__isnull=True)
    if task.category_id:
        qs = qs.filter(category__code__startswith=task.category.code)  # type: ignore[union-attr]
    if task.district_id:
        qs = qs.filter(district_id=task.district_id)
    if task.street_id:
        qs = qs.filter(street_id=task.street_id)
    words = task.keywords.split()
    if words:
        q = Q()
        for w in words:
            q |= Q(title__contains=w) | Q(content__contains=w)
        qs = qs.filter(q)
    return qs


def measure(task: ChallengeTask) -> Measured:
    today = clock.local_date(clock.now())
    scope = challenge_scope(task)
    days = (task.baseline_to - task.baseline_from).days + 1
    baseline = scope.filter(
        intake_at__gte=clock.start_of_day(task.baseline_from),
        intake_at__lt=clock.start_of_day(task.baseline_to + dt.timedelta(days=1)),
    ).count()
    per_30 = baseline * 30 / days if days > 0 else 0.0
    last_30 = scope.filter(intake_at__gte=clock.start_of_day(today - dt.timedelta(days=29))).count()
    change = round((last_30 - per_30) / per_30 * 100, 1) if per_30 else None
    since = scope.filter(intake_at__gte=clock.start_of_day(task.starts_on))
    answers = Callback.objects.filter(ticket__in=since.values("pk")).aggregate(
        n=Count("pk"), solved=Count("pk", filter=Q(resolution="solved"))
    )
    n = answers["n"]
    milestones = list(task.milestones.all())
    return Measured(
        baseline_per_30=round(per_30, 1),
        last_30=last_30,
        change=change,
        since_start=since.count(),
        called_back=n,
        resolution_rate=round(answers["solved"] * 100 / n, 1) if n else None,
        milestones_done=sum(1 for m in milestones if m.done_on),
        milestones=len(milestones),
        met=None if change is None else change <= float(task.target_change),
    )


def delivered_challenges(profile: CadreProfile) -> QuerySet[ChallengeTask]:
    return ChallengeTask.objects.filter(leader=profile).exclude(state=ChallengeState.OPEN)


def unit_of(code: str) -> OrgUnit | None:
    return OrgUnit.objects.filter(code=code).first()


def rewards(user: Any) -> list[Any]:
    """The rewards of the units whose personnel the user reads, each with its ledger and what is left."""
    from .models import Reward

    out = []
    qs = Reward.objects.filter(unit__in=access.personnel_units(user)).select_related("unit", "rule", "snapshot")
    for r in qs.prefetch_related("spendings__topic"):
        lines = list(r.spendings.all())
        r.spent = sum((x.amount for x in lines), Decimal(0))  # type: ignore[attr-defined]
        r.left = r.amount - r.spent  # type: ignore[attr-defined]
        r.lines = lines  # type: ignore[attr-defined]
        out.append(r)
    return out


@dataclass
class Honour:
    profile: CadreProfile
    solved: int
    called_back: int
    satisfied_rate: float | None
    recognitions: int


def honours(user: Any, month: dt.date, *, top: int = 10, min_callbacks: int = 3) -> list[Honour]:
    """The monthly honours list of the area the user reads: cadres with at least `min_callbacks` judged replies,
    by callbacks confirming solved, then satisfaction, then commendations of the month."""
    end = add_months(month, 1)
    visible = {p.user_id: p for p in access.visible_profiles(user)}
    if not visible:
        return []
    recs = records(month, end)
    praised: dict[int, int] = {}
    for profile_id in Recognition.objects.filter(
        profile__in=list(visible.values()), at__gte=clock.start_of_day(month), at__lt=clock.start_of_day(end)
    ).values_list("profile_id", flat=True):
        praised[profile_id] = praised.get(profile_id, 0) + 1
    rows = []
    for user_id, r in recs.items():
        p = visible.get(user_id)
        if p is None or r.count("called_back") < min_callbacks:
            continue
        rows.append(Honour(p, r.count("solved"), r.count("called_back"), r.satisfied_rate, praised.get(p.pk, 0)))
    rows.sort(key=lambda h: (-h.solved, -(h.satisfied_rate or 0), -h.recognitions, h.profile.pk))
    return rows[:top]


def wall(user: Any, month: dt.date) -> list[Recognition]:
    end = add_months(month, 1)
    return list(
        Recognition.objects.filter(
            profile__in=access.visible_profiles(user), at__gte=clock.start_of_day(month), at__lt=clock.start_of_day(end)
        ).select_related("profile__user", "profile__unit", "ticket")[:60]
    )
