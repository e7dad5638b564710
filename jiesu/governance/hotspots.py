"""Hotspot detection (热点发现): pure functions over plain records, no database.

A hotspot is a cluster of requests that share a topic and a place inside a time window and that grow faster than
their usual level.

1. **Blocks.** Requests are compared only inside one place block: the same street/township (or district when the
   street is unknown). Requests with coordinates also meet across blocks when they lie within `radius_m`. A request
   with no place at all (the Teddy Cup set) is compared with every other such request; its place is in its words.
2. **Similarity.** TF-IDF of character 2–3-grams of the title (twice) and the first 200 characters of the text, with
   the anonymised placeholders and digits removed (`lib.text.clean`). Two requests are linked when the cosine is at
   least `min_similarity` and their intake times lie at most `link_days` apart. Clusters are the connected components
   (single link).
3. **Heat.** For a cluster at time `now`, with V its requests in the last `window_days` and B the requests of the same
   cluster in the `baseline_days` before that, scaled to one window:

       heat = 10 · ln(1 + V) · (1 + growth) · breadth · severity
       growth   = max(0, log2((V + 1) / (B + 1)))                      faster than its usual level
       breadth  = 0.5 + 0.5 · min(1, (C + ln(1 + L)) / V)              C distinct callers, L supporters (likes)
       severity = mean of the requests' weights (1 ordinary, 1.2 complaint or report, 2 emergency)

   One caller calling ten times halves the breadth; a silent crowd of supporters (the likes of a message board)
   lifts it back. A cluster is a hotspot when V ≥ `min_size` and V ≥ `min_growth` · (B + 1).
4. **Tracking** (`track`). A new detection continues an open hotspot when they share at least `continue_overlap` of the
   smaller member set; otherwise it opens a new one. A hotspot is *emerging* when first seen, *growing* while its
   heat rises, *steady*, *fading* while it falls, and *closed* once its window is empty.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from jiesu.lib import text as zh


@dataclass(frozen=True)
class Doc:
    id: int
    at: dt.datetime
    title: str
    content: str = ""
    place: str | None = None  # street code, else district code; None when unknown
    district: str | None = None
    caller: str | None = None  # a stable, opaque caller key (never shown)
    category: str | None = None
    severity: float = 1.0
    support: int = 0  # likes on a message board
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Params:
    window_days: int = 7
    baseline_days: int = 28
    link_days: int = 14
    min_similarity: float = 0.5
    min_size: int = 5
    min_growth: float = 2.0
    radius_m: float = 500.0
    continue_overlap: float = 0.3


@dataclass
class Cluster:
    ids: list[int]
    label: str
    place: str | None
    district: str | None
    category: str | None
    volume: int  # V, requests in the window
    baseline: float  # B, scaled to one window
    growth: float
    callers: int
    support: int
    severity: float
    heat: float
    first_at: dt.datetime
    last_at: dt.datetime


def heat_of(volume: int, baseline: float, callers: int, support: int, severity: float) -> tuple[float, float]:
    """(heat, growth) by the formula in the module's doc."""
    if volume <= 0:
        return 0.0, 0.0
    growth = max(0.0, math.log2((volume + 1) / (baseline + 1)))
    breadth = 0.5 + 0.5 * min(1.0, (callers + math.log1p(support)) / volume)
    return 10 * math.log1p(volume) * (1 + growth) * breadth * severity, growth


def _doc_text(d: Doc) -> str:
    return zh.clean(f"{d.title} {d.title} {d.content[:200]}")


def _metres(a: Doc, b: Doc) -> float:
    assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
    dy = (a.lat - b.lat) * 111_000
    dx = (a.lon - b.lon) * 111_000 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _link(docs: Sequence[Doc], matrix: csr_matrix, idx: list[int], p: Params, union: _Union) -> None:
    if len(idx) < 2:
        return
    sub = matrix[idx]
    sims = (sub @ sub.T).tocoo()
    link = dt.timedelta(days=p.link_days)
    for i, j, s in zip(sims.row, sims.col, sims.data, strict=True):
        if i < j and s >= p.min_similarity and abs(docs[idx[i]].at - docs[idx[j]].at) <= link:
            union.join(idx[i], idx[j])


