"""The performance record (实绩档案), derived from the ticket event trail. Pure: rows in, figures out.

A person's figures, each with the set of tickets behind it:
- `signed`: tickets they signed (签收); `signed_late`: of those, signed after the sign limit;
- `handled`: tickets they replied to (答复); `replied_late`: replied after the deadline;
- `called_back`: callbacks that judged a reply of theirs (the last reply before the callback);
  `solved` / `satisfied` / `rated` among them;
- `reopens`: reopens (重办) after a reply of theirs;
- `fake_closures`: the reply said it was done, the callback said "unsolved" (a fake-closure signal);
- `whistles`: whistles they blew (吹哨).

Only events in [start, end) count; the reply a callback judges may lie before `start` (rows of the same ticket
before `start` are read for that, and not counted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

ACTIONS = ("accept", "reply", "callback", "reopen", "whistle")
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

    def rec(actor: int) -> Record:
        r = records.get(actor)
        if r is None:
            r = records[actor] = Record()
        return r

    for ticket_id, _id, action, actor, data, at in rows:
        if ticket_id != current_ticket:
            current_ticket, replier = ticket_id, None
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
    return records
