"""The demo city: users for every role and several thousand generated tickets over the last six months.

Every ticket is made by replaying its history through the real service layer at past moments
(`clock.at`), so its events, deadlines and states are exactly what the product would have produced.
All texts, names and phone numbers are generated here; nothing is copied from real data.
"""

import contextlib
import datetime as dt
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from jiesu.catalog.models import Category
from jiesu.demo import seasons
from jiesu.lib import clock
from jiesu.lib.errors import IllegalTransition
from jiesu.operations.reference_data import HOTLINE_CENTRE
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, Membership, OrgUnit, Role, UnitKind
from jiesu.tickets import services
from jiesu.tickets.models import AppealType, Channel, Ticket, Urgency

PASSWORD = "jiesu-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    unit_code: str
    role: str


DEMO_USERS = [
    DemoUser("admin", "系统管理员", "110000", Role.ADMINISTRATOR),
    DemoUser("operator", "王话务", HOTLINE_CENTRE[0], Role.HOTLINE_OPERATOR),
    DemoUser("dispatcher", "李派单", HOTLINE_CENTRE[0], Role.DISPATCHER),
    DemoUser("callback", "赵回访", HOTLINE_CENTRE[0], Role.CALLBACK_AGENT),
    DemoUser("supervisor", "孙督查", "110000", Role.SUPERVISOR),
    DemoUser("supervisor_cy", "周督查", "110105", Role.SUPERVISOR),
    DemoUser("jw_handler", "吴办理", "110105001", Role.UNIT_HANDLER),
    DemoUser("jw_leader", "郑主任", "110105001", Role.UNIT_LEADER),
    DemoUser("hd_handler", "钱办理", "110108012", Role.UNIT_HANDLER),
    DemoUser("hd_leader", "冯主任", "110108012", Role.UNIT_LEADER),
    DemoUser("cgw_handler", "陈办理", "D001", Role.UNIT_HANDLER),
    DemoUser("heat_handler", "褚办理", "C004", Role.UNIT_HANDLER),
    DemoUser("heat_leader", "卫经理", "C004", Role.UNIT_LEADER),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅鹏飞建国志文斌宇浩凯婷雪琳晨阳"
ROADS = [
    "光华路",
    "建国路",
    "学院路",
    "中关村大街",
    "朝阳北路",
    "广安门内大街",
    "安立路",
    "科丰路",
    "京顺路",
    "丰台北路",
    "石景山路",
    "通惠河北路",
    "永定路",
    "西三环北路",
    "双清路",
    "望京街",
    "南三环西路",
]
COMPOUNDS = [
    "阳光小区",
    "幸福家园",
    "和平里小区",
    "锦绣园",
    "北苑家园",
    "怡景城",
    "金色嘉园",
    "翠微小区",
    "东湖湾",
    "华龙苑",
    "天通苑",
    "百子湾家园",
    "芳园里",
    "新华社区",
    "清河小区",
]
DETAILS = {
    "占道经营": [
        "每天晚上有十多个摊贩占用人行道摆摊，行人只能走机动车道，存在安全隐患。",
        "小区门口早市占道经营，垃圾遍地，早高峰车辆无法通行。",
    ],
    "乱堆乱放": ["楼道里堆放了大量纸箱和旧家具，堵塞消防通道，多次和物业反映无果。"],
    "违法建设": ["一楼住户私自在院内加盖房屋，已经施工一周，影响邻居采光。"],
    "户外广告牌匾": ["商铺门头广告牌松动，大风天摇晃，担心掉下来砸到行人。"],
    "垃圾清运不及时": ["小区垃圾桶已经三天没有清运，满溢出来，气味很大，招来很多苍蝇。"],
    "垃圾分类": ["小区厨余垃圾桶撤掉了，居民不知道该投放到哪里，希望恢复设置。"],
    "公共厕所": ["胡同里的公共厕所冲水设备坏了好几天，卫生状况很差。"],
    "树木修剪": ["楼前大树枝叶已经伸到窗户里，遮挡阳光，夏天虫子很多，希望修剪。"],
    "公园绿地养护": ["公园草坪大面积枯死，喷灌设备损坏，希望尽快养护。"],
    "停水": ["整栋楼从早上开始停水，没有任何通知，家里有老人孩子，生活很不方便。"],
    "水质水压": ["最近自来水发黄有异味，高层水压很低，洗澡都困难。"],
    "停电": ["小区突然停电两个多小时，冰箱里的东西都坏了，不知道什么时候来电。"],
    "电力线路隐患": ["路边电线杆上的电线垂下来很低，下雨时冒火花，非常危险。"],
    "燃气泄漏": ["楼道里闻到很浓的燃气味，怀疑有燃气泄漏，请尽快派人检查。"],
    "燃气缴费开户": ["新房需要开通燃气，营业厅说要排队两周，希望加快办理。"],
    "室温不达标": [
        "已经供暖一周了，家里暖气一直不热，室温只有十五度，老人受不了。",
        "楼上楼下都热，只有我家暖气是凉的，报修三次都没有人来。",
    ],
    "暖气漏水": ["暖气管道接口漏水，已经泡坏了地板，楼下也受影响。"],
    "网络信号": ["小区手机信号很差，在家里打电话经常断线，宽带也很不稳定。"],
    "污水外溢": ["路口下水道井口冒污水，臭味很大，已经持续好几天。"],
    "道路积水": ["下大雨后路口积水很深，车辆熄火，行人无法通行。"],
    "道路破损": ["路面出现大坑，晚上看不清，已经有电动车摔倒了。"],
    "井盖缺失": ["人行道上井盖丢失，只放了一块木板，非常危险，请尽快补装。"],
    "违章停车": ["小区门口长期有车辆违章停放，堵住消防通道和出入口。"],
    "信号灯故障": ["路口红绿灯坏了一整天，交通非常混乱，没有交警疏导。"],
    "公交线路站点": ["公交站牌被拆除后没有恢复，希望恢复原来的站点。"],
    "地铁运营服务": ["地铁站早高峰限流时间太长，希望增加运力。"],
    "物业服务": ["物业长期不打扫楼道，报修也没人管，但是物业费照收。"],
    "电梯故障": ["单元电梯已经停运五天，楼里很多老人无法下楼，物业说在等配件。"],
    "施工扰民": ["工地夜间施工到凌晨两点，噪音很大，严重影响休息。"],
    "老旧小区改造": ["小区列入老旧小区改造计划后一直没有动工，希望了解进度和加装电梯的安排。"],
    "租赁纠纷": ["租房合同到期，中介以各种理由扣押押金不退。"],
    "餐饮油烟": ["楼下饭馆油烟直排，家里窗户都不敢开。"],
    "露天焚烧": ["附近空地每天傍晚有人焚烧垃圾，烟味很大。"],
    "社会生活噪声": ["广场舞音响声音太大，每天晚上持续到十点以后。"],
    "商品质量": ["在商场购买的电器使用一周就坏了，商家拒绝退换。"],
    "预付卡退费": ["健身房突然关门，办的预付卡还有一万多元没有消费，无法退费。"],
    "食品安全": ["在超市买到过期的食品，希望相关部门检查。"],
    "拖欠工资": ["公司已经拖欠三个月工资，老板一直推脱，希望帮助讨薪。"],
    "社会保险": ["单位没有按时给缴纳社保，影响了孩子入学。"],
    "医保报销": ["异地就医报销手续复杂，材料提交后两个月没有结果。"],
    "入学政策": ["咨询今年小学入学的政策，非京籍需要提供哪些材料。"],
    "校外培训": ["培训机构停课后拒绝退还剩余课时费用。"],
    "医疗服务质量": ["医院挂号难，排队时间长，希望改进预约方式。"],
    "养老服务": ["社区养老驿站的助餐服务停了，独居老人吃饭成了问题。"],
    "社区设施": ["小区健身器材损坏多处，存在安全隐患，希望维修。"],
    "消防安全隐患": ["楼道里有人给电动车充电，私拉电线，存在火灾隐患。"],
}
# Inquiries (咨询), each filed under the leaf it asks about, as a hotline files them. (Until issue 19's second stop
# all four went to 社区设施, including a housing-fund question: the demo's history then taught the assistant that
# 公积金 questions are 社区设施 calls. The demo catalogue has no leaf for the housing fund or residence permits, so
# such calls stay outside it, as everyday calls the assistant must not file by itself.)
INQUIRIES = [
    ("咨询供暖开始时间", "咨询今年供暖什么时候开始，是否会提前供暖。", "020401"),
    ("咨询垃圾分类投放时间", "咨询小区垃圾分类的投放时间和要求。", "010202"),
    ("咨询小学入学材料", "咨询孩子明年上小学需要准备哪些材料，学区怎么划分。", "080101"),
    ("咨询门诊医保报销", "咨询门诊费用医保报销的比例和办理流程。", "070201"),
]
# Calls per hour of the day, relative to the busiest (9–11 h): quiet nights, a morning peak, a long afternoon.
HOURS = (
    0.12,
    0.07,
    0.05,
    0.04,
    0.04,
    0.07,
    0.18,
    0.45,
    0.8,
    1.0,
    1.0,
    0.9,
    0.7,
    0.75,
    0.85,
    0.85,
    0.8,
    0.7,
    0.6,
    0.55,
    0.5,
    0.4,
    0.3,
    0.2,
)
# How callers and operators word the same problem: a title pattern, an opening, a closing (composed at random).
TITLES = [
    "{compound}{leaf}问题",
    "反映{compound}{leaf}",
    "{road}{leaf}，请尽快处理",
    "关于{compound}的{leaf}",
    "{leaf}（{road}附近）",
    "{compound}居民反映{leaf}",
    "投诉{road}一带{leaf}",
]
OPENINGS = ["", "来电人反映：", "市民来电称，", "来电人表示，", "居民反映：", "来电人称其住在{compound}，"]
CLOSINGS = [
    "",
    "希望尽快处理。",
    "请相关部门尽快解决。",
    "已向物业反映未果，请协调处理。",
    "要求回复处理结果。",
    "之前反映过一次，没有解决。",
    "希望有关部门到现场看看。",
]
# Compound and road name parts: each street gets its own few, made from its name, so addresses stay in their street.
COMPOUND_SUFFIXES = ["小区", "家园", "里", "西里", "北里", "花园", "嘉园", "南区"]
ROAD_SUFFIXES = ["路", "大街", "东路", "北街", "胡同", "西路"]
REPLY_OPENINGS = [
    "经核实，",
    "接诉后，我单位立即派员到现场核查，",
    "我单位高度重视，",
    "收到工单后，",
    "经与诉求人联系，",
]
REPLY_ACTIONS = [
    "已督促物业完成整改",
    "已安排维修人员处理，目前已恢复正常",
    "已协调相关部门联合处置，问题已解决",
    "已约谈责任单位并限期整改，现已整改到位",
    "已清理完毕并增加巡查频次",
    "已向诉求人解释相关政策，诉求人表示理解",
]
REPLY_CLOSINGS = ["，诉求人表示认可。", "，后续将纳入日常管理。", "，并将持续跟踪。", "。", "，已电话告知诉求人。"]
REPLIES = [
    "经核实，已联系诉求人说明情况，现场问题已处理完毕，诉求人表示认可。",
    "接诉后我单位立即派员到现场核查，已督促责任方整改，后续将加强巡查。",
    "已协调相关部门联合处置，问题已解决，并将纳入日常管理。",
    "经现场核实，问题属实，已安排维修，目前已恢复正常。",
]


def ensure_users() -> list[DemoUser]:
    User = get_user_model()
    for du in DEMO_USERS:
        user, created = User.objects.get_or_create(username=du.username, defaults={"first_name": du.name})
        if created:
            user.set_password(PASSWORD)
            user.is_staff = du.role in {Role.ADMINISTRATOR, Role.SUPERVISOR, Role.DISPATCHER}
            user.is_superuser = du.role == Role.ADMINISTRATOR
            user.save()
        Membership.objects.update_or_create(
            user=user, defaults={"unit": OrgUnit.objects.get(code=du.unit_code), "role": du.role}
        )
        if user.is_staff and not user.is_superuser:  # read the tickets and catalogues in the admin
            user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return DEMO_USERS


class Actors:
    """Finds (or makes) a user with a role in a unit, to act in the replayed history."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, str], object] = {}
        self.User = get_user_model()

    def get(self, unit: OrgUnit, role: str) -> object:
        key = (unit.pk, role)
        if key not in self.cache:
            m = Membership.objects.filter(unit=unit, role=role).select_related("user").first()
            if m is None:
                user = self.User.objects.create(username=f"{role[:4]}_{unit.code}", first_name=unit.name[:30])
                user.set_unusable_password()
                user.save()
                m = Membership.objects.create(user=user, unit=unit, role=role)
            self.cache[key] = m.user
        return self.cache[key]


def _phone(rng: random.Random) -> str:
    return rng.choice(["13", "15", "18", "17"]) + "".join(rng.choice("0123456789") for _ in range(9))


def generate_tickets(count: int, seed: int = 2026, days: int = 183, now: dt.datetime | None = None) -> int:
    """Replay `count` ticket histories over the last `days` days. Returns how many were made."""
    return Replayer(random.Random(seed), now or clock.now()).run(count, days)


class Stop(Exception):
    """The next step of a history would lie in the future: the ticket stays where it is."""


class Replayer:
    """Plays one ticket's history at a time through the services, step by step at past moments."""

    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        self.rng, self.now = rng, now
        self.actors = Actors()
        hotline = OrgUnit.objects.get(code=HOTLINE_CENTRE[0])
        self.operator = self.actors.get(hotline, Role.HOTLINE_OPERATOR)
        self.dispatcher = self.actors.get(hotline, Role.DISPATCHER)
        self.agent = self.actors.get(hotline, Role.CALLBACK_AGENT)
        self.supervisor = self.actors.get(OrgUnit.objects.get(code="110000"), Role.SUPERVISOR)
        self.leaves = list(Category.objects.filter(level=3))
        self.leaf_by_code = {c.code: c for c in self.leaves}
        self.heating_leaf = next(c for c in self.leaves if c.code == "020401")
        self.departments = list(OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT))
        self.masters: list[int] = []
        self.t = now

    def run(self, count: int, days: int) -> int:
        rng = self.rng
        streets = list(
            OrgUnit.objects.filter(kind__in=sorted(STREET_TOWNSHIP_KINDS)).select_related("parent").order_by("code")
        )
        # Busy districts get more tickets (Chaoyang and Haidian lead, as in the real city), the demo streets most.
        weights = [self._weight(s) for s in streets]
        made = 0
        for _ in range(count):
            # Most tickets spread over the period; some in the last days and hours, so every state is on show.
            span = rng.choices([days * 86400, 2 * 86400, 3 * 3600], [85, 11, 4])[0]
            while True:  # the city's rhythm (seasons.py): fewer calls on weekends and holidays, and at night
                t0 = self.now - dt.timedelta(seconds=rng.randint(0, span))
                weight = seasons.day_weight(clock.local_date(t0)) * HOURS[t0.astimezone(clock.SHANGHAI).hour]
                if rng.random() * max(seasons.WEEKDAY) <= weight:
                    break
            # Heating complaints in the heating season, floods in the July rains.
            day = clock.local_date(t0)
            leaf = rng.choices(self.leaves, [seasons.season(c.code, day) for c in self.leaves])[0]
            street = rng.choices(streets, weights)[0]
            # Stop: the rest of this history lies in the future; what happened so far is kept.
            with transaction.atomic(), contextlib.suppress(Stop):
                self.replay(t0, leaf, street)
            made += 1
        return made

    @staticmethod
    def _weight(street: OrgUnit) -> int:
        if street.code in {"110105001", "110108012"}:
            return 60
        district = street.parent.code if street.parent else ""
        return 8 if district in {"110105", "110108"} else 3 if district in {"110101", "110102"} else 1

    def step(self, seconds: float) -> dt.datetime:
        """Move the history on; stop when it would pass the present."""
        self.t += dt.timedelta(seconds=seconds)
        if self.t >= self.now:
            raise Stop
        return self.t

    def replay(self, t0: dt.datetime, leaf: Category, street: OrgUnit, text: tuple[str, str] | None = None) -> None:
        ticket = self.intake(t0, leaf, street, text)
        self.t = t0
        if ticket.appeal_type == AppealType.INQUIRY:
            with clock.at(self.step(self.rng.randint(60, 900))):
                services.answer_directly(self.operator, ticket.pk, "已根据知识库向来电人解答相关政策和办理流程。")
            return
        if self.masters and self.rng.random() < 0.03:
            with clock.at(self.step(self.rng.randint(60, 900))):
                services.merge(
                    self.dispatcher, ticket.pk, self.rng.choice(self.masters[-50:]), "同一事项重复反映，并单处理。"
                )
            return
        self.masters.append(ticket.pk)
        with clock.at(self.step(self.rng.randint(300, 5400))):
            ticket = services.dispatch(self.dispatcher, ticket.pk)
        rounds = 0
        while True:
            handler = self.sign(ticket, street)
            ticket = self.handle(ticket, handler)
            if not self.callback(ticket, rounds):
                return
            rounds += 1

    @staticmethod
    def places(street: OrgUnit) -> tuple[list[str], list[str]]:
        """The street's own compounds and roads: made from its name and a few shared ones, the same on every run."""
        local = random.Random(street.code)
        stem = street.short_name or street.name.removesuffix("街道").removesuffix("地区").removesuffix("镇")
        stem = stem.removesuffix("乡")
        compounds = [stem + s for s in local.sample(COMPOUND_SUFFIXES, 3)] + local.sample(COMPOUNDS, 2)
        roads = [stem + s for s in local.sample(ROAD_SUFFIXES, 2)] + local.sample(ROADS, 1)
        return compounds, roads

    def intake(self, t0: dt.datetime, leaf: Category, street: OrgUnit, text: tuple[str, str] | None = None) -> Ticket:
        rng = self.rng
        district = street.parent.name if street.parent else ""
        # The shared random sequence is drawn exactly as before (planted hotspots and tests depend on it); the
        # wording is picked by a second generator seeded from the call, so it varies without moving the sequence.
        compounds, roads = self.places(street)
        shared_road, number, shared_compound = rng.choice(ROADS), rng.randint(1, 300), rng.choice(COMPOUNDS)
        words = random.Random(f"{street.code}:{t0.isoformat()}:{shared_road}:{number}:{shared_compound}")
        compound, road = words.choice(compounds), words.choice(roads)
        address = f"{district}{street.name}{road}{number}号{compound}"
        if text is not None:
            category, appeal_type = leaf, AppealType.COMPLAINT
            title, content = text
        elif rng.random() < 0.2:
            title, content, code = rng.choice(INQUIRIES)
            category, appeal_type = self.leaf_by_code[code], AppealType.INQUIRY
        else:
            category = leaf
            rng.choice(COMPOUNDS)  # drawn as before (the old title's compound)
            title = words.choice(TITLES).format(compound=compound, road=road, leaf=leaf.name)
            opening = words.choice(OPENINGS).format(compound=compound)
            detail = rng.choice(DETAILS.get(leaf.name, ["希望尽快处理。"]))
            content = f"{opening}{address}：{detail}{words.choice(CLOSINGS)}"
            weights = [6, 3, 1, 1]
            types = [AppealType.COMPLAINT, AppealType.HELP, AppealType.TIPOFF, AppealType.SUGGESTION]
            appeal_type = rng.choices(types, weights)[0]
        emergency = category.time_limit_class == "emergency"
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        with clock.at(t0):
            return services.intake(
                self.operator,
                channel=rng.choices(list(Channel.values), [70, 10, 8, 6, 2, 1, 3])[0],
                appeal_type=appeal_type,
                title=title,
                content=content,
                category_code=category.code,
                requester_name=name,
                requester_phone=_phone(rng),
                address=address,
                street_code=street.code,
                urgency=Urgency.EMERGENCY if emergency else Urgency.NORMAL,
            )

    def sign(self, ticket: Ticket, street: OrgUnit) -> object:
        """Sign for the ticket, after a return request now and then. Returns the lead unit's handler."""
        rng = self.rng
        while True:
            lead = ticket.lead_unit
            assert lead is not None
            handler = self.actors.get(lead, Role.UNIT_HANDLER)
            if rng.random() >= 0.04:
                sign_at = self.step(rng.randint(120, 3000) if rng.random() < 0.93 else rng.randint(3600, 36000))
                return self.accept(ticket, handler, sign_at)
            return_at = self.step(rng.uniform(1800, 21600))
            current = Ticket.objects.select_related("time_limit_policy").get(pk=ticket.pk)
            window = dt.timedelta(hours=current.time_limit_policy.return_within_hours)
            if current.dispatched_at and return_at > current.dispatched_at + window:
                return self.accept(ticket, handler, return_at)  # too late to hand it back: the unit signs after all
            with clock.at(return_at):
                services.request_return(handler, ticket.pk, "经核实，该诉求不属于我单位职责范围，请改派。")
            with clock.at(self.step(rng.uniform(3600, 43200))):
                if rng.random() < 0.5 and lead.kind != UnitKind.DISTRICT and street.parent:
                    ticket = services.approve_return(
                        self.dispatcher,
                        ticket.pk,
                        lead_code=street.parent.code,
                        note="退单理由成立，改派属地区政府兜底办理。",
                    )
                else:
                    ticket = services.reject_return(self.dispatcher, ticket.pk, "属于该单位职责，驳回退单。")

    def accept(self, ticket: Ticket, handler: object, sign_at: dt.datetime) -> object:
        due = Ticket.objects.get(pk=ticket.pk).accept_due_at
        if due and due + dt.timedelta(minutes=1) < sign_at:  # what the worker did then
            services.escalate_overdue(ticket.pk, due + dt.timedelta(minutes=1), services.SIGN_DEADLINE)
        with clock.at(sign_at):
            services.accept(handler, ticket.pk)
        return handler

    def handle(self, ticket: Ticket, handler: object) -> Ticket:
        rng = self.rng
        ticket = Ticket.objects.select_related("lead_unit").get(pk=ticket.pk)  # signing may have moved the lead
        lead = ticket.lead_unit
        assert lead is not None
        if lead.is_street_township and rng.random() < 0.1:
            dept = rng.choice(self.departments)
            with clock.at(self.step(rng.randint(600, 7200))):
                services.whistle(handler, ticket.pk, [dept.code], "问题涉及多部门职责，吹哨请相关部门到现场。")
            with clock.at(self.step(rng.randint(600, 3000))):
                services.report_in(self.actors.get(dept, Role.UNIT_HANDLER), ticket.pk, "已到现场报到。")
        with clock.at(self.step(rng.uniform(7200, 108000))):
            if rng.random() < 0.5:
                services.add_progress(handler, ticket.pk, "已联系诉求人，正在现场核实处理。")
            ticket = Ticket.objects.get(pk=ticket.pk)
            if ticket.time_limit_policy.unit == "workdays" and ticket.due_at and rng.random() < 0.06:
                services.request_extension(
                    handler, ticket.pk, ticket.due_at + dt.timedelta(days=7), "问题涉及多方协调，需延长办理时限。"
                )
                with clock.at(self.step(rng.uniform(7200, 86400))):
                    if rng.random() < 0.7:
                        services.approve_extension(self.dispatcher, ticket.pk, "同意延期。")
                    else:
                        services.deny_extension(self.dispatcher, ticket.pk, "理由不充分，不同意延期。")
        ticket = Ticket.objects.get(pk=ticket.pk)
        due = ticket.due_at or self.t + dt.timedelta(days=1)
        late = rng.random() < 0.08
        share = rng.uniform(1.05, 1.6) if late else rng.uniform(0.1, 0.9)
        reply_at = self.t + dt.timedelta(seconds=max(600.0, (due - self.t).total_seconds() * share))
        if late and due + dt.timedelta(minutes=1) < min(reply_at, self.now):
            services.escalate_overdue(ticket.pk, due + dt.timedelta(minutes=1))  # what the worker did then
            if due + dt.timedelta(hours=1) < min(reply_at, self.now) and rng.random() < 0.3:
                with clock.at(due + dt.timedelta(hours=1)):
                    services.supervise(self.supervisor, ticket.pk, "超期未办结，请加快办理并说明原因。")
        with clock.at(self.step((reply_at - self.t).total_seconds())):
            text = rng.choice(REPLIES)  # drawn as before; the wording varies with a generator of its own
            words = random.Random(f"{ticket.number}:{text}")
            if words.random() < 0.8:
                text = words.choice(REPLY_OPENINGS) + words.choice(REPLY_ACTIONS) + words.choice(REPLY_CLOSINGS)
            return services.reply(handler, ticket.pk, text)

    def callback(self, ticket: Ticket, rounds: int) -> bool:
        """The hotline's callback. True when the caller was dissatisfied and the ticket reopened."""
        rng = self.rng
        roll = rng.random()
        dissatisfied = roll < (0.10 if rounds == 0 else 0.04)
        if dissatisfied:
            resolution = "unsolved" if rng.random() < 0.5 else "partly"
            satisfaction = "dissatisfied"
        else:
            resolution = "partly" if roll < 0.15 else "solved"
            satisfaction = rng.choices(["satisfied", "fairly_satisfied", "not_rated"], [85, 10, 5])[0]
        with clock.at(self.step(rng.uniform(4 * 3600, 48 * 3600))):
            ticket = services.record_callback(
                self.agent,
                ticket.pk,
                contacted=rng.random() < 0.97,
                resolution=resolution,
                satisfaction=satisfaction,
                comment="来电人表示" + ("不满意，问题没有解决。" if dissatisfied else "认可办理结果。"),
            )
        return ticket.dispatch_state == "dispatched"


