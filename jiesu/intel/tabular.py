"""Reading and writing the CSV and Excel files the `jiesu nlp` commands take, with errors a user can act on.

CSV is read as UTF-8 (with or without BOM), else GB18030 (which covers GBK and GB2312), as Chinese offices
export both. Excel is read from its first sheet, the first row being the header.
"""

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from jiesu.lib.errors import InvalidInput

csv.field_size_limit(sys.maxsize)
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Table:
    columns: list[str]
    rows: list[dict[str, str]]

    def require(self, columns: Sequence[str]) -> None:
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise InvalidInput(
                _("Column(s) %(missing)s not found. The file has: %(found)s."),
                missing="、".join(missing),
                found="、".join(self.columns) or "—",
            )

    def texts(self, row: dict[str, str], columns: Sequence[str]) -> tuple[str, ...]:
        return tuple((row.get(c) or "").strip() for c in columns)


def columns_arg(value: str) -> list[str]:
    cols = [c.strip() for c in value.replace("，", ",").split(",") if c.strip()]
    if not cols:
        raise InvalidInput(_("Name at least one column."))
    return cols


def read_table(path: Path) -> Table:
    if not path.exists():
        raise InvalidInput(_("File %(path)s does not exist."), path=str(path))
    if path.is_dir():
        raise InvalidInput(_("%(path)s is a folder, not a file."), path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path, "\t" if suffix == ".tsv" else ",")
    raise InvalidInput(_("Unsupported file type %(suffix)s: use .csv or .xlsx."), suffix=suffix or "—")


def _read_csv(path: Path, delimiter: str) -> Table:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise InvalidInput(_("%(path)s is not a text file (UTF-16 or binary?). Save it as UTF-8 CSV."), path=str(path))
    for encoding in ENCODINGS:
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(_("%(path)s is neither UTF-8 nor GB18030 text. Save it as UTF-8 CSV."), path=str(path))
    reader = csv.reader(content.splitlines(keepends=True), delimiter=delimiter)
    try:
        header = next(reader, [])
        body = list(reader)
    except csv.Error as e:
        raise InvalidInput(_("%(path)s is not valid CSV: %(error)s"), path=str(path), error=str(e)) from e
    return _table(path, header, body)


def _read_xlsx(path: Path) -> Table:
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as e:
        raise InvalidInput(_("%(path)s is not a readable Excel file."), path=str(path)) from e
    try:
        sheet = book.worksheets[0]
        values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return _table(path, values[0] if values else [], values[1:])


def _table(path: Path, header: list[str], body: list[list[str]]) -> Table:
    columns = [h.strip() for h in header]
    if not any(columns):
        raise InvalidInput(_("%(path)s is empty: no header row."), path=str(path))
    rows = [dict(zip(columns, r, strict=False)) for r in body if any(cell.strip() for cell in r)]
    return Table(columns, rows)


def read_taxonomy(path: Path) -> dict[str, list[str]]:
    """A taxonomy file: first column the label, the other columns names beneath it (sub-categories, keywords),
    as in the Teddy Cup 附件1. Each label gets its distinct names, in file order."""
    table = read_table(path)
    tax: dict[str, list[str]] = {}
    for row in table.rows:
        cells = [(row.get(c) or "").strip() for c in table.columns]
        if cells[0]:
            names = tax.setdefault(cells[0], [])
            names.extend(c for c in cells[1:] if c and c not in names)
    return tax


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    """UTF-8 with BOM, so Excel opens the Chinese right."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
