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

       heat = 10 · √(V · breadth) · (1 + ½ · min(growth, 3)) · severity
       growth   = max(0, log2((V + 1) / (B + 1)))                      faster than its usual level
       breadth  = 0.5 + 0.5 · min(1, (C + ln(1 + L)) / V)              C distinct callers, L supporters (likes)
       severity = mean of the requests' weights (1 ordinary, 1.2 complaint or report, 2 emergency)

   Size comes first: a burst of 40 requests outranks a new cluster of 5 even when the 5 grew from nothing (issue 19:
   with ln(1 + V) · (1 + growth), clusters of 4–7 brand-new requests ranked above the real bursts of dozens).
   One caller calling ten times halves the breadth; a silent crowd of supporters (the likes of a message board)
   lifts it back. A cluster is a hotspot when V ≥ `min_size` and V ≥ `min_growth` · (B + 1).
4. **Tracking** (`track`). A new detection continues an open hotspot when they share at least `continue_overlap` of the
   smaller member set; otherwise it opens a new one. A hotspot is *emerging* when first seen, *growing* while its
   heat rises, *steady*, *fading* while it falls, and *closed* once its window is empty.
"""

from __future__ import annotations

import datetime as dt
import math
import re
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
    place_similarity: float = 0.2  # linked at this similarity when both name the same rare place
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
    return 10 * math.sqrt(volume * breadth) * (1 + 0.5 * min(growth, MAX_GROWTH)) * severity, growth


MAX_GROWTH = 3.0  # growth counts up to 8× the usual level; beyond that, size decides


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


_PLACE_CHARS = frozenset("园苑城区站院校厦场村寓湾府庭居")  # i18n: data
_HAN = re.compile(r"[\u4e00-\u9fff]{3}")


def _place_keys(d: Doc) -> set[str]:
    """Three-character strings of the title and the text's opening that end like a place name (…景园, …新城,
    …拌站): two requests naming the same rare one speak of the same facility or housing project."""
    text = zh.clean(f"{d.title}。{d.content[:200]}")
    return {
        text[i : i + 3] for i in range(len(text) - 2) if text[i + 2] in _PLACE_CHARS and _HAN.fullmatch(text[i : i + 3])
    }


def _link_by_place_name(docs: Sequence[Doc], matrix: csr_matrix, idx: list[int], p: Params, union: _Union) -> None:
    """Link requests of a block that name the same rare place (a key found in at most 2 % of the block or 60 requests,
    at least 3 times) when their texts are at least `place_similarity` alike and at most `link_days` apart. Different
    people describe one burst in different words; the place's name is what they share."""
    if len(idx) < 3 or p.place_similarity >= p.min_similarity:
        return
    index: dict[str, list[int]] = defaultdict(list)
    for i in idx:
        for key in _place_keys(docs[i]):
            index[key].append(i)
    cap = max(60, int(0.02 * len(idx)))
    link = dt.timedelta(days=p.link_days)
    for members in index.values():
        if not 3 <= len(members) <= cap:
            continue
        sub = matrix[members]
        sims = (sub @ sub.T).tocoo()
        for i, j, s in zip(sims.row, sims.col, sims.data, strict=True):
            a, b = members[i], members[j]
            if i < j and s >= p.place_similarity and abs(docs[a].at - docs[b].at) <= link:
                union.join(a, b)


def groups(docs: Sequence[Doc], p: Params = Params()) -> list[list[int]]:
    """The connected components (single link) of `docs` as index lists, singletons left out: the clustering that
    the live detector and `jiesu hotspots mine` share."""
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
        _link_by_place_name(docs, matrix, idx, p, union)
    located = [i for i, d in enumerate(docs) if d.lat is not None and d.lon is not None]
    if located and p.radius_m > 0:  # across blocks, only when close on the ground
        sub = matrix[located]
        sims = (sub @ sub.T).tocoo()
        for i, j, s in zip(sims.row, sims.col, sims.data, strict=True):
            a, b = docs[located[i]], docs[located[j]]
            near = a.place != b.place and _metres(a, b) <= p.radius_m
            if i < j and s >= p.min_similarity and near and abs(a.at - b.at) <= dt.timedelta(days=p.link_days):
                union.join(located[i], located[j])
    found: dict[int, list[int]] = defaultdict(list)
    for i in range(len(docs)):
        found[union.find(i)].append(i)
    return [members for members in found.values() if len(members) >= 2]


