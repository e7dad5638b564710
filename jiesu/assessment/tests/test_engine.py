"""Hand-computed months through the production engine (DuckDB) and the plain reference: rates, weights,
exclusions, partial satisfaction, minimum sample and ties in rank."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jiesu.assessment import engine
from jiesu.assessment import reference_engine as reference
from jiesu.assessment.facts import SCHEMA
from jiesu.assessment.models import RuleSet
from jiesu.assessment.rules import Rules

UNITS = {
    1: engine.Unit(1, "S1", "subdistrict"),
    2: engine.Unit(2, "S2", "subdistrict"),
    3: engine.Unit(3, "S3", "subdistrict"),
    4: engine.Unit(4, "S4", "subdistrict"),
    5: engine.Unit(5, "D1", "department"),
}


def row(
    unit: int,
    *,
    signed: bool = True,
    contacted: bool = True,
    res: int = 0,
    sat: int = 0,
    unreasonable: bool = False,
    voided: bool = False,
) -> dict[str, Any]:
    return {
        "unit_id": unit,
        "signed_in_time": signed,
        "contacted": contacted,
        "resolution": res,
        "satisfaction": sat,
        "unreasonable": unreasonable,
        "callback_voided": voided,
    }


def write(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    columns: dict[str, list[Any]] = {n: [] for n in SCHEMA.names}
    for i, r in enumerate(rows):
        full = {"ticket_id": i + 1, "callback_id": i + 1, "month": 202610, "round": 1, "returns": 0} | r
        for n in SCHEMA.names:
            columns[n].append(full[n])
    path = tmp_path / "facts.parquet"
    pq.write_table(pa.table(columns, schema=SCHEMA), path)
    return path


def rules(**changes: Any) -> Rules:
    rs = RuleSet(
        name="t",
        effective_from=dt.date(2020, 1, 1),
        min_sample=3,
        interview_count=1,
        recognition_count=1,
        focus_count=1,
    )
    for k, v in changes.items():
        setattr(rs, k, v)
    return Rules.of(rs)


def run(path: Path, r: Rules) -> dict[int, engine.Result]:
    counts = engine.aggregate(engine.parquet_source([path]), {202610: r})[202610]
    return {x.unit_id: x for x in engine.finish(counts, UNITS, r)}


def month_rows() -> list[dict[str, Any]]:
    return [
        # S1: 4 tickets. One signed late; one "partly" (0.5); one "fairly satisfied" (0.8); one not rated.
        row(1, signed=False),
        row(1, res=1),
        row(1, sat=1),
        row(1, sat=3),
        # S2: 4 tickets, all perfect, plus one unreasonable (excluded) that was dissatisfied.
        row(2),
        row(2),
        row(2),
        row(2),
        row(2, res=2, sat=2, unreasonable=True),
        # S3: 4 tickets; the requester not contacted once; one callback voided on appeal (was unsolved).
        row(3, contacted=False),
        row(3),
        row(3),
        row(3, res=2, sat=2, voided=True),
        # S4: 2 tickets only: below the minimum sample of 3.
        row(4),
        row(4),
        # D1: a department, ranked in its own group.
        row(5),
        row(5),
        row(5, res=2, sat=2),
    ]


def test_hand_computed_month(tmp_path: Path) -> None:
    out = run(write(tmp_path, month_rows()), rules())
    s1, s2, s3, s4, d1 = (out[i] for i in range(1, 6))
    # S1: responded 3/4 = 75 %; resolution (1 + .5 + 1 + 1)/4 = 87.5 %; satisfaction (1 + 1 + .8)/3 = 93.33 %
    assert (s1.response_rate, s1.resolution_rate, s1.satisfaction_rate) == (
        Decimal("75.00"),
        Decimal("87.50"),
        Decimal("93.33"),
    )
    assert s1.counts.rated == 3 and s1.counts.satisfied_milli == 2800
    # score = .3 × 75 + .35 × 87.5 + .35 × 93.333… = 22.5 + 30.625 + 32.6666… = 85.7916… → 85.79
    assert s1.score == Decimal("85.79")
    # S2: the unreasonable appeal is out of everything
    assert (s2.counts.volume, s2.counts.excluded, s2.score) == (4, 1, Decimal("100.00"))
    # S3: response 3/4; the voided callback is out of resolution and satisfaction (3 judged, all solved)
    assert (s3.response_rate, s3.counts.judged, s3.resolution_rate) == (Decimal("75.00"), 3, Decimal("100.00"))
    assert s3.score == Decimal("92.50")
    # S4: shown, not ranked
    assert (s4.score, s4.rank, s4.response_rate) == (None, None, Decimal("100.00"))
    assert [(x.rank, x.ranked_count) for x in (s2, s3, s1)] == [(1, 3), (2, 3), (3, 3)]
    assert (s1.interview, s2.recognition, s3.interview) == (True, True, False)
    assert (d1.group, d1.rank, d1.resolution_rate) == ("departments", 1, Decimal("66.67"))


def test_ties_share_a_rank_and_the_next_rank_is_skipped(tmp_path: Path) -> None:
    rows = [row(u) for u in (1, 2, 3) for _ in range(3)] + [row(1, signed=False), row(2, signed=False)] + [row(3)]
    out = run(write(tmp_path, rows), rules(interview_count=1))
    assert out[3].rank == 1
    assert (out[1].rank, out[2].rank) == (2, 2)  # 75 % response both: same score, same rank
    # the 约谈 list takes exactly one: of the two tied, the one with more tickets (S1: 4 against S2's 4 → by code)
    assert (out[1].interview, out[2].interview) == (True, False)


def test_partial_weights_and_score_weights_are_data(tmp_path: Path) -> None:
    path = write(tmp_path, month_rows())
    strict = rules(
        resolution_weights={"solved": 1000, "partly": 0, "unsolved": 0},
        satisfaction_weights={"satisfied": 1000, "fairly_satisfied": 0, "dissatisfied": 0, "not_rated": 0},
        weight_response=Decimal("0.1"),
        weight_resolution=Decimal("0.45"),
        weight_satisfaction=Decimal("0.45"),
    )
    s1 = run(path, strict)[1]
    # not rated now counts (as 0): 2 of 4 satisfied; resolution 3/4
    assert (s1.resolution_rate, s1.satisfaction_rate) == (Decimal("75.00"), Decimal("50.00"))
    assert s1.score == Decimal("63.75")  # 7.5 + 33.75 + 22.5


@pytest.mark.parametrize("basis", ["signed_and_contacted", "signed", "contacted"])
def test_reference_agrees(tmp_path: Path, basis: str) -> None:
    rows = month_rows()
    r = rules(response_basis=basis)
    prod = run(write(tmp_path, rows), r)
    ref = reference.assess(rows, {u.id: (u.code, u.kind) for u in UNITS.values()}, r)
    for unit_id, fig in ref.items():
        p = prod[unit_id]
        assert (p.response_rate, p.resolution_rate, p.satisfaction_rate, p.score, p.rank) == (
            fig["response_rate"],
            fig["resolution_rate"],
            fig["satisfaction_rate"],
            fig["score"],
            fig["rank"],
        )


def test_an_unreachable_caller_counts_as_the_rule_set_says(tmp_path: Path) -> None:
    """A callback without answers (not reached after the retries: resolution and satisfaction "not_asked", index 3
    and 4) is left out of both rates by default, and counted where the rule set gives "not_asked" a credit."""
    rows = [row(1), row(1), row(1), row(1, contacted=False, res=3, sat=4)]
    path = write(tmp_path, rows)
    default = run(path, rules())[1]
    assert (default.response_rate, default.counts.judged, default.counts.rated) == (Decimal("75.00"), 3, 3)
    assert (default.resolution_rate, default.satisfaction_rate) == (Decimal("100.00"), Decimal("100.00"))
    harsh = rules(
        resolution_weights={"solved": 1000, "partly": 500, "unsolved": 0, "not_asked": 0},
        satisfaction_weights={"satisfied": 1000, "fairly_satisfied": 800, "dissatisfied": 0, "not_asked": 0},
    )
    counted = run(path, harsh)[1]
    assert (counted.resolution_rate, counted.satisfaction_rate) == (Decimal("75.00"), Decimal("75.00"))
    ref = reference.assess(rows, {u.id: (u.code, u.kind) for u in UNITS.values()}, harsh)[1]
    assert (ref["judged"], ref["rated"]) == (4, 4)
