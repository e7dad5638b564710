"""`jiesu import orders` and `jiesu export orders` through the command line: rejects with reasons, idempotent
re-runs, the shipped mappings on the real files (when ../shared/data is there), masking on export."""

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from jiesu.demo import datasets
from jiesu.integrations import webhooks
from jiesu.integrations.models import ApiClient, WebhookSubscription
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.tests.helpers import new_ticket
from jiesu.tickets.workflow import target_state

pytestmark = pytest.mark.django_db
HEADER = ["Unique Key", "Created Date", "Closed Date", "Complaint Type", "Descriptor", "Incident Address", "City",
          "Resolution Description", "Open Data Channel Type", "Latitude", "Longitude"]  # fmt: skip
ROWS = [
    ["101", "01/05/2024 10:15:00 PM", "01/06/2024 08:00:00 AM", "Noise - Residential", "Loud Music/Party",
     "12 BROADWAY", "NEW YORK", "The Police Department responded.", "PHONE", "40.70", "-74.01"],
    ["102", "2024-01-07T09:00:00", "", "HEAT/HOT WATER", "ENTIRE BUILDING", "5 OCEAN PKWY", "BROOKLYN", "", "ONLINE", "", ""],
    ["103", "31/31/2024 10:00:00", "", "Street Condition", "Pothole", "", "", "", "MOBILE", "", ""],
    ["104", "01/08/2024 10:00:00 AM", "01/01/1900 12:00:00 AM", "Rodent", "Rat Sighting", "", "", "", "PHONE", "", ""],
    ["105", "01/08/2024 10:00:00 AM", "", "", "", "", "", "", "PHONE", "", ""],
    ["106", "01/08/2024 10:00:00 AM", "", "Graffiti", "Graffiti", "", "", "", "PHONE", "95.1", "-74"],
    ["", "", "", "", "", "", "", "", "", "", ""],
    ["107", "01/09/2024 11:00:00 AM", "", "Something New", "Unlisted", "", "", "", "UNKNOWN", "", ""],
]  # fmt: skip


