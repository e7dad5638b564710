"""Bulk import and export of orders.

Import (`jiesu import orders FILE --mapping NAME`): a mapping (JSON, shipped in `mappings/` or given as a path)
says which columns of a CSV/XLSX layout hold the order's id, dates, texts, place, outcome, category and channel.
Column names are matched after normalising (lower case, anything but letters and digits → "_"), so "Unique Key"
and "unique_key" are the same column. Each row is checked; a failing row goes to the rejects file with its reason,
and every valid row is loaded. The idempotency key is the mapping's name plus the row's id (or a hash of the whole
row when the layout has none), so running the same file again creates nothing twice.

Export (`jiesu export orders --from --to --format csv|xlsx|parquet`): the orders taken in that period, scoped to
`--user` when given. Requesters and numbers inside texts are masked unless `--unmasked` is asked for by a user
whose role may see them.
"""

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import re
import zoneinfo
from collections.abc import Generator, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from jiesu.catalog.models import Category
from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput, ServiceError
from jiesu.tickets.models import AppealType, Channel
from jiesu.tickets.services import HistoryOrder, import_history, prepare_history, write_history

MAPPINGS = Path(__file__).with_name("mappings")
BATCH = 5_000
# The first batch is small, so the database starts writing while the reader prepares the next one (with the
# reader in its own process, an import takes about the writer's time plus the first batch's reading); the others are
# small enough that the last one, which nothing overlaps, is short.
FIRST_BATCH = 1_000
US_FORMAT = "%m/%d/%Y %I:%M:%S %p"
DATE_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%Y %H:%M",
    "%m/%d/%Y", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d",
)  # fmt: skip


def normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]+", "_", name.strip().lower()).strip("_")


@dataclasses.dataclass
class Mapping:
    name: str
    spec: dict[str, Any]

    @classmethod
    def load(cls, name_or_path: str) -> "Mapping":
        path = Path(name_or_path)
        if not path.suffix:
            path = MAPPINGS / f"{name_or_path}.json"
        if not path.is_file():
            shipped = ", ".join(sorted(p.stem for p in MAPPINGS.glob("*.json")))
            raise InvalidInput(_("No mapping “%(name)s”. Shipped: %(shipped)s."), name=name_or_path, shipped=shipped)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise InvalidInput(
                _("The mapping %(name)s is not valid JSON: %(error)s"), name=path.name, error=error
            ) from None
        for field in ("id", "intake_at", "title", "category"):
            if field not in spec:
                raise InvalidInput(_("The mapping %(name)s lacks “%(field)s”."), name=path.name, field=field)
        return cls(str(spec.get("name") or path.stem), spec)


def _columns(value: Any) -> list[str]:
    if not value:
        return []
    return [normalise(c) for c in ([value] if isinstance(value, str) else value)]


class Choice:
    """A mapped choice (channel, appeal type): a column's value looked up case-blind, else the default."""

    def __init__(self, spec: dict[str, Any], allowed: list[str], fallback: str) -> None:
        self.columns = _columns(spec.get("column"))
        self.map = {str(k).lower(): str(v) for k, v in spec.get("map", {}).items()}
        self.default = str(spec.get("default") or fallback)
        wrong = [v for v in [*self.map.values(), self.default] if v not in allowed]
        if wrong:
            raise InvalidInput(_("The mapping names unknown values: %(values)s"), values=", ".join(wrong))


