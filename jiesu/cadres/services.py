"""Every change of the cadre module. Each public service checks who may do it (through `access`), validates all
input before writing, runs in one transaction and writes one append-only `CadreEvent`."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jiesu.assessment import selectors as assessment_selectors
from jiesu.assessment.models import Snapshot, UnitScore
from jiesu.catalog.models import Category
from jiesu.governance import access as governance_access
from jiesu.governance.models import Hotspot, MonthlyTopic
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.lib.validation import clean_text
from jiesu.orgs import access as org_access
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as ticket_access

from . import access, selectors
from .models import (
    AT_MOST_METRICS,
    AccountabilityCase,
    Application,
    CadreEvent,
    CadreProfile,
    CaseState,
    ChallengeMilestone,
    ChallengeState,
    ChallengeTask,
    Charter,
    Correction,
    Dimension,
    Evaluation,
    EvaluationRule,
    EvaluationState,
    Flag,
    FlagKind,
    FlagRule,
    FlagState,
    GoalSource,
    Interview,
    InterviewState,
    ItemScore,
    Judgement,
    Ladder,
    MeasureKind,
    Metric,
    PeriodKind,
    Recognition,
    RecognitionKind,
    RectificationItem,
    RectificationMetric,
    RectificationState,
    ResponsibilityItem,
    Reward,
    RewardRule,
    RubricRow,
    ScoringPeriod,
    Spending,
    ToleranceCase,
    ToleranceGround,
)
from .records import Record

TWO = Decimal("0.01")


def _event(
    actor: Any,
    action: str,
    *,
    profile: CadreProfile | None = None,
    unit: OrgUnit | None = None,
    subject: str = "",
    subject_id: int | None = None,
    **data: Any,
) -> CadreEvent:
    return CadreEvent.objects.create(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        profile=profile,
        unit=unit or (profile.unit if profile else None),
        action=action,
        subject=subject,
        subject_id=subject_id,
        data=data,
        at=clock.now(),
    )


# --- input checks ---------------------------------------------------------------------------------------
def _text(value: object, on: str, label: Any, limit: int = 2000, *, required: bool = True) -> str:
    return clean_text(value, on=on, label=label, limit=limit, required=required)


def _date(value: object, on: str, label: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(_("%(field)s must be a date (YYYY-MM-DD)."), on=on, field=label) from None


def _month(value: object, on: str, label: Any) -> dt.date:
    text = str(value or "").strip()
    if len(text) == 7:
        text += "-01"
    return _date(text, on, label).replace(day=1)


def _datetime(value: object, on: str, label: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:
        moment = dt.datetime.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(_("%(field)s must be a date and time (YYYY-MM-DD HH:MM)."), on=on, field=label) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.SHANGHAI)


def _decimal(value: object, on: str, label: Any, *, low: Decimal | None = None, high: Decimal | None = None) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("%(field)s must be a number."), on=on, field=label) from None
    if not number.is_finite() or (low is not None and number < low) or (high is not None and number > high):
        raise InvalidInput(
            _("%(field)s must lie between %(low)s and %(high)s."),
            on=on,
            field=label,
            low=low if low is not None else "−∞",
            high=high if high is not None else "∞",
        )
    return number.quantize(TWO, rounding=ROUND_HALF_UP)


def _choice(value: object, choices: Any, on: str, label: Any) -> str:
    if value not in choices.values:
        raise InvalidInput(_("%(field)s: choose one of the listed values."), on=on, field=label)
    return str(value)


def _unit(code: object, on: str = "unit") -> OrgUnit:
    unit = OrgUnit.objects.filter(code=str(code or "").strip()).first()
    if unit is None:
        raise InvalidInput(_("Unknown unit code."), on=on)
    return unit


def _manage(user: Any, unit: OrgUnit) -> None:
    if not access.may_manage_unit(user, unit):
        raise Forbidden()


def _profile(user: Any, pk: object) -> CadreProfile:
    try:
        return access.visible_profiles(user).get(pk=int(str(pk)))
    except (CadreProfile.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("The cadre does not exist or you may not see them.")) from None


def _ticket_ids(user: Any, numbers: object) -> list[int]:
    """Ticket numbers (space- or comma-separated) the user may see, as ids; an unknown one is refused."""
    text = str(numbers or "").replace(",", " ").replace("，", " ")
    wanted = [n for n in text.split() if n]
    if not wanted:
        return []
    if any(not n.isdigit() for n in wanted):
        raise InvalidInput(_("Ticket numbers are digits only."), on="tickets")
    found = dict(ticket_access.all_tickets().filter(number__in=wanted).values_list("number", "pk"))
    missing = [n for n in wanted if n not in found]
    if missing:
        raise InvalidInput(_("Unknown ticket number: %(number)s."), on="tickets", number=missing[0])
    return [found[n] for n in wanted]


# --- profiles ------------------------------------------------------------------------------------------
@transaction.atomic
def create_profile(
    actor: Any,
    *,
    username: str,
    unit: str,
    post: str,
    ladder: str = Ladder.MANAGEMENT,
    level: str = "",
    party_member: bool = False,
    started_on: Any,
) -> CadreProfile:
    the_unit = _unit(unit)
    _manage(actor, the_unit)
    user = get_user_model().objects.filter(username=str(username).strip()).first()
    if user is None:
        raise InvalidInput(_("Unknown login name."), on="username")
    if CadreProfile.objects.filter(user=user).exists():
        raise InvalidInput(_("This person already has a cadre profile."), on="username")
    profile = CadreProfile.objects.create(
        user=user,
        unit=the_unit,
        post=_text(post, "post", _("post"), 100),
        ladder=_choice(ladder, Ladder, "ladder", _("career ladder")),
        level=_text(level, "level", _("level"), 50, required=False),
        party_member=bool(party_member),
        started_on=_date(started_on, "started_on", _("started on")),
    )
    _event(actor, "profile_created", profile=profile, subject="profile", subject_id=profile.pk, post=profile.post)
    return profile


# --- responsibility items, charters, scoring ------------------------------------------------------------
@transaction.atomic
def add_item(
    actor: Any,
    *,
    unit: str,
    post: str,
    title: str,
    measure: str,
    target: Any,
    weight: Any,
    effective_from: Any,
    metric: str = "",
    dimension: str = Dimension.JI,
    source: str = GoalSource.TYPED,
) -> ResponsibilityItem:
    the_unit = _unit(unit)
    _manage(actor, the_unit)
    measure = _choice(measure, MeasureKind, "measure", _("measure"))
    metric = _choice(metric, Metric, "metric", _("metric")) if measure == MeasureKind.COMPUTED else ""
    item = ResponsibilityItem.objects.create(
        unit=the_unit,
        post=_text(post, "post", _("post"), 100),
        title=_text(title, "title", _("item"), 200),
        dimension=_choice(dimension, Dimension, "dimension", _("dimension")),
        source=_choice(source, GoalSource, "source", _("goal")),
        measure=measure,
        metric=metric,
        target=_decimal(target, "target", _("target"), low=Decimal(0), high=Decimal(100000)),
        weight=_decimal(weight, "weight", _("weight"), low=Decimal("0.01"), high=Decimal(1000)),
        effective_from=_date(effective_from, "effective_from", _("in force from")),
        created_by=actor,
        created_at=clock.now(),
    )
    _event(actor, "item_added", unit=the_unit, subject="item", subject_id=item.pk, post=item.post, title=item.title)
    return item


@transaction.atomic
def revise_item(actor: Any, item_id: int, *, target: Any, weight: Any, effective_from: Any) -> ResponsibilityItem:
    """A rule change: the item ends the day before `effective_from` and a new version starts then. A closed period
    keeps the version it was scored by (its scores copy weight and target)."""
    old = ResponsibilityItem.objects.select_for_update().filter(pk=item_id).first()
    if old is None or not access.may_read_unit(actor, old.unit):
        raise NotFound(_("The responsibility item does not exist or you may not see it."))
    _manage(actor, old.unit)
    start = _date(effective_from, "effective_from", _("in force from"))
    if old.effective_to is not None:
        raise IllegalTransition(_("This version has already been replaced; revise the newest one."))
    if start <= old.effective_from:
        raise InvalidInput(_("A new version must start after the current one."), on="effective_from")
    if ScoringPeriod.objects.filter(unit=old.unit, closed_at__isnull=False, ends_on__gt=start).exists():
        raise InvalidInput(
            _("A closed period already lies after this date; its rules cannot change."), on="effective_from"
        )
    new = ResponsibilityItem.objects.create(
        unit=old.unit,
        post=old.post,
        title=old.title,
        dimension=old.dimension,
        source=old.source,
        measure=old.measure,
        metric=old.metric,
        target=_decimal(target, "target", _("target"), low=Decimal(0), high=Decimal(100000)),
        weight=_decimal(weight, "weight", _("weight"), low=Decimal("0.01"), high=Decimal(1000)),
        effective_from=start,
        previous=old,
        created_by=actor,
        created_at=clock.now(),
    )
    ResponsibilityItem.objects.filter(pk=old.pk).update(effective_to=start)
    _event(
        actor,
        "item_revised",
        unit=old.unit,
        subject="item",
        subject_id=new.pk,
        previous=old.pk,
        weight=[str(old.weight), str(new.weight)],
        target=[str(old.target), str(new.target)],
        effective_from=start.isoformat(),
    )
    return new


def items_in_force(unit: OrgUnit, post: str, on: dt.date) -> list[ResponsibilityItem]:
    from django.db.models import Q

    return list(
        ResponsibilityItem.objects.filter(unit=unit, post=post, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on))
        .order_by("dimension", "id")
    )


@transaction.atomic
def issue_charter(actor: Any, profile_id: int, year: int) -> Charter:
    profile = _profile(actor, profile_id)
    _manage(actor, profile.unit)
    if not 2000 <= int(year) <= 2100:
        raise InvalidInput(_("The year is not valid."), on="year")
    if not items_in_force(profile.unit, profile.post, dt.date(int(year), 12, 31)) and not items_in_force(
        profile.unit, profile.post, dt.date(int(year), 1, 1)
    ):
        raise InvalidInput(_("The post has no responsibility items for that year yet."), on="year")
    charter, created = Charter.objects.get_or_create(
        profile=profile, year=int(year), defaults={"issued_by": actor, "issued_at": clock.now()}
    )
    if not created:
        raise InvalidInput(_("The responsibility charter for that year has already been issued."), on="year")
    _event(actor, "charter_issued", profile=profile, subject="charter", subject_id=charter.pk, year=charter.year)
    return charter


@transaction.atomic
def acknowledge_charter(user: Any, charter_id: int) -> Charter:
    """Only the cadre themself acknowledges their 目标责任书."""
    charter = Charter.objects.select_for_update().select_related("profile").filter(pk=charter_id).first()
    if charter is None or charter.profile.user_id != user.pk:
        raise NotFound(_("The responsibility charter does not exist or you may not see it."))
    if charter.acknowledged_at is not None:
        raise IllegalTransition(_("You have already acknowledged this responsibility charter."))
    charter.acknowledged_at = clock.now()
    charter.save(update_fields=["acknowledged_at"])
    _event(user, "charter_acknowledged", profile=charter.profile, subject="charter", subject_id=charter.pk)
    return charter


def period_end(kind: str, start: dt.date) -> dt.date:
    return selectors.add_months(start, 3 if kind == PeriodKind.QUARTER else 1)


@transaction.atomic
def open_period(actor: Any, *, unit: str, kind: str, starts_on: Any) -> ScoringPeriod:
    the_unit = _unit(unit)
    _manage(actor, the_unit)
    kind = _choice(kind, PeriodKind, "kind", _("kind"))
    start = _date(starts_on, "starts_on", _("from"))
    if start.day != 1 or (kind == PeriodKind.QUARTER and start.month % 3 != 1):
        raise InvalidInput(_("A period starts on the first day of a month (of a quarter)."), on="starts_on")
    period, created = ScoringPeriod.objects.get_or_create(
        unit=the_unit, kind=kind, starts_on=start, defaults={"ends_on": period_end(kind, start)}
    )
    if created:
        _event(actor, "period_opened", unit=the_unit, subject="period", subject_id=period.pk, kind=kind)
    return period


def _period(actor: Any, period_id: int, *, for_change: bool = True) -> ScoringPeriod:
    period = ScoringPeriod.objects.select_related("unit").filter(pk=period_id).first()
    if period is None or not access.may_read_unit(actor, period.unit):
        raise NotFound(_("The scoring period does not exist or you may not see it."))
    if for_change:
        _manage(actor, period.unit)
        if period.is_closed:
            raise IllegalTransition(_("The period is closed; its scores no longer change."))
    return period


@transaction.atomic
def judge(actor: Any, period_id: int, profile_id: int, item_id: int, value: Any, evidence: str) -> Judgement:
    period = _period(actor, period_id)
    profile = _profile(actor, profile_id)
    item = ResponsibilityItem.objects.filter(pk=item_id, measure=MeasureKind.JUDGED).first()
    if item is None or item not in items_in_force(profile.unit, profile.post, period.starts_on):
        raise InvalidInput(_("This item is not a judged item of the cadre's post in that period."), on="item")
    j, _created = Judgement.objects.update_or_create(
        period=period,
        profile=profile,
        item=item,
        defaults={
            "value": _decimal(value, "value", _("judged value"), low=Decimal(0), high=Decimal(100)),
            "evidence": _text(evidence, "evidence", _("evidence")),
            "judged_by": actor,
            "judged_at": clock.now(),
        },
    )
    _event(
        actor, "item_judged", profile=profile, subject="period", subject_id=period.pk, item=item.pk, value=str(j.value)
    )
    return j


def item_points(weight: Decimal, target: Decimal, actual: Decimal | None, *, at_most: bool) -> Decimal:
    """The scoring rule of one item. At-least items earn weight × min(1, actual / target); at-most items (reopens,
    fake closures) earn the whole weight when actual ≤ target, else nothing; no figure earns nothing."""
    if actual is None:
        return Decimal("0.00")
    if at_most:
        ratio = Decimal(1) if actual <= target else Decimal(0)
    else:
        ratio = Decimal(1) if target <= 0 else min(Decimal(1), actual / target)
    return (weight * ratio).quantize(TWO, rounding=ROUND_HALF_UP)


METRIC_FIGURE = {
    Metric.SIGNED_ON_TIME_RATE: "signed",
    Metric.SOLVED_RATE: "called_back",
    Metric.SATISFIED_RATE: "rated",
    Metric.HANDLED: "handled",
    Metric.REOPENS: "reopens",
    Metric.FAKE_CLOSURES: "fake_closures",
    Metric.WHISTLES: "whistles",
}


def metric_value(metric: str, rec: Record, profile: CadreProfile, start: dt.date, end: dt.date) -> Decimal | None:
    value: float | int | None
    if metric == Metric.SIGNED_ON_TIME_RATE:
        value = rec.signed_on_time_rate
    elif metric == Metric.SOLVED_RATE:
        value = rec.solved_rate
    elif metric == Metric.SATISFIED_RATE:
        value = rec.satisfied_rate
    elif metric == Metric.CHALLENGES_DONE:
        value = ChallengeTask.objects.filter(
            leader=profile,
            delivered_at__gte=clock.start_of_day(start),
            delivered_at__lt=clock.start_of_day(end),
        ).count()
    else:
        value = rec.count(METRIC_FIGURE[Metric(metric)])
    return None if value is None else Decimal(str(value)).quantize(TWO, rounding=ROUND_HALF_UP)


@transaction.atomic
def score_period(actor: Any, period_id: int) -> list[ItemScore]:
    """Score every cadre of the period's unit item by item, by the item versions in force on its first day."""
    period = _period(actor, period_id)
    ScoringPeriod.objects.select_for_update().filter(pk=period.pk).first()
    cadres = list(CadreProfile.objects.filter(unit=period.unit).select_related("user"))
    recs = selectors.records(period.starts_on, period.ends_on)
    judged = {(j.profile_id, j.item_id): j for j in Judgement.objects.filter(period=period)}
    ItemScore.objects.filter(period=period).delete()
    out = []
    for profile in cadres:
        rec = recs.get(profile.user_id, Record())
        for item in items_in_force(period.unit, profile.post, period.starts_on):
            tickets: list[int] = []
            note = ""
            if item.measure == MeasureKind.JUDGED:
                j = judged.get((profile.pk, item.pk))
                actual = j.value if j else None
                note = j.evidence[:255] if j else ""
            else:
                actual = metric_value(item.metric, rec, profile, period.starts_on, period.ends_on)
                figure = METRIC_FIGURE.get(Metric(item.metric))
                tickets = sorted(rec.figures[figure]) if figure else []
            points = item_points(item.weight, item.target, actual, at_most=item.metric in AT_MOST_METRICS)
            out.append(
                ItemScore(
                    period=period,
                    profile=profile,
                    item=item,
                    weight=item.weight,
                    target=item.target,
                    actual=actual,
                    points=points,
                    tickets=tickets,
                    note=note,
                )
            )
    ItemScore.objects.bulk_create(out)
    _event(actor, "period_scored", unit=period.unit, subject="period", subject_id=period.pk, rows=len(out))
    return out


