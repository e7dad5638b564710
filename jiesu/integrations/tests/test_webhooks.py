"""Webhooks against a real receiver process that is killed and brought back: every event arrives, in order, once,
signed; failures back off and are recorded for the admin."""

import datetime as dt
import json
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from jiesu.integrations import webhooks
from jiesu.integrations.models import ApiClient, WebhookDelivery, WebhookSubscription
from jiesu.operations.worker import run_tasks
from jiesu.tickets import services
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.tests.helpers import new_ticket, ticket_in

pytestmark = pytest.mark.django_db
RECEIVER = Path(__file__).with_name("receiver.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    def __init__(self, port: int, secret: str, log: Path) -> None:
        self.args = [sys.executable, str(RECEIVER), str(port), secret, str(log)]
        self.port, self.log = port, log
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "listening":  # blocks until the socket is bound
            raise RuntimeError("receiver did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def received(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def receiver(tmp_path: Path) -> Any:
    r = Receiver(free_port(), "s3cret-for-tests", tmp_path / "received.jsonl")
    yield r
    if r.process and r.process.poll() is None:
        r.kill()


def subscribe(user: Any, url: str, **fields: Any) -> WebhookSubscription:
    client = ApiClient(name=f"hooks-{user.username}", user=user)
    client.issue_key()
    client.save()
    return WebhookSubscription.objects.create(client=client, url=url, secret="s3cret-for-tests", **fields)


def test_receiver_down_for_an_hour_gets_everything_in_order(world: Any, clock: Any, receiver: Receiver) -> None:
    subscription = subscribe(world.dispatcher, f"http://127.0.0.1:{receiver.port}/hook")
    receiver.start()
    ticket = new_ticket(world)
    assert webhooks.deliver_due() == 1
    assert [r["event"] for r in receiver.received()] == [ticket.events.get().pk]

    receiver.kill()
    services.dispatch(world.dispatcher, ticket.pk)
    services.accept(world.jw_handler, ticket.pk)
    services.reply(world.jw_handler, ticket.pk, "已清运，联系电话13812345678")
    assert webhooks.deliver_due() == 0
    subscription.refresh_from_db()
    assert subscription.failures == 1 and subscription.next_attempt_at == webhooks.clock.now() + dt.timedelta(
        seconds=10
    )
    assert "13812345678" in webhooks.payload(TicketEvent.objects.filter(ticket=ticket).latest("id"), True)["note"]
    assert "13812345678" not in webhooks.payload(TicketEvent.objects.filter(ticket=ticket).latest("id"), False)["note"]
    assert webhooks.deliver_due() == 0  # waiting: no attempt before the back-off is over
    assert WebhookDelivery.objects.filter(ok=False).count() == 1
    delivered_or_failed = WebhookDelivery.objects.count()

    for _ in range(12 * 5):  # an hour, looked at every minute by the worker, which enqueues the delivery task
        clock.shift(dt.timedelta(minutes=1))
        call_command("worker", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert WebhookDelivery.objects.count() == delivered_or_failed  # never sent inside the worker's tick
        run_tasks()  # … and the task worker (`jiesu db_worker`) delivers
        delivered_or_failed = WebhookDelivery.objects.count()
    failed = WebhookDelivery.objects.filter(subscription=subscription, ok=False)
    attempts = list(failed.order_by("id").values_list("attempt", flat=True))
    assert attempts == list(range(1, len(attempts) + 1)) and 12 <= len(attempts) <= 20  # backed off, capped at 5 min
    assert len({d.event_id for d in failed}) == 1  # always the same, oldest undelivered event
    assert len(receiver.received()) == 1

    receiver.start()
    clock.shift(dt.timedelta(minutes=5))
    call_command("worker", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert run_tasks() >= 1
    trail = list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("id", flat=True))
    got = receiver.received()
    assert [r["event"] for r in got] == trail  # everything, in order, once
    assert all(r["valid"] for r in got)
    subscription.refresh_from_db()
    assert subscription.cursor == trail[-1] and subscription.failures == 0 and subscription.next_attempt_at is None
    assert WebhookDelivery.objects.filter(subscription=subscription, ok=True).count() == len(trail)


def test_a_delivery_run_that_died_holds_nothing_for_long(world: Any, clock: Any, receiver: Receiver) -> None:
    """The chaos run's failover killed a task worker in the middle of a delivery run: its task row stayed "running"
    and its subscription leased. Both now lapse within minutes (the lease is renewed per event, the webhook task is
    taken as abandoned after three leases), and the next run delivers everything once, in order."""
    from django_tasks_db.models import DBTaskResult

    subscription = subscribe(world.dispatcher, f"http://127.0.0.1:{receiver.port}/hook")
    receiver.start()
    ticket = new_ticket(world)
    quiet = open("/dev/null", "w")  # noqa: SIM115
    call_command("worker", "--once", stdout=quiet)  # enqueues the delivery task
    DBTaskResult.objects.update(status="RUNNING", started_at=webhooks.clock.now())  # claimed; then its worker died
    WebhookSubscription.objects.filter(pk=subscription.pk).update(  # … holding the subscription
        next_attempt_at=webhooks.clock.now() + webhooks.lease()
    )
    clock.shift(dt.timedelta(minutes=1))
    call_command("worker", "--once", stdout=quiet)
    assert run_tasks() == 0 and receiver.received() == []  # still taken for running
    clock.shift(3 * webhooks.lease())
    call_command("worker", "--once", stdout=quiet)
    assert run_tasks() == 1
    assert [r["event"] for r in receiver.received()] == [ticket.events.get().pk]
    assert DBTaskResult.objects.filter(status="FAILED", exception_class_path__endswith="Abandoned").count() == 1
    subscription.refresh_from_db()
    assert subscription.cursor == ticket.events.get().pk and subscription.next_attempt_at is None


def test_scope_filters_signature_and_masking(world: Any, receiver: Receiver) -> None:
    receiver.start()
    wrong_secret = subscribe(world.jw_handler, f"http://127.0.0.1:{receiver.port}/hook", actions="reply")
    mine = ticket_in(world, "replied")
    other = ticket_in(world, "dispatched", street_code="110108001", address="海淀区海淀街道")
    body = webhooks.payload(mine.events.get(action="reply"), unmasked=False)
    assert body["order"] == mine.number and body["status"] == "open" and body["unit"]["code"] == "110105001"
    assert [e.action for e in webhooks.pending(wrong_secret)] == ["reply"]  # only its actions, only its tickets
    assert other.number not in {e.ticket.number for e in webhooks.pending(wrong_secret)}

    WebhookSubscription.objects.filter(pk=wrong_secret.pk).update(secret="not-the-receivers")
    assert webhooks.deliver_due() == 0  # the receiver refuses a bad signature with 401: recorded, retried later
    failure = WebhookDelivery.objects.get()
    assert failure.status_code == 401 and not failure.ok
    assert receiver.received()[0]["valid"] is False


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_is_not_overtaken(receiver: Receiver) -> None:
    """PostgreSQL hands out event ids before commit: an intake holding id n still uncommitted while the intake with
    id n+1 commits must not be skipped. The delivery waits for it, then sends both in id order."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: event ids commit in order")
    from jiesu.testing.world import build_world

    world = build_world()
    first = new_ticket(world)  # makes the day's number sequence, so neither intake below waits for the other
    subscribe(world.dispatcher, f"http://127.0.0.1:{receiver.port}/hook", cursor=first.events.get().pk)
    receiver.start()
    holding, release = threading.Event(), threading.Event()
    slow: list[int] = []

    def late_intake() -> None:
        try:
            with transaction.atomic():
                slow.append(new_ticket(world).pk)
                holding.set()
                release.wait(60)
        finally:
            connection.close()

    thread = threading.Thread(target=late_intake)
    thread.start()
    assert holding.wait(60)
    fast = new_ticket(world, requester_phone="13900000002")  # a later id, committed first (another caller)
    try:
        assert webhooks.deliver_due() == 0  # the earlier id is still in flight: nothing overtakes it
        assert receiver.received() == []
    finally:
        release.set()
        thread.join(60)
    assert webhooks.deliver_due() == 2
    early = TicketEvent.objects.get(ticket_id=slow[0]).pk
    assert [r["event"] for r in receiver.received()] == [early, fast.events.get().pk]
    assert early < fast.events.get().pk


def test_signature_is_hmac_of_timestamp_and_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhooks.sign("k", "1700000000", b"{}") == f"sha256={expected}"
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 6, 20)] == [10, 20, 40, 300, 300]
