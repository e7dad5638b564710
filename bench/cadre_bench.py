"""Performance records (实绩档案) for everybody in one month, from the ticket event trail.

The production path for a city-wide month is `jiesu.cadres.records.fast_counts` (the rules over numpy columns);
the reference is `jiesu.cadres.records.compute`, the plain ticket-by-ticket loop the pages use for one person (it
also keeps the ticket sets behind each figure). Both get the same synthetic trail and must give identical counts
for every person and figure.

Synthetic month: each order is signed (10 % late) and replied (5 % late) by one of the handlers of its unit, called
back (80 % solved, 10 % partly, 10 % unsolved; satisfaction to match), an unsolved one is reopened and handled again
by a colleague; 5 % of orders get a whistle; 8 % a return request before signing, half of them rejected; 3 % were
replied before the month and are only called back in it (the callback is judged against the earlier reply).

    .venv/bin/python bench/cadre_bench.py [--orders 200000] [--handlers 50000] [--seed 7]

The issue's target is 2 M orders and 50,000 handlers in < 2 s. The reference loop holds every row as a Python tuple,
so the default run is scaled down to 200,000 orders to stay within a shared machine's memory; `--orders 2000000`
runs the full size where memory allows.
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jiesu.cadres import records

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def synthetic(orders: int, handlers: int, seed: int, days: int = 25) -> dict[str, np.ndarray]:
    """The trail as compact columns (int32 tickets, people and seconds, int8 codes), ticket by ticket in event order,
    the way the column path reads it. Orders start uniformly over `days` days from START."""
    rng = np.random.default_rng(seed)
    per_unit = 5
    unit = rng.integers(0, max(1, handlers // per_unit), orders, dtype=np.int32)
    first = unit * per_unit + rng.integers(0, per_unit, orders, dtype=np.int32)
    second = unit * per_unit + rng.integers(0, per_unit, orders, dtype=np.int32)
    del unit
    late_sign, late_reply = rng.random(orders, dtype=np.float32) < 0.10, rng.random(orders, dtype=np.float32) < 0.05
    u = rng.random(orders, dtype=np.float32)
    res = np.where(u < 0.8, 1, np.where(u < 0.9, 2, 3)).astype(np.int8)
    del u
    sat = np.where(
        res == 1,
        rng.choice(np.array([1, 2, 4], np.int8), orders, p=[0.8, 0.15, 0.05]),
        rng.choice(np.array([2, 3, 4], np.int8), orders),
    ).astype(np.int8)
    whistle = rng.random(orders, dtype=np.float32) < 0.05
    early = rng.random(orders, dtype=np.float32) < 0.03  # replied before the month
    res2 = np.where(rng.random(orders, dtype=np.float32) < 0.7, 1, 3).astype(np.int8)
    t0 = (rng.random(orders) * (days * 86400)).astype(np.int32)
    asked = rng.random(orders, dtype=np.float32) < 0.08  # a return request (退单) before signing; half rejected
    rejected = asked & (rng.random(orders, dtype=np.float32) < 0.5)
    again = res == 3  # unsolved: reopened and handled again by a colleague
    start = t0 - np.where(early, 30 * 86400, 0).astype(np.int32)
    all_, none = np.ones(orders, bool), np.zeros(orders, bool)
    zero, nobody = np.zeros(orders, np.int8), np.full(orders, -1, np.int32)
    # (which orders, action, actor, late, resolution, satisfaction, time), in event order within an order
    slots = [
        (asked, 5, first, none, zero, zero, start - 7200),
        (rejected, 6, nobody, none, zero, zero, start - 3600),
        (all_, 0, first, late_sign, zero, zero, start),
        (whistle, 4, first, none, zero, zero, start + 3600),
        (all_, 1, first, late_reply, zero, zero, start + 7200),
        (all_, 2, nobody, none, res, sat, t0 + 86400),
        (again, 3, nobody, none, zero, zero, t0 + 86400 + 60),
        (again, 0, second, none, zero, zero, t0 + 2 * 86400),
        (again, 1, second, none, zero, zero, t0 + 3 * 86400),
        (again, 2, nobody, none, res2, np.where(res2 == 1, 1, 3).astype(np.int8), t0 + 4 * 86400),
    ]
    per_order = np.zeros(orders, np.int8)
    for mask, *_rest in slots:
        per_order += mask
    filled = np.zeros(orders + 1, np.int64)
    np.cumsum(per_order, out=filled[1:])
    total = int(filled[-1])
    filled = filled[:-1]
    out = {
        "ticket": np.empty(total, np.int32),
        "action": np.empty(total, np.int8),
        "actor": np.empty(total, np.int32),
        "late": np.empty(total, bool),
        "res": np.empty(total, np.int8),
        "sat": np.empty(total, np.int8),
        "t": np.empty(total, np.int32),
    }
    for mask, action, actor, late, r, s_, t in slots:
        ids = np.flatnonzero(mask)
        at = filled[ids]
        out["ticket"][at] = ids
        out["action"][at] = action
        out["actor"][at] = actor[ids]
        out["late"][at] = late[ids]
        out["res"][at] = r[ids]
        out["sat"][at] = s_[ids]
        out["t"][at] = t[ids]
        filled[ids] += 1
    return out


def as_rows(c: dict[str, np.ndarray]) -> list[records.Row]:
    names = records.ACTIONS
    res = {1: "solved", 2: "partly", 3: "unsolved"}
    sat = {1: "satisfied", 2: "fairly_satisfied", 3: "dissatisfied", 4: "not_rated"}
    rows: list[records.Row] = []
    for i, (t, a, who, late, r, s, sec) in enumerate(
        zip(
            c["ticket"].tolist(),
            c["action"].tolist(),
            c["actor"].tolist(),
            c["late"].tolist(),
            c["res"].tolist(),
            c["sat"].tolist(),
            c["t"].tolist(),
            strict=True,
        )
    ):
        data: dict[str, object] = {"late": late} if a in (0, 1) else {}
        if a == 2:
            data = {"resolution": res[r], "satisfaction": sat[s]}
        rows.append((t, i, names[a], who if who >= 0 else None, data, START + dt.timedelta(seconds=sec)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--handlers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    c = synthetic(args.orders, args.handlers, args.seed)
    print(
        f"trail: {args.orders:,} orders, {args.handlers:,} handlers, {len(c['ticket']):,} events "
        f"(made in {time.perf_counter() - started:.1f} s)"
    )
    counted = (c["t"] >= 0) & (c["t"] < (END - START).total_seconds())

    started = time.perf_counter()
    fast = records.fast_counts(c["ticket"], c["action"], c["actor"], c["late"], c["res"], c["sat"], counted)
    fast_s = time.perf_counter() - started

    rows = as_rows(c)
    started = time.perf_counter()
    ref = records.compute(rows, START, END)
    ref_s = time.perf_counter() - started

    mismatches = 0
    for figure in records.FIGURES:
        expected = {who: r.counts[figure] for who, r in ref.items() if r.counts[figure]}
        got = fast[figure]
        people_with = np.flatnonzero(got)
        if expected != dict(zip(people_with.tolist(), got[people_with].tolist(), strict=True)):
            mismatches += 1
            print(f"  MISMATCH in {figure}")
    people = len(ref)
    print(f"people with a record: {people:,}; figures compared: {len(records.FIGURES)} × {people:,}")
    print(f"production (fast_counts, numpy columns): {fast_s:8.3f} s")
    print(f"reference  (compute, plain loop)       : {ref_s:8.3f} s   ({ref_s / fast_s:.1f}× slower)")
    print("identical: " + ("yes" if mismatches == 0 else f"NO ({mismatches} figures differ)"))
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
