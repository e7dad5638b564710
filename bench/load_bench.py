"""Load benchmark of the production server (gunicorn, scripts/serve's configuration) on PostgreSQL.

REST intake (POST /api/v1/orders, each with its own idempotency key, as the demo's operator client: placed by its
street code, and once more without a category, classified by the assistant's measured model) at 8 and 32
concurrent clients, beside the ceiling measured by the same server in the same run: a minimal Django create view
(bench/load_bench_urls.py: read JSON, insert one row, answer 201). Each client keeps one HTTP/1.1 connection and sends
requests back to back for --seconds. Prints orders/s, p50 and p99 latency, and the count of 5xx answers.

The clients run on the same machine as the server and the database (2 cores here): the numbers are for comparison
within a run, not a capacity figure.

The ratio column is the row's rate over the minimal view's in the same server, clients and run; the load column
is the machine's load average when the row ended (the machine is shared: compare ratios, not absolute rates).

With --helpdesk PYTHON, django-helpdesk's ticket creation (its REST API, bench/helpdesk_peer) is measured the same
way on the same PostgreSQL, from a virtual environment that has it (it is not a jiesu dependency):
    python3 -m venv /tmp/hd && /tmp/hd/bin/pip install django==5.2.* django-helpdesk gunicorn "psycopg[binary,pool]"

Usage: .venv/bin/python bench/load_bench.py [--seconds 20] [--workers 1,2,4] [--threads 2] [--clients 8,32]
       [--rounds 3] [--helpdesk /tmp/hd/bin/python]
       (starts the project's PostgreSQL with scripts/pg on JIESU_PG_PORT, default 54329, unless DATABASE_URL is set)
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "jiesu_load_bench"


def sh(*args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env, cwd=ROOT).stdout.strip()


def database(name: str = BENCH_DB) -> str:
    base = os.environ.get("DATABASE_URL") or sh(str(ROOT / "scripts" / "pg"))
    server, _, _ = base.rpartition("/")
    psql = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))[-1]
    sh(str(psql), f"{server}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    sh(str(psql), f"{server}/postgres", "-qc", f"CREATE DATABASE {name}")
    if name != BENCH_DB:
        return f"{server}/{name}"
    sh(
        str(psql),
        f"{server}/{BENCH_DB}",
        "-qc",
        "CREATE TABLE bench_row (id bigserial PRIMARY KEY, title text, content text, created timestamptz)",
    )
    return f"{server}/{BENCH_DB}"


SETUP = """
import json
from jiesu.integrations.models import ApiClient
from jiesu.intel.tests.synthetic import measured_category_model, sample_call
from jiesu.testing.world import build_world
world = build_world()  # the reference data and one user per role
measured_category_model()  # an active, measured category model: orders without a category are classified
print(json.dumps(dict(zip(("title", "content"), sample_call("010101"), strict=True)), ensure_ascii=False))
client = ApiClient(name="load-bench", user=world.operator, rate_limit_per_hour=10**9)
print(client.issue_key()); client.save()
"""


HELPDESK_SETUP = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue
user = get_user_model().objects.create_superuser("bench", "bench@example.org", "bench-" + "x" * 20)
print(Queue.objects.create(title="Bench", slug="bench").pk)
print(Token.objects.create(user=user).key)
"""