@transaction.atomic
def close_period(actor: Any, period_id: int) -> ScoringPeriod:
    """Score once more and close: from now on the period's scores are immutable (corrections are new rows)."""
    score_period(actor, period_id)
    period = ScoringPeriod.objects.get(pk=period_id)
    period.closed_at, period.closed_by = clock.now(), actor
    period.save(update_fields=["closed_at", "closed_by"])
    ItemScore.objects.filter(period=period).update(frozen=True)
    _event(actor, "period_closed", unit=period.unit, subject="period", subject_id=period.pk)
    return period


# --- 约谈 → 整改清单 → verification -----------------------------------------------------------------------
def _area(user: Any) -> OrgUnit:
    area = access.org_department_area(user)
    if area is None:
        raise Forbidden()
    return area


@transaction.atomic
def schedule_interview(
    actor: Any, *, unit: str, month: Any, scheduled_for: Any, attendees: str, place: str = ""
) -> Interview:
    area = _area(actor)
    the_unit = _unit(unit)
    if not the_unit.path.startswith(area.path):
        raise NotFound(_("The unit does not exist or lies outside your area."))
    first = _month(month, "month", _("assessment month"))
    snapshot, bottom = selectors.bottom_list(actor, first)
    row = next((r for r in bottom if r.unit_id == the_unit.pk), None)
    if snapshot is None or row is None:
        raise InvalidInput(_("The unit is not on that month's published 约谈 list."), on="unit")
    when = _datetime(scheduled_for, "scheduled_for", _("when"))
    if Interview.objects.filter(unit=the_unit, month=first).exists():
        raise InvalidInput(_("A 约谈 of this unit for that month is already scheduled."), on="unit")
    interview = Interview.objects.create(
        unit=the_unit,
        month=first,
        snapshot=snapshot,
        score=row.score,
        rank=row.rank,
        scheduled_for=when,
        place=_text(place, "place", _("place"), 100, required=False),
        attendees=_text(attendees, "attendees", _("attendees"), 1000),
        scheduled_by=actor,
        created_at=clock.now(),
    )
    _event(actor, "interview_scheduled", unit=the_unit, subject="interview", subject_id=interview.pk)
    return interview