class RowReader:
    """Turns one source row into a HistoryOrder, or a reason to reject it."""

    def __init__(self, mapping: Mapping, header: list[str], today: dt.date) -> None:
        self.mapping = mapping
        spec = mapping.spec
        self.index = {name: i for i, name in reversed(list(enumerate(normalise(h) for h in header)))}
        needed = {c for key in ("id", "intake_at", "title") for c in _columns(spec[key])}
        missing = sorted(c for c in needed if c not in self.index)
        if missing:
            raise InvalidInput(
                _("The file lacks the columns %(columns)s that mapping %(name)s needs."),
                columns=", ".join(missing),
                name=mapping.name,
            )
        self.zone = zoneinfo.ZoneInfo(spec.get("timezone", "Asia/Shanghai"))
        self.formats: dict[str, str] = {}
        leaves = {c.code: c for c in Category.objects.effective_on(today).filter(level=3)}
        category = spec["category"]
        self.category_columns = _columns(category.get("columns"))
        self.category_exact = {k.lower(): leaves.get(v) for k, v in category.get("map", {}).items()}
        self.category_rules = [(k.lower(), leaves.get(v)) for k, v in category.get("rules", [])]
        self.category_default = leaves.get(category.get("default", ""))
        unknown = [
            v
            for v in [*category.get("map", {}).values(), *(v for _, v in category.get("rules", []))]
            if v not in leaves
        ]
        if unknown or (category.get("default") and self.category_default is None):
            raise InvalidInput(
                _("Mapping %(name)s names unknown categories: %(codes)s"),
                name=mapping.name,
                codes=", ".join(unknown or [category["default"]]),
            )
        self.category_cache: dict[tuple[str, ...], Category | None] = {}
        self.cols = {
            key: _columns(spec.get(key))
            for key in ("id", "intake_at", "closed_at", "title", "content", "address", "reply", "latitude", "longitude")
        }
        self.cols["content"] = self.cols["content"] or self.cols["title"]
        # The columns' positions, looked up once (reading a row is the import's inner loop).
        self.at = {key: [self.index[c] for c in cols if c in self.index] for key, cols in self.cols.items()}
        self.choice_at: dict[int, list[int]] = {}
        self.category_at = [[self.index[c]] if c in self.index else [] for c in self.category_columns]
        self.channel = Choice(spec.get("channel", {}), Channel.values, Channel.OTHER_HOTLINE)
        self.appeal = Choice(spec.get("appeal_type", {}), AppealType.values, AppealType.COMPLAINT)
        self.now = clock.now()

    def get(self, row: list[str], columns: list[str], sep: str = " ") -> str:
        return self.pick(row, [self.index[c] for c in columns if c in self.index], sep)

    @staticmethod
    def pick(row: list[str], positions: list[int], sep: str = " ") -> str:
        """The non-empty cells at `positions`, stripped and joined."""
        n = len(row)
        if len(positions) == 1:
            i = positions[0]
            return row[i].strip() if i < n else ""
        return sep.join(v for i in positions if i < n and (v := row[i].strip()))

    def moment(self, value: str, column: str) -> dt.datetime | None:
        value = value.strip()
        if not value:
            return None
        known = self.formats.get(column)
        if known == US_FORMAT and len(value) == 22 and value[2] == "/" and value[5] == "/" and value[19] == " ":
            try:  # the US 311 layouts' "02/17/2020 12:19:00 PM", ten times faster than strptime
                hour = int(value[11:13]) % 12 + (12 if value[20:22] == "PM" else 0)
                return dt.datetime(
                    int(value[6:10]),
                    int(value[0:2]),
                    int(value[3:5]),
                    hour,
                    int(value[14:16]),
                    int(value[17:19]),
                    tzinfo=self.zone,
                )
            except ValueError:
                pass
        for fmt in ([known] if known else []) + ["iso", *DATE_FORMATS]:
            try:
                parsed = dt.datetime.fromisoformat(value) if fmt == "iso" else dt.datetime.strptime(value, fmt)  # noqa: DTZ007
            except ValueError:
                continue
            self.formats[column] = fmt
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=self.zone)
        raise ValueError(value)

    def choose(self, choice: "Choice", row: list[str]) -> str:
        if not choice.columns:
            return choice.default
        positions = self.choice_at.get(id(choice))
        if positions is None:
            positions = self.choice_at[id(choice)] = [self.index[c] for c in choice.columns if c in self.index]
        return choice.map.get(self.pick(row, positions).lower(), choice.default)

    def category(self, row: list[str]) -> Category | None:
        values = tuple(self.pick(row, at).lower() for at in self.category_at)
        if values in self.category_cache:
            return self.category_cache[values]
        found = next((self.category_exact[v] for v in values if v in self.category_exact), None)
        if found is None:
            text = " ".join(values)
            found = next((leaf for key, leaf in self.category_rules if key in text), None)
        found = found or self.category_default
        self.category_cache[values] = found
        return found

    def read(self, row: list[str]) -> HistoryOrder | str:
        spec = self.mapping.spec
        cols = self.cols
        at = self.at
        source_id = self.pick(row, at["id"], "-")
        if not source_id:
            source_id = "row-" + hashlib.sha1("\x1f".join(row).encode(), usedforsecurity=False).hexdigest()[:20]
        column = cols["intake_at"][0]
        try:
            intake_at = self.moment(self.pick(row, at["intake_at"]), column)
        except ValueError as error:
            return _("Unreadable intake time: %(value)s") % {"value": str(error)[:40]}
        if intake_at is None:
            return _("No intake time.")
        if intake_at > self.now:
            return _("The intake time is in the future.")
        closed_at = None
        if cols["closed_at"]:
            column = cols["closed_at"][0]
            try:
                closed_at = self.moment(self.pick(row, at["closed_at"]), column)
            except ValueError as error:
                return _("Unreadable close time: %(value)s") % {"value": str(error)[:40]}
            if closed_at and closed_at < intake_at:
                return _("Closed before it was taken in.")
            if closed_at and closed_at > self.now:
                closed_at = None  # a planned date, not an outcome
        title = self.pick(row, at["title"], " - ")[:200]
        if not title:
            return _("No title.")
        content = self.pick(row, at["content"], "\n")[:5000] or title
        coordinates: list[Decimal | None] = []
        for key, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
            raw = self.pick(row, at[key])
            if not raw:
                coordinates.append(None)
                continue
            try:
                value = Decimal(raw).quantize(Decimal("0.000001"))
            except InvalidOperation:
                return _("Unreadable coordinate: %(value)s") % {"value": raw[:30]}
            if not low <= value <= high:
                return _("Coordinate out of range: %(value)s") % {"value": raw[:30]}
            coordinates.append(value)
        category = self.category(row)
        if category is None:
            return _("No category matches and the mapping has no default.")
        reply = self.pick(row, at["reply"], "\n")[:5000]
        if closed_at is None and reply and spec.get("closed_at_if_reply") == "intake":
            closed_at = intake_at  # the layout has no close date (see the mapping's description)
        return HistoryOrder(
            key=f"imp:{self.mapping.name}:{source_id}"[:64]
            if len(source_id) < 40
            else f"imp:{self.mapping.name}:" + hashlib.sha1(source_id.encode(), usedforsecurity=False).hexdigest(),
            channel=self.choose(self.channel, row),
            appeal_type=self.choose(self.appeal, row),
            title=title,
            content=content,
            address=self.pick(row, at["address"], " ")[:255],
            latitude=coordinates[0],
            longitude=coordinates[1],
            category=category,
            intake_at=intake_at,
            closed_at=closed_at,
            reply=reply,
            source={"mapping": self.mapping.name, "id": source_id[:100]},
        )


