"""Strain signals (人文关怀) as pure code: a person's measures in, the signals that cross the thresholds out.

A signal is a named fact with its value and threshold ("12 days without a rest day; threshold 10"), never a
score: nothing here adds signals up into a number that could be ranked. A care alert goes to the person's leader
when at least `min_signals` signals are on, or when one of the strong signals is (set per threshold set).
"""

import dataclasses
from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _


@dataclasses.dataclass(frozen=True)
class Measures:
    """What the trail says about one person over the look-back window (see `jiesu.training.care.measure`)."""

    in_hand: int = 0  # tickets the person holds now
    unit_median_in_hand: float = 0.0  # the median over the handlers of the same unit
    actions: int = 0  # the person's own actions on the trail in the window
    after_hours_actions: int = 0  # of those: outside working hours or on a rest day
    days_without_rest: int = 0  # consecutive days with work, up to the day measured
    dissatisfied_streak: int = 0  # consecutive latest callbacks judged dissatisfied or unsolved
    reopens: int = 0  # reopens of the person's tickets in the window
    abusive: int = 0  # tickets or calls the person marked abusive (辱骂) in the window
    calls_per_day: float = 0.0  # operators: intakes per working day in the window


@dataclasses.dataclass(frozen=True)
class Thresholds:
    load_ratio: float = 1.8
    load_min: int = 8
    after_hours_share: float = 0.3
    after_hours_min: int = 6
    days_without_rest: int = 10
    dissatisfied_streak: int = 3
    reopens: int = 3
    abusive: int = 2
    calls_per_day: float = 90.0
    min_signals: int = 2
    strong: tuple[str, ...] = ("days_without_rest",)


@dataclasses.dataclass(frozen=True)
class Signal:
    code: str
    value: float
    threshold: float

    @property
    def label(self) -> str:
        return str(LABELS.get(self.code, self.code))


LABELS = {
    "load": _("Orders in hand against the unit's median"),
    "after_hours": _("Work after hours and on rest days"),
    "days_without_rest": _("Consecutive days without rest"),
    "dissatisfied_streak": _("Streak of dissatisfied or unsolved callbacks"),
    "reopens": _("Reopened tickets"),
    "abusive": _("Abusive callers"),
    "calls_per_day": _("Calls per working day"),
}
CODES = tuple(LABELS)


def signals(m: Measures, t: Thresholds) -> list[Signal]:
    """The signals that are on for these measures."""
    out: list[Signal] = []
    if m.in_hand >= t.load_min:
        ratio = m.in_hand / max(m.unit_median_in_hand, 1.0)
        if ratio >= t.load_ratio:
            out.append(Signal("load", round(ratio, 2), t.load_ratio))
    if m.after_hours_actions >= t.after_hours_min and m.actions:
        share = m.after_hours_actions / m.actions
        if share >= t.after_hours_share:
            out.append(Signal("after_hours", round(share, 2), t.after_hours_share))
    for code, value, limit in (
        ("days_without_rest", m.days_without_rest, t.days_without_rest),
        ("dissatisfied_streak", m.dissatisfied_streak, t.dissatisfied_streak),
        ("reopens", m.reopens, t.reopens),
        ("abusive", m.abusive, t.abusive),
    ):
        if value >= limit:
            out.append(Signal(code, value, limit))
    if m.calls_per_day >= t.calls_per_day:
        out.append(Signal("calls_per_day", round(m.calls_per_day, 1), t.calls_per_day))
    return out


def alerts(on: Sequence[Signal], t: Thresholds) -> bool:
    """Whether these signals make a care alert."""
    return len(on) >= t.min_signals or any(s.code in t.strong for s in on)
