"""Daily request forecasts (未诉先办): pure numpy/scipy, no database.

The model is multiplicative and every factor is estimated from the series itself, shrunk towards 1 where the data
are thin (a category in a district may get one request a week):

    expected(t) = level · day(t) · season(t)

- **day(t)**: the day type's factor over the last 26 weeks. Ordinary days use their weekday (Mon … Sun); a statutory
  holiday uses the weekend's factor times a holiday factor learnt from the holidays in the history; a make-up
  workday (调休) uses the workdays' factor. Each raw ratio r is shrunk: 1 + (r − 1) · n / (n + 10), n the requests
  behind it.
- **level**: the last 28 days' requests divided by the sum of their day factors (a de-weekdayed daily rate). A thin
  series looks further back, a week at a time up to 26 weeks, until the window holds 40 requests.
- **season(t)**: yearly seasonality, used when the history covers at least a year: for every earlier year k, the
  requests in the 29 days around t − k years against those in the level's window before the forecast origin − k years,
  pooled over the years, as (num + 5) / (den · 29/window + 5). Heating complaints in November, floods in July.
- **Intervals**: negative binomial with the over-dispersion estimated by moments from the last 56 days' fitted
  values (Poisson when there is none); the 80 % interval is its 10th and 90th percentiles.

Baselines for the benchmark: `last_week` (the same weekday of the last observed week) and `seasonal_mean` (the mean
of the same weekday over the last eight observed weeks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

WEEKS_FOR_DAY_FACTORS = 26
LEVEL_DAYS = 28
MAX_LEVEL_DAYS = 182
LEVEL_REQUESTS = 40
SEASON_HALF_WIDTH = 14
SHRINK_DAY = 10.0
SHRINK_SEASON = 5.0

# Day types: 0–6 ordinary weekdays, 7 holiday, 8 make-up workday.
HOLIDAY, MAKEUP = 7, 8

DayKind = Callable[[dt.date], int]


def weekday_kind(day: dt.date) -> int:
    return day.weekday()


@dataclass
class Forecast:
    days: list[dt.date]
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float


def _shrink(raw: float, n: float, k: float) -> float:
    return 1.0 + (raw - 1.0) * n / (n + k)


def day_factors(y: np.ndarray, days: Sequence[dt.date], kind: DayKind) -> np.ndarray:
    """Factors for the 9 day types from the last 12 weeks (holiday factor from the whole history)."""
    recent = slice(max(0, len(y) - 7 * WEEKS_FOR_DAY_FACTORS), len(y))
    yr, kinds_r = y[recent], np.array([kind(d) for d in days[recent]])
    mean = yr.mean() if len(yr) and yr.mean() > 0 else 0.0
    f = np.ones(9)
    if mean <= 0:
        return f
    for k in range(7):
        sel = kinds_r == k
        if sel.any():
            f[k] = _shrink(yr[sel].mean() / mean, yr[sel].sum(), SHRINK_DAY)
    weekend = (f[5] + f[6]) / 2
    workday = f[:5].mean()
    f[MAKEUP] = workday
    # Holidays: actual against what an ordinary weekend day would have had, pooled over the whole history.
    kinds_all = np.array([kind(d) for d in days])
    hol = kinds_all == HOLIDAY
    if hol.any():
        expected = 0.0
        for i in np.flatnonzero(hol).tolist():
            window = y[max(0, i - 28) : i]
            expected += (window.mean() if len(window) else mean) * weekend
        raw = y[hol].sum() / expected if expected > 0 else 1.0
        f[HOLIDAY] = weekend * _shrink(raw, y[hol].sum(), SHRINK_DAY)
    else:
        f[HOLIDAY] = weekend
    return f


def level_days(y: np.ndarray) -> int:
    """28 days, lengthened by whole weeks (up to 26) until they hold 40 requests: a thin series needs more history
    for a steady level."""
    n = LEVEL_DAYS
    while n < MAX_LEVEL_DAYS and n < len(y) and y[-n:].sum() < LEVEL_REQUESTS:
        n += 7
    return min(n, len(y))


def season_factor(y: np.ndarray, first_day: dt.date, target: dt.date, window: int = LEVEL_DAYS) -> float:
    """Yearly ratio for `target` against the origin (the day after the last observed one)."""
    if len(y) < 365 + window:
        return 1.0
    origin = first_day + dt.timedelta(days=len(y))

    def at(day: dt.date) -> int:
        return (day - first_day).days

    num = den = 0.0
    for k in range(1, 20):
        t, o = _years_back(target, k), _years_back(origin, k)
        lo_t, hi_t, lo_o = at(t) - SEASON_HALF_WIDTH, at(t) + SEASON_HALF_WIDTH, at(o) - window
        if lo_o < 0 or lo_t < 0:
            break
        if hi_t >= len(y) or at(o) > len(y):
            continue
        num += y[lo_t : hi_t + 1].sum()
        den += y[lo_o : at(o)].sum()
    if num == 0 and den == 0:
        return 1.0
    width = 2 * SEASON_HALF_WIDTH + 1
    return float((num + SHRINK_SEASON) / (den * width / window + SHRINK_SEASON))


def _years_back(day: dt.date, k: int) -> dt.date:
    try:
        return day.replace(year=day.year - k)
    except ValueError:  # 29 February
        return day.replace(year=day.year - k, day=28)


def forecast(
    y: Sequence[float] | np.ndarray,
    first_day: dt.date,
    horizon: int = 14,
    kind: DayKind = weekday_kind,
    coverage: float = 0.8,
) -> Forecast:
    """Forecast `horizon` days after a daily series that starts on `first_day`."""
    arr = np.asarray(y, dtype=float)
    days = [first_day + dt.timedelta(days=i) for i in range(len(arr))]
    f = day_factors(arr, days, kind)
    kinds = np.array([kind(d) for d in days])
    window = level_days(arr)
    recent = slice(len(arr) - window, len(arr))
    weight = f[kinds[recent]].sum()
    level = float(arr[recent].sum() / weight) if weight > 0 else 0.0
    targets = [days[-1] + dt.timedelta(days=h) for h in range(1, horizon + 1)]
    expected = np.array([level * f[kind(t)] * season_factor(arr, first_day, t, window) for t in targets])
    # Over-dispersion by moments on the last 56 days (fitted = level · day factor).
    fit_slice = slice(max(0, len(arr) - 56), len(arr))
    mu = level * f[kinds[fit_slice]]
    obs = arr[fit_slice]
    denom = float((mu**2).sum())
    alpha = max(0.0, float(((obs - mu) ** 2 - mu).sum()) / denom) if denom > 0 else 0.0
    low, high = interval(expected, alpha, coverage)
    return Forecast(targets, expected, low, high, level)


def interval(mu: np.ndarray, alpha: float, coverage: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    q_lo, q_hi = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    mu = np.maximum(mu, 1e-9)
    if alpha < 1e-6:
        return stats.poisson.ppf(q_lo, mu), stats.poisson.ppf(q_hi, mu)
    r = 1.0 / alpha
    p = r / (r + mu)
    return stats.nbinom.ppf(q_lo, r, p), stats.nbinom.ppf(q_hi, r, p)


# --- baselines ------------------------------------------------------------------------------------------
def last_week(y: Sequence[float] | np.ndarray, horizon: int = 14) -> np.ndarray:
    arr = np.asarray(y, dtype=float)
    return np.array([arr[len(arr) - 7 + ((h - 1) % 7)] if len(arr) >= 7 else 0.0 for h in range(1, horizon + 1)])


def seasonal_mean(y: Sequence[float] | np.ndarray, horizon: int = 14, weeks: int = 8) -> np.ndarray:
    arr = np.asarray(y, dtype=float)
    out = []
    for h in range(1, horizon + 1):
        pos = len(arr) - 7 + ((h - 1) % 7)
        same = [arr[pos - 7 * w] for w in range(weeks) if 0 <= pos - 7 * w < len(arr)]
        out.append(float(np.mean(same)) if same else 0.0)
    return np.array(out)


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    total = float(np.abs(actual).sum())
    return float(np.abs(actual - predicted).sum() / total) if total else float("nan")


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error over the days with at least one request (undefined on empty days)."""
    sel = actual > 0
    return float(np.mean(np.abs(actual[sel] - predicted[sel]) / actual[sel])) if sel.any() else float("nan")
