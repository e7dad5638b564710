"""cadres services: responsibility items, charters, scoring."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import IllegalTransition, InvalidInput, NotFound
from jiesu.orgs.models import OrgUnit

from .. import access, selectors
from ..models import (
    AT_MOST_METRICS,
    CadreProfile,
    ChallengeTask,
    Charter,
    Dimension,
    GoalSource,
    ItemScore,
    Judgement,
    MeasureKind,
    Metric,
    PeriodKind,
    ResponsibilityItem,
    ScoringPeriod,
)
from ..records import Record
from ._core import TWO, _choice, _date, _decimal, _event, _manage, _profile, _text, _unit


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
    charter = Charter.objects.select_for_update(of=("self",)).select_related("profile").filter(pk=charter_id).first()
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
