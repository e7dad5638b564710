"""The discipline rules (监察监督 flags) over a year of orders, from the ticket event trail.

Production: `jiesu.cadres.records.flag_events` attributes every event of the year to the person it counts for (the
record's rules over columns, one pass), then `records.window_counts` counts each rule's figure per person in each
month-end window and the rule's threshold makes the flags: the flags discipline inspection's monthly run would have
raised over the whole year (12 windows of 30 days × 4 rules).

Reference, in the same run: `records.compute`, the plain ticket-by-ticket loop, window by window, on the tickets of
every `--sample`-th unit (all of a unit's tickets, so none of its people's events is cut off). The plain loop holds
each row as a Python tuple and cannot hold a year of Beijing in memory; on its sample both must give identical counts
for every person, rule and window.

    .venv/bin/python bench/discipline_bench.py [--orders 24000000] [--handlers 50000] [--sample 200] [--seed 7]

The trail is the same synthetic as `cadre_bench.py`'s (orders spread over 365 days).
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cadre_bench import START, as_rows, synthetic

from jiesu.cadres import records

# the default rules (jiesu.cadres.services.DEFAULT_RULES): figure, at least N, within D days
RULES = (("signed_late", 3, 30), ("fake_closures", 2, 30), ("reopens", 3, 30), ("returns_rejected", 3, 30))
DAY = 86400


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=24_000_000)
    parser.add_argument("--handlers", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=200, help="the reference reads every N-th unit")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    c = synthetic(args.orders, args.handlers, args.seed, days=360)
    size = int(c["actor"].max()) + 1
    print(
        f"trail: {args.orders:,} orders over a year, {args.handlers:,} handlers, {len(c['ticket']):,} events "
        f"(made in {time.perf_counter() - started:.1f} s)"
    )
    ends = np.array([(k + 1) * 30 * DAY for k in range(12)])  # the month-end runs

    started = time.perf_counter()
    events = records.flag_events(c["ticket"], c["action"], c["actor"], c["late"], c["res"])
    attributed = time.perf_counter() - started
    counts: dict[str, np.ndarray] = {}
    flags = 0
    for figure, threshold, days in RULES:
        rows, who = events[figure]
        counts[figure] = records.window_counts(who, c["t"][rows], ends, days, size)
        flags += int((counts[figure] >= threshold).sum())
    fast_s = time.perf_counter() - started
    print(
        f"production (flag_events + window_counts): {fast_s:8.3f} s  (attribution {attributed:.3f} s); {flags:,} flags"
    )

    # the reference: the plain loop on every N-th unit's tickets
    units = c["actor"] // 5
    signed = np.flatnonzero((c["action"] == records.ACTION_CODES["accept"]) & (c["actor"] >= 0))
    mine = np.zeros(int(c["ticket"].max()) + 1, bool)
    mine[c["ticket"][signed[units[signed] % args.sample == 0]]] = True
    keep = mine[c["ticket"]]
    sub = {k: v[keep] for k, v in c.items()}
    del c, events
    rows_ = as_rows(sub)
    people = np.unique(sub["actor"][sub["actor"] >= 0])
    started = time.perf_counter()
    mismatches = 0
    for k, end in enumerate(ends.tolist()):
        plain = records.compute(rows_, START + dt.timedelta(seconds=end - 30 * DAY), START + dt.timedelta(seconds=end))
        for figure, _threshold, _days in RULES:
            expected = {p: r.counts[figure] for p, r in plain.items() if r.counts[figure]}
            got = counts[figure][k]
            mine_ = {int(p): int(got[p]) for p in people if got[p]}
            if expected != mine_:
                mismatches += 1
                print(f"  MISMATCH {figure} window {k + 1}")
    ref_s = time.perf_counter() - started
    share = len(rows_) / len(keep)
    print(
        f"reference  (compute, plain loop) on 1/{args.sample} of the units: {len(rows_):,} events "
        f"({share:.2%}), {len(people):,} people, 12 windows: {ref_s:8.3f} s "
        f"(≈ {ref_s / share:,.0f} s for the whole year at that rate)"
    )
    print("identical: " + ("yes" if mismatches == 0 else f"NO ({mismatches} figure-windows differ)"))
    if mismatches:
        sys.exit(1)


if __name__ == "__main__":
    main()
