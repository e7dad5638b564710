"""The cadre module's notifications, made from its event trail (`CadreEvent`) by the notification outbox
(`jiesu worker`), registered in `CadresConfig.ready` through `notify.outbox.register_source` as a private source
(personnel matters: nobody but the recipient sees these rows, the admin included).

An overdue rectification item that escalates (`rectification_escalated`) tells its owner, the unit's Party secretary
and leader, and the organisation department that held the 约谈; the line leads to the 约谈's page (an owner reads
the 约谈 of their items)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from jiesu.orgs.models import Membership, Role

from .models import CadreEvent, Interview, RectificationItem

SOURCE = "cadres"  # the name of this source on its notifications (`Notification.source`)


def recipients(events: Sequence[CadreEvent]) -> dict[int, list[int]]:
    """User ids to notify of each event (by event id)."""
    escalated = [e for e in events if e.action == "rectification_escalated" and e.subject_id]
    interviews = {
        i.pk: i for i in Interview.objects.filter(pk__in={e.subject_id for e in escalated}).select_related("unit")
    }
    items = {
        r.pk: r
        for r in RectificationItem.objects.filter(pk__in={e.data.get("item") for e in escalated}).select_related(
            "owner"
        )
    }
    staff: list[tuple[int, int]] = []
    if interviews:
        staff = list(
            Membership.objects.filter(
                Q(unit_id__in={i.unit_id for i in interviews.values()}),
                role__in=[Role.PARTY_SECRETARY, Role.UNIT_LEADER],
            ).values_list("user_id", "unit_id")
        )
    found: dict[int, list[int]] = {e.pk: [] for e in events}
    for e in escalated:
        interview = interviews.get(e.subject_id or 0)
        item = items.get(e.data.get("item"))  # type: ignore[arg-type]
        if interview is None:
            continue
        users = {user for user, unit in staff if unit == interview.unit_id}
        users.add(interview.scheduled_by_id)
        if item is not None:
            users.add(item.owner.user_id)
        users.discard(e.actor_id or 0)
        found[e.pk] = sorted(u for u in users if u)
    return found


def lines(ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """How each event's notification reads and where it leads: {event id: (text, link)}."""
    events = list(CadreEvent.objects.filter(pk__in=list(ids)))
    items = {
        r.pk: r
        for r in RectificationItem.objects.filter(pk__in={e.data.get("item") for e in events}).select_related(
            "interview__unit"
        )
    }
    out: dict[int, tuple[str, str]] = {}
    for e in events:
        item = items.get(e.data.get("item"))  # type: ignore[arg-type]
        if e.action == "rectification_escalated" and item is not None:
            text = _("Rectification overdue and escalated: %(title)s (%(unit)s, due %(due)s)") % {
                "title": item.title,
                "unit": item.interview.unit.name,
                "due": f"{item.due_on:%Y-%m-%d}",
            }
            out[e.pk] = (text, reverse("cadre-interview", args=[item.interview_id]))
        else:
            out[e.pk] = (e.action, reverse("cadre-home"))
    return out


def drain(now: dt.datetime, limit: int) -> int:
    """The cadre outbox: up to `limit` unprocessed events become notifications, claimed as a batch like the tickets'
    (SKIP LOCKED on PostgreSQL, see jiesu.notify.outbox), so several workers drain it at once."""
    from jiesu.notify import outbox

    with transaction.atomic():
        events = outbox.claim(CadreEvent, limit)
        who = recipients(events)
        outbox.save(
            [
                outbox.notification(SOURCE, event.pk, uid, at=event.at, now=now)
                for event in outbox.mark(CadreEvent, events, now)
                for uid in who[event.pk]
            ]
        )
        return len(events)