def clusters(docs: Sequence[Doc], now: dt.datetime, p: Params = Params()) -> list[Cluster]:
    """Every cluster with at least one request in the window, hottest first (hotspots or not: see `qualifies`)."""
    start = now - dt.timedelta(days=p.window_days + p.baseline_days)
    docs = [d for d in docs if start <= d.at <= now]
    found: list[Cluster] = []
    window_start = now - dt.timedelta(days=p.window_days)
    scale = p.window_days / p.baseline_days
    for members in groups(docs, p):
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
                label=describe(everyone).label,
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


# --- hotspots in words ------------------------------------------------------------------------------------
# A place name ends in one of these (longest first): 小区, 花园, 公园, 学校, 路 … A crowd is who is affected.
_PLACE_ENDS = (  # i18n: data
    "小区",
    "花园",
    "家园",
    "新城",
    "新村",
    "公寓",
    "大厦",
    "广场",
    "公园",
    "学校",
    "中学",
    "小学",
    "幼儿园",
    "大学",
    "学院",
    "医院",
    "车站",
    "地铁站",
    "高铁站",
    "市场",
    "夜市",
    "商城",
    "商场",
    "大道",
    "大街",
    "街道",
    "社区",
    "项目",
    "楼盘",
    "工地",
    "酒店",
    "搅拌站",
    "站",
    "路",
    "街",
    "村",
    "镇",
    "乡",
    "苑",
    "府",
    "城",
    "湾",
    "园",
    "厂",
)
_NOT_FIRST = ("的", "在", "了", "和", "与", "是")  # i18n: data
_CROWDS = (  # i18n: data
    "教师",
    "老师",
    "学生",
    "家长",
    "业主",
    "居民",
    "村民",
    "老人",
    "老年人",
    "残疾人",
    "儿童",
    "农民工",
    "职工",
    "员工",
    "司机",
    "商户",
    "商家",
    "个体户",
    "患者",
    "退休人员",
    "新市民",
    "租户",
)
_STOP = frozenset(  # i18n: data
    {
        "问题",
        "反映",
        "关于",
        "投诉",
        "咨询",
        "建议",
        "举报",
        "请求",
        "希望",
        "要求",
        "相关",
        "情况",
        "请问",
        "能否",
        "是否",
        "为什么",
        "怎么",
        "如何",
        "严重",
        "解决",
        "处理",
        "有关",
        "部门",
        "市民",
        "领导",
        "你好",
        "您好",
        "小区",
        "附近",
        "周边",
        "我们",
        "进一步",
        "常年",
        "相关政府",
        "不知",
    }
)
_WORDY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")
_FILLER = re.compile(
    r"^(关于|反映|投诉|举报|咨询|建议|请求|请问|强烈|要求)+|(的问题|问题|的情况|情况|的事|一事)+$"
)  # i18n: data


@dataclass(frozen=True)
class Description:
    """A hotspot in words: the place (or the crowd) and the problem, and the member title that says it best."""

    place: str
    crowd: str
    problem: str
    text: str

    @property
    def label(self) -> str:
        where = self.place or self.crowd
        return f"{where}：{self.problem}" if where and self.problem else (where or self.problem or self.text)[:60]


def _frequent_substrings(texts: Sequence[str], floor: int) -> list[tuple[str, int]]:
    """Substrings of 2–12 characters found in at least `floor` of `texts`, with their document frequency."""
    counts: Counter[str] = Counter()
    for t in texts:
        t = t[:60]
        seen = {
            t[i : i + n] for n in range(2, 13) for i in range(max(0, len(t) - n + 1)) if _WORDY.fullmatch(t[i : i + n])
        }
        counts.update(seen)
    return [(sub, n) for sub, n in counts.items() if n >= floor]


def _place_in(texts: Sequence[str], floor: int) -> str:
    """The place name most texts share: among frequent substrings of 3+ characters ending in a place word, those
    found in at least 70 % as many texts as the most frequent one, the longest."""
    found = [
        (sub, n)
        for sub, n in _frequent_substrings(texts, floor)
        if len(sub) >= 3 and sub.endswith(_PLACE_ENDS) and not sub.startswith(_NOT_FIRST)
    ]
    if not found:
        return ""
    top = max(n for _, n in found)
    return max((sub for sub, n in found if n >= 0.7 * top), key=lambda sub: (len(sub), sub))


