"""cadres services: supervision flags; accountability (问责) and fault tolerance (容错)."""

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound

from .. import access, records, selectors
from ..models import (
    AccountabilityCase,
    CadreProfile,
    CaseState,
    Correction,
    Flag,
    FlagKind,
    FlagRule,
    FlagState,
    Interview,
    ItemScore,
    ToleranceCase,
    ToleranceGround,
)
from ._core import _choice, _date, _decimal, _event, _text, _ticket_ids
from .interviews import _interview

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
    discipline inspection; it never changes a score. One flag per rule, cadre and window end.

    The trail is read once per window length as columns, and the rules' figures come from `records.flag_events`
    (the record's rules over columns, for everybody at once); the tickets of each flagged count are its evidence."""
    today = clock.local_date(clock.now())
    end = today + dt.timedelta(days=1)
    profiles = {p.user_id: p for p in CadreProfile.objects.select_related("unit")}
    made = []
    by_window: dict[int, tuple[dict[str, Any], dict[str, tuple[Any, Any]]]] = {}
    for rule in FlagRule.objects.filter(active=True):
        found = by_window.get(rule.window_days)
        if found is None:
            start = end - dt.timedelta(days=rule.window_days)
            cols = selectors.trail_columns(clock.start_of_day(start), clock.start_of_day(end))
            events = records.flag_events(
                cols["ticket"], cols["action"], cols["actor"], cols["late"], cols["resolution"]
            )
            found = by_window[rule.window_days] = (cols, events)
        cols, events = found
        figure = FLAG_FIGURE[FlagKind(rule.kind)]
        rows, who = events[figure]
        inside = cols["counted"][rows]
        rows, who = rows[inside], who[inside]
        counts = np.bincount(who, minlength=1) if len(who) else np.zeros(1, dtype=np.int64)
        for user_id in np.flatnonzero(counts >= rule.threshold).tolist():
            profile = profiles.get(user_id)
            if profile is None:
                continue
            tickets = sorted(set(cols["ticket"][rows[who == user_id]].tolist()))
            flag, created = Flag.objects.get_or_create(
                rule=rule,
                profile=profile,
                window_to=today,
                defaults={
                    "window_from": end - dt.timedelta(days=rule.window_days),
                    "count": int(counts[user_id]),
                    "tickets": tickets,
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
    flag = (
        Flag.objects.select_for_update(of=("self",)).select_related("profile__unit", "rule").filter(pk=flag_id).first()
    )
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
