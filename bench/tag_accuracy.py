"""Accuracy of the affected-group tag rules (`jiesu.intel.tags`) on held-out real messages, beside a baseline.

Held-out set: the Hangzhou message board (`hangzhou_people_liuyan/messages_union_recent.csv`, 1,234 messages, title
+ the first ~100 characters), which was never looked at while the rules were written (they were written on Teddy Cup
texts). The labels are in `bench/labels/hangzhou_tags.csv` (message id, the groups the request is about, whether the
message is in the seeded random sample of 300); they were made by reading the texts without the rules' output, by
the guideline in README.md ("事项 × 标签"). Labelled are the 300 random messages and, outside them, every message
that the rules or the baseline tag (so precision has cases even for rare tags).

Per tag and for each system, in the same run:
- precision on all the messages it tags (the whole file; a tagged message without a label is counted apart),
- recall and precision on the random sample (the only unbiased recall: the rest of the file is not labelled),
each with its counts and a Wilson 95 % interval. The baseline is the bare group word only (老人 / 残疾 / 儿童|学生 /
外地 / 企业), as `bench/tag_rates.py` uses.

Usage: .venv/bin/python bench/tag_accuracy.py [--errors] [--rules-at REV]   (JIESU_SHARED_DATA overrides ../shared/data)
`--errors` lists the ids of the wrong proposals and the misses with the words that matched (never the texts).
`--rules-at REV` measures `jiesu/intel/tags.py` as it was at a git revision (e.g. 981ff3f, the rules before the
fixes that this measurement led to: the held-out figure).
Skips with a message when the file is absent.
"""

import argparse
import csv
import math
import os
import re
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")

import django

django.setup()

from jiesu.demo import datasets  # noqa: E402
from jiesu.intel.tags import propose  # noqa: E402
from jiesu.tickets.models import AffectedGroup  # noqa: E402

LABELS = Path(__file__).resolve().parent / "labels" / "hangzhou_tags.csv"
TAGS = [g.value for g in AffectedGroup]
BARE = {  # i18n: data
    "elderly": "老人",
    "disabled": "残疾",
    "children": "儿童|学生",
    "new_residents": "外地",
    "businesses": "企业",
}

Tagger = Callable[[str, str], dict[str, list[str]]]


def rules_at(rev: str | None) -> Tagger:
    """The rules of this tree, or of `jiesu/intel/tags.py` at git revision `rev`."""
    fn = propose
    if rev:
        root = Path(__file__).resolve().parents[1]
        source = subprocess.run(
            ["git", "show", f"{rev}:jiesu/intel/tags.py"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
        module = types.ModuleType(f"tags_at_{rev}")
        sys.modules[module.__name__] = module  # the dataclass in it looks its module up
        exec(compile(source, f"{rev}:jiesu/intel/tags.py", "exec"), module.__dict__)
        fn = module.propose

    def tagger(title: str, content: str) -> dict[str, list[str]]:
        return {p.tag: p.words for p in fn(title, content)}

    return tagger


def bare(title: str, content: str) -> dict[str, list[str]]:
    text = f"{title}。{content}"
    out = {}
    for tag, pattern in BARE.items():
        found = sorted(set(re.findall(pattern, text)))
        if found:
            out[tag] = found
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(k: int, n: int) -> str:
    if n == 0:
        return f"{'–':>6} {'0/0':>7} {'':>13}"
    lo, hi = wilson(k, n)
    return f"{k / n:>6.0%} {f'{k}/{n}':>7} [{lo:>4.0%}–{hi:<4.0%}]"


def load_labels() -> dict[str, tuple[set[str], bool]]:
    out = {}
    with LABELS.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            tags = {t for t in row["tags"].split(";") if t}
            assert tags <= set(TAGS), row
            out[row["id"]] = (tags, row["in_random_sample"] == "1")
    return out


def measure(name: str, tagger: Tagger, rows: list[dict[str, str]], labels: dict, errors: bool) -> None:
    print(f"\n{name}")
    head = ("precision, all it tags", 32), ("  unlabelled", 12), ("recall, sample", 30), ("precision, sample", 30)
    print(f"{'tag':<15}" + "".join(f"{h:>{w}}" for h, w in head))
    wrong: dict[str, list[str]] = {t: [] for t in TAGS}
    missed: dict[str, list[str]] = {t: [] for t in TAGS}
    totals = [0] * 6
    for tag in TAGS:
        tp_all = n_all = unlabelled = tp_s = pos_s = n_s = 0
        for row in rows:
            proposed = tagger(row["title"], row["content"])
            gold, in_sample = labels.get(row["id"], (None, False))
            if tag in proposed:
                if gold is None:
                    unlabelled += 1
                else:
                    n_all += 1
                    tp_all += tag in gold
                    if tag not in gold:
                        wrong[tag].append(f"{row['id']}({','.join(proposed[tag])})")
            if in_sample and gold is not None:
                pos_s += tag in gold
                n_s += tag in proposed
                tp_s += tag in gold and tag in proposed
                if tag in gold and tag not in proposed:
                    missed[tag].append(row["id"])
        for i, v in enumerate((tp_all, n_all, tp_s, pos_s, n_s, unlabelled)):
            totals[i] += v
        print(f"{tag:<15}{rate(tp_all, n_all):>32}{unlabelled:>12}{rate(tp_s, pos_s):>30}{rate(tp_s, n_s):>30}")
    tp_all, n_all, tp_s, pos_s, n_s, unlabelled = totals
    print(f"{'all (micro)':<15}{rate(tp_all, n_all):>32}{unlabelled:>12}{rate(tp_s, pos_s):>30}{rate(tp_s, n_s):>30}")
    if errors:
        for tag in TAGS:
            print(f"  {tag}: wrong {', '.join(wrong[tag]) or '–'}; missed in sample {', '.join(missed[tag]) or '–'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the ids of wrong proposals and misses")
    parser.add_argument("--rules-at", metavar="REV", help="measure jiesu/intel/tags.py as of this git revision")
    args = parser.parse_args()
    why = datasets.missing(datasets.HANGZHOU)
    if why:
        print(f"SKIP: {why}")
        return
    with (datasets.root() / datasets.HANGZHOU).open(encoding="utf-8") as f:
        rows = [{k: (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]
    labels = load_labels()
    in_sample = [r for r in rows if labels.get(r["id"], (None, False))[1]]
    print(
        f"{len(rows)} Hangzhou messages (held out: never read while the rules were written); {len(labels)} labelled, "
        f"{len(in_sample)} of them the seeded random sample"
    )
    positives = {t: sum(t in labels[r["id"]][0] for r in in_sample) for t in TAGS}
    print("random sample, messages about each group: " + ", ".join(f"{t} {n}" for t, n in positives.items()))
    print("cells: share, hits/cases, Wilson 95 % interval")
    name = f"rules (jiesu.intel.tags at {args.rules_at})" if args.rules_at else "rules (jiesu.intel.tags)"
    measure(name, rules_at(args.rules_at), rows, labels, args.errors)
    measure("baseline: the bare group word (老人 / 残疾 / 儿童|学生 / 外地 / 企业)", bare, rows, labels, args.errors)


if __name__ == "__main__":
    main()
