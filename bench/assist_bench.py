"""Speed of one order's full assist on the demo city, beside the previous path in the same run.

For up to 300 demo tickets' texts (title, content, address, caller's phone, coordinates) it times, per order, what
the intake console's panel computes: category (`assess_category`: probabilities, evidence words, the open-set gate
and the similar closed orders), unit (`propose_units`), place (`resolve_place`), duplicates with the same caller
and the distance bonus (`possible_duplicates`) and tags (`tags.propose`). "now" queries the text index fitted by
the retraining task (vectors cached per process); the baseline, interleaved order by order in the same process, fits
a TF-IDF on the candidate tickets on every call as before. Prints median and p95 in milliseconds.

Usage (a demo database; `jiesu demo` on a throw-away SQLite is enough, e.g.
JIESU_DEMO=1 JIESU_SQLITE_PATH=/tmp/demo.sqlite3 jiesu demo --tickets 1500 --history 0):
    JIESU_SQLITE_PATH=/tmp/demo.sqlite3 .venv/bin/python bench/assist_bench.py [--orders 300]
It trains the two models first when none is active. No thresholds.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from jiesu.intel import selectors as intel  # noqa: E402
from jiesu.intel import services, tags  # noqa: E402
from jiesu.intel.models import ModelKind  # noqa: E402
from jiesu.lib import clock  # noqa: E402
from jiesu.orgs.models import Membership, Role  # noqa: E402
from jiesu.orgs.selectors import resolve_place  # noqa: E402
from jiesu.tickets.models import Ticket  # noqa: E402


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples):6.2f} ms   p95 {np.percentile(samples, 95):6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    args = parser.parse_args()
    if not Ticket.objects.exists():
        print("SKIP: no tickets in this database (seed the demo city first)")
        return
    if intel.active_model(ModelKind.CATEGORY) is None:
        t0 = time.perf_counter()
        services.train_category_model()
        services.train_router()
        print(f"trained both models in {time.perf_counter() - t0:.1f} s")
    operator = get_user_model().objects.get(
        pk=Membership.objects.filter(role=Role.HOTLINE_OPERATOR).values_list("user", flat=True)[0]
    )
    day = clock.local_date(clock.now())
    tickets = list(
        Ticket.objects.select_related("requester", "street", "district", "category").order_by("-intake_at")[
            : args.orders
        ]
    )
    model = intel.active_model(ModelKind.CATEGORY)
    assert model is not None
    index = intel.text_index()
    if index is None:  # a model trained before the index existed: add one (what retraining now does)
        model.text_index = services.build_text_index()
        index = intel.text_index()
    fitted_path = intel.text_index

    def assist_one(t: Ticket) -> None:
        phone = t.requester.phone if t.requester else ""
        text = f"{t.title} {t.content}"
        assist = intel.assess_category(t.title, t.content, day, user=operator)
        resolve_place(t.address)
        category = assist.proposals[0].category if assist.proposals else None
        intel.propose_units(category, t.district, t.street, t.title, t.content, day)
        intel.possible_duplicates(
            operator,
            text,
            t.street,
            t.district,
            address=t.address,
            phone=phone,
            latitude=t.latitude,
            longitude=t.longitude,
            exclude=t.pk,
        )
        tags.propose(t.title, t.content)

    full, base = [], []
    for t in tickets[:20]:  # warm up (jieba, models, the database, the vector cache of the fitted index)
        assist_one(t)
    for t in tickets:
        intel.text_index = fitted_path  # the fitted index, queried
        start = time.perf_counter()
        assist_one(t)
        full.append((time.perf_counter() - start) * 1000)
        intel.text_index = lambda: None  # the per-call TF-IDF fit on the candidates (issue 4 and 19 before)
        start = time.perf_counter()
        assist_one(t)
        base.append((time.perf_counter() - start) * 1000)
    intel.text_index = fitted_path
    print(f"{len(tickets)} orders of the demo city ({Ticket.objects.count()} tickets in the database)")
    print(f"index: {index.rows if index else 0} texts, {len(index.vec.vocabulary_) if index else 0} n-grams")
    print("full assist = category (probabilities, evidence, open-set gate, similar closed orders), unit, place,")
    print("duplicates (same caller, address, distance) and tags; interleaved, same orders, same process:")
    print(f"  fitted index + vector cache (now):        {ms(full)}")
    print(f"  baseline: TF-IDF fitted per call (before): {ms(base)}")


if __name__ == "__main__":
    main()
