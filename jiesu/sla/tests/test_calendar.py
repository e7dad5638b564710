"""Deadlines on the working-day calendar, across the 2026 National Day holiday and its make-up workdays.

2026: Mid-autumn 9-25..9-27, National Day 10-01..10-07; make-up workdays Sunday 9-20 and Saturday 10-10.
"""

import datetime as dt

import pytest
import time_machine

from jiesu.lib.clock import SHANGHAI
from jiesu.sla.calendar import WorkCalendar
from jiesu.sla.models import WorkCalendarDay
from jiesu.sla.policy import load_calendar
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.tests.helpers import new_ticket


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_pure_calendar_counts_weekdays_without_exceptions() -> None:
    cal = WorkCalendar({})
    # Friday 2026-11-20 10:00 + 1 working day → end of Monday 11-23.
    assert cal.add_workdays(local(2026, 11, 20, 10), 1) == local(2026, 11, 24, 0, 0)
    assert cal.workdays_between(dt.date(2026, 11, 20), dt.date(2026, 11, 27)) == 5


@pytest.mark.django_db
def test_seeded_calendar_knows_2026_national_day_and_makeup_days(world: World) -> None:
    cal = load_calendar()
    assert not cal.is_workday(dt.date(2026, 10, 1))
    assert not cal.is_workday(dt.date(2026, 10, 7))
    assert cal.is_workday(dt.date(2026, 9, 20))  # Sunday, make-up workday
    assert cal.is_workday(dt.date(2026, 10, 10))  # Saturday, make-up workday
    assert WorkCalendarDay.objects.get(date=dt.date(2026, 10, 10)).name == "国庆节调休上班"


@pytest.mark.django_db
def test_seven_working_days_across_national_day(world: World) -> None:
    # Intake and dispatch on Wednesday 9-30: Oct 1–7 are holidays, Oct 10 (Saturday) is a workday.
    # Working days counted: 10-08, 10-09, 10-10, 10-12, 10-13, 10-14, 10-15 → due at the end of 10-15.
    with time_machine.travel(local(2026, 9, 30, 10, 0), tick=False):
        ticket = new_ticket(world)
        ticket = services.dispatch(world.dispatcher, ticket.pk)
    assert ticket.time_limit_policy.amount == 7
    assert ticket.due_at == local(2026, 10, 16, 0, 0)


@pytest.mark.django_db
def test_makeup_sunday_counts_as_a_working_day(world: World) -> None:
    # Dispatched Saturday 9-19: the first working day after it is Sunday 9-20 (make-up workday).
    with time_machine.travel(local(2026, 9, 19, 15, 0), tick=False):
        ticket = services.dispatch(world.dispatcher, new_ticket(world).pk)
    # 7 working days: 9-20, 9-21, 9-22, 9-23, 9-24, (9-25..27 holiday) 9-28, 9-29 → end of 9-29.
    assert ticket.due_at == local(2026, 9, 30, 0, 0)


@pytest.mark.django_db
def test_fifteen_working_days_for_complex_tickets_across_both_holidays(world: World) -> None:
    with time_machine.travel(local(2026, 9, 18, 9, 0), tick=False):  # Friday
        ticket = new_ticket(world, category_code="010103", title="违法建设")  # complex: 15 working days
        ticket = services.dispatch(world.dispatcher, ticket.pk)
    # 9-20, 21, 22, 23, 24, 28, 29, 30, 10-08, 09, 10, 12, 13, 14, 15 → end of 10-15.
    assert ticket.due_at == local(2026, 10, 16, 0, 0)


@pytest.mark.django_db
def test_calendar_hours_ignore_holidays(world: World) -> None:
    with time_machine.travel(local(2026, 9, 30, 20, 0), tick=False):
        ticket = new_ticket(world, category_code="020101", title="停水")  # utilities: 24 calendar hours
        ticket = services.dispatch(world.dispatcher, ticket.pk)
    assert ticket.due_at == local(2026, 10, 1, 20, 0)
    assert ticket.accept_due_at == local(2026, 9, 30, 21, 0)


@pytest.mark.django_db
def test_category_override_beats_class_policy(world: World) -> None:
    with time_machine.travel(local(2026, 11, 17, 9, 0), tick=False):
        ticket = services.dispatch(world.dispatcher, new_ticket(world, category_code="020401", title="暖气不热").pk)
    assert ticket.time_limit_policy.category is not None  # the heating override
    assert ticket.accept_due_at == local(2026, 11, 17, 10, 0)


@pytest.mark.django_db
def test_administrator_extends_the_calendar_beyond_2026(world: World) -> None:
    # chinese-calendar stops at 2026; an administrator enters 2027's New Year holiday by hand.
    with time_machine.travel(local(2026, 12, 31, 10, 0), tick=False):
        before = services.dispatch(world.dispatcher, new_ticket(world).pk).due_at
        WorkCalendarDay.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
        after = services.dispatch(world.dispatcher, new_ticket(world).pk).due_at
    # Without the holiday: 1-1 (Fri), 1-4 … 1-8 → end of 1-11; with it one day later.
    assert before == local(2027, 1, 12, 0, 0)
    assert after == local(2027, 1, 13, 0, 0)
