"""The CI-sized chaos test (issue 23; the full one is `bench/chaos.py` against `scripts/cluster`), on PostgreSQL:

1. Two outbox worker processes drain the same outbox while one of them is `kill -9`ed in the middle of a batch
   (claimed and marked, not yet committed): every event is notified exactly once, with its notifications once.
2. Clients send orders to the production server (gunicorn, two workers) while one gunicorn worker is `kill -9`ed
   with requests in flight; a client retries an attempt that got no answer or a 5xx with the same Idempotency-Key:
   every order exists exactly once, with the number it was acknowledged with, and with its one intake event.

Nothing waits on a timer: the killed worker says which rows it holds and blocks; the test kills it, then waits for
those rows' locks (its transaction's rollback) before the survivor drains them. No timing is asserted.
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction

from jiesu.integrations.models import ApiClient
from jiesu.lib.clock import SHANGHAI
from jiesu.notify.models import Notification
from jiesu.operations.tests.test_serving import database_url, free_port, start_server
from jiesu.tickets.models import Ticket, TicketEvent

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="SKIP LOCKED claims, row locks across processes and the production server need PostgreSQL",
    ),
    pytest.mark.django_db(transaction=True),
]

SETUP = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
django.setup()
from jiesu.lib import clock
from jiesu.notify import outbox
"""

# Claims one batch, tells the test which events it holds (claimed and marked in its open transaction), then blocks
# until it is killed: the notifications of the batch are never written, the transaction never commits.
VICTIM = (
    SETUP
    + """
real = outbox.recipients_many
def stall(events):
    real(events)
    print(" ".join(str(e.pk) for e in events), flush=True)
    sys.stdin.readline()  # the test never writes: it kills this process
    raise SystemExit("not killed")
outbox.recipients_many = stall
outbox.process_outbox(clock.now(), int(sys.argv[1]))
"""
)

# Drains what it can claim, in small batches, and prints how many events it processed.
SURVIVOR = (
    SETUP
    + """
done = 0
while n := outbox.process_outbox(clock.now(), int(sys.argv[1])):
    done += n
print(done)
"""
)


def skip_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims, row locks across processes and the production server need PostgreSQL")


def spawn(script: str, batch: int) -> "subprocess.Popen[str]":
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIESU_")}
    env |= {"PYTHONPATH": str(ROOT), "DATABASE_URL": database_url(), "JIESU_LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-c", script, str(batch)],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_outbox_worker_killed_mid_batch_loses_and_repeats_nothing() -> None:
    skip_unless_postgresql()
    from jiesu.testing.world import build_world
    from jiesu.tickets.tests.helpers import ticket_in

    world = build_world()
    with time_machine.travel(dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI), tick=False):
        tickets = [ticket_in(world, "dispatched") for _ in range(12)]
    pending = set(TicketEvent.objects.filter(notified_at__isnull=True).values_list("id", flat=True))

    victim = spawn(VICTIM, 5)
    assert victim.stdout is not None
    held = [int(x) for x in victim.stdout.readline().split()]  # blocks until it holds its batch
    assert held and set(held) <= pending
    survivor = spawn(SURVIVOR, 3)  # works beside the stalled batch: skips its locked rows, never waits for them
    first = int(survivor.communicate(timeout=300)[0].strip().splitlines()[-1])
    assert first == len(pending) - len(held)
    assert set(TicketEvent.objects.filter(notified_at__isnull=True).values_list("id", flat=True)) == set(held)

    victim.send_signal(signal.SIGKILL)
    victim.wait(60)
    with transaction.atomic():  # waits for the dead worker's locks, i.e. for its transaction's rollback
        assert TicketEvent.objects.select_for_update().filter(pk__in=held, notified_at__isnull=True).count() == len(
            held
        )
    assert not Notification.objects.filter(event_id__in=held).exists()  # nothing half-written by the victim

    again = spawn(SURVIVOR, 3)
    second = int(again.communicate(timeout=300)[0].strip().splitlines()[-1])
    assert first + second == len(pending)  # each event processed once: none lost, none twice
    assert not TicketEvent.objects.filter(notified_at__isnull=True).exists()
    for ticket in tickets:
        dispatch = TicketEvent.objects.get(ticket=ticket, action="dispatch")
        told = Notification.objects.filter(event=dispatch).values_list("user__username", flat=True)
        assert sorted(told) == ["jw_handler", "jw_leader"]  # 建外's staff, each once


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_orders_survive_a_killed_server_worker() -> None:
    skip_unless_postgresql()
    from jiesu.testing.world import build_world

    world = build_world()
    client = ApiClient(name="chaos", user=world.operator, rate_limit_per_hour=1_000_000)
    token = client.issue_key()
    client.save()
    port = free_port()
    server = start_server(port, JIESU_WEB_WORKERS="2", JIESU_WEB_THREADS="4")
    url = f"http://127.0.0.1:{port}/api/v1/orders"
    order = {"title": "占道经营", "content": "门口夜市占道", "category_code": "010101", "street_code": "110105001"}
    keys = [f"chaos-{i}" for i in range(48)]
    acknowledged: dict[str, str] = {}
    failed: Counter[str] = Counter()
    lock = threading.Lock()
    halfway = threading.Event()

    def send(key: str) -> None:
        body = json.dumps(order | {"title": f"占道经营 {key}"}).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key}
        for _ in range(50):  # retries with the same key until acknowledged
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    number = json.loads(response.read())["number"]
                with lock:
                    acknowledged[key] = number
                    if len(acknowledged) == len(keys) // 3:
                        halfway.set()
                return
            except urllib.error.HTTPError as error:
                assert error.code >= 500, error.code  # refused input would be refused again
            except OSError:
                pass  # the connection died with the worker
            with lock:
                failed[key] += 1

    try:
        with ThreadPoolExecutor(8) as pool:
            done = [pool.submit(send, key) for key in keys]
            assert halfway.wait(600)
            victim = children(server.pid)[0]  # one gunicorn worker, with requests in flight
            os.kill(victim, signal.SIGKILL)
            for future in done:
                future.result()
        assert server.poll() is None  # the master lives on and replaced its worker
        assert victim not in children(server.pid)
    finally:
        server.terminate()
        server.wait(60)
    assert sorted(acknowledged) == sorted(keys)  # every order acknowledged in the end
    prefix = f"api:{client.pk}:"
    made = list(Ticket.objects.filter(idempotency_key__startswith=prefix).values_list("number", flat=True))
    assert len(made) == len(keys)  # nothing duplicated, no stray order from a lost answer
    assert sorted(made) == sorted(acknowledged.values())  # each with the number it was acknowledged with
    intakes = Counter(
        TicketEvent.objects.filter(ticket__idempotency_key__startswith=prefix, action="intake").values_list(
            "ticket_id", flat=True
        )
    )
    assert len(intakes) == len(keys) and set(intakes.values()) == {1}  # none half-written
