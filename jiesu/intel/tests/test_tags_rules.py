"""The affected-group tag rules' fixes from the held-out measurement (bench/tag_accuracy.py), and the labels' form."""

import csv
from pathlib import Path

from jiesu.intel.tags import propose

LABELS = Path(__file__).resolve().parents[3] / "bench" / "labels" / "hangzhou_tags.csv"


def tags(title: str, content: str = "") -> list[str]:
    return [t.tag for t in propose(title, content)]


def test_a_tenant_is_not_a_new_resident() -> None:
    assert tags("楼上租户扰民", "楼上的租户每天半夜拖椅子，群租房也没人管。") == []
    assert tags("外来务工人员子女入学", "我们是外来务工人员，有居住证，孩子想随迁上学。") == [
        "children",
        "new_residents",
    ]


def test_a_firm_named_is_not_a_business_in_need_unless_it_speaks() -> None:
    assert tags("物业服务企业不作为", "本小区的物业服务企业拒不维修，企业东路口还乱停车。") == []
    assert tags("求助退押金", "我司装修办公室向物业缴纳了押金，至今不退。") == ["businesses"]


def test_a_university_student_is_not_a_child() -> None:
    assert tags("退社保", "我是在校大学生，实习单位给我交了社保。") == []
    assert tags("学生上下学不安全", "路口没有红绿灯，小学生放学很危险。") == ["children"]


def test_the_labels_hold_facts_not_texts() -> None:
    with LABELS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) == {"id", "tags", "in_random_sample"}
    assert sum(r["in_random_sample"] == "1" for r in rows) == 300
    assert all(r["id"].isdigit() and r["in_random_sample"] in {"0", "1"} for r in rows)
