"""Catalogues and time-limit policies change from an effective date on; history keeps the rules it was judged by."""

import datetime as dt

import pytest
import time_machine

from jiesu.catalog.models import Category, DispatchRule
from jiesu.lib.clock import SHANGHAI
from jiesu.lib.errors import InvalidInput
from jiesu.orgs.models import OrgUnit
from jiesu.sla.models import LimitUnit, TimeLimitPolicy
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import Ticket
from jiesu.tickets.tests.helpers import new_ticket

CHANGE = dt.date(2026, 12, 1)
BEFORE = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
AFTER = dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)


def dispatched_at(moment: dt.datetime, world: World, **overrides: str) -> Ticket:
    with time_machine.travel(moment, tick=False):
        return services.dispatch(world.dispatcher, new_ticket(world, **overrides).pk)


def test_dispatch_rule_change_applies_from_its_date(world: World) -> None:
    category = Category.objects.get(code="010201")
    old = DispatchRule.objects.get(category=category, area__isnull=True)
    DispatchRule.objects.filter(pk=old.pk).update(effective_to=CHANGE)
    new = DispatchRule.objects.create(
        category=category, effective_from=CHANGE, lead_unit=OrgUnit.objects.get(code="D001")
    )

    before = dispatched_at(BEFORE, world)
    after = dispatched_at(AFTER, world)

    assert (before.lead_unit.code, before.dispatch_rule_id) == ("110105001", old.pk)
    assert (after.lead_unit.code, after.dispatch_rule_id) == ("D001", new.pk)
    assert Ticket.objects.get(pk=before.pk).dispatch_rule_id == old.pk  # history keeps its rule


def test_district_rule_beats_the_city_wide_one(world: World) -> None:
    category = Category.objects.get(code="010201")
    DispatchRule.objects.create(
        category=category,
        effective_from=dt.date(2019, 1, 1),
        area=OrgUnit.objects.get(code="110105"),
        lead_unit=OrgUnit.objects.get(code="D001"),
    )
    assert dispatched_at(BEFORE, world).lead_unit.code == "D001"  # 建外 is in 朝阳
    other = dispatched_at(BEFORE, world, street_code="110108012", address="海淀街道")
    assert other.lead_unit.code == "110108012"


def test_policy_change_applies_to_new_tickets_only(world: World) -> None:
    old = TimeLimitPolicy.objects.get(time_limit_class="ordinary", category__isnull=True)
    TimeLimitPolicy.objects.filter(pk=old.pk).update(effective_to=CHANGE)
    TimeLimitPolicy.objects.create(
        time_limit_class="ordinary", effective_from=CHANGE, amount=5, unit=LimitUnit.WORKDAYS
    )

    before = dispatched_at(BEFORE, world)
    after = dispatched_at(AFTER, world)

    assert before.time_limit_policy_id == old.pk and before.time_limit_policy.amount == 7
    assert after.time_limit_policy.amount == 5
    # 2026-12-02 (Wed) + 5 working days: 12-03, 04, 07, 08, 09 → end of 12-09.
    assert after.due_at == dt.datetime(2026, 12, 10, 0, 0, tzinfo=SHANGHAI)


def test_retired_category_is_refused_after_its_end(world: World) -> None:
    Category.objects.filter(code="010202").update(effective_to=CHANGE)
    with time_machine.travel(BEFORE, tick=False):
        assert new_ticket(world, category_code="010202").category.code == "010202"
    with time_machine.travel(AFTER, tick=False), pytest.raises(InvalidInput):
        new_ticket(world, category_code="010202")
