"""The column path (`records.fast_counts`, used for a city-wide month and the flag queue) gives exactly the counts of
the plain loop (`records.compute`, used by the pages), on random trails with every awkward order of events."""

import datetime as dt
import random

import numpy as np

from jiesu.cadres import records

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RES = ["solved", "partly", "unsolved", None]
SAT = ["satisfied", "fairly_satisfied", "dissatisfied", "not_rated", None]


def random_trail(rng: random.Random, tickets: int) -> list[records.Row]:
    rows: list[records.Row] = []
    event = 0
    for ticket in range(1, tickets + 1):
        for _ in range(rng.randint(1, 9)):
            event += 1
            action = rng.choice(records.ACTIONS)
            actor = rng.choice([None, 1, 2, 3, 7, 11])
            data: dict[str, object] = {}
            if action in ("accept", "reply"):
                data = {"late": rng.random() < 0.3}
            elif action == "callback":
                data = {"resolution": rng.choice(RES), "satisfaction": rng.choice(SAT)}
                actor = None
            at = START + dt.timedelta(days=rng.uniform(-20, 40))
            rows.append((ticket, event, action, actor, data, at))
    return rows


def columns(rows: list[records.Row]) -> list[np.ndarray]:
    res = {None: 0, **records.RESOLUTION_CODES}
    sat = {None: 0, **records.SATISFACTION_CODES}
    return [
        np.array([r[0] for r in rows]),
        np.array([records.ACTION_CODES[r[2]] for r in rows]),
        np.array([-1 if r[3] is None else r[3] for r in rows]),
        np.array([bool(r[4].get("late")) for r in rows]),
        np.array([res[r[4].get("resolution")] for r in rows]),  # type: ignore[index]
        np.array([sat[r[4].get("satisfaction")] for r in rows]),  # type: ignore[index]
        np.array([START <= r[5] < END for r in rows]),
    ]


def test_fast_counts_equal_the_plain_loop_on_random_trails() -> None:
    rng = random.Random(20)
    for _ in range(30):
        rows = random_trail(rng, rng.randint(1, 60))
        plain = records.compute(rows, START, END)
        fast = records.fast_counts(*columns(rows))
        for figure in records.FIGURES:
            expected = {who: r.counts[figure] for who, r in plain.items() if r.counts[figure]}
            got = fast[figure]
            assert {i: int(got[i]) for i in np.flatnonzero(got)} == expected, figure


def test_a_rejection_counts_once_for_the_last_request_and_a_reopen_clears_the_reply() -> None:
    t = START + dt.timedelta(days=3)
    rows: list[records.Row] = [
        (1, 1, "request_return", 5, {}, t),
        (1, 2, "reject_return", None, {}, t),
        (1, 3, "reject_return", None, {}, t),  # nobody asked again
        (1, 4, "reply", 5, {"late": False}, t),
        (1, 5, "reopen", None, {}, t),
        (1, 6, "callback", None, {"resolution": "unsolved", "satisfaction": "dissatisfied"}, t),  # no reply in force
        (2, 7, "callback", None, {"resolution": "solved", "satisfaction": "satisfied"}, t),  # nor in a new ticket
    ]
    fast = records.fast_counts(*columns(rows))
    plain = records.compute(rows, START, END)
    assert plain[5].counts["returns_rejected"] == 1 == fast["returns_rejected"][5]
    assert plain[5].counts["reopens"] == 1 == fast["reopens"][5]
    assert plain[5].counts["called_back"] == 0 == fast["called_back"][5]


def test_flag_events_counted_per_window_equal_the_plain_loop() -> None:
    rng = random.Random(21)
    ends = [START + dt.timedelta(days=d) for d in (10, 31, 45)]
    for _ in range(20):
        rows = random_trail(rng, rng.randint(1, 60))
        cols = columns(rows)
        seconds = np.array([(r[5] - START).total_seconds() for r in rows])
        events = records.flag_events(cols[0], cols[1], cols[2], cols[3], cols[4])
        for figure, (at_rows, who) in events.items():
            got = records.window_counts(
                who, seconds[at_rows], np.array([(e - START).total_seconds() for e in ends]), 30, 12
            )
            for k, end in enumerate(ends):
                plain = records.compute(rows, end - dt.timedelta(days=30), end)
                expected = {p: r.counts[figure] for p, r in plain.items() if r.counts[figure]}
                assert {int(i): int(got[k, i]) for i in np.flatnonzero(got[k])} == expected, figure
