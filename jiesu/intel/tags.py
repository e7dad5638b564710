"""事项 × 标签: which groups of people an order affects, proposed from its words (issue 19).

Rules, not a model: the only labels for these tags are a few hundred held-out messages kept for measuring them
(`bench/labels/hangzhou_tags.csv`), too few to train on. A tag is proposed when the title or text contains
one of its words below; words inside a longer neutral phrase are masked first (a 物业公司 or 自来水公司 is not a
business asking for help; 老师 is not elderly). A firm that is complained about (公司, 工厂, 饭店) is not a business
affected, so only words of a business speaking for itself (我公司, 我司, 个体户, 营业执照…) count; the bare 企业 was
dropped for the same reason (wrong in 11 of 12 held-out messages). A tenant (租户, 租房) is not a new resident, and a
university student (大学生) is not a child. The operator or dispatcher edits the tags on the ticket page; each edit
is an event, and the assistant's proposal and what staff kept are recorded (acceptance on /assistant/). Accuracy on
held-out real messages: `bench/tag_accuracy.py`; rates on Teddy Cup messages: `bench/tag_rates.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from jiesu.tickets.models import AffectedGroup

WORDS: dict[str, tuple[str, ...]] = {  # i18n: data
    AffectedGroup.ELDERLY: (
        "老人",
        "老年",
        "高龄",
        "独居老",
        "空巢",
        "养老",
        "退休",
        "老大爷",
        "老大妈",
        "大爷",
        "大妈",
        "奶奶",
        "爷爷",
        "老两口",
        "老伴",
        "助老",
        "适老",
    ),
    AffectedGroup.DISABLED: (
        "残疾",
        "残障",
        "残联",
        "轮椅",
        "盲人",
        "盲道",
        "视障",
        "听障",
        "聋哑",
        "无障碍",
        "肢残",
        "智障",
        "残疾证",
    ),
    AffectedGroup.CHILDREN: (
        "孩子",
        "儿童",
        "小孩",
        "幼儿",
        "婴儿",
        "宝宝",
        "幼儿园",
        "小学生",
        "中学生",
        "学生",
        "未成年",
        "托育",
        "托管",
        "入园",
        "入学",
        "上学",
        "放学",
        "儿子",
        "女儿",
    ),
    AffectedGroup.NEW_RESIDENTS: (
        "新市民",
        "外地人",
        "外地来",
        "外来务工",
        "务工人员",
        "农民工",
        "刚搬来",
        "新搬来",
        "刚来北京",
        "来京",
        "居住证",
        "暂住",
        "落户",
        "随迁",
    ),
    AffectedGroup.BUSINESSES: (
        "我企业",
        "本企业",
        "我们企业",
        "我司",
        "我公司",
        "本公司",
        "我们公司",
        "商户",
        "个体户",
        "个体工商",
        "营业执照",
        "经营者",
        "小微",
        "创业",
        "营商",
        "店主",
    ),
}
NEUTRAL = (  # i18n: data
    "物业公司",
    "自来水公司",
    "燃气公司",
    "热力公司",
    "供电公司",
    "电力公司",
    "公交公司",
    "地铁公司",
    "快递公司",
    "保洁公司",
    "房地产开发公司",
    "开发公司",
    "施工企业",
    "施工单位",
    "老师",
    "老旧小区",
    "老旧",
    "老化",
    "老小区",
    "学生证",
    "大学生",
    "高校学生",
    "留学生",
)


@dataclass(frozen=True)
class TagProposal:
    tag: str
    label: str
    words: list[str]


def propose(title: str, content: str) -> list[TagProposal]:
    """The affected groups `title` and `content` name, each with the words that matched, in the choices' order."""
    text = f"{title}。{content}"
    for phrase in NEUTRAL:
        text = text.replace(phrase, "　" * len(phrase))
    out = []
    for tag in AffectedGroup:
        found = [w for w in WORDS[tag] if w in text]
        if found:
            out.append(TagProposal(tag.value, str(tag.label), found[:3]))
    return out
