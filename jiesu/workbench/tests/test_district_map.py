"""A district supervisor's overview and dashboard show their own district and its streets, not the whole city."""

import json
import re

from django.test import Client

from jiesu.testing.world import CHAOWAI, World
from jiesu.tickets.tests.helpers import ticket_in


def _json(page: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def test_the_district_supervisor_sees_their_streets(world: World, client: Client) -> None:
    ticket_in(world, "accepted")  # 建外街道
    ticket_in(world, "dispatched", street_code=CHAOWAI, address="朝阳区朝外街道工体北路1号")
    client.force_login(world.cy_supervisor)
    page = client.get("/supervision/overview/").content.decode()
    assert 'data-only="110105"' in page and 'id="streets"' in page and 'id="street-table"' in page
    data = _json(page, "overview-data")
    assert data["focus"] == {"code": "110105", "name": "朝阳区"}
    streets = {s["name"]: s for s in data["streets"]}
    assert len(streets) >= 40 and all(s["code"].startswith("110105") for s in data["streets"])  # all, zeros too
    assert streets["建外街道"]["open"] == 1 and streets["朝外街道"]["open"] == 1
    assert "海淀街道" not in streets
    street_list = client.get("/supervision/", {"scope": "open", "street": CHAOWAI}).content.decode()
    assert 'id="street-filter"' in street_list and len(re.findall(r'<a href="/tickets/\d+/"', street_list)) == 1

    dashboard = client.get("/dashboard/").content.decode()
    assert 'data-only="110105"' in dashboard and 'id="streets"' in dashboard
    data = _json(dashboard, "dashboard-data")
    assert data["focus"]["code"] == "110105" and any(s["name"] == "建外街道" for s in data["streets"])
    assert client.get("/dashboard/data.json").json()["focus"]["code"] == "110105"

    client.force_login(world.city_supervisor)  # the city keeps the city map
    page = client.get("/supervision/overview/").content.decode()
    assert "data-only" not in page and _json(page, "overview-data")["streets"] == []
    assert "data-only" not in client.get("/dashboard/").content.decode()
