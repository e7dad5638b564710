"""Reference data every installation starts from: Beijing's org units, departments and companies, the
category tree with its dispatch catalogue, the time-limit policies and the working-day calendar.

Idempotent: running it again updates names and adds what is missing, never duplicates.
Division codes are the official 2023 statistical codes (facts, see orgs/seed/beijing_2023.csv). The
departments, companies and the category tree are a realistic list this project wrote itself.
"""

import csv
import datetime as dt
from pathlib import Path

from django.db import transaction

from jiesu.catalog.models import Category, DispatchRule, KnowledgeEntry, OwnerKind, TimeLimitClass
from jiesu.community.defaults import seed_community_reference
from jiesu.orgs.models import OrgUnit, PlaceHint, PlaceHintKind, UnitKind
from jiesu.sla.models import LimitUnit, TimeLimitPolicy, WorkCalendarDay

SEED_DIR = Path(__file__).resolve().parent.parent / "orgs" / "seed"
EPOCH = dt.date(2019, 1, 1)
HOTLINE_CENTRE = ("HC0001", "北京市12345市民服务热线中心")

DEPARTMENTS = [
    ("D001", "北京市城市管理委员会", "市城市管理委"),
    ("D002", "北京市住房和城乡建设委员会", "市住房城乡建设委"),
    ("D003", "北京市交通委员会", "市交通委"),
    ("D004", "北京市生态环境局", "市生态环境局"),
    ("D005", "北京市市场监督管理局", "市市场监管局"),
    ("D006", "北京市公安局公安交通管理局", "市公安交管局"),
    ("D007", "北京市人力资源和社会保障局", "市人力社保局"),
    ("D008", "北京市教育委员会", "市教委"),
    ("D009", "北京市卫生健康委员会", "市卫生健康委"),
    ("D010", "北京市规划和自然资源委员会", "市规划自然资源委"),
    ("D011", "北京市水务局", "市水务局"),
    ("D012", "北京市园林绿化局", "市园林绿化局"),
    ("D013", "北京市民政局", "市民政局"),
    ("D014", "北京市医疗保障局", "市医保局"),
    ("D015", "北京市文化和旅游局", "市文化和旅游局"),
    ("D016", "北京市商务局", "市商务局"),
    ("D017", "北京市城市管理综合行政执法局", "市城管执法局"),
    ("D018", "北京市应急管理局", "市应急管理局"),
    ("D019", "北京市政务服务和数据管理局", "市政务服务和数据局"),
    ("D020", "北京市司法局", "市司法局"),
]
COMPANIES = [
    ("C001", "北京市自来水集团有限责任公司", "自来水集团"),
    ("C002", "国网北京市电力公司", "电力公司"),
    ("C003", "北京市燃气集团有限责任公司", "燃气集团"),
    ("C004", "北京市热力集团有限责任公司", "热力集团"),
    ("C005", "北京城市排水集团有限责任公司", "排水集团"),
    ("C006", "中国联合网络通信有限公司北京市分公司", "北京联通"),
    ("C007", "中国移动通信集团北京有限公司", "北京移动"),
    ("C008", "中国电信股份有限公司北京分公司", "北京电信"),
    ("C009", "北京公共交通控股（集团）有限公司", "北京公交集团"),
    ("C010", "北京市地铁运营有限公司", "北京地铁"),
]

