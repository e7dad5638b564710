"""The reference data and the demo city."""

import io
from typing import Any

import pytest
from django.core.management import call_command

from jiesu.catalog.models import Category, DispatchRule
from jiesu.demo.city import PLANTED
from jiesu.demo.reference import seed_reference
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, OrgUnit, UnitKind
from jiesu.sla.models import TimeLimitPolicy
from jiesu.testing.world import World
from jiesu.tickets.models import Ticket, TicketEvent


@pytest.mark.django_db
def test_beijing_units_with_official_codes(world: object) -> None:
    assert OrgUnit.objects.filter(kind=UnitKind.DISTRICT).count() == 16
    assert OrgUnit.objects.filter(kind__in=STREET_TOWNSHIP_KINDS).count() == 343
    jianwai = OrgUnit.objects.get(code="110105001")
    assert (jianwai.name, jianwai.parent.name, jianwai.kind) == ("建外街道", "朝阳区", "subdistrict")
    assert jianwai.path == "/110000/110105/110105001/"
    assert OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT).count() >= 20
    assert OrgUnit.objects.filter(kind=UnitKind.PUBLIC_SERVICE_COMPANY).count() >= 10


@pytest.mark.django_db
def test_reference_seed_is_idempotent(world: object) -> None:
    counts = (
        OrgUnit.objects.count(),
        Category.objects.count(),
        DispatchRule.objects.count(),
        TimeLimitPolicy.objects.count(),
    )
    seed_reference()
    assert counts == (
        OrgUnit.objects.count(),
        Category.objects.count(),
        DispatchRule.objects.count(),
        TimeLimitPolicy.objects.count(),
    )


@pytest.mark.django_db
def test_every_leaf_has_class_owner_and_a_dispatch_rule(world: object) -> None:
    leaves = Category.objects.filter(level=3)
    assert leaves.count() >= 40
    for leaf in leaves:
        assert leaf.time_limit_class and leaf.owner_kind
        assert leaf.dispatch_rules.exists(), leaf
        assert leaf.parent.parent.level == 1


@pytest.mark.django_db
def test_demo_command_makes_a_working_city(world: object) -> None:
    out = io.StringIO()
    call_command("demo", "--tickets", "120", "--history", "600", stdout=out)
    text = out.getvalue()
    assert "jiesu-demo-2026" in text and "dispatcher" in text
    # the assessment history: months before last published, last month a draft
    assert "(published)" in text and "(draft)" in text
    planted = sum(row[4] for row in PLANTED)  # the hotspots the demo plants
    # issue 21: the training course's simulated history and the overloaded handler's tickets
    trained = Ticket.objects.filter(idempotency_key__startswith="gen:training:").count()
    planted += Ticket.objects.filter(handler__username="jw_busy").count()
    assert "training and care:" in text
    assert Ticket.objects.count() == 720 + planted + trained
    assert "hotspots now: 光华" in out.getvalue()
    assert Ticket.objects.filter(idempotency_key__startswith="gen:").count() == 600 + trained
    states = set(Ticket.objects.values_list("dispatch_state", flat=True))
    assert {"closed", "accepted"} <= states
    assert len(states) >= 4
    # Every ticket's history starts with its intake, and events never precede it.
    assert TicketEvent.objects.filter(action="intake").count() == 720 + planted + trained
    call_command("demo", "--tickets", "120", stdout=io.StringIO())  # idempotent: no second batch
    assert Ticket.objects.count() == 720 + planted + trained


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
