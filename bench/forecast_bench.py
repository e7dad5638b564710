"""Forecast benchmark: the governance forecaster against two baselines in the same run.

Rolling origins: every 7 days over the evaluation year, each method forecasts the next 14 days of every series from
the history before the origin; the errors of all (series, origin, horizon) points are pooled.

- WAPE = Σ|actual − forecast| / Σ actual (the headline: it is defined on empty days too).
- MAPE = mean |actual − forecast| / actual over the days with at least one request.
- Coverage: the share of actual values inside the forecaster's 80 % interval.

Data:
1. **demo**: the demo city's intake rhythm (`jiesu/demo/seasons.py`: weekdays, Chinese holidays and 调休, heating
   from 15 November, July floods) drawn as Poisson counts for every level-2 category × district, at 2,000 requests a
   day for the city, 2023-01-01 … 2026-11-21 (seed 7). Evaluated on the last 52 weeks.
2. **nyc**: the longest real series in ../shared/data, NYC 311's 5,895 requests of 2010–2025: complaint type ×
   borough (10 series, about 0.1 a day each) and the two types city-wide. Evaluated on 2023–2024 (the data end in
   February 2025). US holidays are not modelled (weekday factors only).

    .venv/bin/python bench/forecast_bench.py [--only demo|nyc]
"""

import argparse
import csv
import datetime as dt
import functools
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators

import django

django.setup()

from jiesu.demo import seasons  # noqa: E402
from jiesu.governance import forecast as fc  # noqa: E402
from jiesu.intel import datasets  # noqa: E402
from jiesu.operations.reference_data import CATEGORIES  # noqa: E402

NYC = "us311/nyc/nyc311_sample_5895_2010-2025__nickmvega_data237-wi25.csv"
HORIZON = 14


def evaluate(series: dict[str, np.ndarray], first_day: dt.date, origins: list[int], kind: fc.DayKind) -> dict:
    acc: dict[str, list[np.ndarray]] = defaultdict(list)
    inside = total = 0
    t0 = time.perf_counter()
    for y in series.values():
        for o in origins:
            hist, actual = y[:o], y[o : o + HORIZON]
            f = fc.forecast(hist, first_day, HORIZON, kind)
            acc["actual"].append(actual)
            acc["model"].append(f.expected)
            acc["last_week"].append(fc.last_week(hist, HORIZON))
            acc["seasonal_mean"].append(fc.seasonal_mean(hist, HORIZON))
            inside += int(((actual >= f.low) & (actual <= f.high)).sum())
            total += len(actual)
    took = time.perf_counter() - t0
    actual = np.concatenate(acc["actual"])
    out = {"points": len(actual), "requests": int(actual.sum()), "seconds": took, "coverage": inside / total}
    for name in ("model", "last_week", "seasonal_mean"):
        pred = np.concatenate(acc[name])
        out[name] = (fc.wape(actual, pred), fc.mape(actual, pred))
    return out


def report(title: str, r: dict) -> None:
    print(f"\n{title}: {r['points']:,} forecast days, {r['requests']:,} requests; model time {r['seconds']:.1f} s")
    print(f"  {'method':<16}{'WAPE':>8}{'MAPE':>8}")
    for name, label in (("model", "forecaster"), ("last_week", "last week"), ("seasonal_mean", "seasonal mean")):
        w, m = r[name]
        print(f"  {label:<16}{w:8.3f}{m:8.3f}")
    best = min(r["last_week"][0], r["seasonal_mean"][0])
    verdict = "beats" if r["model"][0] < best else "does NOT beat"
    print(
        f"  the forecaster {verdict} both baselines on WAPE ({r['model'][0]:.3f} vs {best:.3f});"
        f" 80 % interval coverage {r['coverage']:.1%}"
    )


def demo_series() -> tuple[dict[str, np.ndarray], dt.date]:
    rng = np.random.default_rng(7)
    first, last = dt.date(2023, 1, 1), dt.date(2026, 11, 21)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    weights: dict[str, float] = defaultdict(float)
    seed = Path(__file__).resolve().parents[1] / "jiesu/orgs/seed/beijing_2023.csv"
    for row in csv.DictReader(seed.open(encoding="utf-8")):
        if row["kind"] not in ("city", "district") and row["parent_code"]:
            d = row["parent_code"]
            weights[d] += 8 if d in {"110105", "110108"} else 3 if d in {"110101", "110102"} else 1
    total_w = sum(weights.values())
    leaves = [(l2, leaf[0]) for _c1, _n1, level2 in CATEGORIES for l2, _n2, ls in level2 for leaf in ls]
    per_leaf = 2000 / len(leaves)
    day_w = np.array([seasons.day_weight(d) for d in days])
    series: dict[str, np.ndarray] = {}
    by_l2: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(days)))
    for l2, leaf in leaves:
        by_l2[l2] += per_leaf * day_w * np.array([seasons.season(leaf, d) for d in days])
    for l2, rate in by_l2.items():
        for district, w in weights.items():
            series[f"{l2}@{district}"] = rng.poisson(rate * w / total_w).astype(float)
    return series, first


def nyc_series() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dt.date, int]:
    rows = list(csv.DictReader((datasets.root() / NYC).open(encoding="utf-8")))
    first, last = dt.date(2010, 1, 1), dt.date(2025, 2, 6)
    n = (last - first).days + 1
    series: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    city: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    for r in rows:
        day = dt.datetime.strptime(r["Created Date"], "%m/%d/%Y %I:%M:%S %p").date()  # noqa: DTZ007 (local dates)
        if r["Borough"] == "Unspecified" or not (first <= day <= last):
            continue
        series[f"{r['Complaint Type']}@{r['Borough']}"][(day - first).days] += 1
        city[r["Complaint Type"]][(day - first).days] += 1
    return dict(series), dict(city), first, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["demo", "nyc"])
    args = parser.parse_args()
    if args.only in (None, "demo"):
        series, first = demo_series()
        n = len(next(iter(series.values())))
        origins = list(range(n - HORIZON - 7 * 51, n - HORIZON + 1, 7))
        kind = functools.lru_cache(maxsize=None)(seasons.day_kind)
        r = evaluate(series, first, origins, kind)
        report(f"demo city, {len(series)} series (level-2 category × district), 52 weekly origins", r)
    if args.only in (None, "nyc"):
        missing = datasets.missing(NYC)
        if missing:
            print(f"\nSKIP nyc: {missing}")
            return
        series, city, first, rows = nyc_series()
        start, end = (dt.date(2023, 1, 1) - first).days, (dt.date(2024, 12, 31) - first).days
        origins = list(range(start, end - HORIZON + 1, 7))
        r = evaluate(series, first, origins, fc.weekday_kind)
        report(f"NYC 311 ({rows:,} rows), {len(series)} series (type × borough), {len(origins)} weekly origins", r)
        r = evaluate(city, first, origins, fc.weekday_kind)
        report(f"NYC 311, {len(city)} series (type, city-wide), {len(origins)} weekly origins", r)


if __name__ == "__main__":
    main()
