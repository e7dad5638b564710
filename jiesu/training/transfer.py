"""Learning transfer measured from the data: a difference-in-differences estimate with its uncertainty (pure).

For each trainee i with a split date d_i (the day the course was completed), the trainee's own outcomes in the
course's categories in the `window` days before d_i are compared with those in the `window` days after. The same
comparison is made, at the same date d_i, for comparable untrained colleagues (the controls), pooled. The
trainee's estimate is

    effect_i = (post_i − pre_i) − (post_C(d_i) − pre_C(d_i))

and the course's estimate is the average of effect_i weighted by w_i = 1 / (1/n_pre,i + 1/n_post,i), the
trainee's information (a trainee with few tickets counts little). Uncertainty comes from a bootstrap that
resamples people (trainees and controls separately, with replacement), because tickets of one person are not
independent; the standard error is the bootstrap's standard deviation and the interval its 2.5 / 97.5 %
percentiles. An effect is *reported* only when that interval excludes zero.

Assumption, stated on the pages: without the course, trainees' outcomes would have moved like the controls'
(parallel trends). Trainees chosen *because* of a bad month regress to their mean afterwards; the pre-window of
several weeks dilutes that, but does not remove it.
"""

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np

METRICS = ("on_time", "contacted", "solved", "satisfied", "reopened")
# For "reopened" lower is better; the sign of an improvement is reversed on the pages.
LOWER_IS_BETTER = frozenset({"reopened"})


@dataclasses.dataclass(frozen=True)
class Series:
    """One person's outcomes on one metric: (moment, 0/1) pairs, in any order."""

    person: int
    times: Sequence[dt.datetime]
    values: Sequence[float]


@dataclasses.dataclass(frozen=True)
class TraineeEffect:
    person: int
    split: dt.datetime
    pre_n: int
    post_n: int
    pre_rate: float | None
    post_rate: float | None
    control_change: float | None
    effect: float | None
    se: float | None


@dataclasses.dataclass(frozen=True)
class Estimate:
    effect: float | None
    se: float | None
    low: float | None
    high: float | None
    trainees: int
    controls: int
    trainee_tickets: int
    control_tickets: int
    per_trainee: list[TraineeEffect]

    @property
    def reported(self) -> bool:
        """An effect is claimed only when the 95 % interval excludes zero."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def _cells(
    series: Sequence[Series], splits: Sequence[dt.datetime], window: dt.timedelta
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every split k and person j: (pre sum, pre count, post sum, post count) in the windows around split k."""
    k, n = len(splits), len(series)
    pre_s, pre_n, post_s, post_n = (np.zeros((k, n)) for _ in range(4))
    lows = np.array([(s - window).timestamp() for s in splits])
    mids = np.array([s.timestamp() for s in splits])
    highs = np.array([(s + window).timestamp() for s in splits])
    for j, person in enumerate(series):
        if not len(person.times):
            continue
        order = np.argsort([t.timestamp() for t in person.times])
        t = np.array([person.times[i].timestamp() for i in order])
        y = np.array([float(person.values[i]) for i in order])
        cum = np.concatenate([[0.0], np.cumsum(y)])
        a, b, c = (np.searchsorted(t, x, side="left") for x in (lows, mids, highs))
        pre_n[:, j], post_n[:, j] = b - a, c - b
        pre_s[:, j], post_s[:, j] = cum[b] - cum[a], cum[c] - cum[b]
    return pre_s, pre_n, post_s, post_n


def _rate(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(n > 0, s / np.where(n > 0, n, 1), np.nan)
    return out


def estimate(
    trainees: Sequence[Series],
    splits: Mapping[int, dt.datetime],
    controls: Sequence[Series],
    *,
    window_days: int = 60,
    min_tickets: int = 3,
    reps: int = 400,
    seed: int = 0,
) -> Estimate:
    """The course's difference-in-differences on one metric. `splits` maps trainee person → completion moment.
    Trainees with fewer than `min_tickets` outcomes on either side are left out (shown with no estimate)."""
    window = dt.timedelta(days=window_days)
    people = [s for s in trainees if s.person in splits]
    dates = [splits[s.person] for s in people]
    if not people:
        return Estimate(None, None, None, None, 0, len(controls), 0, 0, [])
    own = _cells(people, dates, window)
    idx = np.arange(len(people))
    t_pre_s, t_pre_n = own[0][idx, idx], own[1][idx, idx]
    t_post_s, t_post_n = own[2][idx, idx], own[3][idx, idx]
    c_pre_s, c_pre_n, c_post_s, c_post_n = _cells(controls, dates, window)  # (trainee split, control person)

    def control_change(weights: np.ndarray) -> np.ndarray:
        change: np.ndarray = _rate(c_post_s @ weights, c_post_n @ weights) - _rate(c_pre_s @ weights, c_pre_n @ weights)
        return change

    usable = (t_pre_n >= min_tickets) & (t_post_n >= min_tickets)
    pre_rate, post_rate = _rate(t_pre_s, t_pre_n), _rate(t_post_s, t_post_n)
    change_all = control_change(np.ones(len(controls))) if controls else np.full(len(people), np.nan)
    effect_i = (post_rate - pre_rate) - change_all
    w = np.where(usable, 1.0 / (1.0 / np.maximum(t_pre_n, 1) + 1.0 / np.maximum(t_post_n, 1)), 0.0)
    ok = usable & ~np.isnan(effect_i)

    def combine(counts_t: np.ndarray, change: np.ndarray) -> float | None:
        e = (post_rate - pre_rate) - change
        good = ok & ~np.isnan(e)
        weight = (w * counts_t)[good]
        if weight.sum() <= 0:
            return None
        return float((weight * e[good]).sum() / weight.sum())

    point = combine(np.ones(len(people)), change_all)
    rng = np.random.default_rng(seed)
    draws: list[float] = []
    if point is not None and controls:
        for _r in range(reps):
            counts_t = np.bincount(rng.integers(0, len(people), len(people)), minlength=len(people)).astype(float)
            counts_c = np.bincount(rng.integers(0, len(controls), len(controls)), minlength=len(controls))
            value = combine(counts_t, control_change(counts_c.astype(float)))
            if value is not None:
                draws.append(value)
    se = float(np.std(draws, ddof=1)) if len(draws) > 1 else None
    low, high = (float(x) for x in np.percentile(draws, [2.5, 97.5])) if len(draws) > 1 else (None, None)
    per = []
    for i, s in enumerate(people):
        if usable[i] and not np.isnan(effect_i[i]):
            p0, p1 = pre_rate[i], post_rate[i]
            var = p0 * (1 - p0) / t_pre_n[i] + p1 * (1 - p1) / t_post_n[i]
            per.append(
                TraineeEffect(
                    s.person,
                    dates[i],
                    int(t_pre_n[i]),
                    int(t_post_n[i]),
                    float(p0),
                    float(p1),
                    float(change_all[i]),
                    float(effect_i[i]),
                    float(np.sqrt(var)),
                )
            )
        else:
            per.append(
                TraineeEffect(
                    s.person,
                    dates[i],
                    int(t_pre_n[i]),
                    int(t_post_n[i]),
                    None if np.isnan(pre_rate[i]) else float(pre_rate[i]),
                    None if np.isnan(post_rate[i]) else float(post_rate[i]),
                    None,
                    None,
                    None,
                )
            )
    return Estimate(
        point,
        se,
        low,
        high,
        int(usable.sum()),
        len(controls),
        int((t_pre_n + t_post_n)[usable].sum()),
        int(sum(len(c.times) for c in controls)),
        per,
    )
