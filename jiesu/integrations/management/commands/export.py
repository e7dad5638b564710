"""`jiesu export orders --from YYYY-MM-DD --to YYYY-MM-DD --format csv|xlsx|parquet [--output FILE]
[--user NAME [--unmasked]]`: the orders taken in those days (both included)."""

import datetime as dt
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiesu.integrations.transfer import export_orders
from jiesu.lib import clock
from jiesu.orgs import access
from jiesu.tickets import access as tickets_access


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("Not a date (YYYY-MM-DD): %(value)s") % {"value": value[:20]}, returncode=2) from None


class Command(BaseCommand):
    help = "Export orders as CSV, Excel or Parquet; personal data masked unless an authorised user asks otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["orders"])
        parser.add_argument("--from", dest="start", required=True)
        parser.add_argument("--to", dest="end", required=True)
        parser.add_argument("--format", required=True, choices=["csv", "xlsx", "parquet"])
        parser.add_argument("--output", type=Path)
        parser.add_argument("--user", help="export what this user may see (default: every order, masked)")
        parser.add_argument(
            "--unmasked", action="store_true", help="requesters unmasked; the user's role must allow it"
        )

    def handle(self, *args: Any, **o: Any) -> None:
        start, end = _day(o["start"]), _day(o["end"])
        if end < start:
            raise CommandError(_("--to is before --from."), returncode=2)
        user = None
        if o["user"]:
            user = get_user_model().objects.filter(username=o["user"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user “%(name)s”.") % {"name": o["user"]}, returncode=2)
        if o["unmasked"] and (user is None or not access.may_see_requester(user)):
            raise CommandError(_("Unmasked export needs --user with a role that may see requesters."), returncode=2)
        tickets = tickets_access.visible_tickets(user) if user is not None else tickets_access.all_tickets()
        tickets = tickets.filter(
            intake_at__gte=clock.start_of_day(start), intake_at__lt=clock.start_of_day(end + dt.timedelta(days=1))
        )
        out = o["output"] or Path(f"jiesu-orders-{start}-{end}.{o['format']}")
        try:
            count = export_orders(tickets, out, o["format"], o["unmasked"])
        except OSError as error:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": out, "error": error.strerror}, returncode=2
            ) from None
        masked = _("unmasked") if o["unmasked"] else _("masked")
        self.stdout.write(
            _("Wrote %(count)s orders to %(path)s (%(masked)s).") % {"count": count, "path": out, "masked": masked}
        )