def _interview(actor: Any, pk: int) -> Interview:
    interview = Interview.objects.select_related("unit").filter(pk=pk).first()
    if interview is None or not access.may_read_unit(actor, interview.unit):
        raise NotFound(_("The 约谈 does not exist or you may not see it."))
    area = _area(actor)
    if not interview.unit.path.startswith(area.path):
        raise NotFound(_("The 约谈 does not exist or you may not see it."))
    return interview


@transaction.atomic
def record_minutes(actor: Any, interview_id: int, minutes: str) -> Interview:
    interview = _interview(actor, interview_id)
    if interview.state == InterviewState.CLOSED:
        raise IllegalTransition(_("The 约谈 is closed."))
    interview.minutes = _text(minutes, "minutes", _("minutes"), 10000)
    interview.state = InterviewState.HELD
    interview.save(update_fields=["minutes", "state"])
    _event(actor, "interview_held", unit=interview.unit, subject="interview", subject_id=interview.pk)
    return interview


@transaction.atomic
def add_rectification(
    actor: Any, interview_id: int, *, title: str, owner: Any, due_on: Any, metric: str, target: Any
) -> RectificationItem:
    interview = _interview(actor, interview_id)
    if interview.state == InterviewState.CLOSED:
        raise IllegalTransition(_("The 约谈 is closed."))
    try:
        profile = CadreProfile.objects.get(pk=int(owner), unit__path__startswith=interview.unit.path)
    except (CadreProfile.DoesNotExist, ValueError, TypeError):
        raise InvalidInput(_("The owner must be a cadre of the unit."), on="owner") from None
    due = _date(due_on, "due_on", _("due on"))
    if due < clock.local_date(clock.now()):
        raise InvalidInput(_("The deadline lies in the past."), on="due_on")
    item = RectificationItem.objects.create(
        interview=interview,
        title=_text(title, "title", _("rectification"), 200),
        owner=profile,
        due_on=due,
        metric=_choice(metric, RectificationMetric, "metric", _("verified by")),
        target=_decimal(target, "target", _("target"), low=Decimal(0), high=Decimal(100)),
    )
    _event(actor, "rectification_added", profile=profile, subject="interview", subject_id=interview.pk, item=item.pk)
    return item


