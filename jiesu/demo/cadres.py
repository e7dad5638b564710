"""The demo city's cadre layer (issue 20): the organisation department, a street's Party secretary and discipline
inspection as logins, a cadre profile for every unit member, a 目标责任书 per post in 建外街道 with a scored month,
a 约谈 with its rectification list, a 揭榜 task from the planted heating hotspot, one fault-tolerance application
and one accountability case. Everything goes through the services (and writes the trail). Idempotent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from jiesu.assessment import selectors as assessment_selectors
from jiesu.cadres import selectors, services
from jiesu.cadres.models import (
    AccountabilityCase,
    CadreProfile,
    ChallengeTask,
    Flag,
    Interview,
    Ladder,
    ResponsibilityItem,
    RewardRule,
    ToleranceCase,
    ToleranceGround,
)
from jiesu.governance.models import OPEN_HOTSPOT_STATES, Hotspot
from jiesu.lib import clock
from jiesu.orgs.models import UNIT_ROLES, Membership, OrgUnit, Role

from .city import PASSWORD

JIANWAI = "110105001"
CADRE_USERS = [
    ("zzb", "组织部王部长", "110000", Role.ORG_DEPARTMENT),
    ("cy_zzb", "朝阳区委组织部李科长", "110105", Role.ORG_DEPARTMENT),
    ("jw_secretary", "建外街道党工委张书记", JIANWAI, Role.PARTY_SECRETARY),
    ("jjw", "市纪委监委刘主任", "110000", Role.DISCIPLINE),
]
CADRE_LOGINS = [
    ("zzb", "city organisation department: /cadres/interviews/ (约谈 from the bottom list)"),
    ("cy_zzb", "朝阳 district organisation department: 约谈, 揭榜 board"),
    ("jw_secretary", "建外街道 Party secretary: /cadres/units/110105001/ (目标责任书, records, duty chain)"),
    ("jjw", "city discipline inspection: /cadres/flags/ and /cadres/cases/"),
]
GROUNDS = [
    ("reform-inexperience", "distinction", "推进改革中因缺乏经验、先行先试出现的失误，区别于明知故犯的违纪违法行为"),
    (
        "trial-unrestricted",
        "distinction",
        "尚无明确限制的探索性试验中的失误，区别于明令禁止后依然我行我素的违纪违法行为",
    ),
    ("development-unintended", "distinction", "为推动发展的无意过失，区别于为谋取私利的违纪违法行为"),
    ("risk", "list", "风险容误"),
    ("due-diligence", "list", "尽职容误"),
    ("interaction", "list", "交往容误"),
]
POSTS = {
    Role.UNIT_HANDLER: ("接诉即办专员", Ladder.SPECIALIST, "一级科员"),
    Role.UNIT_LEADER: ("主任", Ladder.MANAGEMENT, "处级"),
    Role.PARTY_SECRETARY: ("党工委书记", Ladder.MANAGEMENT, "处级"),
}
# post → (title, dimension, measure, metric, target, weight)
ITEMS = {
    "接诉即办专员": [
        ("按时签收", "qin", "computed", "signed_on_time_rate", "95", "25"),
        ("回访确认解决", "ji", "computed", "solved_rate", "85", "30"),
        ("不出现虚假办结", "lian", "computed", "fake_closures", "0", "15"),
        ("重办不超过2件", "neng", "computed", "reopens", "2", "10"),
        ("政治理论学习与群众工作", "de", "judged", "", "100", "20"),
    ],
    "主任": [
        ("一把手下基层、跑工单、走流程、蹲点位", "qin", "judged", "", "100", "30"),
        ("吹哨调度部门协同", "neng", "computed", "whistles", "2", "20"),
        ("揭榜任务完成", "ji", "computed", "challenges_done", "1", "20"),
        ("政治担当", "de", "judged", "", "100", "30"),
    ],
    "党工委书记": [
        ("党建引领接诉即办", "de", "judged", "", "100", "50"),
        ("每月一题牵头推进", "ji", "judged", "", "100", "50"),
    ],
}


@dataclass
class Seeded:
    profiles: int
    lines: list[str]


def ensure_cadre_users() -> None:
    User = get_user_model()
    for username, name, code, role in CADRE_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": name})
        if created:
            user.set_password(PASSWORD)
            user.is_staff = True  # the cadre admin views, scoped by jiesu.cadres.access
            user.save()
        Membership.objects.update_or_create(user=user, defaults={"unit": OrgUnit.objects.get(code=code), "role": role})


def ensure_profiles() -> int:
    """A profile for every member of a unit below the city (handlers, leaders, Party secretaries)."""
    have = set(CadreProfile.objects.values_list("user_id", flat=True))
    rows = []
    start = clock.local_date(clock.now()) - dt.timedelta(days=3 * 365)
    for m in Membership.objects.filter(role__in=UNIT_ROLES | {Role.PARTY_SECRETARY}).select_related("unit"):
        if m.user_id in have or m.unit.kind == "city":
            continue
        post, ladder, level = POSTS[Role(m.role)]
        rows.append(
            CadreProfile(
                user_id=m.user_id,
                unit=m.unit,
                post=post,
                ladder=ladder,
                level=level,
                party_member=True,
                started_on=start - dt.timedelta(days=(m.user_id * 97) % 2000),
            )
        )
    CadreProfile.objects.bulk_create(rows)
    return len(rows)


def ensure_unit_leaders() -> int:
    """Every unit the assessment ranks has at least its leader's cadre profile (the generated history has no staff
    of its own there), so that a 约谈 of any unit on the bottom list can name owners for its rectification list.
    These leaders have no login (an unusable password)."""
    from jiesu.assessment.models import UnitScore

    User = get_user_model()
    staffed = set(CadreProfile.objects.values_list("unit_id", flat=True))
    units = list(OrgUnit.objects.filter(pk__in=UnitScore.objects.values("unit_id")).exclude(pk__in=staffed))
    if not units:
        return 0
    post, ladder, level = POSTS[Role.UNIT_LEADER]
    today = clock.local_date(clock.now())
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=f"lead_{u.code}", first_name=f"{u.name[:20]}主任", password="!") for u in units],
            ignore_conflicts=True,
        )
        users = {u.username: u for u in User.objects.filter(username__in=[f"lead_{u.code}" for u in units])}
        Membership.objects.bulk_create(
            [Membership(user=users[f"lead_{u.code}"], unit=u, role=Role.UNIT_LEADER) for u in units],
            ignore_conflicts=True,
        )
        CadreProfile.objects.bulk_create(
            [
                CadreProfile(
                    user=users[f"lead_{u.code}"],
                    unit=u,
                    post=post,
                    ladder=ladder,
                    level=level,
                    party_member=True,
                    started_on=today - dt.timedelta(days=1500 + (u.pk * 37) % 1500),
                )
                for u in units
            ],
            ignore_conflicts=True,
        )
    return len(units)


def seed_cadres() -> Seeded:
    ensure_cadre_users()
    made = ensure_profiles() + ensure_unit_leaders()
    lines: list[str] = []
    for key, kind, label in GROUNDS:
        ToleranceGround.objects.get_or_create(key=key, defaults={"kind": kind, "label": label})
    services.ensure_flag_rules()
    User = get_user_model()
    zzb, cy_zzb, secretary, jjw = (User.objects.get(username=u) for u in ("zzb", "cy_zzb", "jw_secretary", "jjw"))
    today = clock.local_date(clock.now())
    with transaction.atomic():
        if not ResponsibilityItem.objects.filter(unit__code=JIANWAI).exists():
            _responsibility(secretary, today)
            lines.append("建外街道: a 目标责任书 per post, last month scored and closed")
        if not Interview.objects.exists():
            lines.append(_interview(zzb))
        if not ChallengeTask.objects.exists():
            lines.append(_challenge(cy_zzb, secretary, today))
        if not ToleranceCase.objects.exists():
            lines.append(_tolerance())
        if not AccountabilityCase.objects.exists():
            lines.append(_accountability(jjw))
        if not RewardRule.objects.exists():
            lines.append(_rewards(zzb))
    return Seeded(made, [line for line in lines if line])


def _responsibility(secretary: object, today: dt.date) -> None:
    for post, items in ITEMS.items():
        for title, dimension, measure, metric, target, weight in items:
            services.add_item(
                secretary,
                unit=JIANWAI,
                post=post,
                title=title,
                dimension=dimension,
                measure=measure,
                metric=metric,
                target=target,
                weight=weight,
                source="three_rates" if metric else "typed",
                effective_from=f"{today.year}-01-01",
            )
    for profile in CadreProfile.objects.filter(unit__code=JIANWAI):
        charter = services.issue_charter(secretary, profile.pk, today.year)
        if profile.post != "接诉即办专员":  # the handler acknowledges on the page
            services.acknowledge_charter(profile.user, charter.pk)
    last = selectors.add_months(today.replace(day=1), -1)
    period = services.open_period(secretary, unit=JIANWAI, kind="month", starts_on=last)
    for profile in CadreProfile.objects.filter(unit__code=JIANWAI):
        for item in services.items_in_force(profile.unit, profile.post, last):
            if item.measure == "judged":
                services.judge(secretary, period.pk, profile.pk, item.pk, "90", "党工委会议记录、下沉台账")
    services.close_period(secretary, period.pk)
    services.open_period(secretary, unit=JIANWAI, kind="month", starts_on=today.replace(day=1))


def _interview(zzb: object) -> str:
    months = assessment_selectors.months_with_snapshots(published_only=True)
    if not months:
        return "no published assessment month: no 约谈"
    month = months[0]
    _snapshot, bottom = selectors.bottom_list(zzb, month)
    for row in bottom[:1]:
        owners = list(CadreProfile.objects.filter(unit=row.unit).order_by("post"))
        if not owners:  # the generated history has no staff of its own there: give the unit its leader
            owners = [_leader_of(row.unit)]
        when = clock.now() + dt.timedelta(days=3)
        interview = services.schedule_interview(
            zzb,
            unit=row.unit.code,
            month=month,
            scheduled_for=when.replace(hour=9, minute=30, second=0, microsecond=0),
            attendees=f"{row.unit.name}主要负责人、分管负责人；市委组织部",
            place="市委组织部第一会议室",
        )
        services.record_minutes(
            zzb,
            interview.pk,
            f"{row.unit.name}{month:%Y年%m月}三率综合得分{row.score}，排名靠后。要求一把手牵头，限期整改。",
        )
        due = clock.local_date(clock.now()) + dt.timedelta(days=45)
        services.add_rectification(
            zzb,
            interview.pk,
            title="回访解决率提升至85%以上",
            owner=owners[0].pk,
            due_on=due,
            metric="resolution_rate",
            target="85",
        )
        services.add_rectification(
            zzb,
            interview.pk,
            title="综合得分进入本组中游（80分以上）",
            owner=owners[-1].pk,
            due_on=due,
            metric="score",
            target="80",
        )
        return f"约谈: {row.unit.name} ({month:%Y-%m}, score {row.score}) with a rectification list of 2"
    return "nobody on the bottom list: no 约谈"


def _leader_of(unit: OrgUnit) -> CadreProfile:
    user, _created = get_user_model().objects.get_or_create(
        username=f"lead_{unit.code}", defaults={"first_name": f"{unit.name[:20]}主任"}
    )
    Membership.objects.update_or_create(user=user, defaults={"unit": unit, "role": Role.UNIT_LEADER})
    post, ladder, level = POSTS[Role.UNIT_LEADER]
    profile, _created = CadreProfile.objects.get_or_create(
        user=user,
        defaults={
            "unit": unit,
            "post": post,
            "ladder": ladder,
            "level": level,
            "party_member": True,
            "started_on": clock.local_date(clock.now()) - dt.timedelta(days=1500),
        },
    )
    return profile


def _challenge(cy_zzb: object, secretary: object, today: dt.date) -> str:
    hotspot = Hotspot.objects.filter(street__code=JIANWAI, state__in=OPEN_HOTSPOT_STATES).order_by("-heat").first()
    if hotspot is None:
        task = services.post_challenge(
            cy_zzb,
            title="光华里小区供暖不达标",
            goal="两周内查清原因、全部达标",
            deadline=today + dt.timedelta(days=60),
            street=JIANWAI,
            keywords="暖气 供暖",
            target_change="-50",
        )
    else:
        task = services.post_challenge(
            cy_zzb,
            title=f"{hotspot.label}：揭榜挂帅",
            goal="查清供热管网问题，两周内全部达标，建立回访复核机制",
            resources="区城管委、热力集团配合；专项资金5万元",
            deadline=today + dt.timedelta(days=60),
            hotspot_id=hotspot.pk,
            target_change="-50",
        )
    handler = CadreProfile.objects.filter(unit__code=JIANWAI, post="接诉即办专员").select_related("user").first()
    if handler is None:
        return f"揭榜: {task.title} (open)"
    app = services.apply_challenge(handler.user, task.pk, "逐户入户测温，联合热力集团排查管网，每周通报进展")
    services.appoint(secretary, task.pk, app.pk)
    m = services.add_challenge_milestone(handler.user, task.pk, "完成入户测温和管网排查", today)
    services.reach_milestone(handler.user, m.pk)
    services.add_challenge_milestone(handler.user, task.pk, "全部住户室温达标", today + dt.timedelta(days=14))
    return f"揭榜: {task.title}, led by {handler.display_name}"


def _tolerance() -> str:
    profile = CadreProfile.objects.filter(unit__code=JIANWAI, post="接诉即办专员").select_related("user").first()
    if profile is None:
        return ""
    tc = services.apply_tolerance(
        profile.user,
        profile.pk,
        facts="暴雨夜先行组织抢排积水，未等部门会商即调用社区应急物资，事后补办手续；回访时诉求人对临时措施不满意。",
        grounds=["development-unintended", "due-diligence"],
    )
    return f"容错: application #{tc.pk} by {profile.display_name} (waits for jjw's investigation)"


def _rewards(zzb: object) -> str:
    """怀柔's rule as an example: each street and township in its group's top 10 gets 100万元 (domain.md §4)."""
    for group in ("streets", "townships"):
        RewardRule.objects.create(
            name=f"{group}: top 10 × 100万元",
            effective_from=dt.date(2020, 1, 1),
            group=group,
            top_n=10,
            amount=1_000_000,
        )
    months = assessment_selectors.months_with_snapshots(published_only=True)
    if not months:
        return "reward rules only (no published month)"
    made = services.compute_rewards(zzb, months[0])
    return f"rewards: {len(made)} units of {months[0]:%Y-%m} (rule: top 10 × 100万元)"


def _accountability(jjw: object) -> str:
    services.run_flag_rules()
    flag = Flag.objects.filter(state="open").order_by("-count").first()
    if flag is not None:
        services.decide_flag(jjw, flag.pk, "case_opened", "预警属实，立案核查")
        return f"问责: case from a flag ({flag.rule.get_kind_display()}, {flag.profile.display_name})"
    profile = CadreProfile.objects.exclude(unit__code=JIANWAI).order_by("id").first()
    if profile is None:
        return ""
    case = services.open_case(jjw, profile.pk, "连续多次超时签收，群众反映强烈")
    return f"问责: case #{case.pk} ({profile.display_name})"
