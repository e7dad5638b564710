"""Matching community demands to registered Party members (`jiesu/community/matching.py`).

1. **Speed.** 10,000 open demands against 50,000 members, in one batch, as the worker or a city-wide re-match would
   run it. The members live in 400 communities (125 each; Mentougou had 15,387 members for roughly 300 communities,
   domain.md §3), and a member only serves their home community. Also a denser case (40 communities of 1,250).
   Target: under 5 s. Baseline in the same run: the naive first-come assignment.
2. **Quality.** A 30-day simulation of 20 generated communities (120 members each, about 3 wishes a community a
   day). Each task is pushed to a shortlist of three; each shortlisted member decides within 24 hours whether to
   claim it. The behaviour model (an assumption, printed below) lets a member claim with probability
       activity × (1 with the skill, else 0.3) × (1 at a wanted time, else 0.35) × (1 same compound, else 0.75)
       × 1 / (1 + open tasks).
   `activity` is hidden from both strategies (Beta(2, 3), mean 0.4); what they see are skills, places, times, open
   tasks, and past ratings. A claimed task is served two days later. The same demand stream and the same random
   draws go to both strategies.

    .venv/bin/python bench/match_bench.py [--seed 7]
"""

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jiesu.community import matching

SKILLS = 12
TARGET_S = 5.0


def members_of(rng: np.random.Generator, communities: int, per: int, compounds: int = 5) -> matching.Members:
    n = communities * per
    community = np.repeat(np.arange(communities), per)
    skills = np.zeros(n, dtype=np.int64)
    for _ in range(2):  # one to two skills each, some more common than others
        pick = rng.choice(SKILLS, size=n, p=np.linspace(2, 1, SKILLS) / np.linspace(2, 1, SKILLS).sum())
        skills |= 1 << pick
    posts = skills & np.where(rng.random(n) < 0.3, skills, 0)
    compound = community * compounds + rng.integers(0, compounds, n)
    centres = rng.uniform(0, 2, (communities * compounds, 2))  # compounds within 2 km
    slots = rng.choice([4, 24, 12, 48, 7, 56, 63], size=n)
    past = rng.poisson(3, n).astype(np.float64)
    return matching.Members(
        ids=np.arange(1, n + 1, dtype=np.int64),
        community=community.astype(np.int64),
        skills=skills,
        posts=posts,
        compound=compound.astype(np.int64),
        x=centres[compound, 0],
        y=centres[compound, 1],
        slots=slots.astype(np.int64),
        load=np.zeros(n),
        served=np.zeros(n),
        rating_sum=past * rng.uniform(3.0, 5.0, n),
        rating_n=past,
    )


def demands_of(
    rng: np.random.Generator, members: matching.Members, n: int, communities: int, compounds: int = 5
) -> matching.Demands:
    community = rng.integers(0, communities, n)
    compound = community * compounds + rng.integers(0, compounds, n)
    centres_x = np.zeros(communities * compounds)
    centres_y = np.zeros(communities * compounds)
    centres_x[members.compound] = members.x
    centres_y[members.compound] = members.y
    skill = rng.choice(SKILLS, size=n, p=np.linspace(1, 2, SKILLS) / np.linspace(1, 2, SKILLS).sum())
    return matching.Demands(
        ids=np.arange(1, n + 1, dtype=np.int64),
        community=community.astype(np.int64),
        skill=skill.astype(np.int64),
        compound=compound.astype(np.int64),
        x=centres_x[compound],
        y=centres_y[compound],
        slots=rng.choice([0, 4, 24, 8, 16], size=n).astype(np.int64),
    )


def speed(seed: int) -> None:
    print("## speed: 10,000 open demands × 50,000 members")
    for communities, per in ((400, 125), (40, 1250)):
        rng = np.random.default_rng(seed)
        members = members_of(rng, communities, per)
        demands = demands_of(rng, members, 10_000, communities)
        timings = {}
        for name, fn in (("matching", matching.match), ("first-come (naive)", matching.first_come)):
            started = time.perf_counter()
            found = fn(members, demands)
            timings[name] = time.perf_counter() - started
            empty = sum(not s for s in found.shortlists)
            print(
                f"  {communities} communities × {per}: {name:<20} {timings[name]:6.2f} s"
                f"  ({empty} demands without a candidate)"
            )
        verdict = "meets" if timings["matching"] < TARGET_S else "MISSES"
        ratio = timings["matching"] / timings["first-come (naive)"]
        print(f"  → matching {verdict} the {TARGET_S:.0f} s target; {ratio:.1f}× the naive time")


