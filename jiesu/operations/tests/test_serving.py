"""The production server (gunicorn with jiesu's configuration) on PostgreSQL with the connection pool: many more
concurrent API clients than database connections never get a 5xx, and the server never holds more connections
than workers × JIESU_DB_POOL_MAX."""

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from jiesu.integrations.models import ApiClient

ROOT = Path(__file__).resolve().parents[3]
WORKERS, THREADS, POOL_MAX = 2, 8, 3
CLIENTS, REQUESTS = 48, 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url() -> str:
    d = connection.settings_dict
    return f"postgres://{d['USER']}:{d['PASSWORD'] or ''}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}?application_name=jiesu-serving-test"


def start_server(port: int, **env: str) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JIESU_")}
    environment |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url(),
        "JIESU_SECRET_KEY": "serving-test-" + "x9Kq2" * 10,
        "JIESU_WEB_BIND": f"127.0.0.1:{port}",
        "JIESU_WEB_WORKERS": str(WORKERS),
        "JIESU_WEB_THREADS": str(THREADS),
        "JIESU_DB_POOL_MAX": str(POOL_MAX),
        "JIESU_DB_POOL_TIMEOUT": "60",
        "JIESU_LOG_LEVEL": "WARNING",
        **env,
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    conf = ROOT / "jiesu" / "operations" / "gunicorn_conf.py"
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(conf)], env=environment, cwd=ROOT)
    for _ in range(1200):  # the machine may be busy; the loop ends as soon as the server answers
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            try:  # wait on the child itself: it either exits (a failure) or is still starting
                server.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError("gunicorn exited") from None
    server.terminate()
    raise RuntimeError("gunicorn did not answer")


def call(url: str, key: str, body: dict[str, Any] | None, idem: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idem:
        headers["Idempotency-Key"] = idem
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_clients_never_get_a_5xx_and_connections_stay_bounded() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the connection pool is PostgreSQL's")
    from jiesu.testing.world import build_world

    world = build_world()
    client = ApiClient(name="load", user=world.operator, rate_limit_per_hour=1_000_000)
    key = client.issue_key()
    client.save()
    # the server's connections (named by application_name), not this test process's
    count_sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'jiesu-serving-test'"
    port = free_port()
    server = start_server(port)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        try:
            with connection.cursor() as cursor:
                while not stop.is_set():
                    cursor.execute(count_sql, [connection.settings_dict["NAME"]])
                    seen.append(cursor.fetchone()[0])
                    stop.wait(0.05)  # sample every 50 ms until the load ends
        finally:
            connection.close()

    base = f"http://127.0.0.1:{port}/api/v1"
    order = {"title": "占道经营", "content": "门口夜市占道", "category_code": "010101", "street_code": "110105001"}

    def one(i: int) -> int:
        if i % 3 == 0:
            return call(f"{base}/orders?limit=20", key, None)
        return call(f"{base}/orders", key, order, idem=f"load-{i % 120}")  # repeats: the idempotent path too

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(one, range(REQUESTS)))
    finally:
        stop.set()
        watcher.join()
        server.terminate()
        server.wait(60)
        connection.close()
    assert all(s < 500 for s in statuses), sorted(set(statuses))
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert max(seen) <= WORKERS * POOL_MAX, max(seen)
