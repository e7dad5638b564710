"""Chaos test of the jiesu cluster (`scripts/cluster up` first): orders through the load balancer while an application
node, a worker and the PostgreSQL primary are killed with SIGKILL; then checks that nothing was lost, duplicated or
half-written, and reports the failover time, the error window the clients saw and the throughput around it.

    scripts/cluster up
    .venv/bin/python bench/chaos.py [--orders 10000] [--clients 16]
    .venv/bin/python bench/chaos.py --surge [--rate 0.75] [--minutes 10]

The default run
1. makes an API client for the demo `operator` (no practical rate limit) and dispatches `--planted` tickets; just
   before the primary is killed their sign limit is moved to 2 s later, so it runs out while the primary is down
   (they must be escalated once, after the failover);
2. sends `--orders` orders from `--clients` threads through HAProxy, each with its own Idempotency-Key; a client
   retries a failed attempt (connection error, timeout, 5xx) with the same key until it gets a 2xx;
3. at 20 % of the orders kills one application node (gunicorn master and workers, `kill -9`), at 35 % one
   `jiesu worker`, at 50 % the primary's whole node (its pg_auto_failover keeper and PostgreSQL, `kill -9`, as a
   machine would die); the killed app node and worker are started again 10 s later (as systemd would), the old
   primary once the standby has taken over (it rejoins as the new standby);
4. waits for the workers to drain the outbox, the assistant's queue and the webhook deliveries, then checks: every
   order acknowledged with 2xx exists exactly once with the acknowledged number; every order of the run has its
   intake event (none half-written); no event is left unnotified; every planted ticket was escalated exactly once;
   a webhook receiver (an HTTP server in this process, subscribed before the run to every event the operator may
   see) got every such event of the run, none it should not, and the first arrival of each in event id order
   (so each ticket's events in order); repeats (at least once, dropped by `X-Jiesu-Event`) are counted.

`--surge` sends orders at 3.5 × `--rate` orders/s (default 0.75/s, Beijing's 65,000 a day) for `--minutes`, open
loop, and reports the p50/p99 latency, the outbox lag (age of the oldest unnotified event) and the assistant's lag
(age of the oldest order waiting in its queue) every 10 s.
Nothing is asserted with thresholds; the figures are printed. Exit status 1 when an order was lost, duplicated or
half-written.
"""

import argparse
import contextlib
import datetime as dt
import hashlib
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLUSTER = ROOT / "scripts/cluster"


def cluster_env() -> dict[str, str]:
    out = subprocess.check_output([str(CLUSTER), "env"], text=True).strip()
    found = {}
    for part in out.removeprefix("export ").split(" "):
        name, _, value = part.partition("=")
        if name:
            found[name] = value.strip("'")
    return found


