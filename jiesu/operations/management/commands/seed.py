from typing import Any

from django.core.management.base import BaseCommand

from jiesu.operations.reference_data import seed_reference


class Command(BaseCommand):
    help = "Loads the reference data (org units, catalogues, time limits, calendar). Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        seed_reference()
        self.stdout.write("reference data loaded")
