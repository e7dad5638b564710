"""The demo city's Party members in their home communities: three communities with compounds, a community worker,
registered members (two with demo logins: `member`, and `cadre`, a leading cadre of 热力集团), and about four
months of wishes, tasks, service records, ratings, points and one past call-out, all made through the services so
the trail, the ledger and the reports agree."""

import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from jiesu.community import services
from jiesu.community.models import (
    ALL_SLOTS,
    CallOutShift,
    CommunityTask,
    Compound,
    PartyMember,
    ShiftSignUp,
    TaskOffer,
    TaskState,
)
from jiesu.lib import clock
from jiesu.lib.errors import IllegalTransition
from jiesu.orgs.models import Membership, OrgUnit, Role, UnitKind

from .city import GIVEN, PASSWORD, SURNAMES

# (code, name, street, [(compound, lat, lng)])
COMMUNITIES = [
    (
        "110105001001",
        "光华里社区",
        "110105001",
        [("光华里小区", 39.9138, 116.4562), ("光华东里", 39.9151, 116.4603), ("建外SOHO", 39.9066, 116.4585)],
    ),
    (
        "110105001002",
        "永安里东社区",
        "110105001",
        [("永安里东小区", 39.9079, 116.4478), ("建国门外大街1号院", 39.9087, 116.4521)],
    ),
    ("110105002001", "吉庆里社区", "110105002", [("吉庆里小区", 39.9252, 116.4356), ("朝外北街", 39.9263, 116.4392)]),
]
WORKER = ("sq_worker", "刘社工", "110105001001")
COMMUNITY_LOGINS = [
    ("sq_worker", "刘社工 community worker (unit_handler), 光华里社区: /community/"),
    ("member", "王建国 Party member of 光华里社区 (phone pages): /m/"),
    ("cadre", "赵卫东 leading cadre of 热力集团, member of 光华里社区: /m/ (heat_leader reads his report)"),
]
WORK_UNITS = [
    ("北京市城市管理委员会", "D001"),
    ("北京市热力集团有限责任公司", "C004"),
    ("北京市市场监督管理局", "D005"),
    ("朝阳区教育委员会", ""),
    ("北京协和医院", ""),
    ("朝阳区人民法院", ""),
    ("国网北京市电力公司", ""),
    ("某互联网科技公司", ""),
]
SKILLS = [
    "policy",
    "legal",
    "medical",
    "tutoring",
    "repair",
    "patrol",
    "elderly",
    "digital",
    "environment",
    "counselling",
    "errand",
    "culture",
]
WISHES = [
    ("修理滴水的水龙头", "厨房水龙头一直滴水，家里只有老两口，希望有人帮忙换个阀芯。", "repair"),
    ("教老人用手机挂号", "想学会用手机在医院公众号上挂号和查报告。", "digital"),
    ("孩子数学作业辅导", "孩子上初二，数学跟不上，家长下班晚，希望周末有人辅导一下。", "tutoring"),
    ("陪独居老人聊聊天", "楼上独居的李奶奶子女在外地，希望有人常去看看她。", "elderly"),
    ("咨询租房合同纠纷", "房东提前收房不退押金，想问问怎么维权。", "legal"),
    ("讲解医保报销新政策", "楼里老人想了解门诊报销比例调整的新政策。", "policy"),
    ("量血压和健康咨询", "希望有医生定期来小区给老人量血压。", "medical"),
    ("帮忙买菜送上楼", "腿脚不便下楼困难，希望有人每周帮忙买一次菜。", "errand"),
    ("清理楼道堆放杂物", "三单元楼道堆了很多纸箱，想组织一次清理。", "environment"),
    ("夜间巡逻看护车棚", "车棚最近丢了两辆电动车，希望晚上有人巡逻。", "patrol"),
    ("组织老年合唱队", "几位老人想组织合唱队，需要有人带一带。", "culture"),
    ("孩子考试焦虑想找人聊聊", "孩子快中考了压力大，睡不好，想找人疏导一下。", "counselling"),
    ("换个坏了的灯泡", "家里客厅灯泡坏了，够不着，希望有人帮忙换一下。", "repair"),
    ("帮忙在网上缴电费", "不会用手机缴电费，每次都要跑营业厅。", "digital"),
]
DUTY_WISHES = [  # the demand boundary refuses these with the reason (the staff's own duty)
    ("开具居住证明", "孩子上学需要社区开具居住证明，盖章。"),
    ("申请低保", "家里困难，想申请低保，不知道怎么办。"),
]


@dataclass
class Seeded:
    communities: int
    members: int
    tasks: int


