"""`jiesu import orders FILE.csv|.xlsx --mapping NAME|PATH.json [--rejects FILE]`: load historical orders."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiesu.integrations.transfer import Mapping, import_orders
from jiesu.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Import orders from another system's CSV or Excel file (mappings: teddy, fuzhou, nyc311, la311, or JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["orders"])
        parser.add_argument("file", type=Path)
        parser.add_argument("--mapping", required=True, help="a shipped mapping's name, or a mapping JSON file")
        parser.add_argument("--rejects", type=Path, help="where rejected rows go (default: FILE.rejects.csv)")

    def handle(self, *args: Any, **o: Any) -> None:
        started = time.perf_counter()
        try:
            result = import_orders(o["file"], Mapping.load(o["mapping"]), o["rejects"])
        except ServiceError as error:
            raise CommandError(str(error), returncode=2) from None
        seconds = time.perf_counter() - started
        self.stdout.write(
            _(
                "Read %(read)s rows: %(created)s orders created, %(present)s already present, "
                "%(rejected)s rejected (%(seconds).1f s)."
            )
            % {
                "read": result.read,
                "created": result.created,
                "present": result.present,
                "rejected": result.rejected,
                "seconds": seconds,
            }
        )
        if result.rejects_file:
            self.stdout.write(_("Rejected rows and their reasons: %(path)s") % {"path": result.rejects_file})
