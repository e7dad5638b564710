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
    indexed by actor id."""
    n = len(ticket)
    size = int(actor.max()) + 1 if n else 0
    first = np.ones(n, dtype=bool)
    first[1:] = ticket[1:] != ticket[:-1]
    # the replier in force at each event: set by a reply, cleared by a reopen and at each new ticket
    is_reply = action == ACTION_CODES["reply"]
    sets = is_reply | (action == ACTION_CODES["reopen"]) | first
    value = np.where(is_reply, actor, -1)
    last_set = np.maximum.accumulate(np.where(sets, np.arange(n), 0))
    out: dict[str, np.ndarray] = {}

    def count(who: np.ndarray) -> np.ndarray:
        return np.bincount(who[who >= 0], minlength=size)

    def events(code: int) -> np.ndarray:
        return np.flatnonzero((action == code) & counted)

    for code, name, late_name in ((0, "signed", "signed_late"), (1, "handled", "replied_late")):
        sel = events(code)
        who = actor[sel]
        out[name] = count(who)
        out[late_name] = count(who[late[sel]])
    sel = events(ACTION_CODES["callback"])
    who = value[last_set[sel]]  # the last reply before the callback
    res, sat = resolution[sel], satisfaction[sel]
    out["called_back"] = count(who)
    out["solved"] = count(who[res == RESOLUTION_CODES["solved"]])
    out["fake_closures"] = count(who[res == RESOLUTION_CODES["unsolved"]])
    rated = (sat > 0) & (sat != SATISFACTION_CODES["not_rated"])
    out["rated"] = count(who[rated])
    out["satisfied"] = count(who[rated & (sat <= SATISFACTION_CODES["fairly_satisfied"])])
    # a reopen clears the replier for what follows but is itself judged against the replier before it
    sel = events(ACTION_CODES["reopen"])
    sel = sel[~first[sel]]
    out["reopens"] = count(value[last_set[sel - 1]])
    out["whistles"] = count(actor[events(ACTION_CODES["whistle"])])
    # a rejected return counts for whoever asked for it last
    asks = action == ACTION_CODES["request_return"]
    last_ask = np.maximum.accumulate(np.where(asks | first, np.arange(n), 0))
    asker = np.where(asks, actor, -1)
    out["returns_rejected"] = count(asker[last_ask[events(ACTION_CODES["reject_return"])]])
    return out