def write_csv(path: Path, header: list[str] = HEADER, rows: list[list[str]] = ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(*args: Any) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_rejects_and_reruns(world: Any, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "nyc.csv")
    subscription_client = ApiClient(name="hooks", user=world.dispatcher)
    subscription_client.issue_key()
    subscription_client.save()
    subscription = WebhookSubscription.objects.create(client=subscription_client, url="http://127.0.0.1:9/")

    out = run("import", "orders", str(source), "--mapping", "nyc311")
    assert "读取 7 行：新建 3 件，已存在 0 件，拒收 4 件" in out
    rejects = list(csv.reader((tmp_path / "nyc.rejects.csv").open(encoding="utf-8-sig")))
    assert rejects[0][-1] == "拒收原因" and rejects[0][:-1] == HEADER
    reasons = {r[0]: r[-1] for r in rejects[1:]}
    assert set(reasons) == {"103", "104", "105", "106"}
    assert reasons["103"].startswith("无法识别的受理时间") and reasons["104"] == "办结时间早于受理时间。"
    assert reasons["106"].startswith("坐标超出范围")
    assert reasons["105"] == "缺少标题。"

    tickets = {
        t.idempotency_key.rsplit(":", 1)[1]: t for t in Ticket.objects.filter(idempotency_key__startswith="imp:nyc311:")
    }
    assert set(tickets) == {"101", "102", "107"}
    noise = tickets["101"]
    assert noise.category.code == "050201" and noise.dispatch_state == "closed" and noise.channel == "phone"
    assert noise.title == "Noise - Residential - Loud Music/Party" and noise.reply == "The Police Department responded."
    assert noise.intake_at == dt.datetime(2024, 1, 6, 3, 15, tzinfo=dt.UTC)  # 22:15 in New York
    assert noise.number.startswith("20240106") and int(noise.number[-6:]) > 500000
    assert str(noise.latitude) == "40.700000"
    heat = tickets["102"]
    assert heat.category.code == "020401" and heat.dispatch_state == "new" and heat.channel == "web" and heat.due_at
    assert tickets["107"].category.code == "100102" and tickets["107"].channel == "other_hotline"  # the defaults
    trail = list(
        TicketEvent.objects.filter(ticket=noise).order_by("id").values_list("action", "from_state", "to_state")
    )
    assert trail == [("intake", "", "new"), ("load_history", "new", "closed")]
    for action, from_state, to_state in trail:  # loaded history obeys the transition table too
        assert target_state(action, from_state) == to_state
    assert not TicketEvent.objects.filter(ticket__in=tickets.values(), notified_at__isnull=True).exists()
    assert not list(webhooks.pending(subscription))  # history is not replayed to subscribers

    again = run("import", "orders", str(source), "--mapping", "nyc311")
    assert "新建 0 件，已存在 3 件，拒收 4 件" in again
    assert Ticket.objects.filter(idempotency_key__startswith="imp:nyc311:").count() == 3


def test_custom_mapping_xlsx_and_bad_input(world: Any, tmp_path: Path) -> None:
    mapping = {
        "name": "district-system",
        "id": "编号",
        "intake_at": "受理时间",
        "closed_at": "办结时间",
        "title": "标题",
        "content": ["内容"],
        "reply": "答复",
        "category": {"columns": ["标题"], "rules": [["物业", "040101"]], "default": "100102"},
        "appeal_type": {"column": "类型", "map": {"咨询": "inquiry"}, "default": "complaint"},
    }
    (tmp_path / "district.json").write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "受理时间", "办结时间", "标题", "内容", "答复", "类型"])
    sheet.append(
        [
            "A-1",
            dt.datetime(2025, 3, 1, 9, 30),
            dt.datetime(2025, 3, 2, 17, 0),
            "物业不作为",
            "电梯坏了没人修",
            "已督促物业维修",
            "投诉",
        ]
    )
    sheet.append(["A-2", "2025/03/04 08:00", None, "咨询落户政策", "怎么办理落户", None, "咨询"])
    book.save(tmp_path / "district.xlsx")
    out = run("import", "orders", str(tmp_path / "district.xlsx"), "--mapping", str(tmp_path / "district.json"))
    assert "新建 2 件" in out and "拒收 0 件" in out
    a1 = Ticket.objects.get(idempotency_key="imp:district-system:A-1")
    assert a1.category.code == "040101" and a1.dispatch_state == "closed" and a1.reply == "已督促物业维修"
    assert a1.intake_at == dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)
    assert Ticket.objects.get(idempotency_key="imp:district-system:A-2").appeal_type == "inquiry"

    with pytest.raises(CommandError, match="没有名为“nope”的映射"):
        run("import", "orders", str(tmp_path / "district.xlsx"), "--mapping", "nope")
    with pytest.raises(CommandError, match="缺少映射 nyc311 所需的列"):
        run("import", "orders", str(tmp_path / "district.xlsx"), "--mapping", "nyc311")
    with pytest.raises(CommandError, match="文件不存在"):
        run("import", "orders", str(tmp_path / "absent.csv"), "--mapping", "nyc311")


def test_imported_orders_show_in_the_workbench(world: Any, tmp_path: Path) -> None:
    run("import", "orders", str(write_csv(tmp_path / "nyc.csv")), "--mapping", "nyc311")
    browser = Client()
    browser.force_login(world.city_supervisor)
    page = browser.get("/tickets/", {"q": "Loud Music"}).content.decode()
    assert "Noise - Residential - Loud Music/Party" in page
    browser.force_login(world.jw_handler)  # not their unit's: not shown
    assert (
        "Noise - Residential - Loud Music/Party" not in browser.get("/tickets/", {"q": "Loud Music"}).content.decode()
    )