os.environ.update(cluster_env())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ["JIESU_LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()

from django.db import close_old_connections, connection  # noqa: E402

ORDER = {
    "title": "小区门口占道经营",
    "content": "每天傍晚有摊贩在小区门口占道经营，影响通行。",
    "category_code": "010101",
    "appeal_type": "complaint",
    "address": "朝阳区建外街道光华路1号",
    "street_code": "110105001",
    "requester_name": "李四",
    "requester_phone": "13912345678",
}
CLUSTER_DIR = Path(os.environ["JIESU_CLUSTER_DIR"])
LB = os.environ["JIESU_CLUSTER_LB"]


@dataclass
class Attempt:
    at: float
    seconds: float
    status: int  # 0: no answer


@dataclass
class Run:
    started: float = field(default_factory=time.monotonic)
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key → number
    done_at: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    marks: dict[str, float] = field(default_factory=dict)


class Receiver:
    """A webhook receiver: records the `X-Jiesu-Event` of every POST in arrival order and answers 204."""

    def __init__(self) -> None:
        self.got: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.got.append(int(self.headers["X-Jiesu-Event"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def subscribe(client_pk: int, port: int) -> tuple[int, int]:
    """A webhook subscription of the bench's client to every event from now on: (its id, the cursor it starts at)."""
    from django.db.models import Max

    from jiesu.integrations.models import WebhookSubscription
    from jiesu.tickets.models import TicketEvent

    start = TicketEvent.objects.aggregate(m=Max("id"))["m"] or 0
    WebhookSubscription.objects.filter(client_id=client_pk).update(is_active=False)  # an earlier run's
    sub = WebhookSubscription.objects.create(client_id=client_pk, url=f"http://127.0.0.1:{port}/hook", cursor=start)
    return sub.pk, start


def drain_webhooks(sub_pk: int, limit: float = 900) -> float:
    """Wait until the subscription has nothing left to deliver (its cursor past every event it may see)."""
    from jiesu.integrations import webhooks
    from jiesu.integrations.models import WebhookSubscription

    started = time.monotonic()
    while time.monotonic() - started < limit:
        close_old_connections()
        with contextlib.suppress(Exception):
            sub = WebhookSubscription.objects.select_related("client__user").get(pk=sub_pk)
            if not webhooks.pending(sub).exists():
                break
        time.sleep(1)
    return time.monotonic() - started


def verify_webhooks(receiver: Receiver, sub_pk: int, start: int) -> bool:
    from jiesu.integrations import webhooks
    from jiesu.integrations.models import WebhookSubscription

    close_old_connections()
    sub = WebhookSubscription.objects.select_related("client__user").get(pk=sub_pk)
    sub.cursor = start  # not saved: every event the subscription should have got since it was made
    expected = list(webhooks.pending(sub).values_list("id", flat=True))
    with receiver.lock:
        got = list(receiver.got)
    first: list[int] = []
    seen: set[int] = set()
    for event_id in got:
        if event_id not in seen:
            seen.add(event_id)
            first.append(event_id)
    missing = set(expected) - seen
    extra = seen - set(expected)
    in_order = first == sorted(first)
    print(
        f"  webhooks: {len(expected):,} events to deliver, received {len(seen):,} ({len(got) - len(seen)} repeats); "
        f"missing {len(missing)}, unexpected {len(extra)}, first arrivals in event order: {'yes' if in_order else 'NO'}"
    )
    return not missing and not extra and in_order


def setup() -> tuple[str, int]:
    from jiesu.integrations.models import ApiClient
    from jiesu.orgs.models import Membership, Role

    operator = Membership.objects.filter(role=Role.HOTLINE_OPERATOR).select_related("user").first()
    assert operator is not None, "the demo city is not seeded (scripts/cluster up seeds it)"
    client, _ = ApiClient.objects.get_or_create(name="chaos-bench", defaults={"user": operator.user})
    key = client.issue_key()
    client.user = operator.user
    client.rate_limit_per_hour = 100_000_000
    client.save()
    return key, client.pk


def plant_escalations(count: int, due_in: float) -> list[int]:
    """Dispatched tickets whose sign limit runs out `due_in` seconds from now."""
    from jiesu.lib import clock
    from jiesu.orgs.models import Membership, Role
    from jiesu.tickets import services
    from jiesu.tickets.models import Ticket

    operator = Membership.objects.filter(role=Role.HOTLINE_OPERATOR).first().user  # type: ignore[union-attr]
    dispatcher = Membership.objects.filter(role=Role.DISPATCHER).first().user  # type: ignore[union-attr]
    ids = []
    for i in range(count):
        ticket = services.intake(operator, channel="phone", idempotency_key=f"chaos-plant-{time.time()}-{i}", **ORDER)
        services.dispatch(dispatcher, ticket.pk)
        ids.append(ticket.pk)
    # The bench moves the sign limit; nothing else may (a due time set by the policy would be hours away).
    Ticket.objects.filter(pk__in=ids).update(accept_due_at=clock.now() + dt.timedelta(seconds=due_in))
    return ids


def send(run: Run, token: str, key: str, deadline: float) -> None:
    body = json.dumps(ORDER | {"title": f"小区门口占道经营 {key[-6:]}"}).encode()
    pause = 0.2
    while time.monotonic() < deadline:
        request = urllib.request.Request(
            f"{LB}/api/v1/orders",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key},
        )
        t0 = time.monotonic()
        status, number = 0, ""
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status = response.status
                number = json.loads(response.read())["number"]
        except urllib.error.HTTPError as error:
            status = error.code
        except Exception:  # connection refused/reset, timeout: retry with the same key
            status = 0
        t1 = time.monotonic()
        with run.lock:
            run.attempts.append(Attempt(t0 - run.started, t1 - t0, status))
            if 200 <= status < 300:
                run.acknowledged[key] = number
                run.done_at[key] = t1 - run.started
                return
        if 400 <= status < 500 and status not in (408, 429):
            return  # refused input would be refused again
        time.sleep(pause + random.random() * pause)
        pause = min(pause * 1.5, 2.0)


def pids_of(name: str) -> list[int]:
    """The process of a cluster part and all its descendants (one `ps` call, so the kill is instant)."""
    try:
        root = int((CLUSTER_DIR / "run" / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return []
    children: dict[int, list[int]] = {}
    for line in subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout.splitlines():
        pid, ppid = (int(x) for x in line.split())
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def kill9(name: str) -> None:
    for pid in pids_of(name):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def primary_node() -> str:
    state = subprocess.check_output([str(CLUSTER), "status"], text=True)
    for line in state.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 7 and cells[0].startswith("node") and cells[5] in {"primary", "wait_primary", "single"}:
            return cells[0]
    raise RuntimeError("no primary:\n" + state)


def probe_writes(run: Run, since: float) -> None:
    """Until a new primary accepts a write: the failover time the application sees."""
    import psycopg

    db = connection.settings_dict
    conninfo = (
        f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']} "
        "target_session_attrs=read-write connect_timeout=1"
    )
    while True:
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("CREATE TEMP TABLE chaos_probe (x int); INSERT INTO chaos_probe VALUES (1)")
            run.marks["writes back"] = time.monotonic() - run.started
            return
        except Exception:
            time.sleep(0.2)
        if time.monotonic() - run.started - since > 600:
            return


def chaos(run: Run, total: int, progress: Any, planted: list[int]) -> None:
    plan = [(0.20, "app"), (0.35, "worker"), (0.50, "primary")]
    for share, what in plan:
        while progress() < share * total:
            time.sleep(0.1)
        if what == "app":
            kill9("app1")
            run.marks["app1 killed"] = time.monotonic() - run.started
            threading.Timer(10, lambda: subprocess.run([str(CLUSTER), "start-node", "app1"], check=False)).start()
        elif what == "worker":
            kill9("worker1")
            run.marks["worker1 killed"] = time.monotonic() - run.started
            threading.Timer(10, lambda: subprocess.run([str(CLUSTER), "start-node", "worker1"], check=False)).start()
        else:
            node = primary_node()
            if planted:  # their sign limit runs out 2 s from now: while the primary is down
                from jiesu.lib import clock
                from jiesu.tickets.models import Ticket

                due = clock.now() + dt.timedelta(seconds=2)
                Ticket.objects.filter(pk__in=planted).update(accept_due_at=due)
                run.marks["planted escalations due"] = time.monotonic() - run.started + 2
            kill9(node)
            now = time.monotonic() - run.started
            run.marks[f"primary {node} killed"] = now
            run.marks["primary killed"] = now
            probe_writes(run, now)
            subprocess.run([str(CLUSTER), "start-node", node], check=False)  # rejoins as the standby
            run.marks[f"{node} restarted"] = time.monotonic() - run.started


def rate(run: Run, start: float, end: float) -> float:
    done = sum(1 for t in run.done_at.values() if start <= t < end)
    return done / (end - start) if end > start else 0.0


def drain_outbox(limit: float = 300) -> float:
    """Wait until the assistant has taken every queued order and the outbox has notified every event."""
    from jiesu.intel.models import AssistQueue
    from jiesu.tickets.models import TicketEvent

    started = time.monotonic()
    while time.monotonic() - started < limit:
        close_old_connections()
        try:
            if not AssistQueue.objects.exists() and not TicketEvent.objects.filter(notified_at__isnull=True).exists():
                break
        except Exception:
            pass
        time.sleep(1)
    return time.monotonic() - started


def verify(run: Run, client_pk: int, planted: list[int]) -> bool:
    from django.db.models import Count

    from jiesu.tickets.models import Ticket, TicketEvent

    close_old_connections()
    keys = {f"api:{client_pk}:{hashlib.sha256(k.encode()).hexdigest()[:40]}": k for k in run.acknowledged}
    found: dict[str, list[str]] = {}
    tickets = Ticket.objects.filter(idempotency_key__in=list(keys)).values_list("idempotency_key", "number", "pk")
    ids = []
    for db_key, number, pk in tickets:
        found.setdefault(db_key, []).append(number)
        ids.append(pk)
    lost = [k for k in keys if k not in found]
    duplicated = [k for k, numbers in found.items() if len(numbers) > 1]
    wrong = [k for k in keys if k in found and found[k][0] != run.acknowledged[keys[k]]]
    intake_events = dict(
        TicketEvent.objects.filter(ticket_id__in=ids, action="intake")
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    half = [pk for pk in ids if intake_events.get(pk) != 1]
    unnotified = TicketEvent.objects.filter(notified_at__isnull=True).count()
    escalated = dict(
        TicketEvent.objects.filter(ticket_id__in=planted, action="mark_sign_overdue")
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    missed = [pk for pk in planted if escalated.get(pk) != 1]
    print(f"acknowledged (2xx): {len(run.acknowledged):,}")
    print(f"  lost: {len(lost)}  duplicated: {len(duplicated)}  number differs from the acknowledged: {len(wrong)}")
    print(f"  half-written (no single intake event): {len(half)}")
    print(f"  events left unnotified after the drain: {unnotified}")
    print(f"  planted escalations due during the outage: {len(planted) - len(missed)}/{len(planted)} escalated once")
    return not (lost or duplicated or wrong or half or missed or unnotified)


def report(run: Run, total: int) -> None:
    end = max(run.done_at.values(), default=0.0)
    marks = dict(sorted(run.marks.items(), key=lambda kv: kv[1]))
    for name, at in marks.items():
        print(f"  t={at:7.2f} s  {name}")
    killed = run.marks.get("primary killed")
    back = run.marks.get("writes back")
    failed = [a for a in run.attempts if not 200 <= a.status < 300]
    print(f"attempts: {len(run.attempts):,}, failed and retried: {len(failed):,}")
    print("  per 5 s (by the attempt's end): acknowledged / failed")
    buckets: dict[int, list[int]] = {}
    for a in run.attempts:
        slot = buckets.setdefault(int((a.at + a.seconds) // 5), [0, 0])
        slot[0 if 200 <= a.status < 300 else 1] += 1
    line = [f"{k * 5:>4}s {ok}/{bad}" for k, (ok, bad) in sorted(buckets.items())]
    for i in range(0, len(line), 8):
        print("   ", "  ".join(line[i : i + 8]))
    if killed is not None and back is not None:
        print(f"failover (primary killed → a new primary accepts writes): {back - killed:.1f} s")
        window = [a for a in failed if a.at >= killed - 1]
        if window:
            print(
                f"error window the clients saw after the primary's death: {window[0].at:.1f} s → "
                f"{max(a.at + a.seconds for a in window):.1f} s"
            )
        print(
            f"throughput: before {rate(run, 0, killed):,.1f}/s · during {rate(run, killed, back):,.1f}/s · "
            f"after {rate(run, back, end):,.1f}/s (orders acknowledged per second)"
        )
    app = run.marks.get("app1 killed")
    if app is not None:
        near = [a for a in failed if app - 1 <= a.at < app + 10]
        print(f"failed attempts within 10 s of the app node's death: {len(near)} (HAProxy retries connection failures)")
    latencies = sorted(a.seconds for a in run.attempts if 200 <= a.status < 300)
    if latencies:
        print(
            f"latency of successful attempts: p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
            f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms"
        )
    print(f"orders: {len(run.acknowledged):,}/{total:,} acknowledged in {end:.1f} s")


def surge(token: str, base_rate: float, minutes: float, clients: int) -> None:
    from jiesu.intel.models import AssistQueue
    from jiesu.tickets.models import TicketEvent

    run = Run()
    target = base_rate * 3.5
    deadline = run.started + minutes * 60
    sem = threading.Semaphore(clients * 4)
    threads = []
    print(f"surge: {target:.2f} orders/s (3.5 × {base_rate}) for {minutes} min")
    n = 0
    next_report = time.monotonic() + 10
    while time.monotonic() < deadline:
        n += 1
        key = f"surge-{int(run.started)}-{n}"
        sem.acquire()

        def one(k: str = key) -> None:
            try:
                send(run, token, k, time.monotonic() + 120)
            finally:
                sem.release()

        thread = threading.Thread(target=one, daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(random.expovariate(target))
        if time.monotonic() >= next_report:
            next_report += 10
            close_old_connections()
            oldest = TicketEvent.objects.filter(notified_at__isnull=True).order_by("id").first()
            from jiesu.lib import clock

            lag = (clock.now() - oldest.created_at).total_seconds() if oldest else 0.0
            waiting = AssistQueue.objects.order_by("queued_at").first()
            assist_lag = (clock.now() - waiting.queued_at).total_seconds() if waiting else 0.0
            lat = sorted(a.seconds for a in run.attempts if 200 <= a.status < 300)
            p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
            print(f"  t={time.monotonic() - run.started:5.0f} s  acknowledged {len(run.acknowledged):,}  "
                  f"p99 {p99:.0f} ms  outbox lag {lag:.1f} s  assistant lag {assist_lag:.1f} s")  # fmt: skip
    for thread in threads:
        thread.join(130)
    report(run, n)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--planted", type=int, default=20)
    parser.add_argument("--surge", action="store_true")
    parser.add_argument("--rate", type=float, default=65_000 / 86_400)
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    token, client_pk = setup()
    if args.surge:
        surge(token, args.rate, args.minutes, args.clients)
        return 0

    receiver = Receiver()
    sub_pk, start = subscribe(client_pk, receiver.port)
    run = Run()
    keys = [f"chaos-{int(time.time())}-{i}" for i in range(args.orders)]
    todo = list(keys)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                key = todo.pop()
            send(run, token, key, time.monotonic() + 900)

    def progress() -> int:
        return len(run.acknowledged)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    planted = plant_escalations(args.planted, 24 * 3600)  # made due just before the primary dies (see chaos)
    agent = threading.Thread(target=chaos, args=(run, args.orders, progress, planted), daemon=True)
    agent.start()
    for thread in threads:
        thread.join()
    agent.join(600)
    print("## timeline")
    report(run, args.orders)
    print(f"## after the run (outbox drained in {drain_outbox():.1f} s, webhooks in {drain_webhooks(sub_pk):.1f} s)")
    ok = verify(run, client_pk, planted)
    ok = verify_webhooks(receiver, sub_pk, start) and ok
    print("RESULT:", "0 lost, 0 duplicated, 0 half-written" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
