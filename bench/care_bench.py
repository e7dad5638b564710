"""Care alerts (人文关怀, `jiesu/training/strain.py`) on a SIMULATED organisation, against a naive rule.

Everything here is simulated; no real staff data exists for this. The simulation (an assumption, stated so it
can be argued with):
- 2,000 staff in 200 units of 10, over 52 weeks, day by day. Units differ a lot in how busy they are: each unit's
  usual number of orders in hand is log-normal (median 8, a few units above 20); each person has their own factor
  (log-normal, sd 0.2). Everyone works Monday–Friday (3 % days off), 8 % of weekend days on duty; about 12
  actions a working day, 8 % of them after hours; about 2 callbacks a day, 6 % dissatisfied or unsolved (a
  dissatisfied one is reopened with probability 0.6); an abusive caller on 1 % of working days.
- 300 PLANTED strain episodes (15 % of staff once in the year), starting in weeks 4–46, lasting 3–8 weeks, each
  ending in a "crisis" (e.g. sick leave) in its last week. Their intensity ramps up linearly from 30 % to 100 %.
    * overload (50 %): orders in hand × 2.2 the person's usual, after-hours share 35 %, weekend work 80 %;
    * hostile callers (25 %): abusive callers on 30 % of days, dissatisfied callbacks 35 %;
    * covering for others (25 %): weekend work 90 %, after-hours share 25 %, orders in hand × 1.3.
- Every Sunday the measures of the last 14 days are computed for every person (as `care.measure_all` does from the
  trail) and both rules are applied:
    * jiesu's care rule (`strain.signals` + `strain.alerts`, the default thresholds);
    * the naive rule "orders in hand > X", with X set so it raises as many person-week alerts as the care rule
      (the same alert budget), and again with X at its best F1 on this very data (optimistic for it).
- Precision: the share of alerting person-weeks inside an episode. Recall: the share of episodes with an alert
  before their crisis week. Weeks of warning: crisis week − first alert week, median over the detected episodes.

    .venv/bin/python bench/care_bench.py [--seed 7]
"""

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jiesu.training import strain

STAFF, UNIT_SIZE, WEEKS, EPISODES = 2000, 10, 52, 300


@dataclasses.dataclass
class World:
    in_hand: np.ndarray  # (P, D)
    worked: np.ndarray
    actions: np.ndarray
    after: np.ndarray
    callbacks: list[list[list[bool]]]  # person → day → dissatisfied flags in order
    reopens: np.ndarray
    abusive: np.ndarray
    unit: np.ndarray
    episodes: list[tuple[int, int, int, str]]  # person, first week, crisis week, kind