def clusters(docs: Sequence[Doc], now: dt.datetime, p: Params = Params()) -> list[Cluster]:
    """Every cluster with at least one request in the window, hottest first (hotspots or not: see `qualifies`)."""
    start = now - dt.timedelta(days=p.window_days + p.baseline_days)
    docs = [d for d in docs if start <= d.at <= now]
    if len(docs) < 2:
        return []
    texts = [_doc_text(d) for d in docs]
    try:
        vectoriser = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, min_df=2)
        matrix = csr_matrix(vectoriser.fit_transform(texts))
    except ValueError:  # nothing repeats: no cluster
        return []
    union = _Union(len(docs))
    blocks: dict[str | None, list[int]] = defaultdict(list)
    for i, d in enumerate(docs):
        blocks[d.place].append(i)
    for idx in blocks.values():
        _link(docs, matrix, idx, p, union)
    located = [i for i, d in enumerate(docs) if d.lat is not None and d.lon is not None]
    if located and p.radius_m > 0:  # across blocks, only when close on the ground
        sub = matrix[located]
        sims = (sub @ sub.T).tocoo()
        for i, j, s in zip(sims.row, sims.col, sims.data, strict=True):
            a, b = docs[located[i]], docs[located[j]]
            near = a.place != b.place and _metres(a, b) <= p.radius_m
            if i < j and s >= p.min_similarity and near and abs(a.at - b.at) <= dt.timedelta(days=p.link_days):
                union.join(located[i], located[j])
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(docs)):
        groups[union.find(i)].append(i)
    window_start = now - dt.timedelta(days=p.window_days)
    scale = p.window_days / p.baseline_days
    found: list[Cluster] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        recent = [docs[i] for i in members if docs[i].at >= window_start]
        if not recent:
            continue
        before = len(members) - len(recent)
        callers = len({d.caller if d.caller is not None else f"#{d.id}" for d in recent})
        support = sum(d.support for d in recent)
        severity = sum(d.severity for d in recent) / len(recent)
        heat, growth = heat_of(len(recent), before * scale, callers, support, severity)
        everyone = [docs[i] for i in members]
        found.append(
            Cluster(
                ids=sorted(d.id for d in everyone),
                label=label_of([d.title for d in everyone]),
                place=_most_common(d.place for d in recent),
                district=_most_common(d.district for d in recent),
                category=_most_common(d.category for d in recent),
                volume=len(recent),
                baseline=round(before * scale, 3),
                growth=growth,
                callers=callers,
                support=support,
                severity=severity,
                heat=round(heat, 3),
                first_at=min(d.at for d in everyone),
                last_at=max(d.at for d in everyone),
            )
        )
    found.sort(key=lambda c: (-c.heat, c.ids[0]))
    return found


def qualifies(c: Cluster, p: Params = Params()) -> bool:
    return c.volume >= p.min_size and c.volume >= p.min_growth * (c.baseline + 1)


def detect(docs: Sequence[Doc], now: dt.datetime, p: Params = Params()) -> list[Cluster]:
    """The hotspots at `now`, hottest first."""
    return [c for c in clusters(docs, now, p) if qualifies(c, p)]


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


def label_of(titles: Sequence[str]) -> str:
    """The key terms: the words most of the titles share (jieba), up to four, in their usual order."""
    counts: Counter[str] = Counter()
    first_pos: dict[str, int] = {}
    for title in titles:
        seen = set()
        for pos, w in enumerate(zh.words(title)):
            if w not in seen:
                counts[w] += 1
                seen.add(w)
                first_pos.setdefault(w, pos)
    if not counts:
        return titles[0][:20] if titles else ""
    floor = max(2, math.ceil(len(titles) * 0.3)) if len(titles) > 2 else 1
    common = [w for w, n in counts.most_common(12) if n >= floor and w not in _STOP][:4]
    if not common:
        common = [w for w, _ in counts.most_common(3) if w not in _STOP]
    return " ".join(sorted(common, key=lambda w: first_pos[w]))


_STOP = frozenset(
    {"问题", "反映", "关于", "投诉", "咨询", "建议", "举报", "请求", "希望", "要求", "相关", "情况"}
)  # i18n: data


# --- tracking over time ----------------------------------------------------------------------------------
@dataclass
class Tracked:
    """An open hotspot as the tracker sees it: its key, members and last heat."""

    key: int
    ids: set[int]
    heat: float
    state: str = "emerging"


@dataclass
class Change:
    key: int | None  # None: a new hotspot
    cluster: Cluster | None  # None: nothing continues it (its window is recomputed by the caller)
    state: str
    members: set[int] = field(default_factory=set)


EMERGING, GROWING, STEADY, FADING, CLOSED = "emerging", "growing", "steady", "fading", "closed"


def trend(previous: float, heat: float, volume: int) -> str:
    if volume == 0:
        return CLOSED
    if heat > previous * 1.1:
        return GROWING
    if heat < previous * 0.9:
        return FADING
    return STEADY


def track(open_: Sequence[Tracked], found: Sequence[Cluster], p: Params = Params()) -> list[Change]:
    """Match this run's clusters to the open hotspots. A cluster continues the hotspot it overlaps most (at least
    `continue_overlap` of the smaller set); a qualifying cluster that continues none opens a new hotspot."""
    changes: list[Change] = []
    taken: set[int] = set()
    for h in sorted(open_, key=lambda t: -t.heat):
        best, best_share = None, 0.0
        for n, c in enumerate(found):
            if n in taken:
                continue
            shared = len(h.ids.intersection(c.ids))
            share = shared / max(1, min(len(h.ids), len(c.ids)))
            if share > best_share:
                best, best_share = n, share
        if best is not None and best_share >= p.continue_overlap:
            taken.add(best)
            c = found[best]
            changes.append(Change(h.key, c, trend(h.heat, c.heat, c.volume), h.ids | set(c.ids)))
        else:
            changes.append(Change(h.key, None, FADING, set(h.ids)))
    for n, c in enumerate(found):
        if n not in taken and qualifies(c, p):
            changes.append(Change(None, c, EMERGING, set(c.ids)))
    return changes


def window_volume(ats: Iterable[dt.datetime], now: dt.datetime, p: Params = Params()) -> int:
    start = now - dt.timedelta(days=p.window_days)
    return sum(1 for at in ats if start <= at <= now)
