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
from jiesu.catalog.selectors import effective_category, knowledge_for, suggest_dispatch
from jiesu.lib import clock, refcache
from jiesu.lib.masking import mask_text
from jiesu.lib.validation import phone_or_none
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access
from jiesu.tickets.models import Ticket
from jiesu.tickets.workflow import OPEN_STATES, DispatchState

from . import services, tags
from .classifier import TextModel
from .index import CACHE, TextIndex, cosine, metres
from .models import OFF_BY_DEFAULT, Feature, FeatureSwitch, ModelKind, TextModelVersion
from .tags import TagProposal

_cache: dict[str, tuple[tuple[int, str], TextModel]] = {}
_cache_lock = threading.Lock()


refcache.watch("intel.active_versions", TextModelVersion)
refcache.watch("intel.switches", FeatureSwitch)


def _active_versions() -> dict[str, tuple[int, str]]:
    return {
        k: (pk, path)
        for k, pk, path in TextModelVersion.objects.filter(is_active=True).values_list("kind", "pk", "path")
    }


def active_model(kind: str) -> TextModel | None:
    """The active model of a kind, loaded once per process and reloaded when another version is activated (the
    active versions are reference data: dropped at once in the process that activates, within
    `JIESU_REFERENCE_CACHE_SECONDS` elsewhere). The model carries the fitted text index, so it changes with it."""
    row = refcache.get("intel.active_versions", _active_versions).get(kind)
    if row is None:
        return None
    with _cache_lock:
        hit = _cache.get(kind)
        if hit is not None and hit[0] == row:
            return hit[1]
    try:
        model = TextModel.load(Path(row[1]))
    except (OSError, ValueError):
        return None
    with _cache_lock:
        _cache[kind] = (row, model)
    return model


def warm() -> None:
    """Load the active models (and with them jieba's dictionary) now: the production server calls it in each new
    worker process before it takes requests, so no order waits seconds for a first classification."""
    from jiesu.lib import text

    text.words("warm")  # jieba's dictionary, about a second
    for kind in (ModelKind.CATEGORY, ModelKind.ROUTER):
        active_model(kind)


# --- category ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryProposal:
    category: Category
    probability: float
    terms: list[str]

    @property
    def percent(self) -> int:
        return round(self.probability * 100)


def feature_on(feature: str) -> bool:
    """Whether an administrator has left the feature on (a feature without a row has its default). The switches
    are reference data (dropped at once where they change, within a minute elsewhere)."""
    rows = refcache.get("intel.switches", lambda: dict(FeatureSwitch.objects.values_list("feature", "enabled")))
    return bool(rows.get(feature, feature not in OFF_BY_DEFAULT))


@dataclass(frozen=True)
class CategoryAssist:
    """The category proposals for one text and whether the assistant may fill the field by itself.
    `reason`: "sure", "low_confidence", "unfamiliar" (nothing like it in the history), "unmeasured" (the model
    was never measured on held-out history), "" when there is nothing to propose."""

    proposals: list[CategoryProposal]
    sure: bool = False
    reason: str = ""
    similar: list["SimilarCase"] = field(default_factory=list)

    @property
    def uncertain(self) -> bool:
        return bool(self.proposals) and not self.sure


@dataclass(frozen=True)
class SimilarCase:
    ticket: Ticket
    score: float

    @property
    def title(self) -> str:
        return mask_text(self.ticket.title)


def assess_category(
    title: str, content: str, day: dt.date, k: int = 3, *, user: Any = None, evidence: bool = True
) -> CategoryAssist:
    """Top `k` leaf categories with probability and evidence words (none without `evidence`: a machine interface
    only needs the category), whether to fill the field (the model's measured threshold and familiarity, and
    `INTEL_AUTO_APPLY_CONFIDENCE` as an extra floor), and, when `user` is given, the closed tickets of the top
    category most like the text."""
    if not feature_on(Feature.CATEGORY):
        return CategoryAssist([])
    model = active_model(ModelKind.CATEGORY)
    if model is None or len(f"{title}{content}".strip()) < 4:
        return CategoryAssist([])
    answer = model.assess((title, content), k, explain=evidence)
    codes = [code for code, _, _ in answer.ranked]
    found = {code: c for code in codes if (c := effective_category(code, day)) is not None and c.level == 3}
    proposals = [CategoryProposal(found[code], p, terms) for code, p, terms in answer.ranked if code in found]
    sure = (
        answer.sure
        and bool(proposals)
        and proposals[0].category.code == codes[0]
        and proposals[0].probability >= settings.INTEL_AUTO_APPLY_CONFIDENCE
    )
    reason = "sure" if sure else ("low_confidence" if answer.reason == "sure" else answer.reason)
    similar = similar_closed(user, f"{title}{content}", proposals[0].category) if user is not None and proposals else []
    return CategoryAssist(proposals, sure, reason if proposals else "", similar)