E, U, O, X = TimeLimitClass.EMERGENCY, TimeLimitClass.UTILITIES, TimeLimitClass.ORDINARY, TimeLimitClass.COMPLEX  # noqa: E741
STREET = "street"
# (code, name, [(code, name, [(code, name, class, lead, assists, keywords)])]); lead STREET = the ticket's street
Leaf = tuple[str, str, str, str, list[str], str]
CATEGORIES: list[tuple[str, str, list[tuple[str, str, list[Leaf]]]]] = [
    (
        "01",
        "城市管理",
        [
            (
                "0101",
                "市容环境",
                [
                    ("010101", "占道经营", O, STREET, [], "摊贩 占道 夜市 游商"),
                    ("010102", "乱堆乱放", O, STREET, [], "堆物 杂物 楼道"),
                    ("010103", "违法建设", X, STREET, ["D017"], "违建 私搭乱建 加盖"),
                    ("010104", "户外广告牌匾", O, STREET, [], "广告牌 牌匾 招牌"),
                ],
            ),
            (
                "0102",
                "环境卫生",
                [
                    ("010201", "垃圾清运不及时", O, STREET, [], "垃圾 清运 垃圾桶 满溢"),
                    ("010202", "垃圾分类", O, STREET, [], "垃圾分类 厨余"),
                    ("010203", "公共厕所", O, STREET, ["D001"], "公厕 厕所"),
                ],
            ),
            (
                "0103",
                "园林绿化",
                [
                    ("010301", "树木修剪", O, STREET, ["D012"], "树枝 修剪 遮挡"),
                    ("010302", "公园绿地养护", O, "D012", [], "公园 绿地 草坪"),
                ],
            ),
        ],
    ),
    (
        "02",
        "市政公用",
        [
            (
                "0201",
                "供水",
                [
                    ("020101", "停水", U, "C001", [], "停水 没水"),
                    ("020102", "水质水压", U, "C001", [], "水压 水质 发黄"),
                ],
            ),
            (
                "0202",
                "供电",
                [
                    ("020201", "停电", U, "C002", [], "停电 断电"),
                    ("020202", "电力线路隐患", E, "C002", [STREET], "电线 线路 漏电"),
                ],
            ),
            (
                "0203",
                "燃气",
                [
                    ("020301", "燃气泄漏", E, "C003", [], "燃气 泄漏 煤气味"),
                    ("020302", "燃气缴费开户", O, "C003", [], "燃气费 开户 充值"),
                ],
            ),
            (
                "0204",
                "供暖",
                [
                    ("020401", "室温不达标", U, "C004", [], "暖气 不热 室温"),
                    ("020402", "暖气漏水", U, "C004", [], "暖气 漏水 跑水"),
                ],
            ),
            (
                "0205",
                "通信",
                [
                    ("020501", "网络信号", O, "C006", ["C007", "C008"], "信号 宽带 网络"),
                ],
            ),
            (
                "0206",
                "排水",
                [
                    ("020601", "污水外溢", U, "C005", [], "污水 冒水 下水道"),
                    ("020602", "道路积水", E, "C005", ["D011"], "积水 内涝 雨水"),
                ],
            ),
        ],
    ),
    (
        "03",
        "交通运输",
        [
            (
                "0301",
                "道路设施",
                [
                    ("030101", "道路破损", O, "D003", [], "路面 坑洼 破损"),
                    ("030102", "井盖缺失", E, STREET, ["D003"], "井盖 丢失"),
                ],
            ),
            (
                "0302",
                "交通秩序",
                [
                    ("030201", "违章停车", O, "D006", [], "停车 占道停车 堵门"),
                    ("030202", "信号灯故障", U, "D006", [], "红绿灯 信号灯"),
                ],
            ),
            (
                "0303",
                "公共交通",
                [
                    ("030301", "公交线路站点", O, "C009", ["D003"], "公交 站点 线路"),
                    ("030302", "地铁运营服务", O, "C010", [], "地铁 站 运营"),
                ],
            ),
        ],
    ),
    (
        "04",
        "住房和城乡建设",
        [
            (
                "0401",
                "物业管理",
                [
                    ("040101", "物业服务", O, STREET, [], "物业 物业费"),
                    ("040102", "电梯故障", U, STREET, ["D005"], "电梯 故障 困人"),
                ],
            ),
            (
                "0402",
                "建筑施工",
                [
                    ("040201", "施工扰民", O, "D002", [STREET], "施工 夜间施工 噪音"),
                    ("040202", "老旧小区改造", X, "D002", [STREET], "老旧小区 改造 加装电梯"),
                ],
            ),
            (
                "0403",
                "房屋租赁",
                [
                    ("040301", "租赁纠纷", X, "D002", [], "租房 押金 中介"),
                ],
            ),
        ],
    ),
    (
        "05",
        "生态环境",
        [
            (
                "0501",
                "大气污染",
                [
                    ("050101", "餐饮油烟", O, STREET, ["D004"], "油烟 饭馆"),
                    ("050102", "露天焚烧", O, STREET, [], "焚烧 烧垃圾 烟"),
                ],
            ),
            (
                "0502",
                "噪声污染",
                [
                    ("050201", "社会生活噪声", O, STREET, [], "噪音 广场舞 扰民"),
                ],
            ),
        ],
    ),
    (
        "06",
        "市场监管",
        [
            (
                "0601",
                "消费维权",
                [
                    ("060101", "商品质量", O, "D005", [], "质量 退货 商家"),
                    ("060102", "预付卡退费", X, "D005", [], "预付卡 健身卡 退费"),
                ],
            ),
            (
                "0602",
                "食品安全",
                [
                    ("060201", "食品安全", O, "D005", [], "食品 变质 过期"),
                ],
            ),
        ],
    ),
    (
        "07",
        "劳动和社会保障",
        [
            (
                "0701",
                "劳动关系",
                [
                    ("070101", "拖欠工资", O, "D007", [], "工资 欠薪 拖欠"),
                    ("070102", "社会保险", O, "D007", [], "社保 缴费"),
                ],
            ),
            (
                "0702",
                "医疗保障",
                [
                    ("070201", "医保报销", O, "D014", [], "医保 报销"),
                ],
            ),
        ],
    ),
    (
        "08",
        "教育文体",
        [
            (
                "0801",
                "教育",
                [
                    ("080101", "入学政策", O, "D008", [], "入学 学区 学位"),
                    ("080102", "校外培训", O, "D008", [], "培训 退费 机构"),
                ],
            ),
        ],
    ),
    (
        "09",
        "卫生健康",
        [
            (
                "0901",
                "医疗服务",
                [
                    ("090101", "医疗服务质量", O, "D009", [], "医院 挂号 医生"),
                ],
            ),
        ],
    ),
    (
        "10",
        "社区治理",
        [
            (
                "1001",
                "社区服务",
                [
                    ("100101", "养老服务", O, STREET, ["D013"], "养老 老人 助餐"),
                    ("100102", "社区设施", O, STREET, [], "健身器材 路灯 座椅"),
                ],
            ),
        ],
    ),
    (
        "11",
        "应急安全",
        [
            (
                "1101",
                "安全隐患",
                [
                    ("110101", "消防安全隐患", E, STREET, ["D018"], "消防 通道 电动车 充电"),
                ],
            ),
        ],
    ),
]

