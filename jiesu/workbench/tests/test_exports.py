"""Lists export to Excel and CSV with the page's filters, visibility and masking."""

import datetime as dt
import io
from typing import Any

from django.test import Client
from openpyxl import load_workbook

from jiesu.testing.world import World
from jiesu.tickets.tests.helpers import ticket_in


def test_supervisor_exports_the_overdue_list_to_excel_masked(world: World, client: Client, clock: Any) -> None:
    late = ticket_in(world, "accepted", title="路灯不亮 13912345678 报修")
    clock.shift(dt.timedelta(days=30))
    client.force_login(world.city_supervisor)
    page = client.get("/supervision/").content.decode()
    assert 'id="export-xlsx"' in page
    response = client.get("/export/supervision.xlsx?scope=overdue")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号"
    numbers = [r[0] for r in rows[1:]]
    assert late.number in numbers
    row = rows[1 + numbers.index(late.number)]
    assert "13912345678" not in str(row) and "138****5678" in row and "张*" in row
    assert row[10] and float(row[10]) > 0  # hours overdue


def test_csv_for_excel_and_the_unit_sees_only_its_tickets(world: World, client: Client) -> None:
    ours = ticket_in(world, "dispatched")
    client.force_login(world.jw_handler)
    body = client.get("/export/inbox.csv?tab=sign").content
    assert body.startswith("\ufeff".encode()) and ours.number.encode() in body
    client.force_login(world.cw_handler)
    assert ours.number.encode() not in client.get("/export/inbox.csv?tab=sign").content
    assert client.get("/export/supervision.csv").status_code == 404  # not a supervisor
    assert client.get("/export/inbox.pdf").status_code == 404
