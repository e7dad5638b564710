"""How often the affected-group tag rules (`jiesu.intel.tags`) fire on real messages, and on which words.

Rates only: Teddy Cup has no labels for these tags (the accuracy on held-out labelled messages is
`bench/tag_accuracy.py`). Prints, per tag, the share of the Teddy Cup messages (附件2: 495 labelled + 2,801
unlabelled) it is proposed for and its most frequent matching words, beside a baseline of the bare group names
(老人, 残疾, 儿童, 外地, 企业) in the same run.

Usage: JIESU_SHARED_DATA=../shared/data .venv/bin/python bench/tag_rates.py. Skips when the files are absent.
"""

import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
os.environ.setdefault("JIESU_DEMO", "1")

import django

django.setup()

from jiesu.demo import datasets  # noqa: E402
from jiesu.intel.tags import propose  # noqa: E402

BARE = {"elderly": "老人", "disabled": "残疾", "children": "儿童", "new_residents": "外地", "businesses": "企业"}


def main() -> None:
    why = datasets.missing(datasets.TEDDY_LABELLED, datasets.TEDDY_UNLABELLED)
    if why:
        print(f"SKIP: {why}")
        return
    data = datasets.teddy()
    docs = [*data.docs, *data.unlabelled]
    tags: Counter[str] = Counter()
    words: dict[str, Counter[str]] = {}
    bare: Counter[str] = Counter()
    tagged = 0
    for doc in docs:
        title, content = doc[0], doc[1] if len(doc) > 1 else ""
        found = propose(title, content)
        tagged += bool(found)
        for t in found:
            tags[t.tag] += 1
            words.setdefault(t.tag, Counter()).update(t.words)
        for tag, word in BARE.items():
            bare[tag] += word in f"{title}{content}"
    print(f"{len(docs)} Teddy Cup messages; {tagged / len(docs):.1%} get at least one tag")
    print(f"{'tag':<15}{'rules':>8}{'bare name':>11}  most frequent words")
    for tag in BARE:
        common = ", ".join(f"{w} {n}" for w, n in words.get(tag, Counter()).most_common(5))
        print(f"{tag:<15}{tags[tag] / len(docs):>8.1%}{bare[tag] / len(docs):>11.1%}  {common}")


if __name__ == "__main__":
    main()
