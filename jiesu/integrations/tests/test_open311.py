"""The Open311 GeoReport v2 edge through the HTTP client: every response validated against the spec's JSON schemas,
its XML twin parsed and compared with the JSON by the Spark convention, and the 400/403/404 matrix."""

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from django.test import Client

from jiesu.integrations import open311, render
from jiesu.integrations.models import ApiClient, RequesterUpdate, ServiceAttribute
from jiesu.tickets import services
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.tests.helpers import new_ticket, ticket_in

from . import schemas

pytestmark = pytest.mark.django_db


def spark(element: ET.Element) -> Any:
    """XML → JSON by the Spark convention: containers of repeated elements become lists, records objects."""
    children = list(element)
    if element.tag in render.CHILD:
        assert all(c.tag == render.CHILD[element.tag] for c in children), element.tag
        return [spark(c) for c in children]
    if children:
        return {c.tag: spark(c) for c in children}
    return element.text or ""


def textual(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict):
        return {k: textual(v) for k, v in value.items()}
    if isinstance(value, list):
        return [textual(v) for v in value]
    return str(value)


def both(http: Client, path: str, schema: dict[str, Any], expect: int = 200, method: str = "get", **data: Any) -> Any:
    """Fetch `path` (without suffix) as JSON and as XML; check status, content type, schema and that the two agree."""
    call = getattr(http, method)
    as_json = call(f"{path}.json", data)
    as_xml = call(f"{path}.xml", data)
    assert as_json.status_code == expect, as_json.content.decode()
    assert as_xml.status_code == expect, as_xml.content.decode()
    assert as_json["Content-Type"] == "application/json; charset=utf-8"
    assert as_xml["Content-Type"] == "text/xml; charset=utf-8"
    body = json.loads(as_json.content)
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
    assert as_xml.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(as_xml.content)
    if method == "get":  # a POST made two tickets, so only the shapes can agree
        assert spark(root) == textual(body)
    return body


@pytest.fixture
def key(world: Any) -> str:
    client = ApiClient(name="city-app")
    secret = client.issue_key()
    client.save()
    return secret


@pytest.fixture
def stall_attributes(db: Any) -> None:
    ServiceAttribute.objects.create(
        category_code="010101",
        code="SHOP_TYPE",
        datatype="singlevaluelist",
        required=True,
        description="经营类型",
        order=1,
        values=[{"key": "food", "name": "餐饮"}, {"key": "fruit", "name": "水果"}],
    )
    ServiceAttribute.objects.create(
        category_code="010101",
        code="WHEN",
        datatype="multivaluelist",
        required=False,
        description="出现时段",
        order=2,
        values=[{"key": "am", "name": "上午"}, {"key": "pm", "name": "下午"}, {"key": "night", "name": "夜间"}],
    )


def test_discovery(world: Any, client: Client) -> None:
    body = both(client, "/open311/discovery", schemas.DISCOVERY)
    (endpoint,) = body["endpoints"]
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["url"] == "http://testserver/open311/v2"  # this server's own address unless configured
    assert dt.datetime.fromisoformat(body["changeset"]) <= dt.datetime.now(dt.UTC)


def test_services_and_definitions(world: Any, client: Client, stall_attributes: None) -> None:
    body = both(client, "/open311/v2/services", schemas.SERVICES)
    by_code = {s["service_code"]: s for s in body}
    assert by_code["010101"]["service_name"] == "占道经营"
    assert by_code["010101"]["metadata"] is True and by_code["010201"]["metadata"] is False
    assert by_code["010101"]["group"] == "城市管理"
    assert by_code["010101"]["type"] == "realtime"
    assert all(len(code) == 6 for code in by_code)  # leaves only, leading zeros kept

    definition = both(client, "/open311/v2/services/010101", schemas.SERVICE_DEFINITION)
    assert [a["code"] for a in definition["attributes"]] == ["SHOP_TYPE", "WHEN"]
    assert definition["attributes"][0]["values"][0] == {"key": "food", "name": "餐饮"}
    empty = both(client, "/open311/v2/services/010201", schemas.SERVICE_DEFINITION)
    assert empty["attributes"] == []
    missing = both(client, "/open311/v2/services/999999", schemas.ERRORS, expect=404)
    assert missing[0]["code"] == 404


def post(http: Client, fmt: str = "json", **fields: Any) -> Any:
    return http.post(f"/open311/v2/requests.{fmt}", fields)