@transaction.atomic
def verify_rectifications(actor: Any = None) -> dict[str, int]:
    """Later months' published figures verify each open item: the first published month after the 约谈 whose figure
    reaches the target verifies it; past its deadline without that, it escalates (once) to the organisation
    department and the unit's Party secretary (an event on the owner's file)."""
    today = clock.local_date(clock.now())
    done = {"verified": 0, "escalated": 0}
    items = RectificationItem.objects.select_related("interview__unit", "owner").filter(
        state__in=[RectificationState.OPEN, RectificationState.ESCALATED]
    )
    for item in items:
        unit = item.interview.unit
        months = sorted(
            set(
                Snapshot.objects.filter(month__gt=item.interview.month, published_at__isnull=False).values_list(
                    "month", flat=True
                )
            )
        )
        for month in months:
            snapshot = assessment_selectors.current_snapshot(month, published_only=True)
            score = UnitScore.objects.filter(snapshot=snapshot, unit=unit).first()
            value = getattr(score, item.metric, None) if score else None
            if value is not None and Decimal(value) >= item.target:
                item.state, item.verified_month, item.verified_value = RectificationState.VERIFIED, month, value
                item.changed_at = clock.now()
                item.save(update_fields=["state", "verified_month", "verified_value", "changed_at"])
                _event(
                    actor,
                    "rectification_verified",
                    profile=item.owner,
                    subject="interview",
                    subject_id=item.interview_id,
                    item=item.pk,
                    month=f"{month:%Y-%m}",
                    value=str(value),
                )
                done["verified"] += 1
                break
        else:
            if item.state == RectificationState.OPEN and today > item.due_on:
                item.state, item.changed_at = RectificationState.ESCALATED, clock.now()
                item.save(update_fields=["state", "changed_at"])
                _event(
                    actor,
                    "rectification_escalated",
                    profile=item.owner,
                    subject="interview",
                    subject_id=item.interview_id,
                    item=item.pk,
                    due_on=item.due_on.isoformat(),
                )
                done["escalated"] += 1
    for interview in Interview.objects.filter(state=InterviewState.HELD):
        states = set(interview.items.values_list("state", flat=True))
        if states == {RectificationState.VERIFIED}:
            interview.state = InterviewState.CLOSED
            interview.save(update_fields=["state"])
            _event(actor, "interview_closed", unit=interview.unit, subject="interview", subject_id=interview.pk)
    return done


# --- supervision flags -----------------------------------------------------------------------------------
DEFAULT_RULES = (
    (FlagKind.LATE_SIGNING, 3, 30),
    (FlagKind.FAKE_CLOSURE, 2, 30),
    (FlagKind.REOPEN_STREAK, 3, 30),
    (FlagKind.UNJUSTIFIED_RETURNS, 3, 30),
)
FLAG_FIGURE = {
    FlagKind.LATE_SIGNING: "signed_late",
    FlagKind.FAKE_CLOSURE: "fake_closures",
    FlagKind.REOPEN_STREAK: "reopens",
    FlagKind.UNJUSTIFIED_RETURNS: "returns_rejected",
}


def ensure_flag_rules() -> None:
    if not FlagRule.objects.exists():
        FlagRule.objects.bulk_create(FlagRule(kind=k, threshold=t, window_days=w) for k, t, w in DEFAULT_RULES)


@transaction.atomic
def run_flag_rules(actor: Any = None) -> list[Flag]:
    """Apply every active rule to every cadre's trail over the rule's window ending today. A flag is a question for
    discipline inspection; it never changes a score. One flag per rule, cadre and window end."""
    today = clock.local_date(clock.now())
    end = today + dt.timedelta(days=1)
    profiles = {p.user_id: p for p in CadreProfile.objects.select_related("unit")}
    made = []
    by_window: dict[int, dict[int, Record]] = {}
    for rule in FlagRule.objects.filter(active=True):
        recs = by_window.get(rule.window_days)
        if recs is None:
            recs = by_window[rule.window_days] = selectors.records(end - dt.timedelta(days=rule.window_days), end)
        figure = FLAG_FIGURE[FlagKind(rule.kind)]
        for user_id, rec in recs.items():
            profile = profiles.get(user_id)
            if profile is None or rec.count(figure) < rule.threshold:
                continue
            flag, created = Flag.objects.get_or_create(
                rule=rule,
                profile=profile,
                window_to=today,
                defaults={
                    "window_from": end - dt.timedelta(days=rule.window_days),
                    "count": rec.count(figure),
                    "tickets": sorted(rec.figures[figure]),
                    "created_at": clock.now(),
                },
            )
            if created:
                _event(actor, "flag_raised", profile=profile, subject="flag", subject_id=flag.pk, kind=rule.kind)
                made.append(flag)
    return made


def _discipline(actor: Any, profile: CadreProfile) -> None:
    area = access.discipline_area(actor) or access.org_department_area(actor)
    if area is None or not profile.unit.path.startswith(area.path):
        raise Forbidden()


@transaction.atomic
def decide_flag(actor: Any, flag_id: int, decision: str, reason: str) -> Flag:
    flag = Flag.objects.select_for_update().select_related("profile__unit", "rule").filter(pk=flag_id).first()
    if flag is None or not access.flag_profiles(actor).filter(pk=flag.profile_id).exists():
        raise NotFound(_("The flag does not exist or you may not see it."))
    if access.discipline_area(actor) is None:
        raise Forbidden()
    _discipline(actor, flag.profile)
    if flag.state != FlagState.OPEN:
        raise IllegalTransition(_("The flag has already been decided."))
    decision = _choice(decision, FlagState, "decision", _("decision"))
    if decision == FlagState.OPEN:
        raise InvalidInput(_("%(field)s: choose one of the listed values."), on="decision", field=_("decision"))
    flag.reason = _text(reason, "reason", _("reason"))
    flag.state, flag.decided_by, flag.decided_at = decision, actor, clock.now()
    flag.save(update_fields=["state", "reason", "decided_by", "decided_at"])
    _event(actor, "flag_decided", profile=flag.profile, subject="flag", subject_id=flag.pk, decision=decision)
    if decision == FlagState.CASE_OPENED:
        _open_case(actor, flag.profile, flag.reason, flag.tickets, flag=flag)
    return flag


# --- accountability (问责) and fault tolerance (容错) ------------------------------------------------------
def _open_case(
    actor: Any,
    profile: CadreProfile,
    allegation: str,
    tickets: list[int],
    *,
    flag: Flag | None = None,
    interview: Interview | None = None,
) -> AccountabilityCase:
    case = AccountabilityCase.objects.create(
        profile=profile,
        flag=flag,
        interview=interview,
        allegation=allegation,
        tickets=tickets,
        opened_by=actor,
        opened_at=clock.now(),
    )
    _event(actor, "case_opened", profile=profile, subject="case", subject_id=case.pk, flag=flag.pk if flag else None)
    return case