def rows(path: Path) -> Generator[list[str], None, None]:
    """The file's rows, the header first: CSV (UTF-8, with or without BOM, else GB18030) or XLSX (first sheet)."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [
                "" if v is None else (v.isoformat(sep=" ") if isinstance(v, dt.datetime) else str(v)) for v in values
            ]
        book.close()
        return
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            with path.open(encoding=encoding, newline="") as handle:
                handle.read(1 << 16)
            break
        except UnicodeDecodeError:
            continue
    with path.open(encoding=encoding, newline="", errors="replace") as handle:
        csv.field_size_limit(1 << 24)
        yield from csv.reader(handle)


@dataclasses.dataclass
class ImportResult:
    read: int = 0
    created: int = 0
    present: int = 0
    rejected: int = 0
    rejects_file: Path | None = None


def import_orders(path: Path, mapping: Mapping, rejects_path: Path | None = None) -> ImportResult:
    """Load `path` with `mapping`, in batches of 5,000 rows (the first of 1,000 on PostgreSQL), each batch one
    transaction. Rejected rows are written to `rejects_path` (default FILE.rejects.csv) with their reason in the last
    column.

    On PostgreSQL (outside a caller's transaction) the work runs in two processes, so that the database's work
    overlaps the Python work instead of following it:
    - a forked reader process reads and checks the rows, writes the rejects and prepares each batch of valid orders
      on its own connection (keys looked up, numbers and ids reserved, the complete rows built and formatted as
      binary COPY data: `prepare_history`), and sends it through a pipe (`_prepare_in_child`);
    - this process writes each batch (`write_history`: COPY of the tickets and of their events, the foreign-key
      checks at commit) while the reader prepares the next. It only hands bytes to libpq.
    Batches commit one after the other, in file order. Python has one core per process (the GIL): two threads would
    share one."""
    if not path.is_file():
        raise InvalidInput(_("No such file: %(path)s"), path=str(path))
    source = rows(path)
    header = next(source, None)
    if not header:
        raise InvalidInput(_("The file is empty."))
    reader = RowReader(mapping, header, clock.local_date(clock.now()))
    result = ImportResult(rejects_file=rejects_path or path.with_name(path.stem + ".rejects.csv"))
    assert result.rejects_file is not None
    result.rejects_file.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        source.close()
        _import_in_two_processes(path, reader, header, result)
    else:
        for batch in _checked(source, reader, header, result, BATCH):
            created = import_history(batch)
            result.created += created
            result.present += len(batch) - created
    if not result.rejected:
        result.rejects_file = None
    return result


def _checked(
    source: Iterator[list[str]], reader: RowReader, header: list[str], result: ImportResult, first: int
) -> Iterator[list[HistoryOrder]]:
    """The valid orders of `source` in batches (the first of `first`, then of BATCH); each rejected row goes to the
    rejects file with its reason. Counts the rows read and rejected in `result`."""
    assert result.rejects_file is not None
    rejects = None
    batch: list[HistoryOrder] = []
    size = first
    try:
        for row in source:
            if not any(cell.strip() for cell in row):
                continue
            result.read += 1
            order = reader.read(row)
            if isinstance(order, str):
                if rejects is None:
                    try:
                        handle = result.rejects_file.open("w", encoding="utf-8-sig", newline="")
                    except OSError as error:
                        raise InvalidInput(
                            _("The rejects file %(path)s cannot be written (%(error)s): name another with --rejects."),
                            path=str(result.rejects_file),
                            error=error.strerror or error,
                        ) from None
                    rejects = csv.writer(handle)
                    rejects.writerow([*header, _("reason rejected")])
                rejects.writerow([*row, order])
                result.rejected += 1
                continue
            batch.append(order)
            if len(batch) >= size:
                yield batch
                batch, size = [], BATCH
        if batch:
            yield batch
    finally:
        if rejects is not None:
            handle.close()


def _own_connections() -> None:
    """In a forked child: forget the parent's database connections and pool (still the parent's, so neither closed
    nor used here) and connect anew, without a pool, when first needed."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    pools: dict[str, Any] = getattr(DatabaseWrapper, "_connection_pools", {})
    _inherited.append(dict(pools))  # kept: their finalisers would close the parent's connections
    pools.clear()
    for wrapper in connections.all(initialized_only=True):
        _inherited.append(wrapper.connection)
        wrapper.connection = None
        wrapper.settings_dict["OPTIONS"] = {k: v for k, v in wrapper.settings_dict["OPTIONS"].items() if k != "pool"}


