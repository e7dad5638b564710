"""Reading the calendar and the policies: from each process's reference cache (`jiesu.lib.refcache`), loaded from
the database when missing and dropped when a row changes."""

import datetime as dt

from jiesu.catalog.models import Category
from jiesu.lib import refcache

from .calendar import WorkCalendar, add_limit
from .models import TimeLimitPolicy, WorkCalendarDay

refcache.watch("sla.calendar", WorkCalendarDay)
refcache.watch("sla.policies", TimeLimitPolicy)


def load_calendar() -> WorkCalendar:
    """The whole exceptions table (a few dozen rows a year) as a calendar."""
    return refcache.get(
        "sla.calendar", lambda: WorkCalendar(dict(WorkCalendarDay.objects.values_list("date", "is_workday")))
    )


def _policies() -> list[TimeLimitPolicy]:
    return list(TimeLimitPolicy.objects.order_by("-effective_from", "pk"))


def policy_for(category: Category, time_limit_class: str, day: dt.date) -> TimeLimitPolicy | None:
    """The effective policy: a per-category override first, else the class policy (the latest version in force)."""
    effective = [p for p in refcache.get("sla.policies", _policies) if p.is_effective_on(day)]
    return next((p for p in effective if p.category_id == category.pk), None) or next(
        (p for p in effective if p.category_id is None and p.time_limit_class == time_limit_class), None
    )


def due_at(policy: TimeLimitPolicy, start: dt.datetime, calendar: WorkCalendar | None = None) -> dt.datetime:
    return add_limit(calendar or load_calendar(), start, policy.amount, policy.unit)
