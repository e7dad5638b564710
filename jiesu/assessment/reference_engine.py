"""A deliberately plain second implementation of the same rules, for checking the production path
(`engine`): it walks the fact rows one by one in Python, keeps every figure as an exact fraction, and ranks
with its own loop. `bench/assess_bench.py` and the tests require both to agree on every unit.

`judge` is the rule for one ticket; the drill-down pages use it too, so the credit shown next to each ticket is
the credit that makes up the figures."""

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from .rules import RESOLUTION_CODES, SATISFACTION_CODES, Rules


def _round(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class Judgement:
    """One fact row under the rules. None: not in that figure's denominator."""

    counted: bool  # False: excluded from the assessment (unreasonable appeal)
    responded: bool | None
    resolution_milli: int | None
    satisfaction_milli: int | None


def judge(row: Mapping[str, Any], rules: Rules) -> Judgement:
    if rules.exclude_unreasonable and row["unreasonable"]:
        return Judgement(False, None, None, None)
    contacted = row["contacted"] or row["callback_voided"]
    if rules.response_basis == "signed":
        responded = row["signed_in_time"]
    elif rules.response_basis == "contacted":
        responded = contacted
    else:
        responded = row["signed_in_time"] and contacted
    if row["callback_voided"]:
        return Judgement(True, bool(responded), None, None)
    return Judgement(
        True,
        bool(responded),
        rules.resolution_weights.get(RESOLUTION_CODES[row["resolution"]]),
        rules.satisfaction_weights.get(SATISFACTION_CODES[row["satisfaction"]]),
    )


def assess(
    rows: Iterable[Mapping[str, Any]],
    unit_kinds: Mapping[int, tuple[str, str]],
    rules: Rules,
    bonuses: Mapping[int, Decimal] | None = None,
) -> dict[int, dict[str, Any]]:
    """unit id → its figures, for the fact rows of one month. `unit_kinds` maps unit id → (code, kind)."""
    tally: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        t = tally[row["unit_id"]]
        j = judge(row, rules)
        if not j.counted:
            t["excluded"] += 1
            continue
        t["volume"] += 1
        t["responded"] += bool(j.responded)
        if j.resolution_milli is not None:
            t["judged"] += 1
            t["resolved_milli"] += j.resolution_milli
        if j.satisfaction_milli is not None:
            t["rated"] += 1
            t["satisfied_milli"] += j.satisfaction_milli

    out: dict[int, dict[str, Any]] = {}
    for unit_id, t in tally.items():
        code, kind = unit_kinds[unit_id]
        group = next((g for g, kinds in rules.groups.items() if kind in kinds), "other")
        fig: dict[str, Any] = {
            "group": group,
            "code": code,
            **{
                k: t[k]
                for k in ("volume", "excluded", "responded", "judged", "resolved_milli", "rated", "satisfied_milli")
            },
        }
        exact = [
            Fraction(100 * t["responded"], t["volume"]) if t["volume"] else None,
            Fraction(100 * t["resolved_milli"], 1000 * t["judged"]) if t["judged"] else None,
            Fraction(100 * t["satisfied_milli"], 1000 * t["rated"]) if t["rated"] else None,
        ]
        fig["response_rate"], fig["resolution_rate"], fig["satisfaction_rate"] = (
            _round(x) if x is not None else None for x in exact
        )
        bonus = min((bonuses or {}).get(unit_id, Decimal(0)), rules.bonus_cap)
        fig["bonus"] = bonus.quantize(Decimal("0.01"))
        fig["score"] = None
        if all(x is not None for x in exact) and t["volume"] >= rules.min_sample and group != "other":
            weights = (rules.weight_response, rules.weight_resolution, rules.weight_satisfaction)
            known = [x for x in exact if x is not None]
            total = sum((Fraction(w) * x for w, x in zip(weights, known, strict=True)), Fraction(0))
            fig["score"] = _round(total) + bonus
        fig["rank"] = None
        out[unit_id] = fig

    for group in {f["group"] for f in out.values()}:
        ranked = [u for u, f in out.items() if f["group"] == group and f["score"] is not None]
        for u in ranked:  # rank = 1 + number of units with a strictly higher score
            out[u]["rank"] = 1 + sum(1 for v in ranked if out[v]["score"] > out[u]["score"])
    return out