@transaction.atomic
def open_case(
    actor: Any, profile_id: int, allegation: str, *, tickets: str = "", interview_id: int | None = None
) -> AccountabilityCase:
    """From a 约谈 (the organisation department) or directly (discipline inspection)."""
    profile = CadreProfile.objects.select_related("unit").filter(pk=profile_id).first()
    if profile is None or not access.flag_profiles(actor).filter(pk=profile.pk).exists():
        raise NotFound(_("The cadre does not exist or you may not see them."))
    _discipline(actor, profile)
    interview = None
    if interview_id:
        interview = _interview(actor, int(interview_id))
    return _open_case(
        actor,
        profile,
        _text(allegation, "allegation", _("allegation")),
        _ticket_ids(actor, tickets),
        interview=interview,
    )


def _case(user: Any, pk: int) -> AccountabilityCase:
    case = AccountabilityCase.objects.select_related("profile__unit", "profile__user").filter(pk=pk).first()
    if case is None or not access.flag_profiles(user).filter(pk=case.profile_id).exists():
        raise NotFound(_("The case does not exist or you may not see it."))
    return case


def _move(case: AccountabilityCase | ToleranceCase, allowed: set[str], to: str) -> None:
    if case.state not in allowed:
        raise IllegalTransition(_("This step is not possible in the case's current state."))
    case.state = to


@transaction.atomic
def case_statement(user: Any, case_id: int, statement: str) -> AccountabilityCase:
    """申辩: the cadre states their side."""
    case = _case(user, case_id)
    if case.profile.user_id != user.pk:
        raise Forbidden()
    _move(case, {CaseState.OPENED}, CaseState.STATEMENT)
    case.statement = _text(statement, "statement", _("statement (申辩)"), 10000)
    case.save(update_fields=["state", "statement"])
    _event(user, "case_statement", profile=case.profile, subject="case", subject_id=case.pk)
    return case


@transaction.atomic
def decide_case(actor: Any, case_id: int, decision: str, retention_until: Any) -> AccountabilityCase:
    case = _case(actor, case_id)
    _discipline(actor, case.profile)
    _move(case, {CaseState.OPENED, CaseState.STATEMENT}, CaseState.DECIDED)
    case.decision = _text(decision, "decision", _("decision"), 10000)
    keep = _date(retention_until, "retention_until", _("kept on file until"))
    if keep <= clock.local_date(clock.now()):
        raise InvalidInput(_("The retention period must end in the future."), on="retention_until")
    case.retention_until = keep
    case.save(update_fields=["state", "decision", "retention_until"])
    _event(actor, "case_decided", profile=case.profile, subject="case", subject_id=case.pk)
    return case


@transaction.atomic
def appeal_case(user: Any, case_id: int, appeal: str) -> AccountabilityCase:
    case = _case(user, case_id)
    if case.profile.user_id != user.pk:
        raise Forbidden()
    _move(case, {CaseState.DECIDED}, CaseState.APPEALED)
    case.appeal = _text(appeal, "appeal", _("appeal"), 10000)
    case.save(update_fields=["state", "appeal"])
    _event(user, "case_appealed", profile=case.profile, subject="case", subject_id=case.pk)
    return case


@transaction.atomic
def decide_case_appeal(actor: Any, case_id: int, decision: str) -> AccountabilityCase:
    case = _case(actor, case_id)
    _discipline(actor, case.profile)
    _move(case, {CaseState.APPEALED}, CaseState.CLOSED)
    case.appeal_decision = _text(decision, "decision", _("appeal decision"), 10000)
    case.save(update_fields=["state", "appeal_decision"])
    _event(actor, "case_appeal_decided", profile=case.profile, subject="case", subject_id=case.pk)
    return case


@transaction.atomic
def apply_tolerance(
    user: Any, profile_id: int, *, facts: str, grounds: list[str], tickets: str = "", case_id: int | None = None
) -> ToleranceCase:
    """容错 application, by the cadre (their own) or by their unit (its Party secretary or leader)."""
    profile = CadreProfile.objects.select_related("unit").filter(pk=profile_id).first()
    if profile is None or not access.visible_profiles(user).filter(pk=profile.pk).exists():
        raise NotFound(_("The cadre does not exist or you may not see them."))
    own = profile.user_id == user.pk
    if not own and not access.may_manage_unit(user, profile.unit):
        raise Forbidden()
    chosen = list(ToleranceGround.objects.filter(key__in=list(grounds or []), active=True))
    if not chosen or len(chosen) != len(set(grounds)):
        raise InvalidInput(_("Choose at least one listed ground (三个区分开来 or a 容误 list)."), on="grounds")
    case = None
    if case_id:
        case = AccountabilityCase.objects.filter(pk=int(case_id), profile=profile).first()
        if case is None:
            raise InvalidInput(_("The accountability case is not this cadre's."), on="case")
    tc = ToleranceCase.objects.create(
        profile=profile,
        case=case,
        applied_by=user,
        by_unit=not own,
        facts=_text(facts, "facts", _("facts"), 10000),
        tickets=_ticket_ids(user, tickets),
        applied_at=clock.now(),
    )
    tc.grounds.set(chosen)
    _event(
        user,
        "tolerance_applied",
        profile=profile,
        subject="tolerance",
        subject_id=tc.pk,
        grounds=[g.key for g in chosen],
    )
    return tc


TOLERANCE_STEPS = {
    CaseState.APPLIED: CaseState.INVESTIGATION,
    CaseState.INVESTIGATION: CaseState.CONSULTATION,
    CaseState.CONSULTATION: CaseState.DETERMINED,
    CaseState.DETERMINED: CaseState.FED_BACK,
}


def _tolerance(actor: Any, pk: int) -> ToleranceCase:
    tc = ToleranceCase.objects.select_related("profile__unit", "profile__user", "case").filter(pk=pk).first()
    if tc is None or not access.flag_profiles(actor).filter(pk=tc.profile_id).exists():
        raise NotFound(_("The case does not exist or you may not see it."))
    return tc


def _tolerance_decider(actor: Any, tc: ToleranceCase) -> None:
    """谁追责问责谁负责容错: with an accountability case, whoever decides that case (discipline inspection of the
    area); otherwise the organisation department or discipline inspection of the area."""
    if tc.case_id is not None:
        area = access.discipline_area(actor)
        if area is None or not tc.profile.unit.path.startswith(area.path):
            raise Forbidden()
    else:
        _discipline(actor, tc.profile)


@transaction.atomic
def advance_tolerance(
    actor: Any,
    tc_id: int,
    note: str,
    *,
    tolerated: bool | None = None,
    corrections: list[tuple[int, Any]] = (),  # type: ignore[assignment]
) -> ToleranceCase:
    """One step of application → investigation → consultation → determination → feedback, with its note. At the
    determination, `tolerated` is required and `corrections` (item score id, corrected points) become explicit
    correction records; the published scores stay as they were."""
    tc = _tolerance(actor, tc_id)
    _tolerance_decider(actor, tc)
    to = TOLERANCE_STEPS.get(CaseState(tc.state))
    if to is None:
        raise IllegalTransition(_("This step is not possible in the case's current state."))
    text = _text(note, "note", _("note"), 10000)
    if to == CaseState.DETERMINED:
        if tolerated is None:
            raise InvalidInput(_("State whether the fault is tolerated."), on="tolerated")
        tc.tolerated = tolerated
        for score_id, points in corrections:
            _correct(actor, tc.profile, score_id, points, text, tolerance=tc)
    tc.state = to
    tc.notes = {**tc.notes, to: text}
    tc.save(update_fields=["state", "notes", "tolerated"])
    _event(actor, f"tolerance_{to}", profile=tc.profile, subject="tolerance", subject_id=tc.pk, tolerated=tc.tolerated)
    return tc


