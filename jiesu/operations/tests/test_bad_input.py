"""Bad numbers and bodies at the outside contracts: 400 (never 500) in each contract's own error format, 413 for
oversized bodies, Open311 errors always the specification's list, photos decoded and re-encoded."""

import json
from typing import Any

import pytest
from django.test import Client

from jiesu.integrations.models import ApiClient
from jiesu.tickets.models import Ticket

pytestmark = pytest.mark.django_db
ORDER = {"title": "占道经营", "content": "门口夜市占道", "category_code": "010101", "street_code": "110105001"}


def api_client(world: Any) -> tuple[Client, str]:
    client = ApiClient(name="bad-input", user=world.operator)
    key = client.issue_key()
    client.save()
    return Client(headers={"Authorization": f"Bearer {key}"}), key


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", 91, -200])
def test_rest_refuses_bad_coordinates_with_400(world: Any, value: Any) -> None:
    http, _ = api_client(world)
    body = json.dumps(ORDER)[:-1] + f', "latitude": {value}, "longitude": 116.4}}'
    response = http.post("/api/v1/orders", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert not Ticket.objects.exists()


def test_rest_schema_errors_speak_the_callers_language(world: Any) -> None:
    """pydantic's refusals come back per field in the caller's language, with pydantic's type and location kept."""
    http, _ = api_client(world)
    bad = {"content": "门口夜市占道", "urgency": "soon", "latitude": 95}  # no title, an unknown urgency, out of range
    for language, expected in [
        (
            "zh-hans",
            {
                "title": "此项必填。",
                "urgency": "请从以下取值中选择：normal, urgent, emergency。",
                "latitude": "不得大于 90",
            },
        ),
        (
            "en",
            {
                "title": "This field is required.",
                "urgency": "Give one of: normal, urgent, emergency.",
                "latitude": "Give at most 90",
            },
        ),
    ]:
        response = http.post(
            "/api/v1/orders", json.dumps(bad), content_type="application/json", headers={"Accept-Language": language}
        )
        assert response.status_code == 400 and response.json()["code"] == "invalid", response.content
        errors = {e["loc"][-1]: e for e in response.json()["errors"]}
        assert errors["title"]["type"] == "missing"
        for field, text in expected.items():
            assert errors[field]["msg"].startswith(text), (language, errors[field])
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(("field", "code"), [("district_code", "999999"), ("street_code", "999999999")])
def test_an_unknown_place_names_its_field(world: Any, field: str, code: str) -> None:
    http, _ = api_client(world)
    body = {k: v for k, v in ORDER.items() if k != "street_code"} | {field: code}
    response = http.post("/api/v1/orders", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == field.removesuffix("_code"), response.content
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"])
def test_rest_refuses_out_of_range_dates(world: Any, value: str) -> None:
    http, _ = api_client(world)
    response = http.get("/api/v1/orders", {"updated_after": value})
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("lat", ["nan", "inf", "-inf", "1e400", "95"])
def test_open311_refuses_bad_coordinates_with_400(world: Any, lat: str) -> None:
    _, key = api_client(world)
    response = Client().post(
        "/open311/v2/requests.json", {"api_key": key, "service_code": "010101", "lat": lat, "long": "116.4"}
    )
    assert response.status_code == 400, response.content
    assert response.json()[0]["code"] == 400


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "2026-01-01T00:00:00+25:00", "2026-13-01T00:00:00Z"],
)
def test_open311_refuses_bad_dates_and_offsets(world: Any, value: str) -> None:
    response = Client().get("/open311/v2/requests.json", {"start_date": value})
    assert response.status_code == 400 and response.json()[0]["code"] == 400


def test_oversized_bodies_get_413_in_each_format(world: Any, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    http, key = api_client(world)
    big = json.dumps(ORDER | {"content": "长" * 2000})
    response = http.post("/api/v1/orders", big, content_type="application/json")
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    response = Client().post("/open311/v2/requests.json", {"api_key": key, "description": "长" * 2000})
    assert response.status_code == 413 and response.json()[0]["code"] == 413


def test_open311_unknown_urls_answer_in_the_spec_format() -> None:
    response = Client().get("/open311/v2/nothing.json")
    assert response.status_code == 404 and response.json()[0]["code"] == 404
    xml = Client().get("/open311/v2/nothing.xml")
    assert xml.status_code == 404 and b"<errors>" in xml.content


def _jpeg_with_gps() -> bytes:
    import io

    from PIL import Image

    image = Image.new("RGB", (32, 24), (200, 30, 40))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (39.0, 54.0, 27.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_photos_are_decoded_and_reencoded_without_trailing_data_or_location(world: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jiesu.lib.errors import InvalidInput
    from jiesu.testing.images import png
    from jiesu.tickets import services
    from jiesu.tickets.tests.helpers import ticket_in

    original = _jpeg_with_gps() + b"<?php system($_GET['c']); ?>"
    assert b"CameraMaker" in original
    ticket = ticket_in(world, "accepted")
    services.add_progress(
        world.jw_handler, ticket.pk, "现场", photos=[SimpleUploadedFile("a.jpg", original, "image/jpeg")]
    )
    stored = ticket.attachments.get().file.read()
    assert stored.startswith(b"\xff\xd8") and b"<?php" not in stored and b"CameraMaker" not in stored

    # the first bytes of a PNG followed by garbage: not a photo, whatever its signature says
    fake = png()[:40] + b"\x00" * 200
    with pytest.raises(InvalidInput):
        services.add_progress(world.jw_handler, ticket.pk, "假图", photos=[SimpleUploadedFile("b.png", fake)])
    assert ticket.attachments.count() == 1


def test_an_idempotency_key_with_another_body_is_refused_with_422(world: Any) -> None:
    http, _ = api_client(world)
    first = http.post(
        "/api/v1/orders", json.dumps(ORDER), content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert first.status_code == 201
    same = http.post(
        "/api/v1/orders", json.dumps(ORDER), content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert same.status_code == 200 and same.json()["number"] == first.json()["number"]
    other = http.post(
        "/api/v1/orders",
        json.dumps(ORDER | {"title": "另一件事"}),
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_key_get_the_one_order() -> None:
    import threading

    from django.db import connection

    from jiesu.testing.world import build_world

    world = build_world()
    _, key = api_client(world)
    barrier = threading.Barrier(6)
    answers: list[Any] = []

    def post() -> None:
        try:
            barrier.wait()
            response = Client(headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "same-key"}).post(
                "/api/v1/orders", json.dumps(ORDER), content_type="application/json"
            )
            answers.append((response.status_code, response.json().get("number")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in answers) == [200, 200, 200, 200, 200, 201]
    assert len({n for _, n in answers}) == 1 and Ticket.objects.count() == 1


def test_a_portal_key_never_names_another_clients_order(world: Any, client: Client) -> None:
    http, _ = api_client(world)
    made = http.post(
        "/api/v1/orders", json.dumps(ORDER), content_type="application/json", headers={"Idempotency-Key": "shared"}
    ).json()
    api_key_stored = Ticket.objects.get(number=made["number"]).idempotency_key
    form = {
        "appeal_type": "complaint",
        "category_code": "010201",
        "title": "垃圾",
        "content": "没人清运",
        "requester_phone": "13911112222",
        "idempotency_key": api_key_stored,
    }
    response = client.post("/portal/", form)
    assert response.status_code == 302 and made["number"] not in response["Location"]
    assert Ticket.objects.count() == 2
