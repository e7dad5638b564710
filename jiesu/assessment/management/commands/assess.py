"""`jiesu assess --month YYYY-MM [--publish] [--correct REASON]`: the monthly 三率 assessment.

Without flags it computes the month into its draft (recomputing the draft if there is one) and prints the
rankings. `--publish` recomputes with every appeal decided so far and publishes; a published month never
changes. `--correct REASON` starts a correction of a published month: a new draft version, published in turn
with `--publish`. Errors print one line in the user's language and exit with status 2.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiesu.assessment import selectors, services
from jiesu.assessment.rules import parse_month
from jiesu.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Compute (and publish) the monthly 三率 assessment of every unit."  # i18n: data

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--publish", action="store_true", help="recompute and publish the month")
        parser.add_argument("--correct", metavar="REASON", help="start a correction of a published month")
        parser.add_argument("--quiet", action="store_true", help="print the summary only")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            month = parse_month(o["month"])
            if o["correct"] is not None:
                snapshot = services.compute(month, reason=o["correct"])
            if o["publish"]:
                snapshot = services.publish(month)
            elif o["correct"] is None:
                snapshot = services.compute(month)
        except ServiceError as e:
            raise CommandError(str(e), returncode=2) from None
        report = selectors.report(snapshot)
        state = _("published") if snapshot.is_published else _("draft")
        t = report.all_totals
        self.stdout.write(
            _(
                "%(month)s v%(version)s (%(state)s): %(volume)s tickets assessed, %(excluded)s excluded; "
                "response %(r1)s%%, resolution %(r2)s%%, satisfaction %(r3)s%%; digest %(digest)s"
            )
            % {
                "month": f"{month:%Y-%m}",
                "version": snapshot.version,
                "state": state,
                "volume": t.get("volume"),
                "excluded": t.get("excluded"),
                "r1": t.get("response_rate"),
                "r2": t.get("resolution_rate"),
                "r3": t.get("satisfaction_rate"),
                "digest": snapshot.digest[:12],
            }
        )
        if o["quiet"]:
            return
        for _group, label, rows in report.groups:
            self.stdout.write(f"\n== {label} ==")
            for s in rows:
                marks = " ".join(
                    m
                    for m, on in (
                        (_("Interview (约谈)"), s.interview),
                        (_("Recognised"), s.recognition),
                        (_("Governance focus (治理类街乡)"), s.focus),
                    )
                    if on
                )
                figures = (s.response_rate, s.resolution_rate, s.satisfaction_rate, s.score)
                shown = " ".join(f"{'-' if x is None else x:>7}" for x in figures)
                self.stdout.write(f"{s.rank or '-':>4} {s.unit.name:<16} {s.volume:>6} {shown} {marks}")