def _correct(
    actor: Any,
    profile: CadreProfile,
    score_id: int,
    points: Any,
    reason: str,
    *,
    tolerance: ToleranceCase | None = None,
    case: AccountabilityCase | None = None,
) -> Correction:
    score = ItemScore.objects.filter(pk=score_id, profile=profile, frozen=True).first()
    if score is None:
        raise InvalidInput(_("Only a closed period's item score of this cadre can be corrected."), on="score")
    new = _decimal(points, "points", _("points after correction"), low=Decimal(0), high=score.weight)
    c = Correction.objects.create(
        profile=profile,
        item_score=score,
        old_points=score.points,
        new_points=new,
        reason=reason,
        tolerance=tolerance,
        case=case,
        by=actor,
        at=clock.now(),
    )
    _event(
        actor,
        "score_corrected",
        profile=profile,
        subject="item_score",
        subject_id=score.pk,
        old=str(score.points),
        new=str(new),
    )
    return c


# --- 揭榜挂帅 ---------------------------------------------------------------------------------------------
def _poster_area(actor: Any) -> OrgUnit:
    area = access.org_department_area(actor) or governance_access.governance_area(actor)
    if area is None:
        m = org_access.membership(actor)
        if m is not None and access.may_manage_unit(actor, m.unit):
            area = m.unit
    if area is None:
        raise Forbidden()
    return area


@transaction.atomic
def post_challenge(
    actor: Any,
    *,
    title: str,
    goal: str,
    deadline: Any,
    target_change: Any = -30,
    resources: str = "",
    hotspot_id: int | None = None,
    topic_id: int | None = None,
    category: str = "",
    district: str = "",
    street: str = "",
    keywords: str = "",
) -> ChallengeTask:
    """One click from a hotspot or a 每月一题 topic (its scope copied), or a category × area pattern."""
    area = _poster_area(actor)
    today = clock.local_date(clock.now())
    scope: dict[str, Any] = {"category": None, "district": None, "street": None, "keywords": ""}
    hotspot = topic = None
    if hotspot_id:
        hotspot = Hotspot.objects.filter(pk=int(hotspot_id)).select_related("district", "street", "category").first()
        if hotspot is None or not governance_access.in_area(area, hotspot.district or hotspot.street):
            raise NotFound(_("The hotspot does not exist or lies outside your area."))
        scope = {
            "category": hotspot.category,
            "district": hotspot.district,
            "street": hotspot.street,
            "keywords": hotspot.label,
        }
    elif topic_id:
        topic = MonthlyTopic.objects.filter(pk=int(topic_id)).first()
        if topic is None or not governance_access.in_area(area, topic.district or topic.lead_unit):
            raise NotFound(_("The topic does not exist or lies outside your area."))
        street_first = topic.streets.first()
        scope = {
            "category": topic.category,
            "district": topic.district,
            "street": street_first,
            "keywords": topic.keywords,
        }
    else:
        if category:
            scope["category"] = Category.objects.filter(code=str(category).strip()).first()
            if scope["category"] is None:
                raise InvalidInput(_("Unknown category code."), on="category")
        if district:
            scope["district"] = _unit(district, "district")
        if street:
            scope["street"] = _unit(street, "street")
        scope["keywords"] = _text(keywords, "keywords", _("keywords"), 200, required=False)
        if not any(scope.values()):
            raise InvalidInput(_("Give the pattern: a category, an area or keywords."), on="category")
    place = scope["street"] or scope["district"]
    if place is not None and not place.path.startswith(area.path):
        raise InvalidInput(_("The pattern lies outside your area."), on="district")
    due = _date(deadline, "deadline", _("deadline"))
    if due <= today:
        raise InvalidInput(_("The deadline must lie in the future."), on="deadline")
    task = ChallengeTask.objects.create(
        title=_text(title, "title", _("task"), 120),
        goal=_text(goal, "goal", _("goal"), 5000),
        resources=_text(resources, "resources", _("resources"), 5000, required=False),
        deadline=due,
        area=place if place is not None and place.path.startswith(area.path) else area,
        hotspot=hotspot,
        topic=topic,
        baseline_from=today - dt.timedelta(days=28),
        baseline_to=today - dt.timedelta(days=1),
        starts_on=today,
        target_change=_decimal(
            target_change, "target_change", _("target: requests change (%)"), low=Decimal(-100), high=Decimal(100)
        ),
        posted_by=actor,
        posted_at=clock.now(),
        **scope,
    )
    _event(
        actor,
        "challenge_posted",
        unit=task.area,
        subject="challenge",
        subject_id=task.pk,
        hotspot=hotspot_id,
        topic=topic_id,
    )
    return task


def _task(user: Any, pk: int) -> ChallengeTask:
    task = selectors.challenges(user).filter(pk=pk).first()
    if task is None:
        raise NotFound(_("The task does not exist or you may not see it."))
    return task


def _task_manager(actor: Any, task: ChallengeTask) -> None:
    if task.posted_by_id == actor.pk or access.may_manage_unit(actor, task.area):
        return
    area = access.org_department_area(actor) or governance_access.governance_area(actor)
    if area is None or not governance_access.in_area(area, task.area):
        raise Forbidden()


@transaction.atomic
def apply_challenge(user: Any, task_id: int, plan: str) -> Application:
    task = _task(user, task_id)
    profile = access.own_profile(user)
    if profile is None or not profile.unit.path.startswith(task.area.path):
        raise Forbidden(_("Only a cadre of the task's area may apply."))
    if task.state != ChallengeState.OPEN:
        raise IllegalTransition(_("The task is no longer open for applications."))
    text = _text(plan, "plan", _("plan"), 5000)
    try:
        with transaction.atomic():
            app = Application.objects.create(task=task, profile=profile, plan=text, applied_at=clock.now())
    except IntegrityError:
        raise InvalidInput(_("You have already applied for this task."), on="plan") from None
    _event(user, "challenge_applied", profile=profile, subject="challenge", subject_id=task.pk)
    return app


@transaction.atomic
def appoint(actor: Any, task_id: int, application_id: int) -> ChallengeTask:
    task = _task(actor, task_id)
    _task_manager(actor, task)
    if task.state != ChallengeState.OPEN:
        raise IllegalTransition(_("The task is no longer open for applications."))
    app = Application.objects.filter(pk=application_id, task=task).select_related("profile").first()
    if app is None:
        raise InvalidInput(_("Choose one of the task's applicants."), on="application")
    task.leader, task.state = app.profile, ChallengeState.APPOINTED
    task.save(update_fields=["leader", "state"])
    _event(actor, "challenge_appointed", profile=app.profile, subject="challenge", subject_id=task.pk)
    return task


@transaction.atomic
def add_challenge_milestone(actor: Any, task_id: int, title: str, due_on: Any) -> ChallengeMilestone:
    task = _task(actor, task_id)
    if not (task.leader and task.leader.user_id == actor.pk):
        _task_manager(actor, task)
    if task.state != ChallengeState.APPOINTED:
        raise IllegalTransition(_("Milestones follow the appointment and end with the delivery."))
    m = ChallengeMilestone.objects.create(
        task=task, title=_text(title, "title", _("milestone"), 200), due_on=_date(due_on, "due_on", _("due on"))
    )
    _event(
        actor, "challenge_milestone", profile=task.leader, subject="challenge", subject_id=task.pk, milestone=m.title
    )
    return m