def export(tmp_path: Path, name: str, *extra: str, days: tuple[str, str] = ("2026-11-17", "2026-11-17")) -> str:
    """`jiesu export orders` for `days` into tmp_path/name (its suffix is the format); returns the command's output."""
    fmt = Path(name).suffix.lstrip(".")
    return run(
        "export",
        "orders",
        "--from",
        days[0],
        "--to",
        days[1],
        "--format",
        fmt,
        "--output",
        str(tmp_path / name),
        *extra,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8-sig")))


def test_export_masks_unless_authorised(world: Any, tmp_path: Path, clock: Any) -> None:
    mine = new_ticket(world)
    out = export(tmp_path, "o.csv")
    assert "已导出 1 件" in out and "已脱敏" in out
    rows = read_csv(tmp_path / "o.csv")
    assert [r["number"] for r in rows] == [mine.number]
    assert rows[0]["requester_phone"] == "138****5678" and rows[0]["requester_name"] == "张*"

    export(tmp_path, "u.csv", "--user", "operator", "--unmasked")
    assert read_csv(tmp_path / "u.csv")[0]["requester_phone"] == "13812345678"
    with pytest.raises(CommandError, match="不脱敏导出"):
        export(tmp_path, "x.csv", "--user", "jw_handler", "--unmasked")
    assert not (tmp_path / "x.csv").exists()
    export(tmp_path, "hd.csv", "--user", "hd_handler")
    assert read_csv(tmp_path / "hd.csv") == []  # scoped like the web

    month = ("2026-11-01", "2026-11-30")
    export(tmp_path, "o.xlsx", days=month)
    sheet = load_workbook(tmp_path / "o.xlsx").active
    assert [c.value for c in sheet[1]][:2] == ["number", "channel"] and sheet.cell(2, 1).value == mine.number
    export(tmp_path, "o.parquet", days=month)
    table = pq.read_table(tmp_path / "o.parquet")
    assert table.column("number").to_pylist() == [mine.number]
    assert table.column("requester_phone").to_pylist() == ["138****5678"]
    with pytest.raises(CommandError):
        export(tmp_path, "bad.csv", days=("2026-13-01", "2026-11-30"))


@pytest.mark.shared_data("us311/nyc", "tipdm2020c", "us311/la", "fuzhou12345_rivers")
@pytest.mark.parametrize(
    ("relative", "mapping", "least"),
    [
        ("us311/nyc/nyc311_sample_1000_2019-12__JasonLIN0226_Atlas-DataUpdate.csv", "nyc311", 990),
        ("us311/la/myla311_2018-12_mini_10000__hackforla_311-data.csv", "la311", 9900),
        ("tipdm2020c/附件4_答复意见_2816条.csv", "teddy", 2800),
        ("fuzhou12345_rivers/诉求数据汇总__汇总.csv", "fuzhou", 1400),
    ],
)
def test_shipped_mappings_on_the_real_files(
    world: Any, tmp_path: Path, relative: str, mapping: str, least: int
) -> None:
    out = run(
        "import", "orders", str(datasets.root() / relative), "--mapping", mapping, "--rejects", str(tmp_path / "r.csv")
    )
    created = Ticket.objects.filter(idempotency_key__startswith=f"imp:{mapping}:").count()
    assert created >= least, out
    assert Ticket.objects.filter(idempotency_key__startswith=f"imp:{mapping}:", dispatch_state="closed").exists()
    assert "新建 0 件" in run(
        "import", "orders", str(datasets.root() / relative), "--mapping", mapping, "--rejects", str(tmp_path / "r.csv")
    )


@pytest.mark.postgres_only
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="the reader process and its COPY data are PostgreSQL's",
)
@pytest.mark.django_db(transaction=True)
def test_batches_prepared_while_the_previous_one_is_written(tmp_path: Path, monkeypatch: Any) -> None:
    """PostgreSQL outside a transaction: batches are read, checked and prepared by a forked reader process on its own
    connection (complete rows, formatted as COPY data) and written by this one (two COPYs). A key repeated in a later
    batch, while the first is still in flight, is made once; a bad row goes to the rejects file the reader writes;
    every order gets its events; this process's connection still works; a re-run makes nothing."""
    from jiesu.integrations import transfer
    from jiesu.testing.world import build_world

    build_world()
    monkeypatch.setattr(transfer, "BATCH", 2)
    monkeypatch.setattr(transfer, "FIRST_BATCH", 2)
    rows = [r for r in ROWS if r[0] in {"101", "102", "103", "107"}] + [ROWS[0]]  # 101 again, in the second batch
    source = write_csv(tmp_path / "nyc.csv", rows=rows)
    out = run("import", "orders", str(source), "--mapping", "nyc311", "--rejects", str(tmp_path / "bad.csv"))
    assert "读取 5 行：新建 3 件，已存在 1 件，拒收 1 件" in out
    with (tmp_path / "bad.csv").open(encoding="utf-8-sig") as handle:
        rejected = list(csv.reader(handle))
    assert [r[0] for r in rejected[1:]] == ["103"] and "31/31/2024" in rejected[1][-1]
    tickets = Ticket.objects.filter(idempotency_key__startswith="imp:nyc311:")
    assert tickets.count() == 3
    noise = tickets.get(idempotency_key="imp:nyc311:101")
    assert noise.dispatch_state == "closed" and noise.public_status == "closed" and noise.replied_at == noise.closed_at
    assert noise.number.startswith("20240106") and int(noise.number[-6:]) > 500000 and noise.urgency == "normal"
    events = list(TicketEvent.objects.filter(ticket=noise).order_by("id"))
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("intake", "", "new"),
        ("load_history", "new", "closed"),
    ]
    assert events[0].data == {"channel": "phone", "source": "import", "imported": {"mapping": "nyc311", "id": "101"}}
    assert events[1].note == "The Police Department responded." and events[1].created_at == noise.closed_at
    assert all(e.notified_at is not None for e in events)
    heat = tickets.get(idempotency_key="imp:nyc311:102")
    assert heat.dispatch_state == "new" and heat.due_at and heat.replied_at is None
    assert TicketEvent.objects.filter(ticket=heat).count() == 1
    assert "新建 0 件，已存在 4 件" in run(
        "import", "orders", str(source), "--mapping", "nyc311", "--rejects", str(tmp_path / "bad.csv")
    )