@dataclass
class Outcome:
    tasks: int = 0
    claimed_24h: int = 0
    skill_fit: int = 0
    same_compound: int = 0


def simulate(
    strategy: str, seed: int, days: int = 30, communities: int = 20, per: int = 120
) -> tuple[Outcome, np.ndarray]:
    rng = np.random.default_rng(seed)
    members = members_of(rng, communities, per)
    activity = rng.beta(2, 3, len(members))
    per_member = np.zeros(len(members))
    finishing: list[tuple[int, int]] = []  # (day, member position)
    outcome = Outcome()
    stream = np.random.default_rng(seed + 1)  # the same demands and draws for both strategies
    for day in range(days):
        for _day, m in [f for f in finishing if f[0] == day]:
            members.load[m] -= 1
            members.served[m] += 1
        finishing = [f for f in finishing if f[0] > day]
        demands = demands_of(stream, members, stream.poisson(3 * communities), communities)
        draws = stream.random((len(demands.ids), matching.SHORTLIST))
        order = stream.random((len(demands.ids), matching.SHORTLIST))
        fn = matching.match if strategy == "matching" else matching.first_come
        found = fn(members, demands)
        for i, shortlist in enumerate(found.shortlists):
            outcome.tasks += 1
            best = None
            for j, mid in enumerate(shortlist):
                m = int(mid) - 1
                has = (members.skills[m] >> demands.skill[i]) & 1
                wanted = demands.slots[i]
                on_time = wanted == 0 or (members.slots[m] & wanted) != 0
                p = (
                    activity[m]
                    * (1.0 if has else 0.3)
                    * (1.0 if on_time else 0.35)
                    * (1.0 if members.compound[m] == demands.compound[i] else 0.75)
                    / (1 + members.load[m])
                )
                if draws[i, j] < p and (best is None or order[i, j] < best[0]):
                    best = (order[i, j], m)
            if best is None:
                continue
            m = best[1]
            outcome.claimed_24h += 1
            outcome.skill_fit += int((members.skills[m] >> demands.skill[i]) & 1)
            outcome.same_compound += int(members.compound[m] == demands.compound[i])
            members.load[m] += 1
            per_member[m] += 1
            finishing.append((day + 2, m))
    return outcome, per_member


def gini(values: np.ndarray) -> float:
    v = np.sort(values)
    n = len(v)
    return float((2 * np.arange(1, n + 1) - n - 1).dot(v) / (n * v.sum())) if v.sum() else 0.0


def quality(seed: int) -> None:
    print("\n## quality: 30 days, 20 communities × 120 members, ~60 wishes a day, shortlist of 3")
    print(
        f"  {'strategy':<20} {'tasks':>6} {'claimed ≤24h':>13} {'skill fit':>10} {'same compound':>14} "
        f"{'members used':>13} {'max/member':>11} {'Gini':>6} {'CV':>6}"
    )
    for strategy in ("matching", "first-come (naive)"):
        out, per_member = simulate(strategy, seed)
        used = (per_member > 0).mean()
        cv = per_member.std() / per_member.mean() if per_member.mean() else 0.0
        print(
            f"  {strategy:<20} {out.tasks:>6} {out.claimed_24h / out.tasks:>12.1%} "
            f"{out.skill_fit / max(1, out.claimed_24h):>10.1%} {out.same_compound / max(1, out.claimed_24h):>14.1%} "
            f"{used:>13.1%} {int(per_member.max()):>11} {gini(per_member):>6.3f} {cv:>6.2f}"
        )
    print("  (skill fit and same compound: shares of the claimed tasks; Gini and CV: tasks per member, all members)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    speed(args.seed)
    quality(args.seed)


if __name__ == "__main__":
    main()