@transaction.atomic
def reach_milestone(actor: Any, milestone_id: int) -> ChallengeMilestone:
    m = ChallengeMilestone.objects.select_related("task").filter(pk=milestone_id).first()
    if m is None:
        raise NotFound()
    task = _task(actor, m.task_id)
    if not (task.leader and task.leader.user_id == actor.pk):
        _task_manager(actor, task)
    if m.done_on is not None:
        raise IllegalTransition(_("The milestone has already been reached."))
    m.done_on = clock.local_date(clock.now())
    m.save(update_fields=["done_on"])
    _event(
        actor,
        "challenge_milestone_reached",
        profile=task.leader,
        subject="challenge",
        subject_id=task.pk,
        milestone=m.title,
    )
    return m


@transaction.atomic
def deliver(actor: Any, task_id: int) -> ChallengeTask:
    """The leader reports delivery; the result is measured from the requests in scope and kept with the task."""
    task = _task(actor, task_id)
    _task_manager(actor, task)
    if task.state != ChallengeState.APPOINTED:
        raise IllegalTransition(_("Only an appointed task can be delivered."))
    measured = selectors.measure(task)
    task.state, task.delivered_at = ChallengeState.DELIVERED, clock.now()
    task.result = {
        "baseline_per_30": measured.baseline_per_30,
        "last_30": measured.last_30,
        "change": measured.change,
        "resolution_rate": measured.resolution_rate,
        "met": measured.met,
        "milestones": f"{measured.milestones_done}/{measured.milestones}",
    }
    task.save(update_fields=["state", "delivered_at", "result"])
    _event(actor, "challenge_delivered", profile=task.leader, subject="challenge", subject_id=task.pk, **task.result)
    return task


# --- recognition ---------------------------------------------------------------------------------------
@transaction.atomic
def recognise(actor: Any, profile_id: int, kind: str, note: str, ticket: str = "") -> Recognition:
    profile = _profile(actor, profile_id)
    _manage(actor, profile.unit)
    ids = _ticket_ids(actor, ticket)
    r = Recognition.objects.create(
        profile=profile,
        kind=_choice(kind, RecognitionKind, "kind", _("kind")),
        note=_text(note, "note", _("note"), 2000),
        ticket_id=ids[0] if ids else None,
        by=actor,
        at=clock.now(),
    )
    _event(actor, "recognised", profile=profile, subject="recognition", subject_id=r.pk, kind=r.kind)
    return r


# --- the four-dimension rubric and 评议 ---------------------------------------------------------------------
DEFAULT_WEIGHTS = {"self": "0.20", "leader": "0.50", "residents": "0.30"}


def rubric_in_force(on: dt.date) -> list[RubricRow]:
    version = RubricRow.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if version is None:
        return []
    return list(RubricRow.objects.filter(effective_from=version.effective_from).order_by("dimension", "id"))


def weights_in_force(on: dt.date) -> dict[str, str]:
    rule = EvaluationRule.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if rule is None:
        return dict(DEFAULT_WEIGHTS)
    return {"self": str(rule.weight_self), "leader": str(rule.weight_leader), "residents": str(rule.weight_residents)}


@transaction.atomic
def open_evaluation(actor: Any, profile_id: int, starts_on: Any, ends_on: Any) -> Evaluation:
    profile = _profile(actor, profile_id)
    _manage(actor, profile.unit)
    start = _date(starts_on, "starts_on", _("from"))
    end = _date(ends_on, "ends_on", _("until (exclusive)"))
    if end <= start:
        raise InvalidInput(_("The period must end after it starts."), on="ends_on")
    rows = rubric_in_force(start)
    if not rows:
        raise InvalidInput(_("No rubric is in force for that period."), on="starts_on")
    if Evaluation.objects.filter(profile=profile, starts_on=start).exists():
        raise InvalidInput(_("An evaluation of this cadre for that period already exists."), on="starts_on")
    ev = Evaluation.objects.create(
        profile=profile,
        starts_on=start,
        ends_on=end,
        rows=[
            {
                "id": r.pk,
                "dimension": r.dimension,
                "title": r.title,
                "weight": str(r.weight),
                "scale": r.scale,
                "metric": r.metric,
                "target": str(r.target) if r.target is not None else None,
            }
            for r in rows
        ],
        weights=weights_in_force(start),
        opened_by=actor,
    )
    _event(actor, "evaluation_opened", profile=profile, subject="evaluation", subject_id=ev.pk)
    return ev


def _evaluation(user: Any, pk: int) -> Evaluation:
    ev = Evaluation.objects.select_related("profile__unit", "profile__user").filter(pk=pk).first()
    if ev is None or not access.visible_profiles(user).filter(pk=ev.profile_id).exists():
        raise NotFound(_("The evaluation does not exist or you may not see it."))
    if ev.state != EvaluationState.OPEN:
        raise IllegalTransition(_("The evaluation is recorded; it no longer changes."))
    return ev


def _measured(ev: Evaluation, row: dict[str, Any], rec: Record) -> Decimal | None:
    actual = metric_value(row["metric"], rec, ev.profile, ev.starts_on, ev.ends_on)
    target = Decimal(row["target"] or "0")
    weight = Decimal(row["scale"])
    return item_points(weight, target, actual, at_most=row["metric"] in AT_MOST_METRICS)


def _part_score(ev: Evaluation, values: dict[str, Any], on: str) -> tuple[Decimal, list[dict[str, Any]]]:
    """Σ weight × value ÷ scale over the rows, ÷ Σ weight, × 100; measured rows read the record."""
    rec = selectors.record(ev.profile, ev.starts_on, ev.ends_on)
    total, weights, detail = Decimal(0), Decimal(0), []
    for row in ev.rows:
        scale = Decimal(row["scale"])
        if row["metric"]:
            value = _measured(ev, row, rec) or Decimal(0)
        else:
            raw = values.get(f"row-{row['id']}", "")
            value = _decimal(raw, f"row-{row['id']}", row["title"], low=Decimal(0), high=scale)
        weight = Decimal(row["weight"])
        total += weight * value / scale
        weights += weight
        detail.append({"id": row["id"], on: str(value)})
    return (total * 100 / weights).quantize(TWO, rounding=ROUND_HALF_UP), detail


@transaction.atomic
def self_assess(user: Any, evaluation_id: int, values: dict[str, Any]) -> Evaluation:
    ev = _evaluation(user, evaluation_id)
    if ev.profile.user_id != user.pk:
        raise Forbidden()
    ev.self_score, detail = _part_score(ev, values, "self")
    ev.rows = [row | d for row, d in zip(ev.rows, detail, strict=True)]
    ev.save(update_fields=["self_score", "rows"])
    _event(
        user, "evaluation_self", profile=ev.profile, subject="evaluation", subject_id=ev.pk, score=str(ev.self_score)
    )
    return ev


