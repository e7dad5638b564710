"""The performance record (实绩档案), derived from the ticket event trail. Pure: rows in, figures out.

A person's figures, each with the set of tickets behind it:
- `signed`: tickets they signed (签收); `signed_late`: of those, signed after the sign limit;
- `handled`: tickets they replied to (答复); `replied_late`: replied after the deadline;
- `called_back`: callbacks that judged a reply of theirs (the last reply before the callback);
  `solved` / `satisfied` / `rated` among them;
- `reopens`: reopens (重办) after a reply of theirs;
- `fake_closures`: the reply said it was done, the callback said "unsolved" (a fake-closure signal);
- `whistles`: whistles they blew (吹哨);
- `returns_rejected`: return requests (退单) of theirs the hotline centre rejected (judged unjustified).

Only events in [start, end) count; the reply a callback judges may lie before `start` (rows of the same ticket
before `start` are read for that, and not counted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

ACTIONS = ("accept", "reply", "callback", "reopen", "whistle", "request_return", "reject_return")
FIGURES = (
    "signed",
    "signed_late",
    "handled",
    "replied_late",
    "called_back",
    "solved",
    "rated",
    "satisfied",
    "reopens",
    "fake_closures",
    "whistles",
    "returns_rejected",
)
SATISFIED = frozenset({"satisfied", "fairly_satisfied"})

# (ticket_id, event id, action, actor_id, data, created_at); rows sorted by (ticket_id, event id)
Row = tuple[int, int, str, int | None, dict[str, object], dt.datetime]


@dataclass
class Record:
    figures: dict[str, set[int]] = field(default_factory=lambda: {f: set() for f in FIGURES})
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))

    def add(self, figure: str, ticket_id: int) -> None:
        self.figures[figure].add(ticket_id)
        self.counts[figure] += 1

    def count(self, figure: str) -> int:
        return self.counts[figure]

    def rate(self, part: str, whole: str) -> float | None:
        n = self.counts[whole]
        return round(self.counts[part] * 100 / n, 2) if n else None

    @property
    def signed_on_time_rate(self) -> float | None:
        n = self.counts["signed"]
        return round((n - self.counts["signed_late"]) * 100 / n, 2) if n else None

    @property
    def solved_rate(self) -> float | None:
        return self.rate("solved", "called_back")

    @property
    def satisfied_rate(self) -> float | None:
        return self.rate("satisfied", "rated")


def compute(rows: Iterable[Row], start: dt.datetime, end: dt.datetime) -> dict[int, Record]:
    """One pass over the rows, ticket by ticket, remembering each ticket's last replier."""
    records: dict[int, Record] = {}
    current_ticket = -1
    replier: int | None = None
    returner: int | None = None

    def rec(actor: int) -> Record:
        r = records.get(actor)
        if r is None:
            r = records[actor] = Record()
        return r

    for ticket_id, _id, action, actor, data, at in rows:
        if ticket_id != current_ticket:
            current_ticket, replier, returner = ticket_id, None, None
        counted = start <= at < end
        if action == "reply":
            replier = actor
            if counted and actor is not None:
                r = rec(actor)
                r.add("handled", ticket_id)
                if data.get("late"):
                    r.add("replied_late", ticket_id)
        elif action == "accept":
            if counted and actor is not None:
                r = rec(actor)
                r.add("signed", ticket_id)
                if data.get("late"):
                    r.add("signed_late", ticket_id)
        elif action == "callback":
            if counted and replier is not None:
                r = rec(replier)
                r.add("called_back", ticket_id)
                resolution = data.get("resolution")
                if resolution == "solved":
                    r.add("solved", ticket_id)
                elif resolution == "unsolved":
                    r.add("fake_closures", ticket_id)
                satisfaction = data.get("satisfaction")
                if satisfaction and satisfaction != "not_rated":
                    r.add("rated", ticket_id)
                    if satisfaction in SATISFIED:
                        r.add("satisfied", ticket_id)
        elif action == "reopen":
            if counted and replier is not None:
                rec(replier).add("reopens", ticket_id)
            replier = None
        elif action == "whistle" and counted and actor is not None:
            rec(actor).add("whistles", ticket_id)
        elif action == "request_return":
            returner = actor
        elif action == "reject_return":
            if counted and returner is not None:
                rec(returner).add("returns_rejected", ticket_id)
            returner = None
    return records


# --- the same rules over columns, for everybody at once (flags, a city-wide month, the bench) ------------------
ACTION_CODES = {a: i for i, a in enumerate(ACTIONS)}  # accept 0, reply 1, callback 2, reopen 3, whistle 4
RESOLUTION_CODES = {"solved": 1, "partly": 2, "unsolved": 3}
SATISFACTION_CODES = {"satisfied": 1, "fairly_satisfied": 2, "dissatisfied": 3, "not_rated": 4}


