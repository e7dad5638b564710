"""Matching demands to registered members (pure; numpy). Used by `services.publish_demand` for one task and by
`bench/match_bench.py` for thousands at once.

A member is a candidate for a demand when they live in the demand's community and have the skill it needs (the
skill `general` needs none). Each candidate gets a score, the sum of five weighted parts, each in [0, 1]:

- **skill**: 1 with the skill; 1.25 when the member also holds a service post of that skill (they volunteered
  for exactly this);
- **distance**: 1 in the same compound; else exp(−d / 1 km) from coordinates, or 0.4 when either has none;
- **time**: 1 when the member's available times meet the wanted times (or either is "any time"), else 0.1;
- **fairness**: 1 − (open tasks + ¼ · tasks served this quarter) / 4, floored at 0, so each open task costs as
  much as a compound's distance and work spreads over the members;
- **rating**: the member's mean resident rating shrunk towards 4 stars by 3 ratings' weight, mapped to [0, 1].

Demands are taken oldest first. The top `k` candidates form the shortlist the task is pushed to; the members on it
count as busier for the next demands (1 for the first, ½ for the others), so one strong member does not get
every task.
"""

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

WEIGHTS = {"skill": 3.0, "distance": 2.0, "time": 2.0, "fairness": 4.0, "rating": 1.0}
SHORTLIST = 3
GENERAL = -1  # a demand's skill index meaning "anyone can do it"

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass
class Members:
    """Registered members as columns. `skills` and `posts` are bit masks over skill indices (at most 63 skills);
    `x`, `y` are kilometres on a local plane (NaN when unknown); `compound` is −1 when unknown."""

    ids: Ints
    community: Ints
    skills: Ints
    posts: Ints
    compound: Ints
    x: Floats
    y: Floats
    slots: Ints
    load: Floats
    served: Floats
    rating_sum: Floats
    rating_n: Floats

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Demands:
    ids: Ints
    community: Ints
    skill: Ints
    compound: Ints
    x: Floats
    y: Floats
    slots: Ints


@dataclass
class Match:
    """Per demand: the shortlist (member ids, best first) and the score parts of each."""

    shortlists: list[list[int]] = field(default_factory=list)
    scores: list[list[float]] = field(default_factory=list)
    parts: list[list[dict[str, float]]] = field(default_factory=list)


def _index(members: Members) -> tuple[Ints, dict[int, tuple[int, int]]]:
    order = np.argsort(members.community, kind="stable")
    sorted_comm = members.community[order]
    keys, starts = np.unique(sorted_comm, return_index=True)
    ends = np.append(starts[1:], len(order))
    return order, {int(c): (int(s), int(e)) for c, s, e in zip(keys, starts, ends, strict=True)}


def score_parts(members: Members, idx: Ints, demands: Demands, d: int, load: Floats) -> dict[str, Floats]:
    """The five parts for demand `d` against the members at positions `idx`."""
    skill = int(demands.skill[d])
    skill_part: Floats = (
        np.ones(len(idx)) if skill == GENERAL else 1.0 + 0.25 * ((members.posts[idx] >> skill) & 1).astype(np.float64)
    )
    same = (members.compound[idx] == demands.compound[d]) & (demands.compound[d] >= 0)
    dist = np.hypot(members.x[idx] - demands.x[d], members.y[idx] - demands.y[d])
    near = np.where(np.isnan(dist), 0.4, np.exp(-np.nan_to_num(dist, nan=0.0)))
    distance = np.where(same, 1.0, near)
    wanted = int(demands.slots[d])
    slots = members.slots[idx]
    time = np.where((wanted == 0) | (slots == 0) | ((slots & wanted) != 0), 1.0, 0.1)
    fairness = np.clip(1.0 - (load[idx] + 0.25 * members.served[idx]) / 4.0, 0.0, 1.0)
    mean = (members.rating_sum[idx] + 4.0 * 3) / (members.rating_n[idx] + 3)
    rating = (mean - 1.0) / 4.0
    return {"skill": skill_part, "distance": distance, "time": time, "fairness": fairness, "rating": rating}


def match(members: Members, demands: Demands, k: int = SHORTLIST, explain: bool = False) -> Match:
    """Shortlists for `demands`, in their order. `members.load` is not changed (a copy is worked on)."""
    order, ranges = _index(members)
    load = members.load.astype(np.float64, copy=True)
    result = Match()
    bump = np.array([1.0] + [0.5] * (k - 1))
    for d in range(len(demands.ids)):
        start, end = ranges.get(int(demands.community[d]), (0, 0))
        idx = order[start:end]
        skill = int(demands.skill[d])
        if skill != GENERAL and len(idx):
            idx = idx[((members.skills[idx] >> skill) & 1) == 1]
        if not len(idx):
            result.shortlists.append([])
            result.scores.append([])
            if explain:
                result.parts.append([])
            continue
        parts = score_parts(members, idx, demands, d, load)
        total: Floats = np.zeros(len(idx))
        for name, value in parts.items():
            total += WEIGHTS[name] * value
        n = min(k, len(idx))
        top = np.argpartition(-total, n - 1)[:n] if len(idx) > n else np.arange(len(idx))
        top = top[np.lexsort((members.ids[idx[top]], -total[top]))]  # best first; ties by id, so runs repeat
        chosen = idx[top]
        load[chosen] += bump[:n]
        result.shortlists.append([int(i) for i in members.ids[chosen]])
        result.scores.append([round(float(s), 3) for s in total[top]])
        if explain:
            result.parts.append([{name: round(float(v[t]), 3) for name, v in parts.items()} for t in top])
    return result


def first_come(members: Members, demands: Demands, k: int = SHORTLIST, cap: int = 3) -> Match:
    """The naive baseline: each demand goes to the first `k` members in registration order (lowest id) of its
    community who hold fewer than `cap` open tasks, whatever their skills, place or times."""
    order, ranges = _index(members)
    load = members.load.astype(np.float64, copy=True)
    result = Match()
    for d in range(len(demands.ids)):
        start, end = ranges.get(int(demands.community[d]), (0, 0))
        idx = order[start:end]
        idx = idx[np.argsort(members.ids[idx], kind="stable")]
        free = idx[load[idx] < cap][:k]
        if len(free):
            load[free[0]] += 1
        result.shortlists.append([int(i) for i in members.ids[free]])
        result.scores.append([0.0] * len(free))
    return result