# Planted hotspots: (street code, leaf code, titles, details, requests, over the last days). The detection must
# find them (tests/test_governance.py checks it on a generated city).
PLANTED = [
    (
        "110105001",
        "020401",
        ["光华里小区暖气不热", "光华里小区暖气不热室温低", "光华里小区供暖不达标"],
        [
            "光华里小区{n}号楼暖气不热，室温只有14度，家里有老人孩子。",
            "光华里小区{n}号楼供暖以来暖气一直不热，室温不达标。",
        ],
        16,
        4,
    ),
    (
        "110108012",
        "040201",
        ["学清路工地夜间施工噪音扰民", "学清路工地夜间施工扰民"],
        ["学清路工地每天夜里施工到凌晨，噪音扰民，{n}号楼居民无法休息。", "学清路工地夜间施工噪音很大，影响休息。"],
        11,
        5,
    ),
    (
        "110101001",
        "020601",
        ["南池子小区污水井冒水", "南池子小区下水道污水外溢"],
        ["南池子小区{n}号楼前污水井冒水，污水流到路面，气味很大。", "南池子小区下水道堵塞污水外溢。"],
        8,
        3,
    ),
]


def plant_hotspots(seed: int = 2026, now: dt.datetime | None = None) -> int:
    """A few clusters of similar requests in one place over the last days, so the demo shows real-looking
    hotspots; later in each window more than earlier (they grow)."""
    now = now or clock.now()
    rng = random.Random(seed + 1)
    replayer = Replayer(rng, now)
    made = 0
    for street_code, leaf_code, titles, details, count, days in PLANTED:
        street = OrgUnit.objects.filter(code=street_code).select_related("parent").first()
        leaf = Category.objects.filter(code=leaf_code, level=3).first()
        if street is None or leaf is None:
            continue
        for _ in range(count):
            back = days * 86400 * (1 - rng.random() ** 0.6)  # denser towards today: a growing cluster
            t0 = now - dt.timedelta(seconds=max(600.0, back))
            text = (rng.choice(titles), rng.choice(details).format(n=rng.randint(1, 24)))
            with transaction.atomic(), contextlib.suppress(Stop):
                replayer.replay(t0, leaf, street, text)
            made += 1
    return made