def propose_categories(title: str, content: str, day: dt.date, k: int = 3) -> list[CategoryProposal]:
    return assess_category(title, content, day, k).proposals


def auto_applies(assist: CategoryAssist) -> bool:
    return assist.sure


def similar_closed(user: Any, text: str, category: Category, limit: int = 3) -> list[SimilarCase]:
    """Closed tickets of `category` whose text is most like `text` (the panel's "similar past orders")."""
    keys = list(
        access.visible_tickets(user)
        .filter(category__code=category.code, dispatch_state=DispatchState.CLOSED)
        .order_by("-closed_at")
        .values_list("pk", "version")[:200]
    )
    scores = scores_against(text, keys)
    if scores is None:
        texts = _texts([pk for pk, _ in keys])
        scores = similarities(text, [texts.get(pk, "") for pk, _ in keys])
    ranked = [(pk, float(s)) for (pk, _), s in sorted(zip(keys, scores, strict=True), key=lambda p: -p[1])[:limit]]
    found = (
        access.visible_tickets(user)
        .only("pk", "number", "title", "content", "closed_at")
        .in_bulk([pk for pk, s in ranked])
    )
    return [SimilarCase(found[pk], round(s, 2)) for pk, s in ranked if s >= 0.2 and pk in found]


def propose_tags(title: str, content: str) -> list[TagProposal]:
    """事项 × 标签: the affected groups the text names (`intel.tags`), nothing when the feature is switched off."""
    if not feature_on(Feature.TAGS) or len(f"{title}{content}".strip()) < 2:
        return []
    return tags.propose(title, content)


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
    model = active_model(ModelKind.ROUTER) if feature_on(Feature.UNIT) else None
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
    metres: float | None = None  # distance where both orders have coordinates and lie within the radius


_NOT_DIGIT = re.compile(r"\D+")


def phone_key(phone: str) -> str:
    """The caller's number in its one canonical form (`lib.validation.normalize_phone`, issue 18), so
    "138 1234 5678", "+86 138-1234-5678" and "13812345678" are one caller; digits only where it is not a number."""
    return phone_or_none(phone) or _NOT_DIGIT.sub("", phone or "")


DUPLICATE_DAYS = 30
DUPLICATE_MIN = 0.45
DUPLICATE_POOL = 500
# Distance bonus (issue 19): where both orders carry coordinates and lie within `DISTANCE_RADIUS_M` metres, the
# score gains DISTANCE_BONUS × (1 − d / DISTANCE_RADIUS_M): 0.15 at the same point, falling linearly to 0 at the
# radius; beyond it, or without coordinates on either side, nothing.
DISTANCE_RADIUS_M = 500.0
DISTANCE_BONUS = 0.15
ADDRESS_BONUS = 0.1
CALLER_BONUS = 0.1


def distance_bonus(metres: float | None) -> float:
    if metres is None or metres >= DISTANCE_RADIUS_M:
        return 0.0
    return DISTANCE_BONUS * (1.0 - metres / DISTANCE_RADIUS_M)


def text_index() -> TextIndex | None:
    """The fitted text index of the active category model (built when it was trained), or None."""
    model = active_model(ModelKind.CATEGORY)
    index = getattr(model, "text_index", None) if model is not None else None
    return index if isinstance(index, TextIndex) else None


def _texts(pks: list[int]) -> dict[int, str]:
    # the ids come from a query through access; this only reads their texts for the vector cache
    rows = access.all_tickets().filter(pk__in=pks).values_list("pk", "title", "content")
    return {pk: f"{t}{c}" for pk, t, c in rows}


def _addresses(pks: list[int]) -> dict[int, str]:
    return dict(access.all_tickets().filter(pk__in=pks).values_list("pk", "address"))


def scores_against(
    text: str, keys: list[tuple[int, int]], field: str = "text", *, index: TextIndex | None = None
) -> np.ndarray | None:
    """Cosine of `text` to the tickets `keys` ((id, version)) through the fitted index and the per-process vector
    cache; None when no index is active (the caller then fits on the texts as issue 4 did)."""
    index = index if index is not None else text_index()
    if index is None:
        return None
    rows = CACHE.rows(index, field, keys, _texts if field == "text" else _addresses)
    return cosine(index, text, rows)


