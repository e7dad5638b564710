"""`jiesu hotspots mine` over a file the test writes: both Teddy Cup task-2 tables, as CSV and xlsx, the biggest
burst first and named in words."""

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from jiesu.governance import hotspots as hs

HEADER = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"]


def rows() -> list[list[str]]:
    start = dt.datetime(2019, 7, 1, 9)
    out = []
    n = 1000
    # a big burst: 24 messages about one housing project in three weeks, worded differently
    for i in range(24):
        at = start + dt.timedelta(hours=20 * i)
        title = ["翠湖花园捆绑销售车位", "翠湖花园开发商强制捆绑车位", "投诉翠湖花园车位捆绑销售"][i % 3]
        out.append(
            [
                str(n),
                f"U{i:03}",
                title,
                f"{at:%Y/%m/%d %H:%M:%S}",
                f"翠湖花园交房时开发商要求买房必须买车位{i}号",
                str(i % 4),
                "0",
            ]
        )
        n += 1
    # a small new cluster: 5 messages about a noisy night market, all in two days
    for i in range(5):
        at = start + dt.timedelta(days=40, hours=3 * i)
        out.append(
            [str(n), f"V{i}", "星光夜市噪音扰民", f"{at:%Y/%m/%d %H:%M:%S}", "星光夜市每晚噪音到凌晨两点", "0", "0"]
        )
        n += 1
    # unrelated single messages
    for i, text in enumerate(["咨询社保缴费年限", "公交线路调整建议", "学校午餐质量问题", "路灯不亮"]):
        out.append([str(n), f"W{i}", text, f"{start + dt.timedelta(days=i * 30):%Y/%m/%d %H:%M:%S}", text, "0", "0"])
        n += 1
    return out


def test_mine_writes_both_tables_biggest_burst_first(tmp_path: Path) -> None:
    src = tmp_path / "messages.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows()])
    call_command("hotspots", "mine", "--input", str(src), "--output", str(tmp_path / "out"), "--min-size", "4")
    with (tmp_path / "out" / "热点问题表.csv").open(encoding="utf-8-sig") as f:
        hot = list(csv.DictReader(f))
    assert list(hot[0]) == ["热度排名", "问题ID", "热度指数", "时间范围", "地点/人群", "问题描述"]
    assert hot[0]["地点/人群"] == "翠湖花园" and "车位" in hot[0]["问题描述"]
    assert hot[1]["地点/人群"] == "星光夜市" or "夜市" in hot[1]["问题描述"]
    assert float(hot[0]["热度指数"]) > float(hot[1]["热度指数"])
    with (tmp_path / "out" / "热点问题留言明细表.csv").open(encoding="utf-8-sig") as f:
        details = list(csv.DictReader(f))
    assert list(details[0]) == [
        "问题ID",
        "留言编号",
        "留言用户",
        "留言主题",
        "留言时间",
        "留言详情",
        "点赞数",
        "反对数",
    ]
    assert sum(1 for d in details if d["问题ID"] == "1") == 24
    book = load_workbook(tmp_path / "out" / "热点问题表.xlsx")
    assert book.active is not None and book.active.cell(2, 5).value == "翠湖花园"
    assert (tmp_path / "out" / "热点问题留言明细表.xlsx").exists()


def test_mine_refuses_a_file_without_the_columns(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="留言主题"):
        call_command("hotspots", "mine", "--input", str(src), "--output", str(tmp_path))


def test_size_outranks_novelty() -> None:
    big, _ = hs.heat_of(40, 5.0, 40, 0, 1.0)
    small, _ = hs.heat_of(5, 0.0, 5, 0, 1.0)
    assert big > small
