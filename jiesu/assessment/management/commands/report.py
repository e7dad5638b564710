"""`jiesu report --month YYYY-MM --format xlsx|pdf|html [--output FILE] [--lang zh-hans|en]`: the monthly
notification (通报) of the month's standing snapshot (the latest published version, else the draft)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiesu.assessment import report as files
from jiesu.assessment import selectors
from jiesu.assessment.rules import parse_month
from jiesu.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Write the monthly assessment notification (通报) as Excel, PDF or HTML."  # i18n: data

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--format", required=True, choices=sorted(files.FORMATS))
        parser.add_argument("--output", type=Path, help="default: jiesu-assessment-YYYY-MM.<format>")
        parser.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            month = parse_month(o["month"])
        except ServiceError as e:
            raise CommandError(str(e), returncode=2) from None
        snapshot = selectors.current_snapshot(month)
        if snapshot is None:
            raise CommandError(
                _("%(month)s has not been assessed; run: jiesu assess --month %(month)s") % {"month": f"{month:%Y-%m}"},
                returncode=2,
            )
        out = o["output"] or Path(f"jiesu-assessment-{month:%Y-%m}.{o['format']}")
        try:
            out.write_bytes(files.FORMATS[o["format"]](selectors.report(snapshot), lang=o["lang"]))
        except OSError as e:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": out, "error": e.strerror}, returncode=2
            ) from None
        self.stdout.write(
            _("Wrote %(path)s (%(month)s v%(version)s).")
            % {"path": out, "month": f"{month:%Y-%m}", "version": snapshot.version}
        )
