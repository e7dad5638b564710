"""community services: points ledger; quarters."""

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput, NotFound

from ..models import PointEntry, PointReason
from ._core import _event, _managed, _text


@transaction.atomic
def correct_points(actor: Any, entry_id: Any, points: Any, note: str) -> PointEntry:
    """A correction is a new entry naming the one it corrects; the ledger is never edited."""
    try:
        entry = PointEntry.objects.select_related("member", "community").get(pk=int(entry_id))
    except (PointEntry.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("There is no such entry.")) from None
    _managed(actor, entry.community)
    try:
        delta = int(points)
    except (TypeError, ValueError):
        delta = 0
    if delta == 0 or abs(delta) > 1000:
        raise InvalidInput(_("Enter a correction between -1000 and 1000, not 0."), on="points")
    note = _text(note, _("note"), "note", 200)
    correction = PointEntry.objects.create(
        member=entry.member,
        community=entry.community,
        reason=PointReason.CORRECTION,
        points=delta,
        corrects=entry,
        note=note,
        at=clock.now(),
        actor=actor,
    )
    _event(actor, entry.community, "points", correction.pk, "correct", corrects=entry.pk, points=delta)
    return correction


def quarter_of(day: dt.date) -> tuple[str, dt.date, dt.date]:
    """("2026Q4", first day, first day of the next quarter)."""
    q = (day.month - 1) // 3
    start = dt.date(day.year, 3 * q + 1, 1)
    end = dt.date(day.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
    return f"{day.year}Q{q + 1}", start, end


def parse_quarter(text: str | None) -> tuple[str, dt.date, dt.date]:
    match = re.fullmatch(r"(\d{4})Q([1-4])", (text or "").strip().upper())
    if not match:
        return quarter_of(clock.local_date(clock.now()))
    return quarter_of(dt.date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1))
