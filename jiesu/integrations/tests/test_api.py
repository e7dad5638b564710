"""The REST API through the HTTP client (and schemathesis through WSGI): tokens act as their user, scoped exactly
like the web UI; idempotent creation; unit actions; the event feed; errors in the caller's language."""

import json
import os
import re
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jiesu.integrations.models import ApiClient
from jiesu.tickets import access, services
from jiesu.tickets.models import Ticket
from jiesu.tickets.tests.helpers import ticket_in

pytestmark = pytest.mark.django_db
ORDER = {
    "title": "小区门口占道经营",
    "content": "每天傍晚有摊贩在小区门口占道经营，联系电话13812345678。",
    "category_code": "010101",
    "appeal_type": "complaint",
    "address": "朝阳区建外街道光华路1号",
    "street_code": "110105001",
    "requester_name": "李四",
    "requester_phone": "13912345678",
}


def token(user: Any, name: str | None = None) -> str:
    client = ApiClient(name=name or f"as-{user.username}", user=user)
    key = client.issue_key()
    client.save()
    return key


class Api:
    def __init__(self, key: str) -> None:
        self.http = Client(headers={"Authorization": f"Bearer {key}"})

    def get(self, path: str, **params: Any) -> Any:
        return self.http.get(f"/api/v1{path}", params)

    def post(self, path: str, body: dict[str, Any], **headers: Any) -> Any:
        return self.http.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers)


