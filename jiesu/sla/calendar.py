"""The working-day calendar, as pure code with the exceptions injected (after FixMyStreet's WorkingDays).

Deadline rules (documented in the README):
- calendar hours: due = start + N hours;
- working days: due = the end (24:00, Asia/Shanghai) of the N-th working day after the start day.
  The start day itself never counts, whether or not it is a working day.
"""

import datetime as dt
from collections.abc import Mapping

import chinese_calendar

from jiesu.lib.clock import SHANGHAI

ONE_DAY = dt.timedelta(days=1)


class WorkCalendar:
    def __init__(self, exceptions: Mapping[dt.date, bool]) -> None:
        """`exceptions` maps a date to whether it is a workday, where that differs from Monday–Friday."""
        self.exceptions = dict(exceptions)

    def is_workday(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def add_workdays(self, start: dt.datetime, days: int) -> dt.datetime:
        day = start.astimezone(SHANGHAI).date()
        counted = 0
        while counted < days:
            day += ONE_DAY
            if self.is_workday(day):
                counted += 1
        return dt.datetime.combine(day + ONE_DAY, dt.time(0, 0), tzinfo=SHANGHAI)

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            count += self.is_workday(day)
        return count


def add_limit(calendar: WorkCalendar, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit == "hours":
        return start + dt.timedelta(hours=amount)
    if unit == "workdays":
        return calendar.add_workdays(start, amount)
    raise ValueError(f"unknown limit unit {unit!r}")


def day_kind(day: dt.date) -> int:
    """0–6 weekday, 7 statutory holiday, 8 make-up workday (the forecast's day types), from `chinese-calendar`
    (the statutory calendar, not the `WorkCalendarDay` rows the deadlines use)."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        workday = chinese_calendar.is_workday(day)
    except NotImplementedError:  # beyond the library's years: plain weeks
        return day.weekday()
    if name is not None and on_holiday:
        return 7
    if workday and day.weekday() >= 5:
        return 8
    return day.weekday()
