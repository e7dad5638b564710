"""Reading the calendar and the policies from the database."""

import datetime as dt

from jiesu.catalog.models import Category

from .calendar import WorkCalendar, add_limit
from .models import TimeLimitPolicy, WorkCalendarDay


def load_calendar() -> WorkCalendar:
    """The whole exceptions table (a few dozen rows a year) as a calendar."""
    return WorkCalendar(dict(WorkCalendarDay.objects.values_list("date", "is_workday")))


def policy_for(category: Category, time_limit_class: str, day: dt.date) -> TimeLimitPolicy | None:
    """The effective policy: a per-category override first, else the class policy."""
    policies = TimeLimitPolicy.objects.effective_on(day)
    return (
        policies.filter(category=category).first()
        or policies.filter(category__isnull=True, time_limit_class=time_limit_class).first()
    )


def due_at(policy: TimeLimitPolicy, start: dt.datetime, calendar: WorkCalendar | None = None) -> dt.datetime:
    return add_limit(calendar or load_calendar(), start, policy.amount, policy.unit)
