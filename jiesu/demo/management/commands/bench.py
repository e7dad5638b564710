"""`jiesu bench generate --orders N --months M [--to parquet|db] [--out DIR] [--seed S]`: synthetic history.

  --to parquet (default) writes DIR/facts/YYYY-MM.parquet (the assessment's columnar layout) and
               DIR/orders/YYYY-MM.parquet (each order's lifecycle), for the demo city's handling units.
  --to db      inserts complete, closed tickets with events and callbacks into the database.
The months are the M months before the current one. It prints the rate in orders per second."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiesu.assessment.rules import previous_month
from jiesu.demo import generator
from jiesu.lib import clock


class Command(BaseCommand):
    help = "Benchmark helpers: generate synthetic orders with events and callbacks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="synthetic orders for the demo city")
        gen.add_argument("--orders", type=int, required=True)
        gen.add_argument("--months", type=int, default=1)
        gen.add_argument("--to", choices=["parquet", "db"], default="parquet")
        gen.add_argument("--out", type=Path, default=Path("var/bench"))
        gen.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **o: Any) -> None:
        if o["orders"] < 1 or not 1 <= o["months"] <= 120:
            raise CommandError(_("Give at least one order and from 1 to 120 months."), returncode=2)
        units = generator.handling_units()
        if not units:
            raise CommandError(_("The demo city has no units yet; run scripts/demo or jiesu demo first."), returncode=2)
        last = previous_month(clock.local_date(clock.now()).replace(day=1))
        months = generator.months_back(last, o["months"])
        gen = generator.Generator(units, seed=o["seed"])
        started = time.perf_counter()
        if o["to"] == "db":
            made = generator.load_into_database(gen, months, o["orders"])
            where = _("the database")
        else:
            made = generator.write_parquet(gen, months, o["orders"], o["out"])
            where = str(o["out"])
        seconds = time.perf_counter() - started
        self.stdout.write(
            _("%(n)s orders over %(m)s months (%(first)s…%(last)s) into %(where)s in %(s).2f s: %(rate)s orders/s")
            % {
                "n": made,
                "m": len(months),
                "first": f"{months[0]:%Y-%m}",
                "last": f"{months[-1]:%Y-%m}",
                "where": where,
                "s": seconds,
                "rate": f"{made / seconds:,.0f}",
            }
        )
