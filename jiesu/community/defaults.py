"""Reference data of the community service: the skill vocabulary, the city-wide demand boundary (staff duties) and
the city-wide points rules. Communities add their own duties and override rules in the admin."""

from .models import PointReason, PointRule, Skill, StaffDuty

SKILLS = [
    ("general", "通用志愿服务"),
    ("policy", "政策宣讲"),
    ("legal", "法律咨询"),
    ("medical", "医疗健康"),
    ("tutoring", "课业辅导"),
    ("repair", "家电水电维修"),
    ("patrol", "治安巡逻"),
    ("elderly", "探访老人"),
    ("digital", "数字助老"),
    ("environment", "环境整治"),
    ("counselling", "心理疏导"),
    ("errand", "代购跑腿"),
    ("culture", "文体活动"),
]

# The demand boundary (decided; see README): work the community office must do itself.
STAFF_DUTIES = [
    ("开具证明", "开证明 开具证明 盖章 居住证明 无犯罪 证明材料"),
    ("社会救助审核", "低保 特困 救助申请 补贴审核 补助申请"),
    ("户籍与证照", "户口 居住证 身份证 办证"),
    ("物业与公共设施管理", "物业费 电梯维修 公共设施 路灯 违建"),
]

# City-wide points rules (Shijingshan-style; communities override them).
POINT_RULES: list[tuple[str, int | None, int]] = [
    (PointReason.SERVICE, None, 10),
    (PointReason.HOURS, None, 2),
    (PointReason.RATING, 5, 5),
    (PointReason.RATING, 4, 3),
    (PointReason.RATING, 3, 1),
    (PointReason.RATING, 2, 0),
    (PointReason.RATING, 1, 0),
    (PointReason.ATTENDANCE, None, 15),
    (PointReason.NO_SHOW, None, -5),
]


def seed_community_reference() -> None:
    for code, name in SKILLS:
        Skill.objects.update_or_create(code=code, defaults={"name": name})
    for name, keywords in STAFF_DUTIES:
        StaffDuty.objects.update_or_create(community=None, name=name, defaults={"keywords": keywords})
    for reason, stars, points in POINT_RULES:
        PointRule.objects.get_or_create(community=None, reason=reason, stars=stars, defaults={"points": points})