def demo_ticket_count() -> int:
    return Ticket.objects.count()


def generate_history(orders: int, seed: int = 2026, months: int = 6) -> int:
    """Closed tickets with callbacks over the last `months` full months (`jiesu bench generate --to db`), so the
    monthly assessment ranks every unit on a realistic sample."""
    from jiesu.assessment.rules import previous_month
    from jiesu.demo import generator

    units = generator.handling_units()
    last = previous_month(clock.local_date(clock.now()).replace(day=1))
    return generator.load_into_database(generator.Generator(units, seed), generator.months_back(last, months), orders)


def assess_past_months(months: int = 6) -> list[str]:
    """The city's assessment history: the last `months` full months are published, last month included, as the city
    would have done by now (Beijing publishes a month's ranking in the first half of the next month), so the
    organisation department has last month's bottom list for its 约谈 (issue 20). The running month is the
    supervisor's: `jiesu assess --month <this month>` computes its draft, appeals are taken on it until it is
    published, and `--correct REASON` starts a correction of a published month."""
    from jiesu.assessment import services as assessment
    from jiesu.assessment.rules import previous_month
    from jiesu.assessment.selectors import current_snapshot

    last = previous_month(clock.local_date(clock.now()).replace(day=1))
    month, todo = last, []
    for _i in range(months):
        todo.append(month)
        month = previous_month(month)
    lines = []
    for month in reversed(todo):
        snapshot = current_snapshot(month)
        if snapshot is None or not snapshot.is_published:
            try:
                snapshot = assessment.publish(month)
            except IllegalTransition as e:  # an earlier run's draft with appeals still pending: the supervisor's
                lines.append(f"assessment {month:%Y-%m}: left as a draft ({e})")
                continue
            lines.append(f"assessment {month:%Y-%m} v{snapshot.version} (published): {snapshot.scores.count()} units")
    return lines