def _user(username: str, name: str) -> object:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": name})
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


def ensure_communities() -> list[OrgUnit]:
    units = []
    for code, name, street, compounds in COMMUNITIES:
        unit, _ = OrgUnit.objects.get_or_create(
            code=code, defaults={"name": name, "kind": UnitKind.COMMUNITY, "parent": OrgUnit.objects.get(code=street)}
        )
        for compound, lat, lng in compounds:
            Compound.objects.get_or_create(community=unit, name=compound, defaults={"lat": lat, "lng": lng})
        units.append(unit)
    worker = _user(WORKER[0], WORKER[1])
    Membership.objects.update_or_create(
        user=worker, defaults={"unit": OrgUnit.objects.get(code=WORKER[2]), "role": Role.UNIT_HANDLER}
    )
    return units


def seed_communities(members_per: int = 40, days: int = 120, seed: int = 2026) -> Seeded:
    """Idempotent: a community that has members already is left as it is."""
    units = ensure_communities()
    rng = random.Random(seed)
    worker = get_user_model().objects.get(username=WORKER[0])
    now = clock.now()
    start = now - dt.timedelta(days=days)
    made_members = made_tasks = 0
    for n, unit in enumerate(units):
        if PartyMember.objects.filter(community=unit).exists():
            continue
        actor = worker if unit.code == WORKER[2] else _community_worker(unit)
        compounds = list(Compound.objects.filter(community=unit))
        with clock.at(start - dt.timedelta(days=30)):
            members = [_register(actor, unit, compounds, rng, i, demo=n == 0 and i < 2) for i in range(members_per)]
        made_members += len(members)
        with clock.at(start):
            services.create_post(actor, unit, "政策宣讲岗", "policy", 6, "讲解惠民政策")
            services.create_post(actor, unit, "法律咨询岗", "legal", 4, "租房、婚姻、劳动纠纷咨询")
            services.create_post(actor, unit, "数字助老岗", "digital", 8, "教老人用智能手机")
            services.create_post(actor, unit, "维修服务岗", "repair", 6, "小家电、水电维修")
            services.form_compound_branches(actor, unit)
        made_tasks += _history(actor, unit, compounds, members, rng, start, now)
        _past_callout(actor, unit, members, rng, now)
        with clock.at(now - dt.timedelta(hours=2)):  # a few wishes waiting for the worker, and open tasks
            for k in range(4):
                title, text, skill = WISHES[(n + k * 3) % len(WISHES)]
                services.submit_demand(actor, unit, _wish_data(rng, compounds, title, text, skill, "wish_box"))
            for k in range(3):
                title, text, skill = WISHES[(n + k * 5 + 1) % len(WISHES)]
                demand = services.submit_demand(actor, unit, _wish_data(rng, compounds, title, text, skill, "visit"))
                services.publish_demand(actor, demand.pk, skill)
    return Seeded(len(units), made_members, made_tasks)


def _community_worker(unit: OrgUnit) -> object:
    user = _user(f"sq_{unit.code[-6:]}", "社区工作者")
    Membership.objects.update_or_create(user=user, defaults={"unit": unit, "role": Role.UNIT_HANDLER})
    return user


def _register(
    actor: object, unit: OrgUnit, compounds: list[Compound], rng: random.Random, i: int, demo: bool
) -> PartyMember:
    work_unit, code = WORK_UNITS[1] if demo and i == 1 else rng.choice(WORK_UNITS)
    cadre = (demo and i == 1) or rng.random() < 0.15
    skills = rng.sample(SKILLS, rng.randint(1, 3))
    if demo and i == 0:
        skills = sorted({"repair", "digital", *skills})
    data = {
        "name": "王建国"
        if demo and i == 0
        else ("赵卫东" if demo else rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)),
        "phone": f"139{rng.randrange(10**8):08d}",
        "work_unit_name": work_unit,
        "work_unit_code": code,
        "is_leading_cadre": cadre,
        "compound": compounds[0].pk if demo else rng.choice(compounds).pk,
        "profession": rng.choice(["工程师", "教师", "医生", "律师", "公务员", "会计", "电工", "护士"]),
        "skills": skills,
        "interests": rng.choice(["书法", "太极", "摄影", "合唱", "乒乓球", "读书"]),
        "slots": ALL_SLOTS if demo else rng.choice([4, 8 | 16, 4 | 8, 16 | 32, 1 | 2 | 4, 8 | 16 | 32]),
        "intentions": "",
    }
    member, _login = services.register_member(actor, unit, data)
    if demo:  # the demo logins: `member` (an ordinary member) and `cadre` (a leading cadre of 热力集团)
        user = member.user
        assert user is not None
        user.username = "member" if i == 0 else "cadre"
        user.set_password(PASSWORD)
        user.save()
    return member


