"""Every ticket list a supervisor, dispatcher or unit sees, as a file: CSV (UTF-8 with BOM, for Excel) or Excel.

The rows are the list's own query (same filters, same visibility); personal data follow the pages' masking rules:
the requester's name and number only for those who see them unmasked (hotline roles, administrators), and digit
runs inside titles masked for everybody else."""

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from jiesu.lib import clock
from jiesu.lib.masking import mask_name, mask_phone, mask_text
from jiesu.orgs import access
from jiesu.tickets.models import Ticket

MAX_ROWS = 20000
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def ticket_table(user: Any, tickets: Iterable[Ticket]) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of a ticket list, masked for `user`."""
    unmasked = access.may_see_requester(user)
    now = clock.now()
    header = [
        _("number"),
        _("title"),
        _("category"),
        _("district"),
        _("street/township"),
        _("lead unit"),
        _("dispatch state"),
        _("urgency"),
        _("intake at"),
        _("due at"),
        _("hours overdue"),
        _("supervised"),
        _("requester"),
        _("phone"),
    ]
    rows: list[list[Any]] = []
    for t in tickets:
        r = t.requester
        name = (r.name if unmasked else mask_name(r.name)) if r else ""
        phone = (r.phone if unmasked else mask_phone(r.phone)) if r else ""
        late = (now - t.due_at).total_seconds() / 3600 if t.due_at and t.closed_at is None and t.due_at < now else 0
        rows.append(
            [
                t.number,
                t.title if unmasked else mask_text(t.title),
                t.category.name,
                t.district.name if t.district else "",
                t.street.name if t.street else "",
                t.lead_unit.name if t.lead_unit else "",
                t.get_dispatch_state_display(),
                t.get_urgency_display(),
                _local(t.intake_at),
                _local(t.due_at),
                round(late, 1) if late else "",
                _("yes") if t.supervised else "",
                name,
                phone,
            ]
        )
    return header, rows


def render(fmt: str, title: str, header: list[str], rows: list[list[Any]]) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJKLMN", (16, 40, 16, 10, 14, 18, 16, 8, 17, 17, 10, 8, 8, 14), strict=True):
        sheet.column_dimensions[column].width = width
    body = io.BytesIO()
    book.save(body)
    return body.getvalue()
