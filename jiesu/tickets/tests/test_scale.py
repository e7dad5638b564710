"""Intake without hot rows (issue 23): the statements of one REST intake are pinned; no row is updated by every
request (ticket numbers from per-day sequences, API limits counted per process and reconciled in batches); the
reference data (calendar, policies, catalogue, units) come from each process's cache and are dropped on change;
the outbox and the deadline clocks are claimed so that several workers can drain them at once."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jiesu.catalog.models import Category
from jiesu.integrations.models import ApiClient
from jiesu.lib import throttle
from jiesu.lib.clock import SHANGHAI
from jiesu.lib.models import Throttle
from jiesu.notify.models import Notification
from jiesu.notify.outbox import process_outbox
from jiesu.sla.models import TimeLimitPolicy, WorkCalendarDay
from jiesu.testing.world import World, build_world
from jiesu.tickets import services
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.tests.helpers import new_ticket, ticket_in

pytestmark = pytest.mark.django_db
ORDER = {
    "title": "小区门口占道经营",
    "content": "每天傍晚有摊贩在小区门口占道经营。",
    "category_code": "010101",
    "appeal_type": "complaint",
    "address": "朝阳区建外街道光华路1号",
    "street_code": "110105001",
    "requester_name": "李四",
    "requester_phone": "13912345678",
}
TUESDAY = dt.datetime(2026, 11, 17, 9, 0, tzinfo=SHANGHAI)


def api(user: Any, per_hour: int = 3600) -> Client:
    client = ApiClient(name=f"scale-{user.username}", user=user, rate_limit_per_hour=per_hour)
    key = client.issue_key()
    client.save()
    return Client(headers={"Authorization": f"Bearer {key}"})


def post(http: Client, key: str, body: dict[str, Any] = ORDER) -> Any:
    return http.post(
        "/api/v1/orders", json.dumps(body), content_type="application/json", headers={"Idempotency-Key": key}
    )


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The SQL sent, less the test's own savepoints (BEGIN/COMMIT in production, which are not logged)."""
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_rest_intake_costs_a_handful_of_statements(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(throttle, "SYNC_SECONDS", 3600)  # the batched reconciliation is pinned below
    http = api(world.operator)
    assert post(http, "warm-up").status_code == 201  # the process's caches and the client's bucket fill once
    with CaptureQueriesContext(connection) as queries:
        response = post(http, "order-1", ORDER | {"requester_phone": "13700000001"})
    assert response.status_code == 201, response.content.decode()
    sql = statements(queries)
    # The API key lockout (django-axes, issue 22) is read in the client's own statement, not a query of its own.
    lockout = [q for q in sql if "axes_accessattempt" in q]
    assert len(lockout) == 1 and "integrations_apiclient" in lockout[0]
    # client+user+membership+unit+lockout, idempotency (on PostgreSQL its advisory lock in the same statement),
    # requester lookup and insert, the number, the ticket, its event; and the order's row in the assistant's queue
    # (issue 19: every intake interface feeds the assistant, which works in the worker, not in the request)
    assert len(sql) <= 8, "\n".join(sql)
    assert len([s for s in sql if s.startswith('INSERT INTO "intel_assistqueue"')]) == 1
    assert not [s for s in sql if s.startswith("UPDATE")], "an intake updates no row"
    body = response.json()
    ticket = Ticket.objects.get(number=body["number"])
    assert body["street"] == {"code": "110105001", "name": "建外街道"} and body["category_code"] == "010101"
    assert body["due_at"] and ticket.due_at is not None
    assert body["requester_phone"] == "13700000001" and body["version"] == 1
    assert TicketEvent.objects.filter(ticket=ticket, action="intake").count() == 1

    with CaptureQueriesContext(connection) as queries:
        again = post(http, "order-1", ORDER | {"requester_phone": "13700000001"})
    assert again.status_code == 200 and again.json() == body  # the same answer, checked once
    # client (+ the lockout), lock and probe, the earlier ticket, its intake event (the body's hash: a changed body
    # is refused)
    assert len(statements(queries)) <= 4


def test_api_limits_touch_the_shared_row_in_batches_and_still_hold(world: World, monkeypatch: Any) -> None:
    monkeypatch.setattr(throttle, "SYNC_SECONDS", 3600)  # the time-based reconciliation is shown further down
    http = api(world.operator, per_hour=20_000)
    with CaptureQueriesContext(connection) as queries:
        for i in range(30):
            assert http.get("/api/v1/me").status_code == 200, i
    touching = [q for q in statements(queries) if Throttle._meta.db_table in q]
    assert len(touching) == 1  # the first request; then every 100 requests (20,000 / 200) or once a second
    assert not [q for q in touching if q.startswith("UPDATE")]

    limited = api(world.dispatcher, per_hour=5)
    codes = [limited.get("/api/v1/me").status_code for _ in range(7)]
    assert codes == [200] * 5 + [429] * 2  # near the limit every request is reconciled: exact
    limited_key = f"api:{ApiClient.objects.get(name='scale-dispatcher').pk}"
    assert Throttle.objects.get(key=limited_key).count == 5  # the refused ones are not counted

    # Another process (node) spent the hour's budget meanwhile: this one learns it at its next reconciliation.
    monkeypatch.setattr(throttle, "SYNC_SECONDS", 0)
    other = api(world.city_supervisor, per_hour=10)
    assert other.get("/api/v1/me").status_code == 200
    Throttle.objects.filter(key=f"api:{ApiClient.objects.get(name='scale-city_supervisor').pk}").update(count=10)
    assert other.get("/api/v1/me").status_code == 429


def test_numbers_are_readable_unique_and_restart_each_day(world: World) -> None:
    with time_machine.travel(TUESDAY, tick=False):
        first, second = new_ticket(world), new_ticket(world)
    with time_machine.travel(TUESDAY + dt.timedelta(days=1), tick=False):
        next_day = new_ticket(world)
    assert first.number.startswith("20261117") and len(first.number) == 14
    assert int(second.number[8:]) > int(first.number[8:])
    assert next_day.number.startswith("20261118")
    assert int(next_day.number[8:]) < 500001  # live numbers never meet loaded history's (500001 up)
    history = services.reserve_history_numbers(dt.date(2026, 11, 17), 2)
    assert all(int(n[8:]) > 500000 for n in history) and first.number not in history


def test_reference_data_are_cached_and_dropped_on_change(world: World) -> None:
    with time_machine.travel(TUESDAY, tick=False):
        before = new_ticket(world)  # ordinary: 7 working days
        with CaptureQueriesContext(connection) as queries:
            new_ticket(world)
        sql = " ".join(statements(queries))
        for table in ("sla_workcalendarday", "sla_timelimitpolicy", "catalog_category", "orgs_orgunit"):
            assert table not in sql, f"{table} read again"
        # A holiday declared on the Wednesday: the next order's deadline moves at once.
        WorkCalendarDay.objects.create(date=dt.date(2026, 11, 18), is_workday=False, name="临时放假")
        after = new_ticket(world)
        assert before.due_at is not None and after.due_at == before.due_at + dt.timedelta(days=1)
        # A new policy version for ordinary tickets from today: used by the next order.
        old = TimeLimitPolicy.objects.get(time_limit_class="ordinary", category__isnull=True, effective_to=None)
        TimeLimitPolicy.objects.create(
            time_limit_class="ordinary", amount=48, unit="hours", effective_from=dt.date(2026, 11, 17)
        )
        old.effective_to = dt.date(2026, 11, 17)
        old.save()
        assert new_ticket(world).due_at == TUESDAY + dt.timedelta(hours=48)
        # A category renamed in the admin: the next order carries the new name.
        leaf = Category.objects.get(code="010201", effective_to=None)
        leaf.name = "垃圾清运不及时（新）"
        leaf.save()
        assert new_ticket(world).category.name == "垃圾清运不及时（新）"


def test_outbox_drains_in_batches_once(world: World) -> None:
    with time_machine.travel(TUESDAY, tick=False):
        tickets = [ticket_in(world, "dispatched") for _ in range(3)]
    pending = TicketEvent.objects.filter(notified_at__isnull=True).count()
    assert process_outbox(TUESDAY, limit=2) + process_outbox(TUESDAY, limit=1000) == pending
    assert process_outbox(TUESDAY) == 0
    for ticket in tickets:
        dispatch = TicketEvent.objects.get(ticket=ticket, action="dispatch")
        told = Notification.objects.filter(event=dispatch).values_list("user__username", flat=True)
        assert sorted(told) == ["jw_handler", "jw_leader"]


WORKER_SCRIPT = """
import os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
django.setup()
from jiesu.lib import clock
from jiesu.notify.outbox import process_outbox
start = time.monotonic()
done = 0
while time.monotonic() - start < 120:
    n = process_outbox(clock.now(), int(sys.argv[1]))
    done += n
    if n == 0:
        break
print(done)
"""


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_drain_the_outbox_exactly_once() -> None:
    """Two processes claim batches with SKIP LOCKED at the same time: every event is notified exactly once, and both
    did part of the work (neither waited for the other's locks)."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims need PostgreSQL")
    world = build_world()
    with time_machine.travel(TUESDAY, tick=False):
        tickets = [ticket_in(world, "dispatched") for _ in range(40)]
    pending = TicketEvent.objects.filter(notified_at__isnull=True).count()
    db = connection.settings_dict
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    root = Path(__file__).resolve().parents[3]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, "5"], env=env, cwd=root, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    counts = [int((p.communicate(timeout=180)[0] or "0").strip().splitlines()[-1]) for p in procs]
    assert sum(counts) == pending, counts  # no event processed twice, none left
    assert TicketEvent.objects.filter(notified_at__isnull=True).count() == 0
    for ticket in tickets:
        dispatch = TicketEvent.objects.get(ticket=ticket, action="dispatch")
        told = Notification.objects.filter(event=dispatch).values_list("user__username", flat=True)
        assert sorted(told) == ["jw_handler", "jw_leader"]  # 建外's staff, each once
