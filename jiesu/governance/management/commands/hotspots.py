"""`jiesu hotspots mine`: the hotspots of any export, with the live detector's code.

  jiesu hotspots mine --input FILE.csv|.xlsx [--text-cols COL[,COL…]] [--time-col COL] [--output DIR] [--top N]
                      [--window-days 30] [--min-size 5]

Columns default to the Teddy Cup 附件3 layout (`governance/formats/teddy_task2.json`). It writes the two task-2
tables, 热点问题表 and 热点问题留言明细表, as CSV (UTF-8 with BOM) and xlsx into DIR. The clustering, the heat and
the words are `governance.hotspots` (`groups`, `heat_of`, `describe`), the same functions the worker runs; each
cluster is measured at its busiest window (`hotspots.mine`). Bad files exit with status 2 and one line.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiesu.governance import hotspots as hs
from jiesu.intel.tabular import columns_arg, read_table, write_csv
from jiesu.lib.errors import ServiceError
from jiesu.lib.masking import mask_text

FORMAT = json.loads((Path(__file__).resolve().parents[2] / "formats" / "teddy_task2.json").read_text("utf-8"))
TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")


def parse_time(text: str) -> dt.datetime | None:
    text = (text or "").strip()
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)  # the file's local time, kept as is
        except ValueError:
            continue
    try:  # Excel may give an ISO datetime
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


class Command(BaseCommand):
    help = "Hotspot mining over a file with the live detector (writes the Teddy Cup task-2 tables)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        mine = sub.add_parser("mine", help="find the hotspots of a CSV/Excel export")
        cols = FORMAT["input"]
        mine.add_argument("--input", required=True, type=Path)
        mine.add_argument("--text-cols", type=columns_arg, default=cols["text_cols"])
        mine.add_argument("--time-col", default=cols["time_col"])
        mine.add_argument("--id-col", default=cols["id_col"])
        mine.add_argument("--user-col", default=cols["user_col"])
        mine.add_argument("--likes-col", default=cols["likes_col"])
        mine.add_argument("--against-col", default=cols["against_col"])
        mine.add_argument("--output", type=Path, default=Path("."))
        mine.add_argument("--top", type=int, default=10)
        mine.add_argument("--window-days", type=int, default=30)
        mine.add_argument("--min-size", type=int, default=5)

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            self.mine(**o)
        except ServiceError as e:
            raise CommandError(str(e), returncode=2) from None

    def mine(self, **o: Any) -> None:
        table = read_table(o["input"])
        table.require([*o["text_cols"], o["time_col"]])
        docs: list[hs.Doc] = []
        rows: dict[int, dict[str, str]] = {}
        skipped = 0
        for n, row in enumerate(table.rows, 1):
            at = parse_time(row.get(o["time_col"], ""))
            texts = table.texts(row, o["text_cols"])
            if at is None or not any(texts):
                skipped += 1
                continue
            docs.append(
                hs.Doc(
                    id=n,
                    at=at,
                    title=texts[0],
                    content="。".join(texts[1:]),
                    caller=(row.get(o["user_col"]) or "").strip() or None,
                    support=_int(row.get(o["likes_col"])),
                )
            )
            rows[n] = row
        if not docs:
            raise CommandError(
                _("No row has a readable time and a text in %(path)s.") % {"path": o["input"]}, returncode=2
            )
        defaults = hs.Params()
        p = hs.Params(
            window_days=o["window_days"],
            baseline_days=3 * o["window_days"],
            link_days=max(defaults.link_days, o["window_days"]),
            min_size=o["min_size"],
        )
        found = hs.mine(docs, p)[: max(1, o["top"])]
        spec_h, spec_d = FORMAT["hotspots"], FORMAT["details"]
        hot_rows, detail_rows = [], []
        for rank, m in enumerate(found, 1):
            c, words = m.cluster, m.description
            hot_rows.append(
                dict(
                    zip(
                        spec_h["columns"],
                        [
                            rank,
                            rank,
                            round(c.heat, 1),
                            f"{c.first_at:%Y/%m/%d}-{c.last_at:%Y/%m/%d}",
                            words.place or words.crowd,
                            mask_text(words.text),
                        ],
                        strict=True,
                    )
                )
            )
            for d in m.docs:
                row = rows[d.id]
                detail_rows.append(
                    dict(
                        zip(
                            spec_d["columns"],
                            [
                                rank,
                                (row.get(o["id_col"]) or "").strip() or d.id,
                                (row.get(o["user_col"]) or "").strip(),
                                d.title,
                                f"{d.at:%Y/%m/%d %H:%M:%S}",
                                d.content,
                                _int(row.get(o["likes_col"])),
                                _int(row.get(o["against_col"])),
                            ],
                            strict=True,
                        )
                    )
                )
        out: Path = o["output"]
        out.mkdir(parents=True, exist_ok=True)
        for spec, data in ((spec_h, hot_rows), (spec_d, detail_rows)):
            write_csv(out / f"{spec['name']}.csv", spec["columns"], [{k: str(v) for k, v in r.items()} for r in data])
            _write_xlsx(out / f"{spec['name']}.xlsx", spec["name"], spec["columns"], data)
        self.stdout.write(
            _("%(docs)d messages read (%(skipped)d without a time or text), %(n)d hotspots written to %(out)s")
            % {"docs": len(docs), "skipped": skipped, "n": len(found), "out": out}
        )
        for r, m in enumerate(found, 1):
            span = f"{m.cluster.first_at:%Y-%m-%d}…{m.cluster.last_at:%Y-%m-%d}"
            self.stdout.write(f"{r:2}. {m.cluster.heat:7.1f}  n={len(m.docs):3}  {span}  {m.description.label}")


def _write_xlsx(path: Path, title: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(columns)
    for r in rows:
        sheet.append([r[c] for c in columns])
    book.save(path)