def _last_before(src: np.ndarray, queries: np.ndarray, clears: np.ndarray, ticket: np.ndarray) -> np.ndarray:
    """For each query position, the position of the last `src` row before it in the same ticket with no `clears` row
    in between, or -1. All three position arrays are sorted (rows are sorted by ticket and event)."""
    if not len(queries) or not len(src):
        return np.full(len(queries), -1, dtype=np.int64)
    j = np.searchsorted(src, queries) - 1
    found = src[np.maximum(j, 0)]
    ok = (j >= 0) & (ticket[found] == ticket[queries])
    if len(clears):
        k = np.searchsorted(clears, queries) - 1
        ok &= ~((k >= 0) & (clears[np.maximum(k, 0)] > found))
    return np.where(ok, found, -1)


def _replier_scan(rows: np.ndarray, action: np.ndarray, ticket: np.ndarray, actor: np.ndarray) -> np.ndarray:
    """Whoever gave the reply in force before each of `rows` (positions), or -1: walk back row by row, all queries at
    once, until a reply (found), a reopen or another ticket (none). A ticket has a handful of rows and the reply is
    usually the row just before, so this touches a few rows per query instead of the whole trail."""
    result = np.full(len(rows), -1, dtype=np.int64)
    pending = np.arange(len(rows))
    pos = rows - 1
    own = ticket[rows]
    while len(pending):
        inside = pos >= 0
        at = np.where(inside, pos, 0)
        a = action[at]
        same = inside & (ticket[at] == own)
        found = same & (a == ACTION_CODES["reply"])
        result[pending[found]] = actor[at[found]]
        go_on = same & ~found & (a != ACTION_CODES["reopen"])
        pending, pos, own = pending[go_on], pos[go_on] - 1, own[go_on]
    return result


