"""The reference data and the demo city."""

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from jiesu.community.models import CommunityTask, Demand, DemandState, PointEntry, ShiftSignUp, TaskState
from jiesu.demo.city import PLANTED
from jiesu.orgs.models import OrgUnit
from jiesu.testing.world import World
from jiesu.tickets.models import Ticket, TicketEvent


@pytest.fixture(scope="module")
def demo_city(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[str]:
    """The demo city, seeded ONCE for the tests of this module (it is the slowest thing the suite does) inside a
    transaction that is rolled back after them; each test runs in its own savepoint on top of it. Returns what
    `jiesu demo` printed."""
    var = tmp_path_factory.mktemp("demo-city")
    with (
        django_db_blocker.unblock(),
        override_settings(MODEL_DIR=var / "models", COLUMNAR_DIR=var / "columnar"),
        transaction.atomic(),
    ):
        out = io.StringIO()
        call_command("demo", "--tickets", "120", "--history", "600", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


PLANTED_TICKETS = sum(row[4] for row in PLANTED)  # the hotspots the demo plants


def training_tickets() -> tuple[int, int]:
    """Issue 21's tickets: the refresher course's simulated history ("gen:training:…") and the overloaded handler's
    live tickets."""
    history = Ticket.objects.filter(idempotency_key__startswith="gen:training:").count()
    return history, Ticket.objects.filter(handler__username="jw_busy").count()


def test_demo_command_makes_a_working_city(demo_city: str, db: Any) -> None:
    assert "jiesu-demo-2026" in demo_city and "dispatcher" in demo_city
    # the assessment history: the last six months published, last month included (the 约谈 list needs it)
    assert "(published)" in demo_city and "(draft)" not in demo_city
    history, busy = training_tickets()
    assert Ticket.objects.count() == 720 + PLANTED_TICKETS + history + busy
    assert "hotspots now: 光华" in demo_city
    assert Ticket.objects.filter(idempotency_key__startswith="gen:").count() == 600 + history
    states = set(Ticket.objects.values_list("dispatch_state", flat=True))
    assert {"closed", "accepted"} <= states
    assert len(states) >= 4
    # Every ticket's history starts with its intake, and events never precede it.
    assert TicketEvent.objects.filter(action="intake").count() == 720 + PLANTED_TICKETS + history + busy


def test_demo_training_and_care(demo_city: str, db: Any) -> None:
    """Issue 21: the logins, the onboarding plan for the new handler, and the care alert for the overloaded one."""
    from jiesu.training.models import CareAlert, TrainingPlan

    assert "training and care:" in demo_city and "jw_newcomer" in demo_city and "trainer" in demo_city
    assert TrainingPlan.objects.filter(stage="onboarding", role="unit_handler").exists()
    alert = CareAlert.objects.get(person__username="jw_busy")
    assert {s["code"] for s in alert.signals} >= {"load", "days_without_rest"}


def test_demo_communities_are_consistent(demo_city: str, db: Any) -> None:
    """The three demo communities (moved here from the community tests, which seeded them a second time)."""
    assert "communities: 3 (120 members" in demo_city
    assert get_user_model().objects.get(username="member").party_member.community.code == "110105001001"
    # every point entry comes from a rule and a real record
    for entry in PointEntry.objects.filter(reason="service").select_related("task"):
        assert (
            entry.task is not None and entry.task.claims.filter(member=entry.member, served_at__isnull=False).exists()
        )
    assert CommunityTask.objects.filter(state=TaskState.OPEN).count() == 9  # three open tasks per community today
    assert Demand.objects.filter(state=DemandState.SUBMITTED).count() == 12  # and four new wishes
    assert ShiftSignUp.objects.filter(attendance="present").exists()


def test_a_second_demo_run_adds_nothing(demo_city: str, db: Any) -> None:
    out = io.StringIO()
    call_command("demo", "--tickets", "120", stdout=out)  # idempotent: no second batch
    assert Ticket.objects.count() == 720 + PLANTED_TICKETS + sum(training_tickets())
    assert "communities: 3 (0 members" in out.getvalue()


def test_replay_handles_a_ticket_whose_lead_moved_while_signing(world: World, clock: Any) -> None:
    """A return approved to the district moves the lead; the replay must not whistle as the old street (a street's
    right only), which once stopped `scripts/demo` with "只有街道或乡镇可以吹哨"."""
    import datetime as dt
    import random

    from jiesu.demo.city import Replayer
    from jiesu.lib import clock as jclock
    from jiesu.orgs.models import Role
    from jiesu.tickets import services
    from jiesu.tickets.tests.helpers import ticket_in

    class Whistling(random.Random):
        def random(self) -> float:  # every "now and then" branch taken
            return 0.05

    stale = ticket_in(world, "dispatched")
    services.request_return(world.jw_handler, stale.pk, "不属于本街道职责")
    services.approve_return(world.dispatcher, stale.pk, lead_code="110105", note="改派区")
    replayer = Replayer(Whistling(1), jclock.now() + dt.timedelta(days=30))
    district = OrgUnit.objects.get(code="110105")
    handler = replayer.actors.get(district, Role.UNIT_HANDLER)
    services.accept(handler, stale.pk)
    replayer.t = jclock.now()
    replied = replayer.handle(stale, handler)
    assert replied.dispatch_state == "replied" and not replied.events.filter(action="whistle").exists()