def test_create_is_idempotent_and_validated(world: Any) -> None:
    api = Api(token(world.operator))
    first = api.post("/orders", ORDER, **{"Idempotency-Key": "app-123"})
    assert first.status_code == 201, first.content.decode()
    again = api.post("/orders", ORDER, **{"Idempotency-Key": "app-123"})
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    assert Ticket.objects.filter(title=ORDER["title"]).count() == 1
    assert api.post("/orders", ORDER, **{"Idempotency-Key": "app-124"}).status_code == 201
    assert Ticket.objects.filter(title=ORDER["title"]).count() == 2

    body = first.json()
    assert body["state"] == "new" and body["street"] == {"code": "110105001", "name": "建外街道"}
    assert body["requester_phone"] == "13912345678"  # a hotline operator sees the requester
    assert Ticket.objects.get(number=body["number"]).channel == "api"

    unknown = api.post("/orders", ORDER | {"category_code": "999999"})
    assert unknown.status_code == 400 and unknown.json()["detail"] == "未知的分类：“999999”。"
    missing = api.post("/orders", {k: v for k, v in ORDER.items() if k != "title"})
    assert (
        missing.status_code == 400
        and missing.json()["detail"].startswith("输入有误")
        and "title" in missing.json()["detail"]
    )
    broken = api.http.post("/api/v1/orders", '{"title":', content_type="application/json")
    assert broken.status_code == 400 and broken.json()["detail"] == "请求内容不是有效的 JSON。"
    assert "小区门口占道经营" in first.content.decode()  # Chinese as it is, not \u escapes
    wrong_type = api.post("/orders", ORDER | {"appeal_type": "rant"})
    assert wrong_type.status_code == 400
    english = api.http.post(
        "/api/v1/orders",
        json.dumps(ORDER | {"category_code": "x"}),
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert english.json()["detail"] == "Unknown category: “x”."
    # a unit handler may not register orders, as in the web UI
    assert Api(token(world.jw_handler)).post("/orders", ORDER).status_code == 403


def test_tokens(world: Any) -> None:
    assert Client().get("/api/v1/orders").status_code == 401
    assert Client(headers={"Authorization": "Bearer nope.nope-nope"}).get("/api/v1/orders").status_code == 401
    open311_only = ApiClient(name="open311-only")
    key = open311_only.issue_key()
    open311_only.save()
    assert Api(key).get("/orders").status_code == 401
    me = Api(token(world.jw_handler)).get("/me").json()
    assert me == {
        "client": "as-jw_handler",
        "user": "jw_handler",
        "role": "unit_handler",
        "unit": {"code": "110105001", "name": "建外街道"},
    }
    limited = ApiClient.objects.get(name="as-jw_handler")
    ApiClient.objects.filter(pk=limited.pk).update(rate_limit_per_hour=1)
    assert Api(token(world.jw_leader, "x")).get("/me").status_code == 200
    over = Client(headers={"Authorization": f"Bearer {token(world.cw_handler, 'limited')}"})
    ApiClient.objects.filter(name="limited").update(rate_limit_per_hour=1)
    assert over.get("/api/v1/me").status_code == 200
    assert over.get("/api/v1/me").status_code == 429


def test_reads_are_scoped_like_the_web(world: Any) -> None:
    mine = ticket_in(world, "dispatched")  # 建外街道 leads
    other = ticket_in(world, "dispatched", street_code="110108001", address="海淀区海淀街道")
    api = Api(token(world.jw_handler))
    listed = api.get("/orders", limit=200).json()
    web = set(access.visible_tickets(world.jw_handler).values_list("number", flat=True))
    assert {o["number"] for o in listed["items"]} == web and listed["count"] == len(web)
    assert mine.number in web and other.number not in web
    assert api.get(f"/orders/{other.number}").status_code == 404
    seen = api.get(f"/orders/{mine.number}").json()
    assert seen["requester_phone"] == "138****5678" and seen["requester_name"] == "张*"
    assert api.get("/orders", state="closed").json()["items"] == []
    assert api.get("/orders", state="bogus").status_code == 400
    assert api.get("/orders", limit=0).status_code == 400


def test_unit_actions_and_the_event_feed(world: Any) -> None:
    ticket = ticket_in(world, "dispatched")
    hidden = ticket_in(world, "dispatched", street_code="110108001", address="海淀区海淀街道")
    api = Api(token(world.jw_handler))
    feed = api.get("/events").json()
    assert {e["order"] for e in feed["items"]} == {ticket.number}
    cursor = feed["next_cursor"]
    assert api.get("/events", after=cursor).json() == {"items": [], "next_cursor": cursor}

    early = api.post(f"/orders/{ticket.number}/reply", {"text": "已处理"})
    assert early.status_code == 409 and "不能" in early.json()["detail"]
    accepted = api.post(f"/orders/{ticket.number}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    version = accepted.json()["version"]
    stale = api.post(f"/orders/{ticket.number}/progress", {"note": "已派人", "expected_version": version - 1})
    assert stale.status_code == 409
    progressed = api.post(f"/orders/{ticket.number}/progress", {"note": "已派人到现场", "expected_version": version})
    assert progressed.status_code == 200
    assert api.post(f"/orders/{ticket.number}/progress", {"note": "   "}).status_code == 400
    replied = api.post(f"/orders/{ticket.number}/reply", {"text": "已清理占道摊点。"})
    assert replied.json()["state"] == "replied" and replied.json()["reply"] == "已清理占道摊点。"
    assert api.post(f"/orders/{hidden.number}/accept", {}).status_code == 404

    new = api.get("/events", after=cursor).json()
    assert [e["action"] for e in new["items"]] == ["accept", "add_progress", "reply"]
    assert all(e["unit"]["code"] == "110105001" for e in new["items"])
    assert new["next_cursor"] > cursor
    trail = api.get(f"/orders/{ticket.number}/events").json()
    assert [e["action"] for e in trail] == ["intake", "dispatch", "accept", "add_progress", "reply"]
    # the dispatcher sees both tickets' events; the 海淀 one never reaches 建外
    everything = Api(token(world.dispatcher)).get("/events", limit=1000).json()["items"]
    assert {hidden.number, ticket.number} <= {e["order"] for e in everything}
    services.supervise(world.city_supervisor, hidden.pk, "请尽快办理")
    assert api.get("/events", after=new["next_cursor"]).json()["items"] == []


def test_openapi_document_and_offline_docs(world: Any, client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/orders", "/api/v1/events", "/api/v1/orders/{number}/reply"} <= set(document["paths"])
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)  # nothing from a CDN


def test_schemathesis_finds_no_server_errors(world: Any) -> None:
    """Property-based requests from the OpenAPI document (valid and invalid), through WSGI: no 5xx, invalid data is
    rejected, and every response conforms to the document (status codes, content types, schemas)."""
    ticket_in(world, "accepted")
    keys = {"operator": token(world.operator), "handler": token(world.jw_handler)}
    # In-process WSGI shares the test's database connection, which Django would close after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        run_schemathesis(keys)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# JIESU_SCHEMATHESIS_EXAMPLES raises the examples per operation and token for a long run (issue 22: 300 gives more
# than 5,000 cases); the number of cases run and of 5xx answers is printed.
EXAMPLES = int(os.environ.get("JIESU_SCHEMATHESIS_EXAMPLES", "15"))


def run_schemathesis(keys: dict[str, str]) -> None:
    ApiClient.objects.update(rate_limit_per_hour=10**9)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    cases = {"run": 0, "5xx": 0}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8

    def checker(operation: Any, key: str) -> Any:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            cases["run"] += 1
            # Every check but "schema-valid data is accepted": the business rules (a category must exist, a state
            # allow the action) rightly refuse much schema-valid data with 400/409.
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {key}"}, excluded_checks=[positive_data_acceptance]
            )
            cases["5xx"] += response.status_code >= 500

        return check

    for operation in operations:
        for who, key in keys.items():
            try:
                checker(operation, key)()
            except Exception as error:
                raise AssertionError(f"{operation.label} as {who}: {error}") from error
    print(f"schemathesis: {cases['run']} cases, {cases['5xx']} server errors")
    assert cases["5xx"] == 0
