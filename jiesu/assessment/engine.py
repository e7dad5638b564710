"""The production computation: DuckDB sums exact integers over the columnar facts, then `finish` turns one
month's per-unit sums into rates, scores, ranks and lists. Rates use exact fractions and are rounded once
(half up, 0.01 percentage points), so a recomputation gives the same numbers to the last digit."""

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import duckdb

from .rules import RESOLUTION_CODES, SATISFACTION_CODES, Rules

CENT = Decimal("0.01")
COUNT_FIELDS = ("volume", "excluded", "responded", "judged", "resolved_milli", "rated", "satisfied_milli")


@dataclasses.dataclass(frozen=True)
class Counts:
    volume: int = 0
    excluded: int = 0
    responded: int = 0
    judged: int = 0
    resolved_milli: int = 0
    rated: int = 0
    satisfied_milli: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(getattr(self, f) + getattr(other, f) for f in COUNT_FIELDS))


@dataclasses.dataclass(frozen=True)
class Unit:
    id: int
    code: str
    kind: str


@dataclasses.dataclass
class Result:
    unit_id: int
    group: str
    counts: Counts
    response_rate: Decimal | None
    resolution_rate: Decimal | None
    satisfaction_rate: Decimal | None
    bonus: Decimal
    score: Decimal | None
    rank: int | None = None
    ranked_count: int = 0
    previous_score: Decimal | None = None
    score_change: Decimal | None = None
    interview: bool = False
    recognition: bool = False
    focus: bool = False

    def as_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data.update(data.pop("counts"))
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()}


def _case(column: str, codes: Sequence[str], weights: Mapping[str, int], missing: int) -> str:
    whens = " ".join(f"WHEN {i} THEN {int(weights[c])}" for i, c in enumerate(codes) if c in weights)
    return f"(CASE {column} {whens} ELSE {missing} END)"


def aggregate_sql(source: str, rules: Rules, months: Iterable[int]) -> str:
    """Per (month, unit) exact sums. Every number in the SQL is an integer from a validated rule set."""
    responded = {
        "signed_and_contacted": "signed_in_time AND (contacted OR callback_voided)",
        "signed": "signed_in_time",
        "contacted": "(contacted OR callback_voided)",
    }[rules.response_basis]
    resolution = _case("resolution", RESOLUTION_CODES, rules.resolution_weights, -1)
    satisfaction = _case("satisfaction", SATISFACTION_CODES, rules.satisfaction_weights, -1)
    judged = f"NOT ex AND NOT callback_voided AND {resolution} >= 0"
    answered = "NOT ex AND NOT callback_voided"
    month_list = ", ".join(str(int(m)) for m in months)
    return f"""
        SELECT month, unit_id,
            count(*) FILTER (WHERE NOT ex) AS volume,
            count(*) FILTER (WHERE ex) AS excluded,
            count(*) FILTER (WHERE NOT ex AND {responded}) AS responded,
            count(*) FILTER (WHERE {judged}) AS judged,
            coalesce(sum({resolution}) FILTER (WHERE {judged}), 0) AS resolved_milli,
            count(*) FILTER (WHERE {answered} AND {satisfaction} >= 0) AS rated,
            coalesce(sum({satisfaction}) FILTER (WHERE {answered} AND {satisfaction} >= 0), 0) AS satisfied_milli
        FROM (SELECT *, {"unreasonable" if rules.exclude_unreasonable else "FALSE"} AS ex FROM {source}
              WHERE month IN ({month_list}))
        GROUP BY month, unit_id
        ORDER BY month, unit_id"""


def parquet_source(paths: Sequence[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{files}])"


def aggregate(
    source: str, rules_by_month: Mapping[int, Rules], con: duckdb.DuckDBPyConnection | None = None
) -> dict[int, dict[int, Counts]]:
    """month → unit id → counts; one query per distinct rule set among the months."""
    con = con or duckdb.connect()
    by_rules: dict[str, tuple[Rules, list[int]]] = {}
    for month, rules in rules_by_month.items():
        key = json.dumps(rules.to_json(), sort_keys=True)
        by_rules.setdefault(key, (rules, []))[1].append(month)
    out: dict[int, dict[int, Counts]] = {m: {} for m in rules_by_month}
    for rules, months in by_rules.values():
        for month, unit_id, *numbers in con.execute(aggregate_sql(source, rules, months)).fetchall():
            out[int(month)][int(unit_id)] = Counts(*(int(n) for n in numbers))
    return out