def test_several_batches_in_one_outer_transaction(world: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """Inside a caller's transaction (here the test's) every batch is written by this thread, one after
    the other, although nothing commits in between."""
    from jiesu.integrations import transfer

    monkeypatch.setattr(transfer, "BATCH", 2)
    rows = [r for r in ROWS if r[0] in {"101", "102", "107"}]
    out = run("import", "orders", str(write_csv(tmp_path / "nyc.csv", rows=rows)), "--mapping", "nyc311")
    assert "读取 3 行：新建 3 件，已存在 0 件，拒收 0 件" in out
    made = Ticket.objects.filter(idempotency_key__startswith="imp:nyc311:")
    assert made.count() == 3
    assert TicketEvent.objects.filter(ticket__in=made).count() == 4  # 101 closed: intake and close; the others intake


@pytest.mark.django_db(transaction=True)
def test_a_rejects_file_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    """Rejected rows with nowhere to go: the user is told where, in their language, and to name another place (on
    PostgreSQL the reader process says it; the import stops with the batches before it committed)."""
    from jiesu.testing.world import build_world

    build_world()
    source = write_csv(tmp_path / "nyc.csv", rows=[r for r in ROWS if r[0] in {"103"}])
    nowhere = tmp_path / "no-such-dir" / "bad.csv"
    with pytest.raises(CommandError, match=r"无法写入拒收文件 .*no-such-dir.*请用 --rejects 指定另一个位置"):
        run("import", "orders", str(source), "--mapping", "nyc311", "--rejects", str(nowhere))