def test_post_request_creates_a_ticket(world: Any, client: Client, key: str, stall_attributes: None) -> None:
    fields = {
        "api_key": key,
        "service_code": "010101",
        "address_string": "朝阳区建外街道光华路1号",
        "description": "小区门口每天傍晚有<b>摊贩</b>占道经营",
        "attribute[SHOP_TYPE]": "food",
        "attribute[WHEN][]": ["pm", "night"],
        "attribute[uprn]": "ignored",
        "first_name": "三",
        "last_name": "张",
        "phone": "13812345678",
        "email": "zs@example.com",
    }
    response = post(client, **fields)
    assert response.status_code == 200, response.content.decode()
    body = json.loads(response.content)
    jsonschema.validate(body, schemas.CREATED)
    number = body[0]["service_request_id"]
    assert "service_notice" in body[0]
    ticket = Ticket.objects.get(number=number)
    assert ticket.channel == "api" and ticket.dispatch_state == "new"
    assert ticket.street.name == "建外街道" and ticket.district.name == "朝阳区"
    assert (
        "<b>" not in ticket.content and "经营类型：餐饮" in ticket.content and "出现时段：下午、夜间" in ticket.content
    )
    assert ticket.requester.name == "张 三" and ticket.requester.phone == "13812345678"
    intake = ticket.events.get(action="intake")
    assert intake.data["open311"]["attributes"] == {"SHOP_TYPE": "food", "WHEN": ["pm", "night"]}
    assert intake.data["source"].startswith("open311:")

    # XML answers the same way; GETs never carry the requester
    xml = post(client, "xml", **fields)
    assert xml.status_code == 200 and ET.fromstring(xml.content).find("request/service_request_id") is not None
    detail = both(client, f"/open311/v2/requests/{number}", schemas.REQUESTS)
    assert len(detail) == 1 and detail[0]["status"] == "open"
    raw = json.dumps(detail, ensure_ascii=False)
    assert "13812345678" not in raw and "张" not in raw and "zs@example" not in raw


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({}, 403, "未提供 api_key"),
        ({"api_key": "nope.wrong-secret"}, 403, "api_key 无效"),
        ({"api_key": "KEY"}, 400, "未提供 service_code"),
        ({"api_key": "KEY", "service_code": "999999", "lat": "39.9"}, 404, "service_code 999999"),
        ({"api_key": "KEY", "service_code": "010201", "lat": "39.9"}, 400, "lat 和 long"),
        ({"api_key": "KEY", "service_code": "010201"}, 400, "须提供位置"),
        ({"api_key": "KEY", "service_code": "010201", "lat": "", "long": "", "address_string": ""}, 400, "须提供位置"),
        ({"api_key": "KEY", "service_code": "010201", "lat": "99", "long": "116"}, 400, "纬度"),
        ({"api_key": "KEY", "service_code": "010201", "address_id": "nowhere"}, 400, "address_id"),
        ({"api_key": "KEY", "service_code": "010101", "lat": "39.9", "long": "116.4"}, 400, "SHOP_TYPE"),
        (
            {"api_key": "KEY", "service_code": "010101", "lat": "39.9", "long": "116.4", "attribute[SHOP_TYPE]": "x"},
            400,
            "不在选项中",
        ),
        (
            {"api_key": "KEY", "service_code": "010201", "lat": "39.9", "long": "116.4", "description": "长" * 4001},
            400,
            "4,000",
        ),
        (
            {"api_key": "KEY", "service_code": "010201", "lat": "39.9", "long": "116.4", "jurisdiction_id": "x"},
            404,
            "jurisdiction",
        ),
        (
            {"api_key": "KEY", "service_code": "010201", "lat": "39.9", "long": "116.4", "media_url": "javascript:x"},
            400,
            "media_url",
        ),
    ],
)
def test_post_errors(
    world: Any, client: Client, key: str, stall_attributes: None, fields: dict[str, str], status: int, words: str
) -> None:
    fields = {k: (key if v == "KEY" else v) for k, v in fields.items()}
    before = Ticket.objects.count()
    for fmt in ("json", "xml"):
        response = post(client, fmt, **fields)
        assert response.status_code == status, response.content.decode()
        if fmt == "json":
            body = json.loads(response.content)
            jsonschema.validate(body, schemas.ERRORS)
            assert body[0]["code"] == status and words in body[0]["description"], body
        else:
            error = ET.fromstring(response.content).find("error")
            assert error is not None and error.findtext("code") == str(status)
    assert Ticket.objects.count() == before


