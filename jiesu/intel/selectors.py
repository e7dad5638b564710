"""What the assistant proposes: category, unit, duplicates, similar solved cases and a reply draft.

A human always decides. Proposals carry their confidence; only a category proposal at or above
`INTEL_AUTO_APPLY_CONFIDENCE` may fill an empty field by itself, and the operator sees that it did.
"""

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q
from sklearn.feature_extraction.text import TfidfVectorizer

from jiesu.catalog.models import Category, KnowledgeEntry
from jiesu.catalog.selectors import knowledge_for, suggest_dispatch
from jiesu.lib import clock
from jiesu.lib.masking import mask_text
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access
from jiesu.tickets.models import Ticket
from jiesu.tickets.workflow import OPEN_STATES

from . import services
from .classifier import TextModel
from .models import ModelKind, TextModelVersion

_cache: dict[str, tuple[tuple[int, str], TextModel]] = {}
_cache_lock = threading.Lock()


def active_model(kind: str) -> TextModel | None:
    """The active model of a kind, loaded once per process and reloaded when another version is activated."""
    row = TextModelVersion.objects.filter(kind=kind, is_active=True).only("pk", "path").first()
    if row is None:
        return None
    with _cache_lock:
        hit = _cache.get(kind)
        if hit is not None and hit[0] == (row.pk, row.path):
            return hit[1]
    try:
        model = TextModel.load(Path(row.path))
    except (OSError, ValueError):
        return None
    with _cache_lock:
        _cache[kind] = ((row.pk, row.path), model)
    return model


# --- category ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryProposal:
    category: Category
    probability: float
    terms: list[str]

    @property
    def percent(self) -> int:
        return round(self.probability * 100)


def propose_categories(title: str, content: str, day: dt.date, k: int = 3) -> list[CategoryProposal]:
    model = active_model(ModelKind.CATEGORY)
    if model is None or len(f"{title}{content}".strip()) < 4:
        return []
    ranked = model.propose((title, content), k)
    codes = [code for code, _, _ in ranked]
    found = {
        c.code: c
        for c in Category.objects.effective_on(day).filter(code__in=codes, level=3).select_related("parent__parent")
    }
    return [CategoryProposal(found[code], p, terms) for code, p, terms in ranked if code in found]


def auto_applies(proposals: list[CategoryProposal]) -> bool:
    return bool(proposals) and proposals[0].probability >= settings.INTEL_AUTO_APPLY_CONFIDENCE


# --- units ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitProposal:
    unit: OrgUnit
    probability: float | None  # None: the dispatch catalogue says so
    assists: tuple[OrgUnit, ...] = ()
    source: str = "catalogue"  # or "learned", or "fallback" (兜底 to the district)


def propose_units(
    category: Category | None, district: OrgUnit | None, street: OrgUnit | None, title: str, content: str, day: dt.date
) -> list[UnitProposal]:
    """The catalogue first; where it is silent (no rule, only the district fallback) the learned router's top 3."""
    suggestion = suggest_dispatch(category, district, street, day) if category is not None else None
    if suggestion is not None and not suggestion.fallback:
        return [UnitProposal(suggestion.lead, None, suggestion.assists)]
    proposals: list[UnitProposal] = []
    model = active_model(ModelKind.ROUTER)
    if model is not None and (category is not None or len(f"{title}{content}".strip()) >= 4):
        ranked = model.top([services.router_doc(category, district, street, title, content)], 3)[0]
        units = {u.code: u for u in OrgUnit.objects.filter(code__in=[c for c, _ in ranked], is_active=True)}
        proposals = [UnitProposal(units[c], p, (), "learned") for c, p in ranked if c in units]
    if suggestion is not None and all(p.unit.pk != suggestion.lead.pk for p in proposals):
        proposals.append(UnitProposal(suggestion.lead, None, (), "fallback"))
    return proposals


# --- similarity ---------------------------------------------------------------------------------------------
_SPACE = re.compile(r"\s+")


def similarities(text: str, others: list[str]) -> np.ndarray:
    """Cosine similarity of `text` to each of `others`: character 1–2-gram TF-IDF fitted on these texts alone,
    so rare shared phrases ("南门", "化粪池") count more than common ones ("小区", "反映")."""
    if not others:
        return np.zeros(0)
    texts = [_SPACE.sub("", t) for t in [text, *others]]
    try:
        m = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    except ValueError:  # nothing but blanks
        return np.zeros(len(others))
    scores: np.ndarray = (m[1:] @ m[0].T).toarray().ravel()
    return scores


@dataclass(frozen=True)
class Duplicate:
    ticket: Ticket
    score: float
    same_place: bool
    same_caller: bool = False
    evidence: list[str] = field(default_factory=list)


DUPLICATE_DAYS = 30
DUPLICATE_MIN = 0.45