def describe(docs: Sequence[Doc]) -> Description:
    """Name a cluster in words: the place most of its texts share (titles first, then the texts' openings), or the
    crowd they speak for; the problem as the words most titles share that are not the place; and the member title
    closest to the others, as the description."""
    titles = [_FILLER.sub("", zh.clean(d.title)).strip("？?！!。，,：: ") for d in docs]
    titles = [t for t in titles if t] or [zh.clean(d.title) for d in docs]
    n = len(titles)
    floor = max(2, math.ceil(n * 0.3)) if n > 2 else 1
    place = _place_in(titles, floor) or _place_in([zh.clean(d.content[:120]) for d in docs], floor)
    text = " ".join(titles)
    crowd = (
        "" if place else max(_CROWDS, key=lambda c: (text.count(c), len(c))) if any(c in text for c in _CROWDS) else ""
    )
    counts: Counter[str] = Counter()
    first_pos: dict[str, int] = {}
    for title in titles:
        seen = set()
        for pos, w in enumerate(zh.words(title)):
            if w not in seen and w not in _STOP and w not in place and w not in crowd:
                counts[w] += 1
                seen.add(w)
                first_pos.setdefault(w, pos)
    common = [w for w, k in counts.most_common(8) if k >= floor][:3] or [w for w, _ in counts.most_common(2)]
    problem = "".join(sorted(common, key=lambda w: first_pos[w]))
    # the title sharing most words with the others says it best
    words = [set(zh.words(t)) for t in titles]
    central = max(range(n), key=lambda i: (sum(len(words[i] & w) for w in words), -len(titles[i]))) if n else 0
    return Description(place, crowd, problem, titles[central] if titles else "")


def label_of(titles: Sequence[str]) -> str:
    """A label in words for a cluster of titles (place: problem)."""
    now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return describe([Doc(id=i, at=now, title=t) for i, t in enumerate(titles)]).label


# --- mining a whole file ----------------------------------------------------------------------------------
@dataclass
class Mined:
    """A hotspot found in a file: its cluster, described in words, measured at its busiest window."""

    cluster: Cluster
    description: Description
    docs: list[Doc]
    peak_start: dt.datetime
    peak_end: dt.datetime


def mine(
    docs: Sequence[Doc], p: Params = Params(window_days=30, baseline_days=90, link_days=30, min_size=5)
) -> list[Mined]:
    """`jiesu hotspots mine`: the hotspots of a whole export, hottest first. The clustering (`groups`), the heat
    (`heat_of`) and the words (`describe`) are the live detector's; instead of one window ending now, each
    cluster is measured at its own busiest `window_days` (V = its requests there, B = its requests in the
    `baseline_days` before, scaled to one window), so a burst is ranked at its peak whenever it happened."""
    docs = sorted(docs, key=lambda d: (d.at, d.id))
    window = dt.timedelta(days=p.window_days)
    scale = p.window_days / p.baseline_days if p.baseline_days else 0.0
    found: list[Mined] = []
    for members in groups(docs, p):
        mine_ = [docs[i] for i in members]  # in time order: `docs` is sorted
        best, lo = (0, 0, 0), 0
        for hi in range(len(mine_)):
            while mine_[hi].at - mine_[lo].at > window:
                lo += 1
            if hi - lo + 1 > best[0]:
                best = (hi - lo + 1, lo, hi)
        volume, lo, hi = best
        if volume < p.min_size:
            continue
        peak = mine_[lo : hi + 1]
        start = peak[0].at
        before = sum(1 for d in mine_ if start - dt.timedelta(days=p.baseline_days) <= d.at < start)
        callers = len({d.caller if d.caller is not None else f"#{d.id}" for d in peak})
        support = sum(d.support for d in peak)
        severity = sum(d.severity for d in peak) / len(peak)
        heat, growth = heat_of(volume, before * scale, callers, support, severity)
        words = describe(mine_)
        cluster = Cluster(
            ids=[d.id for d in mine_],
            label=words.label,
            place=_most_common(d.place for d in mine_),
            district=_most_common(d.district for d in mine_),
            category=_most_common(d.category for d in mine_),
            volume=volume,
            baseline=round(before * scale, 3),
            growth=growth,
            callers=callers,
            support=support,
            severity=severity,
            heat=round(heat, 3),
            first_at=mine_[0].at,
            last_at=mine_[-1].at,
        )
        found.append(Mined(cluster, words, mine_, start, peak[-1].at))
    found.sort(key=lambda m: (-m.cluster.heat, m.cluster.ids[0]))
    return found


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