# (class, amount, unit, sign within hours): domain.md §2.4 values, not confirmed — data, editable in admin
POLICIES = [
    (E, 2, LimitUnit.HOURS, 1),
    (U, 24, LimitUnit.HOURS, 1),
    (O, 7, LimitUnit.WORKDAYS, 2),
    (X, 15, LimitUnit.WORKDAYS, 2),
]
# Sector override (confirmed, 北京日报 2016): heating complaints are answered within 1 h, fixed within 24 h.
HEATING_OVERRIDE = ("020401", 24, LimitUnit.HOURS, 1)


def _unit(code: str, name: str, kind: str, parent: OrgUnit | None, short: str = "") -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first() or OrgUnit(code=code)
    unit.name, unit.kind, unit.parent, unit.short_name = name, kind, parent, short
    unit.save()
    return unit


# Every district's own departments (区级委办局), dispatch targets beside the city's: (code suffix, name after the
# district's name, short name after the district's short name). This project's realistic list.
DISTRICT_DEPARTMENTS = [  # i18n: data
    ("D01", "城市管理委员会", "区城管委"),
    ("D02", "住房和城乡建设委员会", "区住建委"),
    ("D03", "城市管理综合行政执法局", "区城管执法局"),
    ("D04", "生态环境局", "区生态环境局"),
    ("D05", "市场监督管理局", "区市场监管局"),
    ("D06", "交通委员会", "区交通委"),
    ("D07", "人力资源和社会保障局", "区人力社保局"),
    ("D08", "教育委员会", "区教委"),
    ("D09", "卫生健康委员会", "区卫健委"),
    ("D10", "民政局", "区民政局"),
    ("D11", "水务局", "区水务局"),
    ("D12", "园林绿化局", "区园林绿化局"),
    ("D13", "房屋管理局", "区房管局"),
    ("D14", "应急管理局", "区应急局"),
    ("D15", "商务局", "区商务局"),
    ("D16", "文化和旅游局", "区文旅局"),
    ("D17", "司法局", "区司法局"),
    ("D18", "医疗保障局", "区医保局"),
]