def possible_duplicates(
    user: Any,
    text: str,
    street: OrgUnit | None,
    district: OrgUnit | None,
    *,
    address: str = "",
    phone: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    exclude: int | None = None,
    days: int = DUPLICATE_DAYS,
    limit: int = 5,
    fitted: bool = True,
) -> list[Duplicate]:
    """Open tickets of the same street (else district) within `days` whose text is a near duplicate of `text`,
    with the evidence: text similarity, same street, close address, same caller, distance. Merging (并单) stays
    the dispatcher's decision. The score is the text cosine plus bonuses: close address (≥ 0.6) +0.1, same caller
    +0.1, and the distance bonus where both have coordinates (`distance_bonus`). `fitted=False` forces the issue-4
    path (a TF-IDF fitted on the candidates per call; the speed benchmark's baseline)."""
    if len(text.strip()) < 4 or (street is None and district is None) or not feature_on(Feature.DUPLICATES):
        return []
    phone = phone_or_none(phone) or ""  # the caller's number in its one canonical form, as stored
    since = clock.now() - dt.timedelta(days=days)
    place = Q(street=street) if street is not None else Q(district=district)
    # the place and time prefilter runs in the database; only ids, versions, phones and coordinates come back
    pool = list(
        access.visible_tickets(user)
        .filter(place, dispatch_state__in=OPEN_STATES, intake_at__gte=since)
        .exclude(pk=exclude or 0)
        .order_by("-intake_at")
        .values_list("pk", "version", "requester__phone", "latitude", "longitude")[:DUPLICATE_POOL]
    )
    if not pool:
        return []
    keys = [(pk, version) for pk, version, *_ in pool]
    index = text_index() if fitted else None
    text_scores = scores_against(text, keys, index=index) if index is not None else None
    if text_scores is None:
        texts = _texts([k for k, _ in keys])
        text_scores = similarities(text, [texts.get(k, "") for k, _ in keys])
    caller = phone_key(phone)
    here = (float(latitude), float(longitude)) if latitude is not None and longitude is not None else None
    prelim = []
    for (pk, _v, their_phone, lat, lng), s in zip(pool, text_scores, strict=True):
        same_caller = bool(caller) and their_phone is not None and phone_key(their_phone) == caller
        metres = _metres(here, lat, lng)
        best = float(s) + ADDRESS_BONUS + (CALLER_BONUS if same_caller else 0.0) + distance_bonus(metres)
        if best >= DUPLICATE_MIN:  # could still reach the bar with the address bonus
            prelim.append((pk, float(s), same_caller, metres))
    if not prelim:
        return []
    addr_scores: dict[int, float] = {}
    if address.strip():
        near = [(pk, v) for pk, v in keys if pk in {p[0] for p in prelim}]
        found = scores_against(address, near, "address", index=index) if index is not None else None
        if found is None:
            addrs = _addresses([pk for pk, _ in near])
            found = similarities(address, [addrs.get(pk, "") for pk, _ in near])
        addr_scores = {pk: float(a) for (pk, _), a in zip(near, found, strict=True)}
    scored = []
    for pk, s, same_caller, metres in prelim:
        a = addr_scores.get(pk, 0.0)
        bonus = distance_bonus(metres)
        score = s + (ADDRESS_BONUS if a >= 0.6 else 0.0) + (CALLER_BONUS if same_caller else 0.0) + bonus
        if score < DUPLICATE_MIN:
            continue
        evidence = [f"text {s:.2f}"]
        if street is not None:
            evidence.append("same street")
        if a >= 0.6:
            evidence.append(f"address {a:.2f}")
        if same_caller:
            evidence.append("same caller")
        if bonus > 0 and metres is not None:
            evidence.append(f"{metres:.0f} m")
        near_m = metres if bonus > 0 else None
        scored.append((pk, round(min(score, 1.0), 2), same_caller, evidence, near_m))
    scored = sorted(scored, key=lambda p: -p[1])[:limit]
    tickets = (
        access.visible_tickets(user)
        .select_related("street", "district", "category", "requester")
        .in_bulk([p[0] for p in scored])
    )
    return [
        Duplicate(tickets[pk], score, street is not None, same, ev, m)
        for pk, score, same, ev, m in scored
        if pk in tickets
    ]