def _percent(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(100 * numerator, denominator) if denominator else None


def rates(c: Counts) -> tuple[Fraction | None, Fraction | None, Fraction | None]:
    return (
        _percent(c.responded, c.volume),
        _percent(c.resolved_milli, c.judged * 1000),
        _percent(c.satisfied_milli, c.rated * 1000),
    )


def rounded(value: Fraction | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _lowest(results: list[Result], n: int, units: Mapping[int, Unit]) -> set[int]:
    """The n lowest scores. Equal scores keep their shared rank, but the list takes exactly n units: among equal
    scores the one with more assessed tickets first (more residents behind the figure), then by code."""
    ordered = sorted(
        (r for r in results if r.score is not None),
        key=lambda r: (r.score, -r.counts.volume, units[r.unit_id].code),
    )
    return {r.unit_id for r in ordered[: max(n, 0)]}


def _highest(results: list[Result], n: int, units: Mapping[int, Unit]) -> set[int]:
    ordered = sorted(
        (r for r in results if r.score is not None),
        key=lambda r: (-r.score, -r.counts.volume, units[r.unit_id].code),  # type: ignore[operator]
    )
    return {r.unit_id for r in ordered[: max(n, 0)]}


def finish(
    counts: Mapping[int, Counts],
    units: Mapping[int, Unit],
    rules: Rules,
    bonuses: Mapping[int, Decimal] | None = None,
    previous: Mapping[int, Decimal | None] | None = None,
) -> list[Result]:
    """One month: rates, composite score, competition rank per group (ties share a rank), month-on-month change,
    and the 约谈, recognition and governance-focus (治理类街乡) lists."""
    bonuses, previous = bonuses or {}, previous or {}
    results: list[Result] = []
    for unit_id, c in counts.items():
        unit = units[unit_id]
        group = rules.group_of(unit.kind) or "other"
        response, resolution, satisfaction = rates(c)
        bonus = min(bonuses.get(unit_id, Decimal(0)), rules.bonus_cap)
        score = None
        if None not in (response, resolution, satisfaction) and c.volume >= rules.min_sample and group != "other":
            exact = (
                Fraction(rules.weight_response) * response  # type: ignore[operator]
                + Fraction(rules.weight_resolution) * resolution  # type: ignore[operator]
                + Fraction(rules.weight_satisfaction) * satisfaction  # type: ignore[operator]
            )
            score = rounded(exact) + bonus  # type: ignore[operator]
        prev = previous.get(unit_id)
        results.append(
            Result(
                unit_id=unit_id,
                group=group,
                counts=c,
                response_rate=rounded(response),
                resolution_rate=rounded(resolution),
                satisfaction_rate=rounded(satisfaction),
                bonus=bonus.quantize(CENT),
                score=score,
                previous_score=prev,
                score_change=(score - prev) if score is not None and prev is not None else None,
            )
        )
    by_group: dict[str, list[Result]] = {}
    for r in results:
        if r.score is not None:
            by_group.setdefault(r.group, []).append(r)
    for group, members in by_group.items():
        members.sort(key=lambda r: (-r.score, units[r.unit_id].code))  # type: ignore[operator]
        for i, r in enumerate(members):
            same = i and members[i - 1].score == r.score
            r.rank = members[i - 1].rank if same else i + 1
            r.ranked_count = len(members)
        low = _lowest(members, rules.interview_count, units)
        high = _highest(members, rules.recognition_count, units)
        for r in members:
            r.interview, r.recognition = r.unit_id in low, r.unit_id in high and r.unit_id not in low
        if group in rules.focus_groups and members:
            volumes = sorted(r.counts.volume for r in members)
            threshold = volumes[int(rules.focus_volume_quantile * (len(volumes) - 1))]
            focus = _lowest([r for r in members if r.counts.volume >= threshold], rules.focus_count, units)
            for r in members:
                r.focus = r.unit_id in focus
    results.sort(key=lambda r: (r.group, r.rank is None, r.rank or 0, units[r.unit_id].code))
    return results


def totals(results: Iterable[Result]) -> dict[str, dict[str, object]]:
    """Sums and rates per group and for everything ("all")."""
    sums: dict[str, Counts] = {}
    for r in results:
        for key in (r.group, "all"):
            sums[key] = sums.get(key, Counts()) + r.counts
    out: dict[str, dict[str, object]] = {}
    for key, c in sums.items():
        response, resolution, satisfaction = (str(rounded(x)) if x is not None else None for x in rates(c))
        out[key] = dataclasses.asdict(c) | {
            "response_rate": response,
            "resolution_rate": resolution,
            "satisfaction_rate": satisfaction,
        }
    return out


def digest(results: Iterable[Result]) -> str:
    rows = sorted((r.as_json() for r in results), key=lambda d: int(d["unit_id"]))  # type: ignore[call-overload]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
