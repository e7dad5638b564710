"""Catalogue queries: effective categories, and the dispatch suggestion for a ticket."""

import dataclasses
import datetime as dt

from django.db.models import Q

from jiesu.orgs.models import OrgUnit

from .models import Category, DispatchRule, KnowledgeEntry


def effective_category(code: str, day: dt.date) -> Category | None:
    return Category.objects.effective_on(day).filter(code=code).select_related("parent__parent").first()


def knowledge_for(text: str, *, category: Category | None = None, limit: int = 3) -> list[KnowledgeEntry]:
    """Active knowledge entries whose keywords appear in the text, most keywords first. With `category`, only
    entries of that category (by code) or of none."""
    if len(text.strip()) < 2:
        return []
    entries = KnowledgeEntry.objects.filter(is_active=True)
    if category is not None:
        entries = entries.filter(Q(category__code=category.code) | Q(category__isnull=True))
    scored = []
    for entry in entries:
        hits = sum(1 for w in entry.keywords.split() if w in text)
        if hits:
            scored.append((hits, entry))
    return [e for _, e in sorted(scored, key=lambda p: (-p[0], p[1].title))[:limit]]


@dataclasses.dataclass(frozen=True)
class DispatchSuggestion:
    lead: OrgUnit
    assists: tuple[OrgUnit, ...]
    rule: DispatchRule | None
    fallback: bool  # 兜底: no rule placed it, so the district takes it


def suggest_dispatch(
    category: Category, district: OrgUnit | None, street: OrgUnit | None, day: dt.date
) -> DispatchSuggestion | None:
    """Category + place → lead and assisting units.

    The most specific effective rule wins (street, then district, then city-wide). A rule whose lead is
    "the ticket's street" needs a known street. Where nothing places the ticket, the district takes it
    (兜底). Returns None when not even a district is known.
    """
    rules = (
        DispatchRule.objects.effective_on(day)
        .filter(category=category)
        .select_related("lead_unit")
        .prefetch_related("assist_units")
    )
    by_area = {r.area_id: r for r in rules}
    for area_id in [*(a.pk for a in (street, district) if a is not None), None]:
        rule = by_area.get(area_id)
        if rule is None:
            continue
        lead = street if rule.lead_is_area_street else rule.lead_unit
        if lead is None or not lead.is_active:
            continue
        candidates = [u for u in rule.assist_units.all() if u.is_active]
        if rule.street_assists and street is not None:
            candidates.append(street)
        assists = tuple(u for u in dict.fromkeys(candidates) if u.pk != lead.pk)
        return DispatchSuggestion(lead=lead, assists=assists, rule=rule, fallback=False)
    if district is not None:
        return DispatchSuggestion(lead=district, assists=(), rule=None, fallback=True)
    return None
