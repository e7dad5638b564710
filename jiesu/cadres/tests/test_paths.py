"""The paths of the cadre module through its services, with a moved clock: 约谈 → rectification → verification,
揭榜 → 挂帅 → milestones → measured result, supervision flags, fault tolerance that never silently changes a
published score, and an accountability case."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jiesu.assessment.models import RuleSet, Snapshot, UnitScore
from jiesu.cadres import selectors, services
from jiesu.cadres.models import (
    CadreEvent,
    CadreProfile,
    CaseState,
    ChallengeState,
    Correction,
    Flag,
    FlagState,
    InterviewState,
    ItemScore,
    RectificationState,
    ToleranceGround,
)
from jiesu.governance.models import Hotspot
from jiesu.lib.clock import SHANGHAI
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.orgs.models import OrgUnit
from jiesu.testing.world import CHAOWAI, HAIDIAN_ST, JIANWAI
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import new_ticket, ticket_in


def published(month: dt.date, rows: dict[str, dict[str, Any]]) -> Snapshot:
    """A published assessment month with the given unit rows (score, rates, the 约谈 mark)."""
    snapshot = Snapshot.objects.create(
        month=month,
        version=1,
        rule_set=RuleSet.objects.first(),
        rules={},
        facts_file="-",
        facts_sha256="-",
        digest="-",
        computed_at=timezone.now(),
    )
    for code, values in rows.items():
        base = {"volume": 10, "excluded": 0, "responded": 9, "judged": 10, "resolved_milli": 0, "rated": 10}
        UnitScore.objects.create(
            snapshot=snapshot,
            unit=OrgUnit.objects.get(code=code),
            group="subdistrict",
            satisfied_milli=0,
            **(base | values),
        )
    Snapshot.objects.filter(pk=snapshot.pk).update(published_at=timezone.now())
    return snapshot


def test_interview_rectification_verification(cw: Any, clock: Any) -> None:
    published(
        dt.date(2026, 10, 1),
        {
            JIANWAI: {"score": Decimal("61.5"), "rank": 9, "interview": True, "resolution_rate": Decimal("70")},
            HAIDIAN_ST: {"score": Decimal("60"), "rank": 10, "interview": True},
        },
    )
    handler = CadreProfile.objects.get(user=cw.jw_handler)
    # the district organisation department sees only its own area's bottom list
    assert [r.unit.code for r in selectors.bottom_list(cw.cy_zzb, dt.date(2026, 10, 1))[1]] == [JIANWAI]
    with pytest.raises(NotFound):
        services.schedule_interview(
            cw.cy_zzb, unit=HAIDIAN_ST, month="2026-10", scheduled_for="2026-11-20 09:30", attendees="…"
        )
    with pytest.raises(InvalidInput):  # not on the list
        services.schedule_interview(
            cw.cy_zzb, unit=CHAOWAI, month="2026-10", scheduled_for="2026-11-20 09:30", attendees="…"
        )
    with pytest.raises(Forbidden):
        services.schedule_interview(
            cw.jw_secretary, unit=JIANWAI, month="2026-10", scheduled_for="2026-11-20 09:30", attendees="…"
        )
    interview = services.schedule_interview(
        cw.cy_zzb,
        unit=JIANWAI,
        month="2026-10",
        scheduled_for="2026-11-20 09:30",
        attendees="党工委书记、主任",
        place="区委组织部",
    )
    assert (interview.rank, interview.score) == (9, Decimal("61.50"))
    services.record_minutes(cw.cy_zzb, interview.pk, "解决率偏低，限期整改")
    solve = services.add_rectification(
        cw.cy_zzb,
        interview.pk,
        title="提高解决率",
        owner=handler.pk,
        due_on="2026-12-31",
        metric="resolution_rate",
        target="85",
    )
    sign = services.add_rectification(
        cw.cy_zzb,
        interview.pk,
        title="提高综合得分",
        owner=handler.pk,
        due_on="2026-12-10",
        metric="score",
        target="80",
    )
    with pytest.raises(InvalidInput):  # the owner must be a cadre of the unit
        services.add_rectification(
            cw.cy_zzb,
            interview.pk,
            title="x",
            owner=CadreProfile.objects.get(user=cw.hd_handler).pk,
            due_on="2026-12-31",
            metric="score",
            target="80",
        )

    # November is published: the resolution rate reaches 88, the score only 75
    clock.move_to(dt.datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI))
    published(dt.date(2026, 11, 1), {JIANWAI: {"score": Decimal("75"), "rank": 5, "resolution_rate": Decimal("88")}})
    assert services.verify_rectifications() == {"verified": 1, "escalated": 0}
    solve.refresh_from_db()
    assert (solve.state, solve.verified_month, solve.verified_value) == (
        RectificationState.VERIFIED,
        dt.date(2026, 11, 1),
        Decimal("88.00"),
    )
    # past its deadline, the other escalates once
    clock.move_to(dt.datetime(2026, 12, 11, 9, 0, tzinfo=SHANGHAI))
    assert services.verify_rectifications() == {"verified": 0, "escalated": 1}
    assert services.verify_rectifications() == {"verified": 0, "escalated": 0}
    sign.refresh_from_db()
    assert sign.state == RectificationState.ESCALATED
    # December's figures finally reach it; the 约谈 closes when every item is verified
    clock.move_to(dt.datetime(2027, 1, 5, 9, 0, tzinfo=SHANGHAI))
    published(dt.date(2026, 12, 1), {JIANWAI: {"score": Decimal("82"), "rank": 2}})
    assert services.verify_rectifications() == {"verified": 1, "escalated": 0}
    interview.refresh_from_db()
    assert interview.state == InterviewState.CLOSED
    assert CadreEvent.objects.filter(profile=handler, action="rectification_escalated").count() == 1


def test_challenge_board_from_a_hotspot(cw: Any, clock: Any) -> None:
    jw = OrgUnit.objects.get(code=JIANWAI)
    made = [ticket_in(cw, "dispatched", title="光华里暖气不热") for _ in range(4)]
    hotspot = Hotspot.objects.create(
        label="暖气",
        district=jw.parent,
        street=jw,
        size=4,
        volume=4,
        opened_at=timezone.now(),
        updated_at=timezone.now(),
        first_request_at=timezone.now(),
        last_request_at=timezone.now(),
    )
    hotspot.tickets.set(made)
    with pytest.raises(Forbidden):
        services.post_challenge(cw.jw_handler, title="x", goal="y", deadline="2027-01-31", hotspot_id=hotspot.pk)
    with pytest.raises(InvalidInput):
        services.post_challenge(
            cw.cy_zzb, title="光华里供暖", goal="两周内解决", deadline="2026-01-01", hotspot_id=hotspot.pk
        )
    task = services.post_challenge(
        cw.cy_zzb,
        title="光华里供暖",
        goal="两周内解决",
        deadline="2027-01-31",
        hotspot_id=hotspot.pk,
        target_change="-50",
    )
    assert (task.street, task.keywords, task.area) == (jw, "暖气", jw)
    # an outside cadre may not even see it; the street's cadre applies once
    with pytest.raises(NotFound):
        services.apply_challenge(cw.hd_handler, task.pk, "我来")
    app = services.apply_challenge(cw.jw_handler, task.pk, "逐户排查，协调热力公司")
    with pytest.raises(InvalidInput):
        services.apply_challenge(cw.jw_handler, task.pk, "again")
    with pytest.raises(Forbidden):
        services.appoint(cw.jw_handler, task.pk, app.pk)
    services.appoint(cw.jw_secretary, task.pk, app.pk)
    milestone = services.add_challenge_milestone(cw.jw_handler, task.pk, "完成排查", "2026-11-24")
    clock.move_to(dt.datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI))
    services.reach_milestone(cw.jw_handler, milestone.pk)
    # the baseline (the 28 days before posting) held the 4 requests; the last 30 days hold the same 4
    measured = selectors.measure(task)
    assert (measured.since_start, measured.milestones_done, measured.milestones) == (4, 1, 1)
    task = services.deliver(cw.jw_secretary, task.pk)
    assert task.state == ChallengeState.DELIVERED and task.result["milestones"] == "1/1"
    with pytest.raises(IllegalTransition):
        services.deliver(cw.jw_secretary, task.pk)
    assert list(selectors.delivered_challenges(CadreProfile.objects.get(user=cw.jw_handler))) == [task]


def closed_score(cw: Any) -> ItemScore:
    services.add_item(
        cw.jw_secretary,
        unit=JIANWAI,
        post="接诉即办专员",
        title="回访解决",
        measure="computed",
        metric="solved_rate",
        target="80",
        weight="50",
        effective_from="2026-01-01",
    )
    period = services.open_period(cw.jw_secretary, unit=JIANWAI, kind="month", starts_on="2026-10-01")
    services.close_period(cw.jw_secretary, period.pk)
    return ItemScore.objects.get(period=period, profile__user=cw.jw_handler)


def test_fault_tolerance_never_changes_a_published_score_silently(cw: Any, clock: Any) -> None:
    score = closed_score(cw)
    assert score.points == Decimal("0.00")
    with pytest.raises(ValidationError):  # the closed score itself refuses any change
        score.points = Decimal(50)
        score.save()
    ToleranceGround.objects.create(key="reform", kind="distinction", label="改革探索中因缺乏经验出现失误")
    ToleranceGround.objects.create(key="risk", kind="list", label="风险容误")
    me = CadreProfile.objects.get(user=cw.jw_handler)
    t = ticket_in(cw, "closed")
    with pytest.raises(InvalidInput):
        services.apply_tolerance(cw.jw_handler, me.pk, facts="暴雨夜抢修", grounds=[])
    with pytest.raises(NotFound):  # another street's staff cannot apply for them (nor see them at all)
        services.apply_tolerance(
            cw.jw_leader, CadreProfile.objects.get(user=cw.cw_handler).pk, facts="x", grounds=["risk"]
        )
    tc = services.apply_tolerance(
        cw.jw_handler, me.pk, facts="暴雨夜先行处置，程序后补", grounds=["reform", "risk"], tickets=t.number
    )
    assert tc.tickets == [t.pk] and not tc.by_unit
    with pytest.raises(Forbidden):
        services.advance_tolerance(cw.jw_handler, tc.pk, "自己决定")
    services.advance_tolerance(cw.cy_jjw, tc.pk, "调查：属实")
    services.advance_tolerance(cw.cy_jjw, tc.pk, "会商：同意容错")
    with pytest.raises(InvalidInput):  # determination needs the decision
        services.advance_tolerance(cw.cy_jjw, tc.pk, "认定")
    with pytest.raises(InvalidInput):  # corrected points above the weight
        services.advance_tolerance(cw.cy_jjw, tc.pk, "认定", tolerated=True, corrections=[(score.pk, "60")])
    services.advance_tolerance(
        cw.cy_jjw, tc.pk, "认定容错，该项按满分计", tolerated=True, corrections=[(score.pk, "50")]
    )
    services.advance_tolerance(cw.cy_jjw, tc.pk, "已反馈本人")
    tc.refresh_from_db()
    assert tc.state == CaseState.FED_BACK and tc.tolerated is True
    score.refresh_from_db()
    assert score.points == Decimal("0.00")  # the published score stands...
    correction = Correction.objects.get(item_score=score)  # ...and the correction is explicit and visible
    assert (correction.old_points, correction.new_points, correction.tolerance_id) == (Decimal(0), Decimal(50), tc.pk)
    row = selectors.period_totals(me)[0]
    assert (row["total"], row["corrected_total"]) == (Decimal("0.00"), Decimal("100.00"))
    with pytest.raises(ValidationError):
        correction.delete()


def late_signings(cw: Any, clock: Any, n: int) -> None:
    for _ in range(n):
        t = tickets.dispatch(cw.dispatcher, new_ticket(cw).pk)
        clock.shift(dt.timedelta(days=2))
        tickets.accept(cw.jw_handler, t.pk)


def test_flags_queue_and_accountability_case(cw: Any, clock: Any) -> None:
    services.ensure_flag_rules()
    late_signings(cw, clock, 3)
    flags = services.run_flag_rules()
    assert [(f.rule.kind, f.profile.user.username, f.count) for f in flags] == [("late_signing", "jw_handler", 3)]
    assert services.run_flag_rules() == []  # once per window end
    flag = flags[0]
    # the column path's evidence is the plain loop's ticket set
    plain = selectors.records(flag.window_from, flag.window_to + dt.timedelta(days=1))[cw.jw_handler.pk]
    assert flag.tickets == sorted(plain.figures["signed_late"]) and len(flag.tickets) == 3
    assert list(selectors.flags(cw.cy_jjw)) == [flag] and list(selectors.flags(cw.hd_jjw)) == []
    with pytest.raises(NotFound):
        services.decide_flag(cw.hd_jjw, flag.pk, "dismissed", "x")
    with pytest.raises(Forbidden):  # the street's own secretary reads it but does not decide it
        services.decide_flag(cw.jw_secretary, flag.pk, "dismissed", "x")
    with pytest.raises(InvalidInput):
        services.decide_flag(cw.cy_jjw, flag.pk, "case_opened", "")
    services.decide_flag(cw.cy_jjw, flag.pk, "case_opened", "三次签收超时，立案问责")
    flag.refresh_from_db()
    assert flag.state == FlagState.CASE_OPENED
    case = selectors.cases(cw.jw_handler).get()
    services.case_statement(cw.jw_handler, case.pk, "当周病假，已补签")
    with pytest.raises(InvalidInput):
        services.decide_case(cw.cy_jjw, case.pk, "提醒谈话", "2020-01-01")
    services.decide_case(cw.cy_jjw, case.pk, "提醒谈话", "2027-11-30")
    services.appeal_case(cw.jw_handler, case.pk, "请求复核")
    case = services.decide_case_appeal(cw.cy_jjw, case.pk, "维持原决定")
    assert case.state == CaseState.CLOSED
    assert Flag.objects.count() == 1 and ItemScore.objects.count() == 0  # a flag never scores anything


def test_returns_judged_unjustified_are_flagged(cw: Any, clock: Any) -> None:
    services.ensure_flag_rules()
    for _ in range(3):
        t = ticket_in(cw, "return_requested")
        tickets.reject_return(cw.dispatcher, t.pk, "属于本街道职责")
    flags = services.run_flag_rules()
    assert [(f.rule.kind, f.profile.user.username, f.count) for f in flags] == [
        ("unjustified_returns", "jw_handler", 3)
    ]