@transaction.atomic
def leader_assess(actor: Any, evaluation_id: int, values: dict[str, Any], note: str) -> Evaluation:
    ev = _evaluation(actor, evaluation_id)
    _manage(actor, ev.profile.unit)
    if ev.profile.user_id == actor.pk:
        raise Forbidden()
    ev.leader_note = _text(note, "note", _("leader's evidence"), 5000)
    ev.leader_score, detail = _part_score(ev, values, "leader")
    ev.rows = [row | d for row, d in zip(ev.rows, detail, strict=True)]
    ev.save(update_fields=["leader_score", "rows", "leader_note"])
    _event(
        actor,
        "evaluation_leader",
        profile=ev.profile,
        subject="evaluation",
        subject_id=ev.pk,
        score=str(ev.leader_score),
    )
    return ev


def combine(weights: dict[str, str], parts: dict[str, Decimal | None]) -> Decimal | None:
    """The weighted mean of the voices that exist (a missing one leaves its weight out)."""
    total = sum((Decimal(weights[k]) * v for k, v in parts.items() if v is not None), Decimal(0))
    used = sum((Decimal(weights[k]) for k, v in parts.items() if v is not None), Decimal(0))
    return (total / used).quantize(TWO, rounding=ROUND_HALF_UP) if used else None


@transaction.atomic
def record_evaluation(actor: Any, evaluation_id: int) -> Evaluation:
    """Adds the residents' voice (satisfaction of the callbacks on the cadre's replies in the period), combines the
    three by the weights and records the result for good (visible to the cadre, exportable)."""
    ev = _evaluation(actor, evaluation_id)
    _manage(actor, ev.profile.unit)
    if ev.leader_score is None:
        raise IllegalTransition(_("The leader's assessment is still missing."))
    rec = selectors.record(ev.profile, ev.starts_on, ev.ends_on)
    rate = rec.satisfied_rate
    ev.residents_score = Decimal(str(rate)).quantize(TWO) if rate is not None else None
    ev.residents_tickets = sorted(rec.figures["rated"])
    ev.result = combine(ev.weights, {"self": ev.self_score, "leader": ev.leader_score, "residents": ev.residents_score})
    ev.state, ev.recorded_at = EvaluationState.RECORDED, clock.now()
    ev.save(update_fields=["residents_score", "residents_tickets", "result", "state", "recorded_at"])
    Evaluation.objects.filter(pk=ev.pk).update(frozen=True)
    _event(
        actor, "evaluation_recorded", profile=ev.profile, subject="evaluation", subject_id=ev.pk, result=str(ev.result)
    )
    return ev


# --- rewards and the spending ledger -------------------------------------------------------------------------
@transaction.atomic
def compute_rewards(actor: Any, month: Any) -> list[Reward]:
    """Apply the reward rules in force to the month's published ranking (the organisation department's area).
    Idempotent: a unit's reward for a rule and snapshot is made once."""
    area = _area(actor)
    first = _month(month, "month", _("assessment month"))
    snapshot = assessment_selectors.current_snapshot(first, published_only=True)
    if snapshot is None:
        raise InvalidInput(_("That month is not published yet."), on="month")
    made = []
    for rule in RewardRule.objects.filter(active=True, effective_from__lte=first):
        rows = UnitScore.objects.filter(
            snapshot=snapshot,
            group=rule.group,
            rank__isnull=False,
            rank__lte=rule.top_n,
            unit__path__startswith=area.path,
        ).select_related("unit")
        for row in rows:
            reward, created = Reward.objects.get_or_create(
                rule=rule,
                snapshot=snapshot,
                unit=row.unit,
                defaults={"rank": row.rank, "amount": rule.amount, "created_at": clock.now()},
            )
            if created:
                _event(
                    actor,
                    "reward_made",
                    unit=row.unit,
                    subject="reward",
                    subject_id=reward.pk,
                    amount=str(reward.amount),
                )
                made.append(reward)
    return made


def spent(reward: Reward) -> Decimal:
    return sum((s.amount for s in reward.spendings.all()), Decimal(0))


@transaction.atomic
def spend(
    actor: Any, reward_id: int, *, amount: Any, purpose: str, tickets: str = "", topic_id: Any = None
) -> Spending:
    """A line of the ledger: the money goes to residents' problems, so every line names tickets or a topic."""
    reward = Reward.objects.select_for_update().select_related("unit").filter(pk=reward_id).first()
    if reward is None or not access.may_read_unit(actor, reward.unit):
        raise NotFound(_("The reward does not exist or you may not see it."))
    _manage(actor, reward.unit)
    value = _decimal(amount, "amount", _("amount (yuan)"), low=Decimal("0.01"), high=reward.amount)
    if value > reward.amount - spent(reward):
        raise InvalidInput(_("The amount exceeds what is left of the reward."), on="amount")
    ids = _ticket_ids(actor, tickets)
    topic = None
    if topic_id:
        topic = MonthlyTopic.objects.filter(pk=int(str(topic_id))).first() if str(topic_id).isdigit() else None
        if topic is None:
            raise InvalidInput(_("Unknown topic."), on="topic")
    if not ids and topic is None:
        raise InvalidInput(_("Name the residents' problems the money went to: tickets or a topic."), on="tickets")
    line = Spending.objects.create(
        reward=reward,
        amount=value,
        purpose=_text(purpose, "purpose", _("purpose"), 2000),
        tickets=ids,
        topic=topic,
        by=actor,
        at=clock.now(),
    )
    _event(
        actor, "reward_spent", unit=reward.unit, subject="reward", subject_id=reward.pk, amount=str(value), tickets=ids
    )
    return line


# --- residents' praise and the monthly honours list ---------------------------------------------------------
@transaction.atomic
def praise_from_callbacks(month: Any, actor: Any = None) -> int:
    """Residents' praise lands on the profile: every callback of the month that found the matter solved and the
    resident satisfied, with the resident's words recorded in its comment, is a commendation of whoever gave the last
    reply before it. Once per ticket and round."""
    from jiesu.tickets.models import Callback

    first = _month(month, "month", _("month"))
    start, end = clock.start_of_day(first), clock.start_of_day(selectors.add_months(first, 1))
    rec = selectors.records(first, selectors.add_months(first, 1))
    repliers = {}
    for user_id, record in rec.items():
        for ticket_id in record.figures["solved"] & record.figures["satisfied"]:
            repliers[ticket_id] = user_id
    profiles = {p.user_id: p for p in CadreProfile.objects.filter(user_id__in=set(repliers.values()))}
    done = set(
        Recognition.objects.filter(kind=RecognitionKind.RESIDENT_PRAISE, ticket_id__in=list(repliers)).values_list(
            "ticket_id", "note"
        )
    )
    made = 0
    callbacks = Callback.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        resolution="solved",
        satisfaction="satisfied",
        ticket_id__in=list(repliers),
    ).exclude(comment="")
    for cb in callbacks:
        profile = profiles.get(repliers[cb.ticket_id])
        note = cb.comment[:500]
        if profile is None or (cb.ticket_id, note) in done:
            continue
        praise = Recognition.objects.create(
            profile=profile,
            kind=RecognitionKind.RESIDENT_PRAISE,
            note=note,
            ticket_id=cb.ticket_id,
            by=None,
            at=cb.created_at,
        )
        _event(actor, "recognised", profile=profile, subject="recognition", subject_id=praise.pk, kind=praise.kind)
        made += 1
    return made