def seed_units() -> None:
    by_code: dict[str, OrgUnit] = {}
    with (SEED_DIR / "beijing_2023.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            parent = by_code.get(row["parent_code"])
            short = row["name"].removesuffix("街道") if row["kind"] == UnitKind.SUBDISTRICT else ""
            if row["kind"] == UnitKind.DISTRICT:
                short = row["name"].removesuffix("区")
            by_code[row["code"]] = _unit(row["code"], row["name"], row["kind"], parent, short)
    city = by_code["110000"]
    _unit(*HOTLINE_CENTRE, UnitKind.HOTLINE_CENTRE, city, "12345热线")
    for code, name, short in DEPARTMENTS:
        _unit(code, name, UnitKind.DEPARTMENT, city, short)
    for code, name, short in COMPANIES:
        _unit(code, name, UnitKind.PUBLIC_SERVICE_COMPANY, city, short)
    for district in [u for u in by_code.values() if u.kind == UnitKind.DISTRICT]:
        stem = district.short_name or district.name.removesuffix("区")
        for suffix, name, short in DISTRICT_DEPARTMENTS:
            _unit(f"{district.code}{suffix}", f"{district.name}{name}", UnitKind.DEPARTMENT, district, stem + short)


def _owner_kind(lead: str) -> str:
    if lead == STREET:
        return OwnerKind.STREET_TOWNSHIP
    return OwnerKind.DEPARTMENT if lead.startswith("D") else OwnerKind.PUBLIC_SERVICE_COMPANY


def seed_categories() -> None:
    def upsert(code: str, name: str, level: int, parent: Category | None, **extra: str) -> Category:
        cat, _ = Category.objects.update_or_create(
            code=code, effective_from=EPOCH, defaults={"name": name, "level": level, "parent": parent, **extra}
        )
        return cat

    for code1, name1, level2 in CATEGORIES:
        top = upsert(code1, name1, 1, None)
        for code2, name2, leaves in level2:
            mid = upsert(code2, name2, 2, top)
            for code3, name3, limit_class, lead, assists, keywords in leaves:
                leaf = upsert(
                    code3, name3, 3, mid, time_limit_class=limit_class, owner_kind=_owner_kind(lead), keywords=keywords
                )
                if DispatchRule.objects.filter(category=leaf, area__isnull=True, effective_from=EPOCH).exists():
                    continue
                rule = DispatchRule.objects.create(
                    category=leaf,
                    effective_from=EPOCH,
                    lead_is_area_street=lead == STREET,
                    lead_unit=None if lead == STREET else OrgUnit.objects.get(code=lead),
                    street_assists=STREET in assists,
                )
                rule.assist_units.set(OrgUnit.objects.filter(code__in=[a for a in assists if a != STREET]))


def seed_policies() -> None:
    for limit_class, amount, unit, sign_hours in POLICIES:
        TimeLimitPolicy.objects.get_or_create(
            time_limit_class=limit_class,
            category=None,
            effective_from=EPOCH,
            defaults={"amount": amount, "unit": unit, "accept_within_hours": sign_hours},
        )
    code, amount, unit, sign_hours = HEATING_OVERRIDE
    heating = Category.objects.get(code=code, effective_from=EPOCH)
    TimeLimitPolicy.objects.get_or_create(
        time_limit_class=heating.time_limit_class,
        category=heating,
        effective_from=EPOCH,
        defaults={"amount": amount, "unit": unit, "accept_within_hours": sign_hours},
    )


def seed_calendar(first: dt.date = EPOCH, last: dt.date = dt.date(2026, 12, 31)) -> int:
    """Copy chinese-calendar's holidays and 调休 (where they differ from Mon–Fri) into WorkCalendarDay."""
    import chinese_calendar

    rows = []
    day = first
    while day <= last:
        try:
            workday = chinese_calendar.is_workday(day)
        except NotImplementedError:  # beyond the package's data
            break
        if workday != (day.weekday() < 5):
            _, name = chinese_calendar.get_holiday_detail(day)
            rows.append(
                WorkCalendarDay(
                    date=day, is_workday=workday, name=_holiday_name(name, workday), source="chinese-calendar"
                )
            )
        day += dt.timedelta(days=1)
    WorkCalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
}


def _holiday_name(name: str | None, workday: bool) -> str:
    label = HOLIDAY_NAMES.get(name or "", name or "")
    return f"{label}调休上班" if workday else label


