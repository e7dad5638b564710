"""The difference-in-differences estimator on small hand-made data sets (pure; no database)."""

import datetime as dt

import numpy as np

from jiesu.training import transfer

SPLIT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def series(person: int, before: list[int], after: list[int]) -> transfer.Series:
    """Outcomes one a day: `before` in the days before SPLIT, `after` in the days after it."""
    times = [SPLIT - dt.timedelta(days=i + 1) for i in range(len(before))]
    times += [SPLIT + dt.timedelta(days=i + 1) for i in range(len(after))]
    return transfer.Series(person, times, [float(v) for v in before + after])


def test_hand_computed_difference_in_differences() -> None:
    # trainees: 2 of 4 on time before (0.5), 4 of 4 after (1.0): +0.5
    # controls pooled: before 4 of 8 (0.5), after 6 of 8 (0.75): +0.25 → DiD = +0.25
    trainees = [series(1, [1, 0, 1, 0], [1, 1, 1, 1]), series(2, [0, 1, 1, 0], [1, 1, 1, 1])]
    controls = [series(10, [1, 0, 1, 0], [1, 1, 1, 0]), series(11, [0, 1, 0, 1], [1, 0, 1, 1])]
    est = transfer.estimate(trainees, {1: SPLIT, 2: SPLIT}, controls, window_days=30, min_tickets=3, reps=200)
    assert est.effect is not None and abs(est.effect - 0.25) < 1e-9
    assert est.trainees == 2 and est.controls == 2 and est.trainee_tickets == 16
    assert [round(t.effect or 0, 9) for t in est.per_trainee] == [0.25, 0.25]
    assert est.per_trainee[0].pre_rate == 0.5 and est.per_trainee[0].post_rate == 1.0
    assert est.se is not None and est.se >= 0 and est.low is not None and est.high is not None


def test_outcomes_outside_the_window_and_thin_trainees_are_left_out() -> None:
    far = transfer.Series(3, [SPLIT - dt.timedelta(days=90), SPLIT + dt.timedelta(days=90)], [0.0, 1.0])
    thin = series(4, [0], [1])
    controls = [series(10, [1, 0, 1, 0], [1, 1, 1, 0])]
    est = transfer.estimate([far, thin], {3: SPLIT, 4: SPLIT}, controls, window_days=30, min_tickets=3, reps=50)
    assert est.effect is None and est.trainees == 0 and not est.reported
    assert all(t.effect is None for t in est.per_trainee)


def test_a_planted_effect_is_reported_and_no_effect_is_not() -> None:
    rng = np.random.default_rng(3)

    def people(first: int, n: int, before: float, after: float) -> list[transfer.Series]:
        return [series(first + i, list(rng.random(40) < before), list(rng.random(40) < after)) for i in range(n)]

    trainees = people(1, 30, 0.70, 0.85)
    controls = people(100, 60, 0.75, 0.77)
    splits = {s.person: SPLIT for s in trainees}
    est = transfer.estimate(trainees, splits, controls, window_days=60, reps=300)
    assert est.reported and est.effect is not None and 0.08 < est.effect < 0.18
    flat = people(200, 30, 0.75, 0.77)
    est0 = transfer.estimate(flat, {s.person: SPLIT for s in flat}, controls, window_days=60, reps=300)
    assert est0.effect is not None and abs(est0.effect) < 0.05
