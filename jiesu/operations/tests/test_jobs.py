"""The worker's jobs: a failing step is logged and the next still runs; periodic tasks are enqueued when due, at
most one pending each, retried on failure and visible in the admin; pruning deletes only what is old."""

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django_tasks_db.models import DBTaskResult

from jiesu.integrations.models import WebhookDelivery
from jiesu.lib import jobs
from jiesu.lib.clock import now
from jiesu.lib.models import Throttle
from jiesu.notify.models import Notification
from jiesu.operations import tasks as ops_tasks
from jiesu.operations.models import ScheduledJob
from jiesu.operations.worker import enqueue_due, escalated, run_tasks, tick
from jiesu.testing.world import World
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.tests.helpers import ticket_in

CALLS: dict[str, int] = {"flaky": 0}


@jobs.job_task(retries=2, first_retry=dt.timedelta(minutes=1))
def flaky_job() -> str:
    """Fails twice, then succeeds (a module-level task, as django-tasks needs)."""
    CALLS["flaky"] += 1
    if CALLS["flaky"] <= 2:
        raise RuntimeError(f"flaky failure {CALLS['flaky']}")
    return "done"


@pytest.fixture
def only(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Replace the registered periodic tasks by the given ones for one test."""

    def use(*periodic: jobs.PeriodicTask) -> None:
        monkeypatch.setattr(jobs, "_periodic", {p.name: p for p in periodic})

    return use


def test_the_lower_apps_register_their_jobs_and_the_worker_knows_none() -> None:
    steps = [s.name for s in jobs.tick_steps()]
    assert steps == [
        "deadline:mark_sign_overdue",
        "deadline:mark_overdue",
        "community-tasks",
        "sms:tracking-codes",
        "assistant",
        "outbox",
    ]
    periodic = {p.name: p.task.module_path for p in jobs.periodic_tasks()}
    assert periodic == {
        "cadre-rectifications": "jiesu.cadres.tasks.verify_rectification_items",
        "care-scan": "jiesu.training.tasks.care_scan",
        "forecasts": "jiesu.governance.tasks.forecast_requests",
        "hotspots": "jiesu.governance.tasks.detect_hotspots",
        "prune": "jiesu.operations.tasks.prune",
        "retrain": "jiesu.intel.tasks.retrain_models",
        "webhooks": "jiesu.integrations.tasks.deliver_webhooks",
    }
    assert {p.name for p in jobs.pruners()} == {"throttle", "sessions", "task-results", "webhook-deliveries"}
    import jiesu.operations.worker as worker_module

    source = Path(worker_module.__file__).read_text(encoding="utf-8")
    for app in ("tickets", "notify", "community", "integrations", "intel", "governance"):
        assert f"jiesu.{app}" not in source


def test_an_exception_in_one_job_is_logged_and_escalation_still_runs(
    world: World, clock: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    overdue = ticket_in(world, "accepted")
    clock.shift(dt.timedelta(days=30))

    def broken(tick: jobs.Tick) -> int:
        raise ValueError("the community step is broken")

    def broken_outbox(tick: jobs.Tick) -> int:
        raise ConnectionError("the outbox is broken")

    steps = dict(jobs._steps)
    steps["community-tasks"] = jobs.TickStep("community-tasks", broken, 20)
    monkeypatch.setattr(jobs, "_steps", steps)
    with caplog.at_level(logging.ERROR, logger="jiesu.jobs"):
        done = tick()
    assert done["community-tasks"] == 0 and escalated(done) == 1  # escalation ran although a step failed
    assert TicketEvent.objects.filter(ticket=overdue, action="mark_overdue").count() == 1
    failure = next(r for r in caplog.records if "community-tasks" in r.getMessage())
    assert failure.exc_info and "the community step is broken" in caplog.text and "Traceback" in caplog.text
    assert Notification.objects.filter(event__action="mark_overdue").exists()  # the outbox after it ran too

    # the first step failing stops nothing either
    steps["deadline:mark_sign_overdue"] = jobs.TickStep("deadline:mark_sign_overdue", broken_outbox, 10)
    again = ticket_in(world, "accepted")
    clock.shift(dt.timedelta(days=30))
    assert escalated(tick()) == 1
    assert TicketEvent.objects.filter(ticket=again, action="mark_overdue").count() == 1


def test_a_periodic_task_is_enqueued_when_due_once_and_retried(
    world: World, clock: Any, only: Any, caplog: pytest.LogCaptureFixture
) -> None:
    CALLS["flaky"] = 0
    due = {"yes": False}
    only(jobs.PeriodicTask("flaky", flaky_job, dt.timedelta(minutes=5), lambda now: due["yes"]))
    assert enqueue_due(now()) == [] and not DBTaskResult.objects.exists()  # nothing to do
    due["yes"] = True
    assert tick()["enqueued"] == 1
    assert tick()["enqueued"] == 0  # one pending at most
    clock.shift(dt.timedelta(minutes=10))
    assert tick()["enqueued"] == 0  # still pending (no task worker yet)
    with caplog.at_level(logging.ERROR, logger="jiesu.jobs"):
        assert run_tasks() == 1
    assert "flaky failure 1" in caplog.text and "retrying" in caplog.text
    first = DBTaskResult.objects.get(status="FAILED")
    assert "flaky failure 1" in first.traceback  # what the admin shows
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert retry.run_after == now() + dt.timedelta(minutes=1)
    assert run_tasks() == 0  # not before its time
    assert tick()["enqueued"] == 0  # the retry is pending: no second run
    clock.shift(dt.timedelta(minutes=1))
    assert run_tasks() == 1  # fails again: the next retry waits twice as long
    assert DBTaskResult.objects.get(status="READY").run_after == now() + dt.timedelta(minutes=2)
    clock.shift(dt.timedelta(minutes=2))
    assert run_tasks() == 1
    assert DBTaskResult.objects.get(status="SUCCESSFUL").return_value == "done"
    assert CALLS["flaky"] == 3
    clock.shift(dt.timedelta(minutes=5))
    assert tick()["enqueued"] == 1  # due again after `every`
    assert ScheduledJob.objects.get(name="flaky").last_enqueued_at == now()


def test_a_task_abandoned_by_a_killed_task_worker_does_not_block_forever(world: World, clock: Any, only: Any) -> None:
    only(jobs.PeriodicTask("flaky", flaky_job, dt.timedelta(0), None))
    assert tick()["enqueued"] == 1
    DBTaskResult.objects.update(status="RUNNING", started_at=now())  # claimed, then the process died
    clock.shift(dt.timedelta(minutes=30))
    assert tick()["enqueued"] == 0
    clock.shift(dt.timedelta(minutes=31))
    assert tick()["enqueued"] == 1
    assert DBTaskResult.objects.get(status="FAILED").exception_class_path.endswith("Abandoned")


def test_the_admin_shows_the_runs_and_the_schedule(world: World, clock: Any, only: Any) -> None:
    CALLS["flaky"] = 0
    only(jobs.PeriodicTask("flaky", flaky_job, dt.timedelta(0), None))
    tick()
    run_tasks()
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "x"))
    page = admin.get("/admin/django_tasks_database/dbtaskresult/").content.decode()
    assert "flaky_job" in page
    failed = DBTaskResult.objects.get(status="FAILED")
    detail = admin.get(f"/admin/django_tasks_database/dbtaskresult/{failed.pk}/change/").content.decode()
    assert "flaky failure 1" in detail
    assert "flaky" in admin.get("/admin/operations/scheduledjob/").content.decode()


def test_pruning_deletes_only_what_is_older_than_its_retention(world: World, clock: Any, settings: Any) -> None:
    settings.JIESU_THROTTLE_RETENTION_DAYS = 2
    settings.JIESU_WEBHOOK_RETENTION_DAYS = 90
    settings.JIESU_TASK_RETENTION_DAYS = 14
    at = now()
    Throttle.objects.create(key="old", hour=at - dt.timedelta(days=3), count=1)
    Throttle.objects.create(key="new", hour=at - dt.timedelta(hours=3), count=1)
    old_session, new_session = SessionStore(), SessionStore()
    old_session.set_expiry(at - dt.timedelta(days=1))
    old_session.create()
    new_session.set_expiry(at + dt.timedelta(days=1))
    new_session.create()
    ticket = ticket_in(world, "dispatched")
    from jiesu.integrations.models import ApiClient, WebhookSubscription

    client = ApiClient(name="hooks", user=world.dispatcher)
    client.issue_key()
    client.save()
    sub = WebhookSubscription.objects.create(client=client, url="http://127.0.0.1:9/", secret="s")
    event = ticket.events.first()
    for days in (100, 10):
        WebhookDelivery.objects.create(
            subscription=sub, event=event, attempt=1, attempted_at=at - dt.timedelta(days=days), ok=False, duration_ms=1
        )
    flaky_job.enqueue()
    DBTaskResult.objects.update(status="SUCCESSFUL", finished_at=at - dt.timedelta(days=20))
    flaky_job.enqueue()  # pending: never pruned

    deleted = ops_tasks.prune_now()
    assert deleted["throttle"] == 1 and deleted["webhook-deliveries"] == 1 and deleted["task-results"] == 1
    assert deleted["sessions"] >= 1
    assert list(Throttle.objects.values_list("key", flat=True)) == ["new"]
    assert WebhookDelivery.objects.get().attempted_at == at - dt.timedelta(days=10)
    assert DBTaskResult.objects.get().status == "READY"
    assert ops_tasks.prune_now()["webhook-deliveries"] == 0  # idempotent