def flag_events(
    ticket: np.ndarray, action: np.ndarray, actor: np.ndarray, late: np.ndarray, resolution: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The events behind the discipline figures, each with the person it counts for (the same rules as `compute`),
    over the whole trail: figure → (row positions, person). Callers count them per window (`window_counts`).

    Four passes over the whole trail (late marks, unsolved answers, reopens, return requests and rejections); the
    rest works on those few rows."""
    action = np.asarray(action, dtype=np.int8)
    actor = np.asarray(actor, dtype=np.int32)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    rows = np.flatnonzero(np.asarray(late, dtype=bool))
    rows = rows[action[rows] == ACTION_CODES["accept"]]
    out["signed_late"] = (rows, actor[rows])
    rows = np.flatnonzero(np.asarray(resolution) == RESOLUTION_CODES["unsolved"])
    rows = rows[action[rows] == ACTION_CODES["callback"]]
    out["fake_closures"] = (rows, _replier_scan(rows, action, ticket, actor))
    rows = np.flatnonzero(action == ACTION_CODES["reopen"])
    out["reopens"] = (rows, _replier_scan(rows, action, ticket, actor))
    returns = np.flatnonzero(action >= ACTION_CODES["request_return"])
    kinds = action[returns]
    asks = returns[kinds == ACTION_CODES["request_return"]]
    rejections = returns[kinds == ACTION_CODES["reject_return"]]
    by = _last_before(asks, rejections, rejections, ticket)
    out["returns_rejected"] = (rejections, np.where(by >= 0, actor[np.maximum(by, 0)], -1))
    return {figure: (rows[who >= 0], who[who >= 0]) for figure, (rows, who) in out.items()}


def window_counts(
    who: np.ndarray, at: np.ndarray, ends: np.ndarray, days: int, size: int, *, day: float = 86400
) -> np.ndarray:
    """Counts per window and person, as an array [window, person]: events (person `who`, time `at` in seconds) in
    [end − days, end) for each of `ends`. No sort: each event is placed between the windows' sorted boundaries (a
    search among a few dozen values), counted per (interval, person) in one `bincount`, and a window is the
    difference of two running totals."""
    at, who = np.asarray(at), np.asarray(who)
    if len(who) and (who.min() < 0 or who.max() >= size):  # people outside 0 … size−1 are not counted
        keep = (who >= 0) & (who < size)
        at, who = at[keep], who[keep]
    pairs = np.array([[end - days * day, end] for end in ends], dtype=np.float64).reshape(-1, 2)
    if at.dtype.kind in "iu":  # integer times: t ≥ x ⇔ t ≥ ⌈x⌉; search in the array's own type (no cast of it)
        pairs = np.ceil(pairs)
    pairs = pairs.astype(at.dtype)
    bounds = np.unique(pairs)
    # interval j holds the events with bounds[j-1] ≤ t < bounds[j]; below[j] = events with t < bounds[j]
    interval = np.searchsorted(bounds, at, side="right").astype(np.intp)
    interval *= size
    interval += who
    grid = np.bincount(interval, minlength=(len(bounds) + 1) * size)[: (len(bounds) + 1) * size]
    below = np.cumsum(grid.reshape(len(bounds) + 1, size), axis=0)
    lo, hi = np.searchsorted(bounds, pairs[:, 0]), np.searchsorted(bounds, pairs[:, 1])
    return np.asarray(below[hi] - below[lo], dtype=np.int64)


def fast_counts(
    ticket: np.ndarray,
    action: np.ndarray,
    actor: np.ndarray,
    late: np.ndarray,
    resolution: np.ndarray,
    satisfaction: np.ndarray,
    counted: np.ndarray,
) -> dict[str, np.ndarray]:
    """`compute`'s counts for every person, vectorised. Columns are sorted by (ticket, event id); `actor` is -1 for
    no actor, `action` uses ACTION_CODES, `counted` marks the events inside the period. Returns figure → counts
    indexed by actor id.

    Few passes over the whole trail, on compact types (int8 codes, int32 people): one combined key per event
    (action, counted, late) and one `bincount` over key × person give every figure that counts the actor of its own
    event; the figures judged against an earlier reply (callbacks, reopens) or return request (rejections) find it by
    binary search in the sorted positions of those rows, on the few rows concerned."""
    action = np.asarray(action, dtype=np.int8)
    actor = np.asarray(actor, dtype=np.int32)
    n = len(action)
    size = int(actor.max()) + 1 if n else 0
    people = size + 1  # bin 0 is "no actor"
    # key = (action × 2 + counted) × 2 + late, in 0 … 27; one bincount over key × person (bin 0: no actor)
    key = action * np.int8(4)
    key += np.asarray(counted, dtype=np.int8) * np.int8(2)
    key += np.asarray(late, dtype=np.int8)
    index = key.astype(np.intp)
    index *= people
    index += actor
    index += 1
    combo = np.bincount(index, minlength=28 * people).reshape(28, people)
    del index
    counted_code = key >> 1  # action × 2 + counted
    out: dict[str, np.ndarray] = {}

    def own(code: int, late_only: bool = False) -> np.ndarray:
        rows: np.ndarray = combo[code * 4 + 3] if late_only else combo[code * 4 + 2] + combo[code * 4 + 3]
        return np.array(rows[1:])

    for code, name, late_name in ((0, "signed", "signed_late"), (1, "handled", "replied_late")):
        out[name] = own(code)
        out[late_name] = own(code, late_only=True)
    out["whistles"] = own(ACTION_CODES["whistle"])

    def count(people_of: np.ndarray) -> np.ndarray:
        return np.bincount(people_of[people_of >= 0], minlength=size)

    def where(code: int, only_counted: bool) -> np.ndarray:
        if only_counted:
            return np.flatnonzero(counted_code == code * 2 + 1)
        return np.flatnonzero(action == code)

    reopens = where(ACTION_CODES["reopen"], False)

    def replier_before(rows: np.ndarray) -> np.ndarray:
        return _replier_scan(rows, action, ticket, actor)

    calls = where(ACTION_CODES["callback"], True)
    replier = replier_before(calls)
    res = np.asarray(resolution[calls], dtype=np.intp)
    sat = np.asarray(satisfaction[calls], dtype=np.intp)
    keep = replier >= 0
    grid = np.bincount((res[keep] * 5 + sat[keep]) * size + replier[keep], minlength=20 * size).reshape(4, 5, size)
    out["called_back"] = grid.sum(axis=(0, 1))
    out["solved"] = grid[RESOLUTION_CODES["solved"]].sum(axis=0)
    out["fake_closures"] = grid[RESOLUTION_CODES["unsolved"]].sum(axis=0)
    out["rated"] = grid[:, 1:4].sum(axis=(0, 1))  # satisfied, fairly satisfied, dissatisfied (not "not rated")
    out["satisfied"] = grid[:, 1:3].sum(axis=(0, 1))
    # a reopen counts against the reply before it, and clears it for what follows
    out["reopens"] = count(replier_before(reopens[key[reopens] >= ACTION_CODES["reopen"] * 4 + 2]))
    # a rejected return counts for whoever asked for it last (a rejection clears the request)
    asks = where(ACTION_CODES["request_return"], False)
    rejections = where(ACTION_CODES["reject_return"], False)
    judged = rejections[key[rejections] >= ACTION_CODES["reject_return"] * 4 + 2]
    by = _last_before(asks, judged, rejections, ticket)
    out["returns_rejected"] = count(np.where(by >= 0, actor[np.maximum(by, 0)], -1))
    return out
