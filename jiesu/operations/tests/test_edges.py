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
