"""Hotspot detection on the Teddy Cup 2020 hotspot set (附件3, 4,326 messages with likes) and on the demo city.

Teddy: `hotspots.mine` (what `jiesu hotspots mine` runs: the live clustering and heat, each cluster measured at its
busiest 30 days) prints the top hotspots with size, peak, span, likes, the label in words and three member titles,
beside the baseline of the same run (the detector as it was before issue 19: no place-name links, heat
10·ln(1+V)·(1+growth)·breadth), so a reader can judge them (the set has no hotspot labels; see the README).
`--tracker` also replays the live tracker week by week, as `jiesu worker` would.

    .venv/bin/python bench/hotspot_bench.py [--top 10] [--tracker]
"""

import argparse
import datetime as dt
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")  # benchmarks use the demo city and its generators
django.setup()

from jiesu.governance import hotspots as hs  # noqa: E402
from jiesu.intel import datasets  # noqa: E402
from jiesu.intel.tabular import read_table  # noqa: E402

TEDDY3 = "tipdm2020c/附件3_热点问题挖掘_4326条_点赞反对.csv"


def parse_at(text: str) -> dt.datetime | None:
    text = text.strip()
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt)  # noqa: DTZ007 (the set has local times)
        except ValueError:
            continue
    return None


def teddy_docs() -> list[hs.Doc]:
    table = read_table(datasets.root() / TEDDY3)
    docs = []
    for n, row in enumerate(table.rows):
        at = parse_at(row.get("留言时间") or "")
        if at is None:
            continue
        docs.append(
            hs.Doc(
                id=int(row.get("留言编号") or n),
                at=at,
                title=(row.get("留言主题") or "").strip(),
                content=(row.get("留言详情") or "").strip(),
                caller=row.get("留言用户"),
                support=int(float(row.get("点赞数") or 0)),
            )
        )
    return docs


def run_tracker(docs: list[hs.Doc], p: hs.Params, step_days: int = 7) -> dict[int, dict]:
    start = min(d.at for d in docs).replace(hour=0, minute=0, second=0) + dt.timedelta(days=30)
    end = max(d.at for d in docs) + dt.timedelta(days=step_days)
    by_id = {d.id: d for d in docs}
    opened: dict[int, dict] = {}
    open_: list[hs.Tracked] = []
    key = 0
    now = start
    while now <= end:
        found = hs.clusters(docs, now, p)
        nxt: list[hs.Tracked] = []
        for ch in hs.track(open_, found, p):
            if ch.cluster is None:
                volume = hs.window_volume((by_id[i].at for i in ch.members), now, p)
                if volume:
                    prev = next(t for t in open_ if t.key == ch.key)
                    nxt.append(hs.Tracked(prev.key, ch.members, prev.heat * 0.5, hs.FADING))
                continue
            if ch.key is None:
                key += 1
                opened[key] = {"opened": now, "states": [], "peak": 0.0, "label": ch.cluster.label}
                k = key
            else:
                k = ch.key
            rec = opened[k]
            rec["states"].append(ch.state)
            rec["ids"] = ch.members
            rec["peak"] = max(rec["peak"], ch.cluster.heat)
            rec["label"] = ch.cluster.label
            if ch.state != hs.CLOSED:
                nxt.append(hs.Tracked(k, ch.members, ch.cluster.heat, ch.state))
        open_ = nxt
        now += dt.timedelta(days=step_days)
    return opened


def old_heat(c: hs.Cluster) -> float:
    """The heat before issue 19: 10 · ln(1 + V) · (1 + growth) · breadth · severity (new clusters of a few won)."""
    breadth = 0.5 + 0.5 * min(1.0, (c.callers + math.log1p(c.support)) / c.volume)
    return 10 * math.log1p(c.volume) * (1 + c.growth) * breadth * c.severity


def print_mined(title: str, found: list[hs.Mined], top: int, key=None) -> None:
    ranked = sorted(found, key=key) if key else found
    print(f"\n{title}")
    for n, m in enumerate(ranked[:top], 1):
        c = m.cluster
        likes = sum(d.support for d in m.docs)
        print(
            f"{n:2}. n={len(m.docs):3} (peak {c.volume:3} in 30 d)  likes={likes:4}  "
            f"{c.first_at:%Y-%m-%d}…{c.last_at:%Y-%m-%d}  {m.description.label}"
        )
        for d in m.docs[:3]:
            print(f"      - {d.title[:50]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--tracker", action="store_true", help="also replay the live tracker week by week")
    args = parser.parse_args()
    missing = datasets.missing(TEDDY3)
    if missing:
        print(f"SKIP: {missing}")
        return
    docs = teddy_docs()
    p = hs.Params(window_days=30, baseline_days=90, link_days=30, min_size=5)
    t0 = time.perf_counter()
    found = hs.mine(docs, p)
    took = time.perf_counter() - t0
    print(f"Teddy 附件3: {len(docs)} messages; `jiesu hotspots mine` (live clustering, size-first heat): {took:.1f} s")
    print_mined("jiesu: hottest first", found, args.top)
    t0 = time.perf_counter()
    before = hs.mine(docs, hs.Params(window_days=30, baseline_days=90, link_days=30, min_size=5, place_similarity=1.0))
    took = time.perf_counter() - t0
    print_mined(
        f"baseline (before issue 19: no place-name links, heat 10·ln(1+V)·(1+growth)·breadth): {took:.1f} s",
        before,
        args.top,
        key=lambda m: -old_heat(m.cluster),
    )
    if args.tracker:
        tracker(docs, args.top)


def tracker(docs: list[hs.Doc], top: int) -> None:
    by_id = {d.id: d for d in docs}
    p = hs.Params(window_days=30, baseline_days=90, link_days=45, min_size=4, min_similarity=0.5)
    t0 = time.perf_counter()
    opened = run_tracker(docs, p)
    took = time.perf_counter() - t0
    print(f"\nlive tracker every 7 days: {len(opened)} hotspots opened in {took:.1f} s")
    ranked = sorted(opened.values(), key=lambda r: -r["peak"])
    for n, r in enumerate(ranked[:top], 1):
        ids = r["ids"]
        span = f"{min(by_id[i].at for i in ids):%Y-%m-%d}…{max(by_id[i].at for i in ids):%Y-%m-%d}"
        likes = sum(by_id[i].support for i in ids)
        print(f"{n:2}. heat {r['peak']:6.1f}  n={len(ids):3}  likes={likes:5}  {span}  [{r['label']}]")


if __name__ == "__main__":
    main()