def _metres(here: tuple[float, float] | None, lat: Any, lng: Any) -> float | None:
    if here is None or lat is None or lng is None:
        return None
    return metres(here[0], here[1], float(lat), float(lng))


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


# --- the administrator's view of the assistant --------------------------------------------------------------
@dataclass(frozen=True)
class Curve:
    kind: str
    version: str
    rows: int
    points: list[tuple[float, float, float]]  # (threshold, coverage, accuracy) on held-out closed history
    threshold: float | None  # at the configured precision
    coverage: float | None  # the share of the held-out history it would take at that threshold
    measured: bool = True  # False: too few closed orders per category to hold any out (never acts alone)

    @property
    def svg_points(self) -> str:
        """The curve in a 200 × 110 box: coverage along x (20…195), accuracy up y (50 % at the bottom)."""
        return " ".join(
            f"{20 + 175 * cov:.1f},{95 - 90 * max(0.0, acc - 0.5) / 0.5:.1f}" for _, cov, acc in self.points
        )


def coverage_curves(precision: float) -> list[Curve]:
    """For the active category model and router: the coverage–accuracy curve measured on the city's closed
    history (out-of-fold), the threshold that holds `precision` and the share it would take."""
    out = []
    for kind in (ModelKind.CATEGORY, ModelKind.ROUTER):
        model = active_model(kind)
        row = TextModelVersion.objects.filter(kind=kind, is_active=True).first()
        if model is None or row is None:
            continue
        threshold = model.threshold_at(precision)
        conf = getattr(model, "oof_conf", None)
        coverage = float(np.mean(conf >= threshold)) if conf is not None and threshold is not None else None
        points = list(getattr(model, "curve", []))
        measured = bool(points) or getattr(model, "threshold", None) is not None
        out.append(Curve(kind, row.version, row.labelled, points, threshold, coverage, measured))
    return out


def switches() -> list[tuple[str, str, bool]]:
    """(feature, label, on) for every feature."""
    return [(f.value, str(f.label), feature_on(f)) for f in Feature]


# --- return review assist ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnReview:
    """For the dispatcher deciding a return (退单): what the dispatch catalogue says, how similar returns were
    decided, and the returning unit's record."""

    request: Any
    catalogue: Any  # the catalogue's suggestion (lead, assists, fallback) or None
    catalogue_names_unit: bool  # the catalogue itself sends this category here to the unit that returns it
    similar: list[tuple[Any, float]]  # (decided ReturnRequest, text similarity)
    approved: int  # the unit's decided returns in the last 180 days
    rejected: int
    dispatched: int  # tickets dispatched to the unit as lead in the same 180 days


def return_review(user: Any, ticket: Ticket) -> ReturnReview | None:
    from jiesu.tickets.models import ReturnRequest, TicketEvent
    from jiesu.tickets.workflow import Action

    if not feature_on(Feature.RETURN_REVIEW):
        return None
    request = ticket.return_requests.filter(state="pending").select_related("unit").first()
    if request is None:
        return None
    day = clock.local_date(clock.now())
    catalogue = suggest_dispatch(ticket.category, ticket.district, ticket.street, day) if ticket.category else None
    decided = list(
        ReturnRequest.objects.filter(ticket__in=access.visible_tickets(user), state__in=["approved", "rejected"])
        .filter(Q(ticket__category_id=ticket.category_id) | Q(unit_id=request.unit_id))
        .exclude(ticket_id=ticket.pk)
        .select_related("ticket", "unit")
        .order_by("-decided_at")[:200]
    )
    scores = similarities(
        f"{ticket.title}{ticket.content}{request.reason}",
        [f"{r.ticket.title}{r.ticket.content}{r.reason}" for r in decided],
    )
    similar = [(r, round(float(s), 2)) for r, s in sorted(zip(decided, scores, strict=True), key=lambda p: -p[1])[:5]]
    since = clock.now() - dt.timedelta(days=180)
    mine = ReturnRequest.objects.filter(unit_id=request.unit_id, decided_at__gte=since)
    dispatched = TicketEvent.objects.filter(
        action__in=[Action.DISPATCH, Action.APPROVE_RETURN], created_at__gte=since, data__lead=request.unit.code
    ).count()
    return ReturnReview(
        request,
        catalogue,
        catalogue is not None and catalogue.lead.pk == request.unit_id,
        [p for p in similar if p[1] >= 0.1],
        mine.filter(state="approved").count(),
        mine.filter(state="rejected").count(),
        dispatched,
    )