_inherited: list[Any] = []


def _prepare_in_child(send: Any, path: Path, reader: RowReader, header: list[str], result: ImportResult) -> None:
    """The reader process (forked, so it has the mapping, the categories, the language and the settings in hand):
    reads and checks the file, writes the rejects, and prepares each batch of valid orders on a connection of its
    own (`prepare_history`: keys looked up, numbers and ids reserved, rows formatted as binary COPY data), which it
    sends as bytes; then ("done", rows read, rows rejected), or ("error", what went wrong)."""
    try:
        _own_connections()
        source = rows(path)
        next(source, None)  # the header, read by the parent
        seen: set[str] = set()  # the keys of the file so far (a batch in flight is not committed yet)
        for batch in _checked(source, reader, header, result, FIRST_BATCH):
            send.send(("batch", prepare_history(batch, seen)))
        send.send(("done", result.read, result.rejected))
    except ServiceError as error:  # a refusal in the user's language, raised again by the parent
        send.send(("refused", str(error)))
    except BaseException as error:  # reported to the parent, which raises it
        send.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        send.close()
        connections.close_all()


def _import_in_two_processes(path: Path, reader: RowReader, header: list[str], result: ImportResult) -> None:
    import multiprocessing

    context = multiprocessing.get_context("fork")  # the child needs this process's state, not a fresh Django
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_prepare_in_child, args=(send, path, reader, header, result), name="jiesu-import-reader", daemon=True
    )
    child.start()
    send.close()
    try:
        while True:
            try:
                message = receive.recv()
            except EOFError:
                raise RuntimeError("the import's reader process ended without a word") from None
            if message[0] == "batch":
                created = write_history(message[1])  # while the reader prepares the next batch
                result.created += created
                result.present += message[1].offered - created
            elif message[0] == "done":
                result.read, result.rejected = message[1], message[2]
                break
            elif message[0] == "refused":
                raise InvalidInput(message[1])
            else:
                raise RuntimeError(f"the import's reader process failed: {message[1]}")
    finally:
        receive.close()  # a reader still sending gets a broken pipe and stops
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()