def _wish_data(
    rng: random.Random, compounds: list[Compound], title: str, text: str, skill: str | None, source: str
) -> dict[str, object]:
    return {
        "source": source,
        "kind": "micro_wish",
        "title": title,
        "text": text,
        "skill": skill or "",
        "compound": rng.choice(compounds).pk,
        "slots": rng.choice([0, 8 | 16, 4, 16]),
        "resident_name": rng.choice(SURNAMES) + rng.choice(["阿姨", "大爷", "女士", "先生"]),
        "resident_phone": f"136{rng.randrange(10**8):08d}",
    }


def _history(
    actor: object,
    unit: OrgUnit,
    compounds: list[Compound],
    members: list[PartyMember],
    rng: random.Random,
    start: dt.datetime,
    now: dt.datetime,
) -> int:
    made = 0
    span = (now - start).total_seconds() - 6 * 86400
    moments = sorted(start + dt.timedelta(seconds=rng.random() * span) for _ in range(len(members) + 10))
    for moment in moments:
        moment = moment.replace(hour=rng.randint(9, 17))
        with clock.at(moment):
            if rng.random() < 0.08:
                title, text = rng.choice(DUTY_WISHES)
                services.submit_demand(actor, unit, _wish_data(rng, compounds, title, text, None, "visit"))
                continue
            title, text, skill = rng.choice(WISHES)
            source = rng.choice(["visit", "wish_box", "questionnaire"])
            demand = services.submit_demand(actor, unit, _wish_data(rng, compounds, title, text, skill, source))
            task = services.publish_demand(actor, demand.pk, skill)
            made += 1
        offers = list(TaskOffer.objects.filter(task=task).select_related("member__user").order_by("rank"))
        claimer = next((o.member for o in offers if rng.random() < 0.7), None)
        if claimer is None or claimer.user is None:
            later = moment + services.CLAIM_WINDOW + dt.timedelta(minutes=1)
            with clock.at(later):
                services.escalate_due(later)
            continue
        with clock.at(moment + dt.timedelta(hours=rng.uniform(0.5, 20))):
            services.claim_task(claimer.user, task.pk)
        with clock.at(moment + dt.timedelta(days=rng.uniform(1, 4))):
            services.record_service(
                claimer.user, task.pk, rng.choice(["1", "1.5", "2", "3"]), "已上门服务，居民表示感谢。"
            )
        if rng.random() < 0.85:
            with clock.at(moment + dt.timedelta(days=rng.uniform(4, 5))):
                services.rate_task(None, task.pk, rng.choices([5, 4, 3, 2], [0.6, 0.28, 0.09, 0.03])[0], "")
    # tasks nobody claimed in the past were cancelled by the community (families solved them)
    for task in CommunityTask.objects.filter(community=unit, state=TaskState.ESCALATED):
        services.cancel_task(actor, task.pk, "居民需求已由家属解决")
    return made


def _past_callout(
    actor: object, unit: OrgUnit, members: list[PartyMember], rng: random.Random, now: dt.datetime
) -> None:
    day = clock.local_date(now - dt.timedelta(days=40))
    at = dt.datetime.combine(day, dt.time(7, 0), tzinfo=clock.SHANGHAI)
    with clock.at(at - dt.timedelta(hours=12)):
        callout = services.create_callout(
            actor,
            unit,
            "暴雨防汛值守",
            "气象台发布暴雨橙色预警，需党员协助低洼点位值守和转移老人。",
            [
                services.ShiftInput("低洼点位值守", "光华路下穿桥", at, at + dt.timedelta(hours=4), 4),
                services.ShiftInput(
                    "转移独居老人", "各小区", at + dt.timedelta(hours=4), at + dt.timedelta(hours=8), 3
                ),
            ],
        )
    for shift in CallOutShift.objects.filter(callout=callout):
        for member in rng.sample(members, shift.needed):
            if member.user is None:
                continue
            with clock.at(at - dt.timedelta(hours=rng.uniform(2, 10))):
                try:
                    services.sign_up(member.user, shift.pk)
                except IllegalTransition:
                    continue
    with clock.at(at + dt.timedelta(hours=9)):
        for signup in ShiftSignUp.objects.filter(shift__callout=callout):
            services.record_attendance(actor, signup.pk, rng.random() < 0.9)
        services.close_callout(actor, callout.pk)