def possible_duplicates(
    user: Any,
    text: str,
    street: OrgUnit | None,
    district: OrgUnit | None,
    *,
    address: str = "",
    phone: str = "",
    exclude: int | None = None,
    days: int = DUPLICATE_DAYS,
    limit: int = 5,
) -> list[Duplicate]:
    """Open tickets of the same street (else district) within `days` whose text is a near duplicate of `text`,
    with the evidence: text similarity, same street, close address, same caller. Merging (并单) stays the
    dispatcher's decision."""
    if len(text.strip()) < 4 or (street is None and district is None):
        return []
    since = clock.now() - dt.timedelta(days=days)
    place = Q(street=street) if street is not None else Q(district=district)
    pool = list(
        access.visible_tickets(user)
        .filter(place, dispatch_state__in=OPEN_STATES, intake_at__gte=since)
        .exclude(pk=exclude or 0)
        .select_related("street", "district", "category", "requester")
        .order_by("-intake_at")[:500]
    )
    if not pool:
        return []
    text_scores = similarities(text, [f"{t.title}{t.content}" for t in pool])
    addr_scores = similarities(address, [t.address for t in pool]) if address.strip() else np.zeros(len(pool))
    found: list[Duplicate] = []
    for t, s, a in zip(pool, text_scores, addr_scores, strict=True):
        same_caller = bool(phone) and t.requester is not None and t.requester.phone == phone
        score = float(s) + (0.1 if a >= 0.6 else 0.0) + (0.1 if same_caller else 0.0)
        if score < DUPLICATE_MIN:
            continue
        evidence = [f"text {s:.2f}"]
        if street is not None:
            evidence.append("same street")
        if a >= 0.6:
            evidence.append(f"address {a:.2f}")
        if same_caller:
            evidence.append("same caller")
        found.append(Duplicate(t, round(min(score, 1.0), 2), street is not None, same_caller, evidence))
    return sorted(found, key=lambda d: -d.score)[:limit]


# --- similar solved cases and the reply draft ---------------------------------------------------------------
@dataclass(frozen=True)
class SolvedCase:
    ticket: Ticket
    score: float
    satisfaction: str  # the last callback's answer, "" when none

    @property
    def title(self) -> str:
        return mask_text(self.ticket.title)

    @property
    def reply(self) -> str:
        return mask_text(self.ticket.reply)


@dataclass(frozen=True)
class Library:
    cases: list[SolvedCase]
    knowledge: list[KnowledgeEntry]
    draft: str


def solution_library(user: Any, ticket: Ticket, limit: int = 5) -> Library:
    """For a handler: the closed tickets most like this one (same category first, then any), with their replies
    and outcomes, the knowledge entries that fit, and a reply draft assembled from the best of them."""
    text = f"{ticket.title}{ticket.content}"
    near = Q(category__code=ticket.category.code)
    if ticket.street_id:
        near |= Q(street_id=ticket.street_id)
    pool = list(
        access.solved_cases(user)
        .exclude(pk=ticket.pk)
        .filter(near)
        .select_related("lead_unit", "category")
        .prefetch_related("callbacks")
        .order_by("-closed_at")[:400]
    )
    scores = similarities(text, [f"{t.title}{t.content}" for t in pool])
    ranked = sorted(zip(pool, scores, strict=True), key=lambda p: -p[1])
    cases = []
    for t, s in ranked[:limit]:
        if s < 0.15:
            break
        callbacks = sorted(t.callbacks.all(), key=lambda c: c.round)
        cases.append(SolvedCase(t, round(float(s), 2), callbacks[-1].get_satisfaction_display() if callbacks else ""))
    entries = knowledge_for(text, category=ticket.category)
    return Library(cases, entries, reply_draft(ticket, cases, entries))


def reply_draft(ticket: Ticket, cases: list[SolvedCase], entries: list[KnowledgeEntry]) -> str:
    """A starting point the handler edits: greeting, the matter, what was done in the best-rated similar case
    (personal data masked) and the policy answer, then a closing line. Empty when there is nothing to go on."""
    good = [c for c in cases if c.satisfaction] or cases
    if not good and not entries:
        return ""
    matter = ticket.title.removesuffix("问题").removesuffix("的")  # i18n: data
    parts = [f"您好！关于您反映的“{matter}”问题，我单位已收悉并进行了核实处理。"]  # i18n: data
    if good:
        parts.append(_first_sentences(good[0].reply, 3))
    if entries:
        parts.append(entries[0].answer)
    parts.append("如仍有问题，欢迎再次致电12345反映。感谢您对我们工作的支持！")  # i18n: data
    return "\n".join(p for p in parts if p)


def _first_sentences(text: str, n: int) -> str:
    sentences = re.split(r"(?<=[。！？!?])", text.strip())
    return "".join(sentences[:n]).strip()
