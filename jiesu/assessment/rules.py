"""The rule set as plain data (what a snapshot records and both engines read), its validation, and months."""

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from jiesu.lib.errors import InvalidInput, NotFound
from jiesu.orgs.models import UnitKind

from .models import ResponseBasis, RuleSet

# Answer codes in the order the columnar facts index them (append only). "not_asked" is a callback without answers
# (caller not reached after the retries, refused, wrong number): a rule set gives it a credit to count it, or leaves
# it out of its map to leave such callbacks out of that rate.
RESOLUTION_CODES = ("solved", "partly", "unsolved", "not_asked")
SATISFACTION_CODES = ("satisfied", "fairly_satisfied", "dissatisfied", "not_rated", "not_asked")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: object) -> dt.date:
    """'2026-10' → 2026-10-01; anything else is a clear error."""
    match = MONTH_RE.match(str(text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise InvalidInput(_("“%(value)s” is not a month; write it as YYYY-MM, e.g. 2026-10."), value=str(text)[:20])
    return dt.date(int(match[1]), int(match[2]), 1)


def month_key(month: dt.date) -> int:
    return month.year * 100 + month.month


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


@dataclasses.dataclass(frozen=True)
class Rules:
    """One rule set, as applied. Weights of answers are integers in thousandths; score weights are decimals."""

    rule_set_id: int | None
    name: str
    effective_from: str
    response_basis: str
    resolution_weights: dict[str, int]
    satisfaction_weights: dict[str, int]
    weight_response: Decimal
    weight_resolution: Decimal
    weight_satisfaction: Decimal
    exclude_unreasonable: bool
    bonus_cap: Decimal
    min_sample: int
    groups: dict[str, list[str]]
    interview_count: int
    recognition_count: int
    focus_groups: list[str]
    focus_count: int
    focus_volume_quantile: Decimal

    @classmethod
    def of(cls, rs: RuleSet) -> "Rules":
        return cls(
            rule_set_id=rs.pk,
            name=rs.name,
            effective_from=f"{rs.effective_from:%Y-%m}",
            response_basis=rs.response_basis,
            resolution_weights={k: int(v) for k, v in rs.resolution_weights.items()},
            satisfaction_weights={k: int(v) for k, v in rs.satisfaction_weights.items()},
            weight_response=Decimal(rs.weight_response),
            weight_resolution=Decimal(rs.weight_resolution),
            weight_satisfaction=Decimal(rs.weight_satisfaction),
            exclude_unreasonable=rs.exclude_unreasonable,
            bonus_cap=Decimal(rs.bonus_cap),
            min_sample=int(rs.min_sample),
            groups={k: list(v) for k, v in rs.groups.items()},
            interview_count=int(rs.interview_count),
            recognition_count=int(rs.recognition_count),
            focus_groups=list(rs.focus_groups),
            focus_count=int(rs.focus_count),
            focus_volume_quantile=Decimal(rs.focus_volume_quantile),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Rules":
        decimals = {
            "weight_response",
            "weight_resolution",
            "weight_satisfaction",
            "bonus_cap",
            "focus_volume_quantile",
        }
        values: dict[str, Any] = {k: Decimal(v) if k in decimals else v for k, v in data.items()}
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in dataclasses.asdict(self).items()}

    def group_of(self, kind: str) -> str | None:
        for group, kinds in self.groups.items():
            if kind in kinds:
                return group
        return None


def validate(rs: RuleSet) -> None:
    """Refuse a rule set that would make the numbers meaningless, with the reason in the user's language."""
    from django.core.exceptions import ValidationError

    errors: dict[str, Any] = {}
    for field, codes, required in (
        ("resolution_weights", RESOLUTION_CODES, RESOLUTION_CODES[:3]),
        ("satisfaction_weights", SATISFACTION_CODES, SATISFACTION_CODES[:3]),
    ):
        weights = getattr(rs, field)
        if (
            not isinstance(weights, dict)
            or not set(weights) <= set(codes)
            or not set(required) <= set(weights)
            or not all(isinstance(v, int) and 0 <= v <= 1000 for v in weights.values())
        ):
            errors[field] = _("Give a whole number from 0 to 1000 for each of: %(codes)s.") % {
                "codes": ", ".join(required)
            }
    total = Decimal(rs.weight_response or 0) + Decimal(rs.weight_resolution or 0) + Decimal(rs.weight_satisfaction or 0)
    if total != 1:
        errors["weight_satisfaction"] = _("The three weights must add up to 1 (now %(total)s).") % {"total": total}
    kinds = set(UnitKind.values)
    seen: set[str] = set()
    groups = rs.groups if isinstance(rs.groups, dict) else None
    if not groups or not all(isinstance(v, list) and set(v) <= kinds for v in groups.values()):
        errors["groups"] = _("Map each group name to a list of unit kinds (%(kinds)s).") % {"kinds": ", ".join(kinds)}
    else:
        for members in groups.values():
            if seen & set(members):
                errors["groups"] = _("A unit kind may be in one group only.")
            seen |= set(members)
    if not isinstance(rs.focus_groups, list) or (groups and not set(rs.focus_groups) <= set(groups)):
        errors["focus_groups"] = _("Name groups that exist in the ranking groups.")
    if not 0 <= Decimal(rs.focus_volume_quantile or 0) <= 1:
        errors["focus_volume_quantile"] = _("A quantile lies between 0 and 1.")
    if rs.response_basis not in ResponseBasis.values:
        errors["response_basis"] = _("Unknown response basis.")
    if errors:
        raise ValidationError(errors)


def rules_for(month: dt.date) -> Rules:
    """The rule set in force in `month`: the latest one whose first month is not after it."""
    rs = RuleSet.objects.filter(effective_from__lte=month).order_by("-effective_from").first()
    if rs is None:
        raise NotFound(
            _("No assessment rules are in force in %(month)s; an administrator adds them."), month=f"{month:%Y-%m}"
        )
    return Rules.of(rs)
