"""`jiesu restore FOLDER`: load a backup into the configured database and folders, then prove it (counts, published
snapshot digests, facts hashes)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jiesu.operations.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restores a backup made by `jiesu backup` and checks it against its manifest."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", help="a jiesu-backup-<time> folder")
        parser.add_argument("--force", action="store_true", help="SQLite: overwrite an existing database file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = restore(Path(options["folder"]), force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        counts = ", ".join(f"{label} {n}" for label, n in manifest["counts"].items())
        self.stdout.write(f"restored and checked: {counts}; {len(manifest['published_snapshots'])} published snapshots")
