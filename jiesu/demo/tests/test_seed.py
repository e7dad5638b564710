"""The reference data and the demo city."""

import io
from typing import Any

import pytest
from django.core.management import call_command

from jiesu.demo.city import PLANTED
from jiesu.orgs.models import OrgUnit
from jiesu.testing.world import World
from jiesu.tickets.models import Ticket, TicketEvent


@pytest.mark.django_db
def test_demo_command_makes_a_working_city(world: object) -> None:
    out = io.StringIO()
    call_command("demo", "--tickets", "120", "--history", "600", stdout=out)
    text = out.getvalue()
    assert "jiesu-demo-2026" in text and "dispatcher" in text
    # the assessment history: months before last published, last month a draft
    assert "(published)" in text and "(draft)" in text
    planted = sum(row[4] for row in PLANTED)  # the hotspots the demo plants
    assert Ticket.objects.count() == 720 + planted
    assert "hotspots now: 光华" in out.getvalue()
    assert Ticket.objects.filter(idempotency_key__startswith="gen:").count() == 600
    states = set(Ticket.objects.values_list("dispatch_state", flat=True))
    assert {"closed", "accepted"} <= states
    assert len(states) >= 4
    # Every ticket's history starts with its intake, and events never precede it.
    assert TicketEvent.objects.filter(action="intake").count() == 720 + planted
    call_command("demo", "--tickets", "120", stdout=io.StringIO())  # idempotent: no second batch
    assert Ticket.objects.count() == 720 + planted


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
