"""Hardened edges through HTTP: login lockout, bad API keys throttled, the Content Security Policy with no inline
scripts, no open redirect, assessment drill-downs only for the roles that see the assessment."""

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jiesu.assessment.models import Snapshot
from jiesu.assessment.tests.test_assess import OCTOBER, october  # noqa: F401  (the fixture)
from jiesu.testing.world import JIANWAI, World

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def test_repeated_wrong_passwords_lock_the_login_out(world: World, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    world.jw_handler.set_password("right-password-2026")
    world.jw_handler.save()
    browser = Client()
    for _ in range(2):
        response = browser.post("/accounts/login/", {"username": "jw_handler", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    locked = browser.post("/accounts/login/", {"username": "jw_handler", "password": "wrong"})
    assert locked.status_code == 429
    # even the right password is refused while locked
    again = browser.post("/accounts/login/", {"username": "jw_handler", "password": "right-password-2026"})
    assert again.status_code == 429 and "_auth_user_id" not in browser.session
    # another user from the same address is not locked
    world.jw_leader.set_password("leader-password-2026")
    world.jw_leader.save()
    ok = Client().post("/accounts/login/", {"username": "jw_leader", "password": "leader-password-2026"})
    assert ok.status_code == 302


def test_bad_api_keys_are_throttled_per_address(world: World, settings: Any) -> None:
    settings.API_KEY_FAILURE_LIMIT = 3
    from jiesu.integrations.models import ApiClient

    client = ApiClient(name="good", user=world.operator)
    key = client.issue_key()
    client.save()
    for i in range(3):
        response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer guess.{i}"})
        assert response.status_code == 401
    refused = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    o311 = Client().post("/open311/v2/requests.json", {"api_key": key, "service_code": "010101"})
    assert o311.status_code == 429 and isinstance(o311.json(), list) and o311.json()[0]["code"] == 429
    other_address = Client(REMOTE_ADDR="10.9.9.9").get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert other_address.status_code == 200


def test_the_api_key_lockout_is_read_in_the_key_lookup_and_still_holds(world: World, settings: Any) -> None:
    """The lockout count costs no query of its own (it comes in the key lookup's statement), yet it is django-axes'
    count: a locked address is refused even with a valid key, a deactivated key is refused at once, and the lockout
    ends with the cool-off."""
    import datetime as dt

    import time_machine
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from jiesu.integrations.models import ApiClient
    from jiesu.lib import logins

    settings.API_KEY_FAILURE_LIMIT = 3
    client = ApiClient(name="good", user=world.operator)
    key = client.issue_key()
    client.save()
    prefix = key.partition(".")[0]
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        reads = [q["sql"] for q in queries.captured_queries if "axes_accessattempt" in q["sql"]]
        assert len(reads) == 1 and "integrations_apiclient" in reads[0]  # one statement: the client and the count
        for guess in (f"{prefix}.wrong-secret-0", "nobody.guess-1234", "x" * 300):  # right prefix, unknown, too long
            assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {guess}"}).status_code == 401
        assert logins.api_key_locked(RequestFactory().get("/api/v1/me"))  # django-axes' own count agrees
        refused = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 429  # a locked address gains nothing from guessing right
    with time_machine.travel(start + dt.timedelta(minutes=settings.AXES_COOLOFF_MINUTES + 1), tick=False):
        assert not logins.api_key_locked(RequestFactory().get("/api/v1/me"))
        assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        ApiClient.objects.filter(pk=client.pk).update(is_active=False)  # revoked: refused by the very next request
        assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_password_validators_refuse_weak_passwords() -> None:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("12345678", "password", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)


def test_pages_carry_a_csp_without_inline_scripts(world: World) -> None:
    browser = Client()
    browser.force_login(world.operator)
    response = browser.get("/intake/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    templates = [p for p in (ROOT / "jiesu").rglob("*.html") if "static" not in p.parts]
    inline = re.compile(r"<script(?![^>]*\b(src|type=\"application/json\")=?)[^>]*>", re.I)
    handlers = re.compile(r"\son[a-z]+=\"", re.I)
    offenders = [str(p) for p in templates if inline.search(p.read_text()) or handlers.search(p.read_text())]
    assert offenders == []


def test_next_never_leaves_the_site(world: World) -> None:
    browser = Client()
    browser.force_login(world.jw_handler)
    for target in ("https://evil.example/x", "//evil.example/", "javascript:alert(1)"):
        response = browser.post("/assessment/appeal/999999/", {"kind": "x", "reason": "y", "next": target})
        assert response.status_code == 302 and "evil" not in response["Location"]
        assert not response["Location"].startswith("javascript")
    inside = browser.post("/assessment/appeal/999999/", {"kind": "x", "reason": "y", "next": "/inbox/"})
    assert inside["Location"] == "/inbox/"


def test_hotline_roles_never_open_assessment_drill_downs(october: Any, world: World) -> None:  # noqa: F811
    import io

    from django.core.management import call_command

    call_command("assess", "--month", "2026-10", stdout=io.StringIO())
    draft = Snapshot.objects.get(month=OCTOBER)
    assert not draft.is_published
    for name in ("operator", "dispatcher", "agent"):
        browser = Client()
        browser.force_login(world.users[name])
        assert browser.get(f"/assessment/{draft.pk}/units/{JIANWAI}/").status_code == 404
    supervisor = Client()
    supervisor.force_login(world.city_supervisor)
    assert supervisor.get(f"/assessment/{draft.pk}/units/{JIANWAI}/").status_code == 200


def test_an_api_request_without_an_address_is_answered_and_counted(world: World, settings: Any) -> None:
    """A request whose address is empty (no REMOTE_ADDR, as a WSGI test client sends) gets an answer, never a 500
    (PostgreSQL refused '' as an inet), and its failures still count towards the lockout (axes stores NULL)."""
    from jiesu.integrations.models import ApiClient

    settings.API_KEY_FAILURE_LIMIT = 3
    client = ApiClient(name="no address", user=world.operator)
    key = client.issue_key()
    client.save()
    anonymous = Client(REMOTE_ADDR="")
    assert anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    for guess in ("nobody.guess-1", "nobody.guess-2", "nobody.guess-3"):
        assert anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {guess}"}).status_code == 401
    assert anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 429