EXPORT_COLUMNS = [
    "number", "channel", "appeal_type", "urgency", "category_code", "category", "title", "content", "address",
    "district", "street", "lead_unit", "state", "intake_at", "dispatched_at", "accepted_at", "due_at", "replied_at",
    "closed_at", "reply", "requester_name", "requester_phone",
]  # fmt: skip


def export_rows(tickets: Any, unmasked: bool) -> Iterator[list[Any]]:
    from jiesu.lib.masking import mask_name, mask_phone, mask_text

    def when(moment: dt.datetime | None) -> str:
        return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""

    rows = tickets.select_related("category", "district", "street", "lead_unit", "requester").order_by(
        "intake_at", "id"
    )
    for t in rows.iterator(chunk_size=5000):
        name = t.requester.name if t.requester else ""
        phone = t.requester.phone if t.requester else ""
        yield [
            t.number, t.channel, t.appeal_type, t.urgency, t.category.code, t.category.name,
            t.title if unmasked else mask_text(t.title),
            t.content if unmasked else mask_text(t.content), t.address if unmasked else mask_text(t.address),
            t.district.name if t.district else "", t.street.name if t.street else "",
            t.lead_unit.name if t.lead_unit else "", t.dispatch_state,
            when(t.intake_at), when(t.dispatched_at), when(t.accepted_at), when(t.due_at), when(t.replied_at),
            when(t.closed_at), t.reply if unmasked else mask_text(t.reply),
            name if unmasked else mask_name(name), phone if unmasked else mask_phone(phone),
        ]  # fmt: skip


def export_orders(tickets: Any, path: Path, fmt: str, unmasked: bool) -> int:
    """Write `tickets` to `path` as csv, xlsx or parquet; returns the number of rows."""
    count = 0
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for row in export_rows(tickets, unmasked):
                writer.writerow(row)
                count += 1
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("orders")
        sheet.append(EXPORT_COLUMNS)
        for row in export_rows(tickets, unmasked):
            sheet.append(row)
            count += 1
        book.save(path)
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns: list[list[Any]] = [[] for _ in EXPORT_COLUMNS]
        for row in export_rows(tickets, unmasked):
            for values, value in zip(columns, row, strict=True):
                values.append(value)
            count += 1
        table = pa.table(
            {name: pa.array(values, type=pa.string()) for name, values in zip(EXPORT_COLUMNS, columns, strict=True)}
        )
        pq.write_table(table, path)
    else:
        raise InvalidInput(_("Unknown format “%(fmt)s”: use csv, xlsx or parquet."), fmt=fmt)
    return count
