"""The only writer of assessment data: computing, correcting and publishing snapshots, and appeals.

Each function validates first, runs in one transaction and leaves an immutable event; a refusal is a
ServiceError in the user's language and changes nothing."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from jiesu.assessment import access as assessment_access
from jiesu.lib import clock, events
from jiesu.lib.errors import IllegalTransition, InvalidInput, NotFound
from jiesu.lib.validation import clean_text
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as tickets_access
from jiesu.tickets import services as ticket_services
from jiesu.tickets.models import Callback
from jiesu.tickets.workflow import Action

from . import engine, facts
from .models import (
    Appeal,
    AppealKind,
    AppealState,
    ProactiveBonus,
    Snapshot,
    SnapshotAction,
    SnapshotEvent,
    UnitScore,
)
from .rules import Rules, month_key, previous_month, rules_for

REASON_LIMIT = 2000


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _text(value: object, label: Any, *, required: bool = True) -> str:
    return clean_text(value, on="reason", label=label, limit=REASON_LIMIT, required=required)


def is_published(month: dt.date) -> bool:
    return Snapshot.objects.filter(month=month, published_at__isnull=False).exists()


def _previous_scores(month: dt.date) -> dict[int, Decimal | None]:
    from .selectors import current_snapshot

    prev = current_snapshot(previous_month(month))
    if prev is None:
        return {}
    return dict(prev.scores.values_list("unit_id", "score"))


def _units(ids: set[int]) -> dict[int, engine.Unit]:
    return {
        pk: engine.Unit(pk, code, kind)
        for pk, code, kind in OrgUnit.objects.filter(pk__in=ids).values_list("pk", "code", "kind")
    }


def run(month: dt.date, rules: Rules, source: str) -> list[engine.Result]:
    """The month's results from a facts source (a Parquet file), with bonuses and last month's scores."""
    counts = engine.aggregate(source, {month_key(month): rules})[month_key(month)]
    bonuses = {
        unit: Decimal(points)
        for unit, points in ProactiveBonus.objects.filter(month=month)
        .values("unit")
        .annotate(p=Sum("points"))
        .values_list("unit", "p")
    }
    return engine.finish(counts, _units(set(counts)), rules, bonuses, _previous_scores(month))


@transaction.atomic
def compute(month: dt.date, *, by: Any = None, reason: str = "") -> Snapshot:
    """Compute the month into its draft (recomputing a draft in place). Once the month is published, a new
    computation is a correction: a new version, which needs a reason."""
    month = month.replace(day=1)
    if month > clock.local_date(clock.now()).replace(day=1):
        raise InvalidInput(_("%(month)s has not begun; it cannot be assessed yet."), month=f"{month:%Y-%m}")
    rules = rules_for(month)
    locked = list(Snapshot.objects.select_for_update().filter(month=month))
    draft = next((s for s in locked if not s.is_published), None)
    if draft is None and locked:
        reason = _text(reason, _("The reason for the correction"))
    else:
        reason = _text(reason, _("Reason"), required=False) or (draft.reason if draft else "")
    version = draft.version if draft else 1 + max((s.version for s in locked), default=0)
    facts.sync_month(month)
    path, sha = facts.frozen_copy(month, version)
    results = run(month, rules, engine.parquet_source([path]))
    fields = {
        "rule_set_id": rules.rule_set_id,
        "rules": rules.to_json(),
        "totals": engine.totals(results),
        "facts_file": str(path),
        "facts_sha256": sha,
        "digest": engine.digest(results),
        "reason": reason,
        "computed_at": clock.now(),
        "computed_by": _user(by),
    }
    if draft:
        draft.scores.all().delete()
        Snapshot.objects.filter(pk=draft.pk).update(**fields)
        draft.refresh_from_db()
        snapshot, action = draft, SnapshotAction.RECOMPUTE
    else:
        snapshot = Snapshot.objects.create(month=month, version=version, **fields)
        action = SnapshotAction.CORRECT if version > 1 else SnapshotAction.COMPUTE
    UnitScore.objects.bulk_create(
        UnitScore(
            snapshot=snapshot,
            unit_id=r.unit_id,
            group=r.group,
            **{f: getattr(r.counts, f) for f in engine.COUNT_FIELDS},
            response_rate=r.response_rate,
            resolution_rate=r.resolution_rate,
            satisfaction_rate=r.satisfaction_rate,
            bonus=r.bonus,
            score=r.score,
            rank=r.rank,
            ranked_count=r.ranked_count,
            previous_score=r.previous_score,
            score_change=r.score_change,
            interview=r.interview,
            recognition=r.recognition,
            focus=r.focus,
        )
        for r in results
    )
    events.record(
        SnapshotEvent,
        actor=_user(by),
        snapshot=snapshot,
        action=action,
        note=reason if action == SnapshotAction.CORRECT else "",
        data={"digest": snapshot.digest, "units": len(results), "rule_set": rules.rule_set_id},
    )
    return snapshot


@transaction.atomic
def publish(month: dt.date, *, by: Any = None) -> Snapshot:
    """Recompute the draft with everything decided so far, then publish it; from then on it never changes."""
    month = month.replace(day=1)
    pending = Appeal.objects.filter(month=month, state=AppealState.PENDING).count()
    if pending:
        raise IllegalTransition(
            _("%(count)s appeals for %(month)s are still pending; decide them before publishing."),
            count=pending,
            month=f"{month:%Y-%m}",
        )
    if is_published(month) and not Snapshot.objects.filter(month=month, published_at__isnull=True).exists():
        raise IllegalTransition(
            _("%(month)s is already published; to change it, make a correction with a reason."),
            month=f"{month:%Y-%m}",
        )
    snapshot = compute(month, by=by)
    now = clock.now()
    Snapshot.objects.filter(pk=snapshot.pk).update(published_at=now, published_by=_user(by))
    snapshot.refresh_from_db()
    events.record(
        SnapshotEvent,
        actor=_user(by),
        at=now,
        snapshot=snapshot,
        action=SnapshotAction.PUBLISH,
        data={"digest": snapshot.digest},
    )
    return snapshot


# --- appeals (申诉) ----------------------------------------------------------------------------------------
def _month_of(callback: Callback) -> dt.date:
    return clock.local_date(callback.created_at).replace(day=1)


@transaction.atomic
def file_appeal(user: Any, ticket_id: int, kind: str, reason: str) -> Appeal:
    """A unit disputes the assessment of its latest callback on a ticket, before that month is published."""
    if kind not in AppealKind.values:
        raise InvalidInput(_("Choose what the appeal is about."), on="kind")
    reason = _text(reason, _("Reason"))
    ticket = tickets_access.get_ticket(user, ticket_id)
    callback = Callback.objects.filter(ticket=ticket).select_related("unit").order_by("-created_at", "-id").first()
    member = tickets_access.require_role(user, Action.FILE_APPEAL)
    if callback is None or callback.unit is None:
        raise IllegalTransition(_("The ticket has not been called back, so there is nothing to appeal."))
    if not callback.unit.path.startswith(member.unit.path):
        raise IllegalTransition(_("Only the unit the callback judged may appeal it."))
    month = _month_of(callback)
    if is_published(month):
        raise IllegalTransition(
            _("%(month)s is already published; appeals are taken only before publication."), month=f"{month:%Y-%m}"
        )
    if Appeal.objects.filter(callback=callback, kind=kind).exclude(state=AppealState.REJECTED).exists():
        raise IllegalTransition(_("This appeal has already been filed."))
    now = clock.now()
    appeal = Appeal.objects.create(
        ticket=ticket,
        callback=callback,
        month=month,
        unit=callback.unit,
        kind=kind,
        reason=reason,
        filed_by=user,
        filed_at=now,
    )
    ticket_services.assessment_event(
        user,
        ticket.pk,
        Action.FILE_APPEAL,
        note=reason,
        data={"appeal": appeal.pk, "kind": kind, "round": callback.round, "month": f"{month:%Y-%m}"},
    )
    return appeal


@transaction.atomic
def decide_appeal(user: Any, appeal_id: int, *, upheld: bool, note: str) -> Appeal:
    """A city supervisor upholds or rejects an appeal; the next computation of the month reflects it."""
    assessment_access.require_appeal_judge(user)
    note = _text(note, _("Decision note"))
    appeal = Appeal.objects.select_for_update().filter(pk=appeal_id).first()
    if appeal is None:
        raise NotFound(_("The appeal does not exist."))
    if appeal.state != AppealState.PENDING:
        raise IllegalTransition(_("The appeal has already been decided."))
    if is_published(appeal.month):
        raise IllegalTransition(
            _("%(month)s is already published; to change it, make a correction with a reason."),
            month=f"{appeal.month:%Y-%m}",
        )
    state = AppealState.UPHELD if upheld else AppealState.REJECTED
    now = clock.now()
    Appeal.objects.filter(pk=appeal.pk).update(state=state, decided_by=user, decided_at=now, decision_note=note)
    appeal.refresh_from_db()
    ticket_services.assessment_event(
        user,
        appeal.ticket_id,
        Action.DECIDE_APPEAL,
        note=note,
        data={"appeal": appeal.pk, "kind": appeal.kind, "state": state, "month": f"{appeal.month:%Y-%m}"},
        excluded_from_scoring=True if upheld and appeal.kind == AppealKind.UNREASONABLE else None,
    )
    return appeal