def simulate(seed: int) -> World:
    rng = np.random.default_rng(seed)
    days = WEEKS * 7
    unit = np.repeat(np.arange(STAFF // UNIT_SIZE), UNIT_SIZE)
    unit_load = np.exp(rng.normal(np.log(8), 0.5, STAFF // UNIT_SIZE))
    usual = unit_load[unit] * np.exp(rng.normal(0, 0.2, STAFF))
    weekday = (np.arange(days) % 7) < 5
    load_mult = np.ones((STAFF, days))
    after_share = np.full((STAFF, days), 0.08)
    weekend_work = np.full((STAFF, days), 0.08)
    abusive_rate = np.full((STAFF, days), 0.01)
    dissatisfied = np.full((STAFF, days), 0.06)
    episodes = []
    people = rng.choice(STAFF, EPISODES, replace=False)
    for person in people:
        length = int(rng.integers(3, 9))
        first = int(rng.integers(4, 47))
        crisis = min(first + length - 1, WEEKS - 1)
        kind = rng.choice(["overload", "hostile", "covering"], p=[0.5, 0.25, 0.25])
        a, b = first * 7, (crisis + 1) * 7
        ramp = np.linspace(0.3, 1.0, b - a)
        if kind == "overload":
            load_mult[person, a:b] = 1 + 1.2 * ramp
            after_share[person, a:b] = 0.08 + 0.27 * ramp
            weekend_work[person, a:b] = 0.08 + 0.72 * ramp
        elif kind == "hostile":
            abusive_rate[person, a:b] = 0.01 + 0.29 * ramp
            dissatisfied[person, a:b] = 0.06 + 0.29 * ramp
        else:
            weekend_work[person, a:b] = 0.08 + 0.82 * ramp
            after_share[person, a:b] = 0.08 + 0.17 * ramp
            load_mult[person, a:b] = 1 + 0.3 * ramp
        episodes.append((int(person), first, crisis, str(kind)))
    worked = np.where(weekday, rng.random((STAFF, days)) > 0.03, rng.random((STAFF, days)) < weekend_work)
    in_hand = rng.poisson(usual[:, None] * load_mult)
    actions = np.where(worked, rng.poisson(12, (STAFF, days)), 0)
    after = rng.binomial(actions, np.where(weekday, after_share, 1.0))
    n_cb = np.where(worked, rng.poisson(2, (STAFF, days)), 0)
    callbacks: list[list[list[bool]]] = []
    reopens = np.zeros((STAFF, days), dtype=int)
    for p in range(STAFF):
        row = []
        for d in range(days):
            flags = list(rng.random(n_cb[p, d]) < dissatisfied[p, d])
            reopens[p, d] = int(sum(1 for f in flags if f and rng.random() < 0.6))
            row.append(flags)
        callbacks.append(row)
    abusive = (rng.random((STAFF, days)) < abusive_rate) & worked
    return World(in_hand, worked, actions, after, callbacks, reopens, abusive.astype(int), unit, episodes)


def measures(w: World, day: int) -> list[strain.Measures]:
    lo = max(0, day - 13)
    medians = {u: float(np.median(w.in_hand[w.unit == u, day])) for u in np.unique(w.unit)}
    out = []
    for p in range(STAFF):
        rest = 0
        d = day
        while d >= 0 and w.worked[p, d]:
            rest += 1
            d -= 1
        streak, d = 0, day
        while d >= max(0, day - 60):
            flags = w.callbacks[p][d]
            stop = False
            for f in reversed(flags):
                if not f:
                    stop = True
                    break
                streak += 1
            if stop:
                break
            d -= 1
        out.append(
            strain.Measures(
                in_hand=int(w.in_hand[p, day]),
                unit_median_in_hand=medians[int(w.unit[p])],
                actions=int(w.actions[p, lo : day + 1].sum()),
                after_hours_actions=int(w.after[p, lo : day + 1].sum()),
                days_without_rest=rest,
                dissatisfied_streak=streak,
                reopens=int(w.reopens[p, lo : day + 1].sum()),
                abusive=int(w.abusive[p, lo : day + 1].sum()),
            )
        )
    return out


def evaluate(fired: np.ndarray, w: World) -> dict[str, float]:
    """`fired`: (P, WEEKS) booleans."""
    inside = np.zeros_like(fired)
    for person, first, crisis, _kind in w.episodes:
        inside[person, first : crisis + 1] = True
    alerts = int(fired.sum())
    precision = float((fired & inside).sum() / alerts) if alerts else float("nan")
    warnings = []
    for person, first, crisis, _kind in w.episodes:
        hits = np.nonzero(fired[person, first : crisis + 1])[0]
        if len(hits):
            warnings.append(crisis - (first + int(hits[0])))
    recall = len(warnings) / len(w.episodes)
    outside = int((fired & ~inside).sum())
    return {
        "alerts": alerts,
        "precision": precision,
        "recall": recall,
        "warning": float(np.median(warnings)) if warnings else float("nan"),
        "false_per_100": outside / STAFF * 100,
        "f1": 2 * precision * recall / (precision + recall) if alerts and (precision + recall) else 0.0,
    }


def recall_by_kind(fired: np.ndarray, w: World) -> dict[str, str]:
    out = {}
    for kind in ("overload", "hostile", "covering"):
        eps = [e for e in w.episodes if e[3] == kind]
        hit = sum(1 for p, a, c, _k in eps if fired[p, a : c + 1].any())
        out[kind] = f"{hit}/{len(eps)}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.monotonic()
    w = simulate(args.seed)
    print(
        f"simulated {STAFF} staff × {WEEKS} weeks, {len(w.episodes)} planted episodes "
        f"in {time.monotonic() - started:.0f} s"
    )
    thresholds = strain.Thresholds()
    care = np.zeros((STAFF, WEEKS), dtype=bool)
    hand = np.zeros((STAFF, WEEKS), dtype=int)
    for week in range(WEEKS):
        day = week * 7 + 6
        for p, m in enumerate(measures(w, day)):
            care[p, week] = strain.alerts(strain.signals(m, thresholds), thresholds)
            hand[p, week] = m.in_hand
    budget = int(care.sum())
    xs = np.unique(hand)
    same_budget = min(xs, key=lambda x: abs(int((hand > x).sum()) - budget))
    best = max(xs, key=lambda x: evaluate(hand > x, w)["f1"])
    rows = [
        ("jiesu care rule (default thresholds)", care),
        (f"naive: orders in hand > {same_budget} (same alert budget)", hand > same_budget),
        (f"naive: orders in hand > {best} (best F1, tuned on this data)", hand > best),
    ]
    print(f"\n{'rule':<58}{'alert wks':>10}{'precision':>10}{'recall':>8}{'warning':>9}{'false/100/yr':>13}")
    for name, fired in rows:
        r = evaluate(fired, w)
        print(
            f"{name:<58}{r['alerts']:>10}{r['precision']:>10.2f}{r['recall']:>8.2f}"
            f"{r['warning']:>8.1f}w{r['false_per_100']:>13.1f}"
        )
    print("\nepisodes detected by kind:")
    for name, fired in rows:
        print(f"  {name:<58}{recall_by_kind(fired, w)}")
    print(f"\n(all data simulated; {time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
