"""The telephony contract: screen pop with the caller's history and the recording id on the ticket; missed calls
in the 漏接回拨 queue with a deadline; bad, unauthenticated, stale and replayed reports refused."""

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from jiesu.integrations.models import ApiClient, CallEvent, IncomingCall
from jiesu.lib import clock as jclock
from jiesu.testing.world import World
from jiesu.tickets.models import Ticket
from jiesu.tickets.tests.helpers import new_ticket

KEY = "tel.jiesu-test-telephony-key"


@pytest.fixture
def switch(world: World) -> ApiClient:
    client = ApiClient(name="switch", telephony=True)
    client.issue_key(KEY)
    client.save()
    return client


def post(client: Client, body: Any, key: str = KEY) -> Any:
    return client.post(
        "/telephony/calls/",
        data=body if isinstance(body, (str, bytes)) else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def call(**fields: Any) -> dict[str, Any]:
    return {
        "call_id": "CTI-1",
        "event": "answered",
        "caller": "+86 138-1234-5678",
        "recording_id": "REC-77",
        "agent": "operator",
        "at": jclock.now().isoformat(),
    } | fields


def test_screen_pop_opens_the_console_with_history_and_keeps_the_recording(
    world: World, switch: ApiClient, client: Client
) -> None:
    earlier = new_ticket(world)  # the same caller, 13812345678
    response = post(client, call())
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["caller"] == "13812345678" and answer["open_url"].startswith("/intake/?call=")
    client.force_login(world.operator)
    assert "13812345678" in client.get("/intake/calls/").content.decode()  # the strip offers the pop
    page = client.get(answer["open_url"]).content.decode()
    assert 'value="13812345678"' in page and 'value="REC-77"' in page
    history = client.get("/intake/assist/", {"requester_phone": "13812345678"}).content.decode()
    assert earlier.number in history
    form = {
        "requester_phone": "13812345678",
        "channel": "phone",
        "appeal_type": "complaint",
        "title": "噪音扰民",
        "content": "夜间施工噪音",
        "category_code": "010201",
        "urgency": "normal",
        "street_code": "110105001",
        "recording_id": "REC-77",
        "call": answer["id"],
    }
    assert client.post("/intake/", form).status_code == 302
    ticket = Ticket.objects.get(title="噪音扰民")
    assert ticket.recording_id == "REC-77"
    assert IncomingCall.objects.get(pk=answer["id"]).ticket == ticket
    assert "REC-77" in client.get(f"/tickets/{ticket.pk}/").content.decode()
    # 一次一评 from the IVR after the call: onto the ticket, once, never into the units' rates
    rating = {"call_id": "CTI-1", "event": "rating", "satisfaction": "fairly_satisfied"}
    assert post(client, rating).status_code == 200
    event = ticket.events.get(action="rate_call")
    assert event.data["satisfaction"] == "fairly_satisfied" and event.data["operator"] == world.operator.pk
    assert post(client, rating).status_code == 409
    assert post(client, rating | {"call_id": "CTI-unknown"}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [1, 2],
        {"event": "answered", "at": "2026-11-17T09:00:00+08:00"},  # no call id
        call(event="ringing"),
        call(caller="12"),
        call(at="yesterday"),
        call(at="2026-11-17T09:00:00"),  # no offset
        call(agent="jw_handler"),  # not a hotline login
    ],
)
def test_a_bad_payload_is_refused_in_words_and_records_nothing(
    world: World, switch: ApiClient, client: Client, body: Any
) -> None:
    response = post(client, body)
    assert response.status_code == 400 and response.json()["error"] == "invalid" and response.json()["detail"]
    assert not IncomingCall.objects.exists()


def test_replayed_stale_and_unauthenticated_reports_are_refused(
    world: World, switch: ApiClient, client: Client, clock: Any
) -> None:
    assert post(client, call()).status_code == 201
    again = post(client, call())
    assert again.status_code == 409 and again.json()["error"] == "replayed"
    assert IncomingCall.objects.count() == 1 and CallEvent.objects.count() == 1
    stale = call(call_id="CTI-2", at=(jclock.now() - dt.timedelta(hours=1)).isoformat())
    assert post(client, stale).status_code == 400
    assert post(client, call(call_id="CTI-3"), key="tel.wrong-key-xxxxxxxx").status_code == 401
    other = ApiClient(name="app")
    other.issue_key("app.jiesu-test-app-key")
    other.save()
    assert post(client, call(call_id="CTI-4"), key="app.jiesu-test-app-key").status_code == 401  # not telephony
    assert client.get("/telephony/calls/").status_code == 405


def test_missed_calls_queue_with_deadline_and_call_back(
    world: World, switch: ApiClient, client: Client, clock: Any
) -> None:
    assert post(client, call(call_id="M-1", event="missed", agent="")).status_code == 201
    missed = IncomingCall.objects.get(call_id="M-1")
    assert missed.callback_due_at == missed.rang_at + dt.timedelta(minutes=30)
    client.force_login(world.operator)
    assert "<b>1</b>" in client.get("/intake/calls/").content.decode()
    clock.shift(dt.timedelta(minutes=31))
    page = client.get("/intake/missed/").content.decode()
    assert 'class="overdue"' in page and "13812345678" in page
    client.post("/intake/missed/", {"call": missed.pk, "outcome": "no_answer"})
    assert IncomingCall.objects.get(pk=missed.pk).called_back_at is None  # stays in the queue
    client.post("/intake/missed/", {"call": missed.pk, "outcome": "reached", "note": "已回拨，登记工单"})
    done = IncomingCall.objects.get(pk=missed.pk)
    assert done.called_back_at is not None and done.callback_outcome == "reached"
    assert [e.action for e in done.events.all()] == ["missed", "call_back", "call_back"]
    client.force_login(world.city_supervisor)
    assert "138****5678" in client.get("/intake/missed/?show=done").content.decode()