# Demo knowledge entries (智识库), written for this project; an administrator replaces them with checked answers.
KNOWLEDGE = [
    (
        "集中供暖什么时候开始",
        "本市集中供暖期一般为每年11月15日至次年3月15日，遇极端天气可能提前或延后，以市政府当年通知为准。"
        "室温低于18℃可拨打供热单位电话或12345反映。",
        "供暖 暖气 供热 开始 时间",
    ),
    (
        "居住证怎么办理",
        "在本市居住半年以上、符合有合法稳定就业、合法稳定住所或连续就读条件之一的，可持身份证和相关证明"
        "到居住地派出所或社区服务站申请，也可通过“北京通”App预约。",
        "居住证 办理 暂住",
    ),
    (
        "社保缴费记录怎么查询",
        "可登录北京市社会保险网上服务平台或“北京通”App查询个人权益记录，也可携带身份证到任一社保经办机构打印。",
        "社保 缴费 查询 记录",
    ),
    (
        "住房公积金如何提取",
        "购房、租房、退休等情形可申请提取，通过北京住房公积金网上业务平台或管理中心各分中心柜台办理，"
        "需提供身份证和相应证明材料。",
        "公积金 提取 租房",
    ),
    (
        "大件垃圾怎么处理",
        "大件家具等可预约所在小区物业或街道指定的大件垃圾收运服务，不得随意堆放在楼道和公共区域。",
        "大件 垃圾 家具 处理",
    ),
    (
        "停水停电计划在哪里查",
        "计划停水可在北京市自来水集团官网或客服热线96116查询，计划停电可在国网北京电力“网上国网”App或95598查询。",
        "停水 停电 计划 查询",
    ),
    (
        "电动自行车如何上牌",
        "符合国家标准的电动自行车可通过“北京交警”App预约，到登记服务站点现场查验后领取号牌。",
        "电动车 电动自行车 上牌 号牌",
    ),
    (
        "医保异地就医怎么备案",
        "可通过国家医保服务平台App或北京医保公共服务平台办理异地就医备案，备案后在就医地直接结算。",
        "医保 异地 备案 报销",
    ),
]


def seed_knowledge() -> None:
    for title, answer, keywords in KNOWLEDGE:
        KnowledgeEntry.objects.get_or_create(
            title=title, defaults={"answer": answer, "keywords": keywords, "source": "演示数据"}
        )


# Gazetteer hints: landmarks people name instead of the street (administrators add more in the admin).
# "天通苑" spans two streets, so it is reported as ambiguous rather than guessed.
PLACE_HINTS = [
    ("王府井", "110101001", PlaceHintKind.LANDMARK),
    ("西单", "110102001", PlaceHintKind.LANDMARK),
    ("国贸", "110105001", PlaceHintKind.LANDMARK),
    ("天通苑", "110114008", PlaceHintKind.COMPOUND),
    ("天通苑", "110114009", PlaceHintKind.COMPOUND),
]


def seed_place_hints() -> None:
    for text, code, kind in PLACE_HINTS:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is not None:
            PlaceHint.objects.get_or_create(text=text, unit=unit, defaults={"kind": kind, "note": "演示数据"})


@transaction.atomic
def seed_assessment_rules() -> None:
    """One rule set from 2020 on, with the defaults of `RuleSet` (none of them confirmed for Beijing: the
    weights follow the 30/35/35 example in domain.md §2.6). Administrators add a new rule set from a later
    month to change them; months already assessed keep theirs."""
    from jiesu.assessment.models import RuleSet

    RuleSet.objects.get_or_create(
        effective_from=dt.date(2020, 1, 1),
        defaults={
            "name": "三率考核规则（默认，可配置）",
            "note": "响应=按时签收且联系诉求人；解决：解决1、部分解决0.5；满意：满意1、基本满意0.8，未评价不计入。",
        },
    )


# 不予受理: the published reasons (after the 2025 national rules for 12345 hotlines; this project's wording).
DECLINE_REASONS = [
    ("D01", "涉及国家秘密、工作秘密、商业秘密或个人隐私", "诉求内容涉及依法应予保密的信息，热线不予受理。"),
    (
        "D02",
        "应通过诉讼、仲裁、纪检监察、行政复议等法定途径解决",
        "已经或者依法应当通过法定途径解决的事项，请按相应程序办理。",
    ),
    ("D03", "属于110、119、120、122等紧急热线处置范围", "紧急求助请直接拨打对应紧急热线，热线已告知来电人。"),
    ("D04", "违反法律法规或公序良俗", "诉求本身违反法律法规或者公序良俗。"),
    ("D05", "无实质内容或恶意骚扰", "来电无具体诉求，或者恶意骚扰、辱骂。"),
    ("D06", "党政机关内部管理事务", "人事任免、内部管理等党政机关内部事务。"),
    ("D07", "不属于本市行政区域", "事发地不在本市，请向属地热线反映。"),
    ("D08", "已办结且无新情况、新理由的重复诉求", "同一诉求已依法办结答复，且无新的事实和理由。"),
]


def seed_decline_reasons() -> None:
    from jiesu.tickets.models import DeclineReason

    for order, (code, title, description) in enumerate(DECLINE_REASONS):
        DeclineReason.objects.update_or_create(
            code=code, defaults={"title": title, "description": description, "ordering": order}
        )


def seed_reference() -> None:
    seed_units()
    seed_decline_reasons()
    seed_categories()
    seed_policies()
    seed_calendar()
    seed_knowledge()
    seed_place_hints()
    seed_assessment_rules()
    seed_community_reference()
