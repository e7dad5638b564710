from typing import Any

from django.core.management.base import BaseCommand

from jiesu.training.services import scan


class Command(BaseCommand):
    help = "Computes everyone's strain signals and raises care alerts for their leaders. Run it daily."

    def handle(self, *args: Any, **options: Any) -> None:
        raised = scan()
        self.stdout.write(f"{len(raised)} new care alerts")
