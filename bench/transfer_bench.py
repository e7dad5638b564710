"""The transfer estimator (`jiesu/training/transfer.py`) on SIMULATED courses with a planted effect.

Everything here is simulated. Each simulated course has 30 trainees and 60 comparable untrained colleagues over
240 days; each person handles about one ticket a working day. A person's outcome (e.g. "requester contacted") is
a coin with their own probability: log-odds from a person effect (sd 0.5) around 80 %, trainees chosen weaker
(−0.4 on the log-odds scale, as a refresher after lost points would be), plus a city-wide drift that everybody
shares (+0.3 log-odds from day 120 on: a campaign, a new rule) and day-to-day noise. Trainees complete the course
on day 120 ± 15 days; from then on their probability rises by the PLANTED effect (in percentage points, added
on the probability scale). The estimator uses 60-day windows and 300 bootstrap draws.

Scenarios: planted +8 pp (100 courses) and no effect (100 courses). Reported for each: the mean estimate, its
bias relative to the planted effect, the coverage of the 95 % interval, and how often an effect is reported
(the interval excludes zero). Baseline in the same run: the naive before/after difference of the trainees alone,
which takes the shared drift for an effect.

    .venv/bin/python bench/transfer_bench.py [--courses 100] [--seed 11]
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jiesu.training import transfer

DAY0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAYS, TRAINEES, CONTROLS, WINDOW = 240, 30, 60, 60


def logistic(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1 / (1 + np.exp(-x))
    return out


def course(
    rng: np.random.Generator, effect: float
) -> tuple[list[transfer.Series], dict[int, dt.datetime], list[transfer.Series], float]:
    series, splits = [], {}
    day = np.arange(DAYS)
    working = (day % 7) < 5
    drift = np.where(day >= 120, 0.3, 0.0)
    naive = []
    for i in range(TRAINEES + CONTROLS):
        trainee = i < TRAINEES
        base = np.log(0.8 / 0.2) + rng.normal(0, 0.5) - (0.4 if trainee else 0.0)
        p = logistic(base + drift + rng.normal(0, 0.1, DAYS))
        split = 120 + int(rng.integers(-15, 16))
        if trainee:
            p = np.where(day >= split, np.minimum(p + effect, 0.99), p)
            splits[i] = DAY0 + dt.timedelta(days=split)
        has = working & (rng.random(DAYS) < 0.9)
        y = rng.random(DAYS) < p
        times = [DAY0 + dt.timedelta(days=int(d), hours=10) for d in day[has]]
        series.append(transfer.Series(i, times, y[has].astype(float).tolist()))
        if trainee:
            pre = y[has & (day < split) & (day >= split - WINDOW)]
            post = y[has & (day >= split) & (day < split + WINDOW)]
            naive.append(post.mean() - pre.mean())
    return series[:TRAINEES], splits, series[TRAINEES:], float(np.mean(naive))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.monotonic()
    print(f"{'scenario':<16}{'mean DiD':>10}{'bias':>9}{'coverage':>10}{'reported':>10}{'naive before/after':>20}")
    for planted in (0.08, 0.0):
        estimates, covered, reported, naive = [], 0, 0, []
        for c in range(args.courses):
            trainees, splits, controls, naive_diff = course(rng, planted)
            est = transfer.estimate(trainees, splits, controls, window_days=WINDOW, reps=300, seed=c)
            assert est.effect is not None and est.low is not None and est.high is not None
            estimates.append(est.effect)
            covered += est.low <= planted <= est.high
            reported += est.reported
            naive.append(naive_diff)
        mean = float(np.mean(estimates))
        bias = f"{(mean - planted) / planted * 100:+.1f}%" if planted else f"{mean * 100:+.2f}pp"
        name = f"planted +{planted * 100:.0f} pp" if planted else "no effect"
        print(
            f"{name:<16}{mean * 100:>+9.2f}pp{bias:>9}{covered / args.courses:>10.2f}"
            f"{reported / args.courses:>10.2f}{np.mean(naive) * 100:>+18.2f}pp"
        )
    print(f"\n({args.courses} simulated courses per scenario; all data simulated; {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