def helpdesk_peer(
    python: str, workers: int, threads: int, pool: int
) -> tuple[subprocess.Popen[bytes], int, dict[str, str], dict[str, Any]]:
    """django-helpdesk (bench/helpdesk_peer, from the virtual environment of `python`) served by gunicorn with the
    same workers, threads and pool on the same PostgreSQL: (server, port, headers, a ticket body)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIESU_")} | {
        "PYTHONPATH": str(ROOT / "bench"),
        "DJANGO_SETTINGS_MODULE": "helpdesk_peer.settings",
        "DATABASE_URL": HELPDESK_URL[0],
        "POOL_MAX": str(pool),
    }
    if not HELPDESK_URL[1]:
        sh(python, "-m", "django", "migrate", "--noinput", "-v", "0", env=env)
        HELPDESK_URL[1] = sh(python, "-c", "import django; django.setup()\n" + HELPDESK_SETUP, env=env)
    queue, token = HELPDESK_URL[1].splitlines()[-2:]
    port = free_port()
    like_jiesu = ["-k", "gthread", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [python, "-m", "gunicorn", *like_jiesu, "--log-level", "warning", "django.core.wsgi:get_wsgi_application()"],
        env=env,
        cwd=ROOT,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            time.sleep(0.2)
    ticket = {
        "queue": int(queue),
        "title": "小区门口占道经营",
        "description": "每天傍晚有摊贩占道经营，影响通行。",
        "submitter_email": "citizen@example.org",
        "priority": 3,
    }
    return server, port, {"Authorization": f"Token {token}"}, ticket


HELPDESK_URL = ["", ""]  # its database, and what its setup printed (made once per run)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    port: int, path: str, body_of: Callable[[int, int], Any], headers: dict[str, str], clients: int, seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        i = 0
        mine: list[float] = []
        seen: dict[int, int] = {}
        while time.perf_counter() < stop_at:
            i += 1
            body = json.dumps(body_of(n, i)).encode()
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    path,
                    body,
                    headers
                    | {"Content-Type": "application/json"}
                    | {"Idempotency-Key": f"load-{clients}-{n}-{i}-{time.time_ns()}"},
                )
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                status = 599
            mine.append(time.perf_counter() - started)
            seen[status] = seen.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    ok = sum(v for k, v in statuses.items() if k < 300)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "per_s": ok / elapsed,
        "p50": statistics.median(ms) if ms else 0.0,
        "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0.0,
        "ok": ok,
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "other": sum(v for k, v in statuses.items() if 300 <= k < 500),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", default="2", help="gunicorn workers; a list (1,2,4) gives the curve")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool", type=int, default=8, help="JIESU_DB_POOL_MAX per worker")
    parser.add_argument("--clients", default="8,32")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every endpoint this many times in turn and print each figure's median (with the ratios' range)",
    )
    parser.add_argument(
        "--helpdesk",
        default="",
        help="the python of a virtual environment with django-helpdesk, gunicorn and psycopg: measures its ticket "
        "creation (bench/helpdesk_peer) the same way, as the peer",
    )
    parser.add_argument(
        "--drain", type=int, default=2000, help="then time the worker's assistant over this many queued orders"
    )
    args = parser.parse_args()

    env, order, unclassified, auth = prepare()
    py = sys.executable
    if args.helpdesk:
        HELPDESK_URL[0] = database(BENCH_DB + "_helpdesk") or ""
    print(f"{args.threads} threads per worker, pool ≤ {args.pool} per worker, {args.seconds:.0f} s per run, PostgreSQL")
    print(
        f"{'workers':>7} {'clients':>7}  {'endpoint':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ok':>7} "
        f"{'5xx':>5} {'4xx':>5}  {'ratio':>6}  load"
    )
    for workers in [int(w) for w in str(args.workers).split(",")]:
        port = free_port()
        servers = [serve(py, env, port, workers, args.threads, args.pool)]
        endpoints = [
            ("minimal Django create (ceiling)", port, "/bench/create/", {}, order),
            ("REST intake POST /api/v1/orders", port, "/api/v1/orders", auth, order),
            ("REST intake, no category (classified)", port, "/api/v1/orders", auth, unclassified),
        ]
        try:
            if args.helpdesk:
                peer, peer_port, peer_auth, ticket = helpdesk_peer(args.helpdesk, workers, args.threads, args.pool)
                servers.append(peer)
                endpoints.append(("django-helpdesk POST /api/tickets/", peer_port, "/api/tickets/", peer_auth, ticket))
            for clients in [int(c) for c in args.clients.split(",")]:
                # Each round measures every endpoint once, in turn, so a drift of the shared machine's speed
                # touches all of them; with --rounds > 1 each figure is its median over the rounds, and the ratio
                # column adds its range.
                rounds = [
                    [
                        run(at, path, always(body), headers, clients, args.seconds)
                        for _, at, path, headers, body in endpoints
                    ]
                    for _ in range(args.rounds)
                ]
                medians: list[float] = []
                for i, (name, *_) in enumerate(endpoints):
                    ratios = sorted(rows[i]["per_s"] / rows[0]["per_s"] for rows in rounds)
                    r = {k: statistics.median(rows[i][k] for rows in rounds) for k in rounds[0][i]}
                    medians.append(r["per_s"])
                    spread = f" ({ratios[0]:.3f}–{ratios[-1]:.3f})" if len(ratios) > 1 and i else ""
                    print(
                        f"{workers:>7} {clients:>7}  {name:<38} {r['per_s']:>8.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                        f"{r['ok']:>7.0f} {r['5xx']:>5.0f} {r['other']:>5.0f}  {statistics.median(ratios):>6.3f}"
                        f"{spread}  {load()}",
                        flush=True,
                    )
                if len(medians) == 4 and medians[3]:
                    by_round = [sorted(rows[j]["per_s"] / rows[3]["per_s"] for rows in rounds) for j in (1, 2)]
                    print(
                        f"{workers:>7} {clients:>7}  REST intake / django-helpdesk: "
                        f"{statistics.median(by_round[0]):.2f}× (classified: {statistics.median(by_round[1]):.2f}×)"
                        + (
                            f"; by round {by_round[0][0]:.2f}–{by_round[0][-1]:.2f}× "
                            f"({by_round[1][0]:.2f}–{by_round[1][-1]:.2f}×)"
                            if args.rounds > 1
                            else ""
                        )
                    )
        finally:
            for server in servers:
                server.terminate()
                server.wait(60)
    if args.drain:
        drain_assistant(py, env, args.drain)


DRAIN = """
import time
from jiesu.intel import services
from jiesu.intel.models import AssistQueue
queued = AssistQueue.objects.count()
started = time.perf_counter()
done = services.assist_queued(min(queued, LIMIT))
print(queued, done, time.perf_counter() - started)
"""


def prepare() -> tuple[dict[str, str], dict[str, Any], dict[str, Any], dict[str, str]]:
    """A fresh bench database, migrated, with the reference data, a measured category model and an API client for
    the operator: (the server's environment, an order with a category, one without, the client's headers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIESU_")}
    env |= {
        "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}",
        "DJANGO_SETTINGS_MODULE": "load_bench_settings",
        "DATABASE_URL": database(),
        "JIESU_SECRET_KEY": "load-bench-" + "Qx7v2" * 10,
        "JIESU_LOG_LEVEL": "WARNING",
    }
    py = sys.executable
    sh(py, "-m", "jiesu", "migrate", "--noinput", "-v", "0", env=env)
    *_, sample, key = sh(py, "-c", "import django; django.setup()\n" + SETUP, env=env).splitlines()
    order = {
        "title": "小区门口占道经营",
        "content": "每天傍晚有摊贩占道经营，影响通行。",
        "category_code": "010101",
        "street_code": "110105001",
    }
    unclassified = json.loads(sample) | {"street_code": order["street_code"]}
    return env, order, unclassified, {"Authorization": f"Bearer {key}"}


def drain_assistant(py: str, env: dict[str, str], limit: int) -> None:
    """The assistant's after-intake work, which the REST intake leaves to `jiesu worker` (intel.AssistQueue): one
    worker process assists up to `limit` of the queued orders; their rate is printed beside the intake's."""
    queued, done, seconds = sh(
        py, "-c", "import django; django.setup()\n" + DRAIN.replace("LIMIT", str(limit)), env=env
    ).split()
    print(
        f"assistant in one worker process (jiesu worker's step): {done} of {queued} queued orders in "
        f"{float(seconds):.1f} s = {int(done) / float(seconds):.1f} orders/s (every bench order is on one street: "
        f"the group-complaint check's worst case)  load {load()}"
    )


def always(body: dict[str, Any]) -> Callable[[int, int], Any]:
    """The same body for every client and request (each request still gets its own idempotency key)."""
    return lambda client, request: body


def load() -> str:
    """The machine's load average (1, 5, 15 minutes): the machine is shared, so every figure carries it."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def serve(py: str, env: dict[str, str], port: int, workers: int, threads: int, pool: int) -> subprocess.Popen[bytes]:
    server_env = env | {
        "JIESU_WEB_BIND": f"127.0.0.1:{port}",
        "JIESU_WEB_WORKERS": str(workers),
        "JIESU_WEB_THREADS": str(threads),
        "JIESU_DB_POOL_MAX": str(pool),
    }
    server = subprocess.Popen(
        [py, "-m", "gunicorn", "-c", str(ROOT / "jiesu" / "operations" / "gunicorn_conf.py")], env=server_env, cwd=ROOT
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    return server


if __name__ == "__main__":
    main()
