"""REST intake without a category (issue 23's measured path): the assistant's category when it is sure, recorded on
the trail; otherwise 400 asking for one, and nothing is written."""

import json
from typing import Any

import pytest
from django.test import Client

from jiesu.integrations.models import ApiClient
from jiesu.intel.tests.synthetic import measured_category_model, sample_call
from jiesu.testing.world import World
from jiesu.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def post(http: Client, body: dict[str, Any], key: str) -> Any:
    return http.post(
        "/api/v1/orders", json.dumps(body), content_type="application/json", headers={"Idempotency-Key": key}
    )


def test_an_order_without_a_category_is_classified_when_the_assistant_is_sure(world: World) -> None:
    measured_category_model()
    client = ApiClient(name="classify", user=world.operator)
    http = Client(headers={"Authorization": f"Bearer {client.issue_key()}"})
    client.save()
    title, content = sample_call("020401")
    answer = post(http, {"title": title, "content": content, "street_code": "110105001"}, "c-1")
    assert answer.status_code == 201, answer.content.decode()
    assert answer.json()["category_code"] == "020401" and answer.json()["street"]["code"] == "110105001"
    event = TicketEvent.objects.get(ticket__number=answer.json()["number"], action="intake")
    assert event.data["category"]["by"] == "assistant" and 0 < event.data["category"]["p"] <= 1
    again = post(http, {"title": title, "content": content, "street_code": "110105001"}, "c-1")
    assert again.status_code == 200 and again.json()["number"] == answer.json()["number"]

    unsure = post(http, {"title": "我家的猫走丢了", "content": "橘猫昨天晚上从窗户跑出去了"}, "c-2")
    assert unsure.status_code == 400 and unsure.json()["code"] == "invalid"
    assert "category_code" in unsure.json()["detail"]
    assert Ticket.objects.count() == 1

    empty = post(http, {"title": "  ", "content": "橘猫昨天晚上从窗户跑出去了"}, "c-3")
    assert empty.status_code == 400 and empty.json()["field"] == "title", empty.json()
