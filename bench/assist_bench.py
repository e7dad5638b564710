"""Speed of one order's full assist on the demo city, beside the issue-4 assist in the same run.

For up to 300 demo tickets' texts (title, content, address, caller's phone) it times, per order, what the intake
console's panel computes: category (`assess_category`: probabilities, evidence words, familiarity and the similar
closed orders), unit (`propose_units`), place (`resolve_place`) and duplicates with the same caller
(`possible_duplicates`). The baseline is the issue-4 assist: the model's top 3 with evidence words only
(`TextModel.top` + `explain`), the same unit, place and duplicate calls. Prints median and p95 in milliseconds.

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
from jiesu.intel import services  # noqa: E402
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
    full, base = [], []
    for t in tickets[:20]:  # warm up caches (jieba, models, the database)
        intel.assess_category(t.title, t.content, day, user=operator)
    for t in tickets:
        phone = t.requester.phone if t.requester else ""
        text = f"{t.title} {t.content}"
        start = time.perf_counter()
        assist = intel.assess_category(t.title, t.content, day, user=operator)
        places = resolve_place(t.address)
        category = assist.proposals[0].category if assist.proposals else None
        intel.propose_units(category, t.district, t.street, t.title, t.content, day)
        intel.possible_duplicates(operator, text, t.street, t.district, address=t.address, phone=phone, exclude=t.pk)
        full.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        top = model.top([(t.title, t.content)], 3)[0]
        for label, _ in top:
            model.explain((t.title, t.content), label)
        places = resolve_place(t.address)
        intel.propose_units(category, t.district, t.street, t.title, t.content, day)
        intel.possible_duplicates(operator, text, t.street, t.district, address=t.address, phone=phone, exclude=t.pk)
        base.append((time.perf_counter() - start) * 1000)
    del places
    print(f"{len(tickets)} orders of the demo city ({Ticket.objects.count()} tickets in the database)")
    print(f"issue-19 full assist (category+familiarity+similar closed, unit, place, duplicates): {ms(full)}")
    print(f"baseline issue-4 assist (top 3 + evidence words, unit, place, duplicates):          {ms(base)}")


if __name__ == "__main__":
    main()
