"""When the demo city's residents call: the intake rhythm the demo generator plays and the forecast benchmark
draws its demo series from (pure, no database).

- Weekdays carry more calls than weekends; statutory holidays fewer still; a make-up workday (调休) is a workday.
- Heating complaints (0204) run from the heating season's start on 15 November to 15 March, peaking in its first
  three weeks; floods and overflowing sewers (0206) peak in the July–August rains.
"""

import datetime as dt

from jiesu.sla.calendar import day_kind

WEEKDAY = (1.12, 1.06, 1.0, 1.0, 0.98, 0.78, 0.72)
HOLIDAY = 0.62


def day_weight(day: dt.date) -> float:
    kind = day_kind(day)
    return HOLIDAY if kind == 7 else 1.0 if kind == 8 else WEEKDAY[kind]


def season(category_code: str, day: dt.date) -> float:
    """The weight of a category on a day, relative to an ordinary day."""
    md = (day.month, day.day)
    if category_code.startswith("0204"):  # heating
        if (11, 15) <= md <= (12, 5):
            return 7.0
        if md >= (11, 15) or md <= (3, 15):
            return 4.0
        if (11, 1) <= md < (11, 15):
            return 1.2  # the trial heating before the season
        return 0.15
    if category_code.startswith("0206"):  # floods and sewers
        if (7, 15) <= md <= (8, 10):
            return 4.5
        if (6, 15) <= md <= (8, 31):
            return 2.2
        return 0.5
    return 1.0