def test_request_list_filters_and_limits(world: Any, client: Client, clock: Any, monkeypatch: Any) -> None:
    old = new_ticket(world, category_code="010201")
    clock.shift(dt.timedelta(days=100))
    closed = ticket_in(world, "closed")
    open_ = new_ticket(world, category_code="030101", title="路面坑洼", street_code=None, district_code=None)
    merged = ticket_in(world, "merged")

    everything = both(client, "/open311/v2/requests", schemas.REQUESTS)
    numbers = [r["service_request_id"] for r in everything]
    assert old.number not in numbers  # older than the default 90 days
    assert {closed.number, open_.number, merged.number} <= set(numbers)
    by_number = {r["service_request_id"]: r for r in everything}
    assert by_number[closed.number]["status"] == "closed"
    assert by_number[closed.number]["agency_responsible"] == "建外街道"
    assert "已清运完毕" in by_number[closed.number]["status_notes"]
    assert by_number[merged.number]["status"] == "closed" and "并入" in by_number[merged.number]["status_notes"]
    assert by_number[open_.number]["status"] == "open" and "expected_datetime" in by_number[open_.number]

    only_closed = both(client, "/open311/v2/requests", schemas.REQUESTS, status="closed")
    assert {r["status"] for r in only_closed} == {"closed"}
    both_statuses = both(client, "/open311/v2/requests", schemas.REQUESTS, status="open,closed")
    assert len(both_statuses) == len(everything)
    assert both(client, "/open311/v2/requests", schemas.REQUESTS, status="", service_code="") == everything
    roads = both(client, "/open311/v2/requests", schemas.REQUESTS, service_code="030101,999999")
    assert [r["service_request_id"] for r in roads] == [open_.number]

    # service_request_id overrides every other argument, even a date range that would exclude it
    ids = both(
        client,
        "/open311/v2/requests",
        schemas.REQUESTS,
        service_request_id=f"{old.number},{closed.number}",
        status="open",
        start_date="2000-01-01T00:00:00+08:00",
        end_date="2000-01-02T00:00:00+08:00",
    )
    assert {r["service_request_id"] for r in ids} == {old.number, closed.number}

    window = both(
        client,
        "/open311/v2/requests",
        schemas.REQUESTS,
        start_date="2026-11-16T00:00:00+08:00",
        end_date="2026-11-18T00:00:00Z",
    )
    assert [r["service_request_id"] for r in window] == [old.number]
    # "+08:00" sent unencoded arrives as " 08:00": still the offset, not an error
    unencoded = client.get(
        "/open311/v2/requests.json?start_date=2026-11-16T00:00:00+08:00&end_date=2026-11-18T00:00:00Z"
    )
    assert [r["service_request_id"] for r in json.loads(unencoded.content)] == [old.number]

    for bad in (
        {"start_date": "2026-11-16"},  # no offset
        {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"},  # over 90 days
        {"status": "pending"},
        {"page_size": "1001"},
        {"page": "0"},
    ):
        errors = both(client, "/open311/v2/requests", schemas.ERRORS, expect=400, **bad)
        assert errors[0]["code"] == 400

    # the first 1,000 (patched to 2 here) requests, and the non-standard pages after them
    monkeypatch.setattr(open311, "MAX_ROWS", 2)
    first = both(client, "/open311/v2/requests", schemas.REQUESTS)
    assert len(first) == 2
    second = both(client, "/open311/v2/requests", schemas.REQUESTS, page="2", page_size="2")
    assert second and not {r["service_request_id"] for r in second} & {r["service_request_id"] for r in first}


def test_single_request_paths(world: Any, client: Client) -> None:
    ticket = new_ticket(world)
    one = both(client, f"/open311/v2/requests/{ticket.number}", schemas.REQUESTS)
    assert [r["service_request_id"] for r in one] == [ticket.number]
    assert both(client, f"/open311/v2/request/{ticket.number}", schemas.REQUESTS) == one  # the schema repo's alias
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{ticket.number}.xml").content)
    assert xml.tag == "service_requests" and len(xml.findall("request")) == 1  # a one-item list keeps its wrapper
    both(client, "/open311/v2/requests/0000", schemas.ERRORS, expect=404)


def test_unknown_format_method_and_jurisdiction(world: Any, client: Client) -> None:
    response = client.get("/open311/v2/services.html")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/xml")
    assert ET.fromstring(response.content).findtext("error/code") == "400"
    assert client.get("/open311/v2/services.json", {"jurisdiction_id": "jiesu.example.gov.cn"}).status_code == 200
    both(client, "/open311/v2/services", schemas.ERRORS, expect=404, jurisdiction_id="elsewhere.gov")
    assert client.delete("/open311/v2/services.json").status_code == 400


def test_token_flow_for_batch_services(world: Any, client: Client, key: str, settings: Any) -> None:
    settings.OPEN311_SERVICE_TYPE = "batch"
    assert {s["type"] for s in json.loads(client.get("/open311/v2/services.json").content)} == {"batch"}
    created = json.loads(post(client, api_key=key, service_code="010201", lat="39.91", long="116.45").content)
    jsonschema.validate(created, schemas.CREATED)
    token = created[0]["token"]
    assert "service_request_id" not in created[0]
    found = both(client, f"/open311/v2/tokens/{token}", schemas.TOKEN)
    ticket = Ticket.objects.get(idempotency_key=f"o311:{token}")
    assert found == [{"service_request_id": ticket.number, "token": token}]
    assert float(ticket.latitude) == 39.91
    both(client, "/open311/v2/tokens/0123456789abcdef0123456789abcdef", schemas.ERRORS, expect=404)


def test_strict_content_types(world: Any, client: Client, settings: Any) -> None:
    settings.OPEN311_STRICT_CONTENT_TYPE = True
    assert client.get("/open311/v2/services.xml")["Content-Type"] == "text/xml"
    assert client.get("/open311/discovery.json")["Content-Type"] == "application/json"


def test_service_request_updates(world: Any, client: Client, key: str, clock: Any) -> None:
    ticket = ticket_in(world, "replied")
    clock.shift(dt.timedelta(minutes=5))
    assert client.get("/open311/v2/servicerequestupdates.json").status_code == 403
    window = {"api_key": key, "start_date": "2026-11-17T00:00:00+08:00", "end_date": "2026-11-18T00:00:00+08:00"}
    updates = both(client, "/open311/v2/servicerequestupdates", schemas.UPDATES, **window)
    mine = [u for u in updates if u["service_request_id"] == ticket.number]
    assert [u["external_status_code"] for u in mine] == ["FOR_TRIAGE", "ACTION_SCHEDULED", "IN_PROGRESS", "IN_PROGRESS"]
    assert mine[-1]["description"] == "已清运完毕"
    assert both(client, "/open311/v2/servicerequestupdates", schemas.UPDATES, api_key=key) == updates  # last day
    both(
        client,
        "/open311/v2/servicerequestupdates",
        schemas.ERRORS,
        expect=400,
        api_key=key,
        start_date=window["start_date"],
    )

    comment = {
        "api_key": key,
        "jurisdiction_id": "jiesu.example.gov.cn",
        "service_request_id": ticket.number,
        "update_id": "fms-77",
        "updated_datetime": "2026-11-17T09:30:00+08:00",
        "status": "REOPEN",
        "description": "摊贩晚上又回来了",
        "first_name": "三",
        "last_name": "张",
    }
    response = client.post("/open311/v2/servicerequestupdates.json", comment)
    assert response.status_code == 200, response.content.decode()
    jsonschema.validate(json.loads(response.content), schemas.UPDATE_CREATED)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.dispatch_state == "replied"  # a client never changes the state
    note = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert note.action == "requester_note" and note.note == "摊贩晚上又回来了" and note.data["reopen_requested"] is True
    assert RequesterUpdate.objects.filter(ticket=ticket, update_id="fms-77").count() == 1

    again = client.post("/open311/v2/servicerequestupdates.xml", comment)
    assert again.status_code == 400 and "already exists" in again.content.decode()
    for field in ("update_id", "status", "description", "updated_datetime"):
        assert client.post("/open311/v2/servicerequestupdates.json", comment | {field: ""}).status_code == 400
    assert client.post("/open311/v2/servicerequestupdates.json", comment | {"status": "WHATEVER"}).status_code == 400
    assert (
        client.post("/open311/v2/servicerequestupdates.json", comment | {"api_key": "x.yyyyyyyyyy"}).status_code == 403
    )
    missing = client.post(
        "/open311/v2/servicerequestupdates.json", comment | {"service_request_id": "1", "update_id": "n"}
    )
    assert missing.status_code == 404
    merged = ticket_in(world, "merged")
    refused = client.post(
        "/open311/v2/servicerequestupdates.json", comment | {"service_request_id": merged.number, "update_id": "m"}
    )
    assert refused.status_code == 400 and Ticket.objects.get(pk=merged.pk).dispatch_state == "merged"


def test_rate_limit_and_revocation(world: Any, client: Client, key: str) -> None:
    api_client = ApiClient.objects.get(name="city-app")
    ApiClient.objects.filter(pk=api_client.pk).update(rate_limit_per_hour=1)
    assert post(client, api_key=key, service_code="010201", lat="39.9", long="116.4").status_code == 200
    limited = post(client, api_key=key, service_code="010201", lat="39.9", long="116.4")
    assert limited.status_code == 429 and json.loads(limited.content)[0]["code"] == 429
    ApiClient.objects.filter(pk=api_client.pk).update(is_active=False)
    assert post(client, api_key=key, service_code="010201", lat="39.9", long="116.4").status_code == 403


def test_states_map_to_open_and_closed_in_one_place(world: Any) -> None:
    from jiesu.tickets.workflow import DispatchState

    closed = {s for s in DispatchState if open311.open311_status(s) == "closed"}
    assert closed == {DispatchState.CLOSED, DispatchState.MERGED, DispatchState.DECLINED}
    ticket = services.answer_directly(world.operator, new_ticket(world, appeal_type="inquiry").pk, "已答复")
    assert open311.request_record(Ticket.objects.get(pk=ticket.pk))["status"] == "closed"
