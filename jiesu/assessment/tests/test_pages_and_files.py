"""The notification as files (`jiesu report`), the supervisors' and units' pages, the public page, and the
generator feeding the same computation as the reference."""

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from jiesu.assessment import reference_engine as reference
from jiesu.assessment import services
from jiesu.assessment.models import RuleSet, Snapshot
from jiesu.assessment.rules import Rules
from jiesu.lib.clock import SHANGHAI
from jiesu.orgs.models import OrgUnit
from jiesu.testing.world import JIANWAI, World

from .test_assess import OCTOBER, october  # noqa: F401  (the fixture)


@pytest.fixture
def assessed(october: dict[str, Any]) -> Snapshot:  # noqa: F811
    call_command("assess", "--month", "2026-10", stdout=io.StringIO())
    return Snapshot.objects.get(month=OCTOBER)


def test_report_files_open_and_contain_the_ranking(assessed: Snapshot, tmp_path: Path) -> None:
    for fmt in ("xlsx", "pdf", "html"):
        call_command(
            "report",
            "--month",
            "2026-10",
            "--format",
            fmt,
            "--output",
            str(tmp_path / f"r.{fmt}"),
            stdout=io.StringIO(),
        )
    wb = load_workbook(tmp_path / "r.xlsx")
    assert "街道" in wb.sheetnames
    rows = list(wb["街道"].iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "单位", "区")
    assert any(r[1] == "建外街道" and r[9] == 73.0 for r in rows)
    html = (tmp_path / "r.html").read_text()
    assert "建外街道" in html and "73.00" in html and "<svg" in html and "约谈" in html
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    # the same document, uncompressed: a CJK font is embedded, so the Chinese renders as glyphs, not boxes
    import weasyprint

    from jiesu.assessment import report, selectors

    raw = weasyprint.HTML(string=report.html(selectors.report(assessed))).write_pdf(uncompressed_pdf=True)
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+(WenQuanYi|Noto|SourceHan|WQY)", raw)
    fonts = set(re.findall(rb"/BaseFont\s*/([^\s/>\]\[]+)", raw))
    assert all(re.match(rb"[A-Z]{6}\+(WenQuanYi|Noto|SourceHan|WQY)", f) for f in fonts), fonts  # no fallback font


def test_supervisor_page_and_drill_down(assessed: Snapshot, world: World) -> None:
    client = Client()
    client.force_login(world.city_supervisor)
    page = client.get("/assessment/?month=2026-10").content.decode()
    assert "建外街道" in page and "73.00" in page and "<svg" in page
    drill = client.get(f"/assessment/{assessed.pk}/units/{JIANWAI}/").content.decode()
    for text in ("80.00", "70.00", "未联系", "不计入满意率"):
        assert text in drill, text
    judged = client.get(f"/assessment/{assessed.pk}/units/{JIANWAI}/?figure=not_responded").content.decode()
    assert len(re.findall(r"/tickets/\d+/", judged)) == 1
    assert client.get(f"/assessment/{assessed.pk}/download.xlsx").status_code == 200


def test_units_see_their_own_figures_only(assessed: Snapshot, world: World) -> None:
    own, other = Client(), Client()
    own.force_login(world.jw_handler)
    other.force_login(world.cw_handler)
    assert own.get(f"/assessment/{assessed.pk}/units/{JIANWAI}/").status_code == 200
    assert other.get(f"/assessment/{assessed.pk}/units/{JIANWAI}/").status_code == 404
    # a draft ranking is not shown to units, nor downloadable; their own figures are, for appeals
    page = own.get("/assessment/?month=2026-10").content.decode()
    assert "73.00" not in page
    assert f"/assessment/{assessed.pk}/units/{JIANWAI}/" in page
    assert own.get(f"/assessment/{assessed.pk}/download.pdf").status_code == 404


def test_public_page_shows_published_rates_without_personal_data(assessed: Snapshot, world: World) -> None:
    public = Client()
    assert "建外街道" not in public.get("/public/assessment/").content.decode()
    services.publish(OCTOBER)
    page = public.get("/public/assessment/?month=2026-10").content.decode()
    assert "建外街道" in page and "朝阳区" in page and "80.00" in page
    assert "13812345678" not in page and "张三" not in page and "垃圾" not in page


def test_generated_history_in_the_database_matches_the_reference(world: World, clock: Any, tmp_path: Path) -> None:
    clock.move_to(dt.datetime(2026, 11, 3, 9, 0, tzinfo=SHANGHAI))
    out = io.StringIO()
    call_command("bench", "generate", "--orders", "400", "--months", "1", "--to", "db", stdout=out)
    call_command("bench", "generate", "--orders", "1000", "--months", "2", "--out", str(tmp_path), stdout=out)
    assert "每秒" in out.getvalue()
    assert pq.read_table(tmp_path / "facts" / "2026-10.parquet").num_rows == 500
    snapshot = services.compute(OCTOBER)
    rows = pq.read_table(snapshot.facts_file).to_pylist()
    assert len(rows) == 400
    kinds = {u.pk: (u.code, u.kind) for u in OrgUnit.objects.filter(pk__in={r["unit_id"] for r in rows})}
    ref = reference.assess(rows, kinds, Rules.of(RuleSet.objects.get()))
    for s in snapshot.scores.all():
        fig = ref[s.unit_id]
        assert (s.volume, s.excluded, s.response_rate, s.resolution_rate, s.satisfaction_rate, s.score, s.rank) == (
            fig["volume"],
            fig["excluded"],
            fig["response_rate"],
            fig["resolution_rate"],
            fig["satisfaction_rate"],
            fig["score"],
            fig["rank"],
        )
