"""Catalogue queries: effective categories, and the dispatch suggestion for a ticket."""

import dataclasses
import datetime as dt

from django.db.models import Q, QuerySet

from jiesu.lib import clock, refcache
from jiesu.orgs.models import OrgUnit

from .models import Category, DispatchRule, KnowledgeEntry

refcache.watch("catalog.categories", Category)


def _categories() -> dict[str, list[Category]]:
    """Every version of every category by code, newest first, each with its parents linked (no further query)."""
    rows = list(Category.objects.order_by("-effective_from", "pk"))
    by_id = {c.pk: c for c in rows}
    by_code: dict[str, list[Category]] = {}
    for category in rows:
        if category.parent_id is not None and category.parent_id in by_id:
            category.parent = by_id[category.parent_id]
        by_code.setdefault(category.code, []).append(category)
    return by_code


def effective_category(code: str, day: dt.date) -> Category | None:
    """The version of category `code` in force on `day` (from the reference cache), or None."""
    versions = refcache.get("catalog.categories", _categories).get(code, [])
    return next((c for c in versions if c.is_effective_on(day)), None)


def knowledge_for(text: str, *, category: Category | None = None, limit: int = 3) -> list[KnowledgeEntry]:
    """Active knowledge entries whose keywords appear in the text, most keywords first. With `category`, only
    entries of that category (by code) or of none."""
    if len(text.strip()) < 2:
        return []
    entries = current_knowledge()
    if category is not None:
        entries = entries.filter(Q(category__code=category.code) | Q(category__isnull=True))
    scored = []
    for entry in entries:
        hits = sum(1 for w in entry.keywords.split() if w in text)
        if hits:
            scored.append((hits, entry))
    return [e for _, e in sorted(scored, key=lambda p: (-p[0], p[1].title))[:limit]]


def current_knowledge(day: dt.date | None = None) -> QuerySet[KnowledgeEntry]:
    """Active entries still valid on `day` (today by default): an expired answer is never read out."""
    day = day or clock.local_date(clock.now())
    return KnowledgeEntry.objects.filter(is_active=True).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))


@dataclasses.dataclass(frozen=True)
class KnowledgeHit:
    entry: KnowledgeEntry
    score: float
    matched: list[str]


def search_knowledge(query: str, *, include_expired: bool = False, limit: int = 20) -> list[KnowledgeHit]:
    """Chinese search over the knowledge base, as an operator types during a call.

    The query is cut into jieba words and character bigrams. An entry scores per word found in its question or
    keywords (3 × length), in its answer or policy basis (1 × length), plus the share of the query's bigrams it
    contains; the best first. Expired entries are left out unless asked for."""
    from jiesu.lib import text as zh

    query = query.strip()[:200]
    if not query:
        return []
    words = sorted(set(zh.words(query)) | ({query} if len(query) <= 4 else set()), key=len, reverse=True)
    grams = {query[i : i + 2] for i in range(len(query) - 1)} or {query}
    entries = KnowledgeEntry.objects.filter(is_active=True) if include_expired else current_knowledge()
    hits = []
    for entry in entries.select_related("owner_unit", "category"):
        head = f"{entry.title} {entry.keywords}"
        body = f"{entry.answer} {entry.policy_basis}"
        matched = [w for w in words if w in head or w in body]
        score = sum(3 * len(w) if w in head else len(w) for w in matched)
        both = head + body
        share = sum(1 for g in grams if g in both) / len(grams)
        if matched or share >= 0.5:
            hits.append(KnowledgeHit(entry, score + 4 * share, matched))
    hits.sort(key=lambda h: (-h.score, h.entry.title))
    return hits[:limit]


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
