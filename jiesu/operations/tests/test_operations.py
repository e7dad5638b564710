"""Operations through HTTP: liveness and readiness, the metrics and who may read them, the request id in logs, error
pages and API errors, the client address behind a proxy, a bad Host, and `check --deploy` with the documented
production environment."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jiesu.integrations.models import ApiClient
from jiesu.operations.logs import JsonFormatter, RequestIdFilter
from jiesu.sla.models import Heartbeat
from jiesu.tickets.tests.helpers import ticket_in

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def test_healthz_always_answers() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_readyz_needs_a_recent_worker_heartbeat_and_a_small_outbox_lag(world: Any, clock: Any) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["migrations"]["ok"] and not checks["worker"]["ok"]
    Heartbeat.beat("worker")
    ticket_in(world, "new")  # a fresh event, not yet processed: within the allowed lag
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["outbox"]["pending"] >= 1


def test_readyz_fails_when_the_outbox_lags(world: Any, settings: Any) -> None:
    settings.READY_OUTBOX_MAX_LAG = -1  # any pending event is too old
    Heartbeat.beat("worker")
    ticket_in(world, "new")
    body = Client().get("/readyz").json()
    assert body["status"] == "fail" and not body["checks"]["outbox"]["ok"] and body["checks"]["worker"]["ok"]


def test_metrics_for_loopback_or_token_only(world: Any, settings: Any) -> None:
    ticket_in(world, "dispatched")
    Client().get("/healthz")
    text = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()
    assert 'jiesu_orders{state="dispatched"}' in text
    assert "jiesu_http_requests_total" in text and "jiesu_outbox_lag_seconds" in text
    assert "jiesu_webhook_failures_total" in text and "jiesu_worker_heartbeat_age_seconds -1.0" in text
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret-scrape"
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404
    remote = Client(REMOTE_ADDR="10.1.2.3", headers={"Authorization": "Bearer s3cret-scrape"})
    assert remote.get("/metrics").status_code == 200


def test_behind_a_proxy_the_client_address_is_the_forwarded_one(settings: Any) -> None:
    settings.TRUSTED_PROXIES = 1
    # nginx in front appends the peer it saw; a client's own forged entries come before it
    client = Client(REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert client.get("/metrics").status_code == 404  # 203.0.113.7 is not loopback
    settings.TRUSTED_PROXIES = 0
    assert client.get("/metrics").status_code == 200


def test_the_request_id_is_kept_from_the_caller_and_shown_on_errors(world: Any) -> None:
    response = Client(headers={"X-Request-ID": "abc-123"}).get("/healthz")
    assert response["X-Request-ID"] == "abc-123"
    assert len(Client(headers={"X-Request-ID": "bad id <x>"}).get("/healthz")["X-Request-ID"]) == 32
    body = Client().get("/api/v1/me", headers={"X-Request-ID": "req-777"}).json()  # no token: 401
    assert body["request_id"] == "req-777" and body["code"] == "unauthenticated"


def test_500_page_and_api_500_carry_the_request_id(world: Any, monkeypatch: Any) -> None:
    from jiesu.integrations import api

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(api.access, "membership", boom)
    client = ApiClient(name="t", user=world.operator)
    key = client.issue_key()
    client.save()
    http = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {key}", "X-Request-ID": "r-500"})
    response = http.get("/api/v1/me")
    assert response.status_code == 500 and response.json()["request_id"] == "r-500"

    from jiesu.operations import views

    response = views.server_error(_request("r-page"))
    assert response.status_code == 500 and "r-page" in response.content.decode()


def _request(rid: str) -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.request_id = rid
    return request


def test_a_bad_host_answers_400_not_500(settings: Any) -> None:
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400


def test_json_log_lines_carry_the_request_id() -> None:
    from jiesu.operations.logs import request_id

    request_id.set("log-1")
    record = logging.LogRecord("jiesu.x", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
    record.status = 500
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "log-1" and line["message"] == "failed x" and line["status"] == 500


def _jiesu(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JIESU_") and k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment |= {"PYTHONPATH": str(ROOT), "JIESU_SQLITE_PATH": "/tmp/jiesu-deploy-check.sqlite3", **env}
    return subprocess.run([sys.executable, "-m", "jiesu", *args], env=environment, capture_output=True, text=True)


PRODUCTION = {
    "JIESU_SECRET_KEY": "k" * 20 + "Zq8#x_w3-Lp0!vRt7yU2nM4bC6dE9fG1hJ5",
    "JIESU_HTTPS": "1",
    "JIESU_ALLOWED_HOSTS": "12345.example.gov.cn",
    "JIESU_CSRF_TRUSTED_ORIGINS": "https://12345.example.gov.cn",
    "JIESU_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "JIESU_TRUSTED_PROXIES": "1",
}


def test_check_deploy_is_clean_with_the_documented_environment() -> None:
    done = _jiesu("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    refused = _jiesu("check", "--deploy", **{k: v for k, v in PRODUCTION.items() if k != "JIESU_SECRET_KEY"})
    assert refused.returncode != 0 and "jiesu.E001" in refused.stdout + refused.stderr


def test_a_served_process_refuses_the_built_in_secret_key() -> None:
    code = "import jiesu.wsgi"
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JIESU_") and k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)
    assert done.returncode != 0 and "JIESU_SECRET_KEY" in done.stderr
    ok = subprocess.run([sys.executable, "-c", code], env=environment | {"JIESU_DEBUG": "1"}, capture_output=True)
    assert ok.returncode == 0, ok.stderr
