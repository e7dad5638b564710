"""cadres services: the four-dimension rubric and 评议."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound

from .. import access, selectors
from ..models import AT_MOST_METRICS, Evaluation, EvaluationRule, EvaluationState, RubricRow
from ..records import Record
from ._core import TWO, _date, _decimal, _event, _manage, _profile, _text
from .responsibility import item_points, metric_value

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
