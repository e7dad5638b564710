"""`jiesu backup DIR`: the database, photos, models and columnar copies into a new folder under DIR."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiesu.operations.backup import BackupError, backup


class Command(BaseCommand):
    help = "Backs up the database, the photos, the text models and the assessment's columnar copies."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory", help="the backup goes into a new folder jiesu-backup-<time> here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            folder = backup(Path(options["directory"]))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(folder))
