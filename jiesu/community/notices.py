"""Who is told of a community event (the notification outbox calls this) and what the line says."""

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from jiesu.orgs.models import UNIT_ROLES

from .models import CommunityEvent, PartyMember


def recipients(event: CommunityEvent) -> list[int]:
    User = get_user_model()
    users: set[int] = set()
    if event.action in {"offer", "call"}:
        users = set(event.data.get("users", []))
    elif event.action == "escalate":
        staff = User.objects.filter(membership__unit_id=event.community_id, membership__role__in=list(UNIT_ROLES))
        if not staff.exists():  # a community without its own login: the street above it
            staff = User.objects.filter(
                membership__unit__children=event.community_id, membership__role__in=list(UNIT_ROLES)
            )
        users = set(staff.values_list("pk", flat=True))
    elif event.subject == "member" and event.action in {"confirm", "register"}:
        users = set(
            PartyMember.objects.filter(pk=event.subject_id, user__isnull=False).values_list("user_id", flat=True)
        )
    users.discard(event.actor_id or 0)
    return sorted(users)


SOURCE = "community"  # Notification.source of the community's notifications


def describe_many(ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(text, link) of the notification lines of these community events, by event id (one query)."""
    return {pk: describe(event) for pk, event in CommunityEvent.objects.in_bulk(list(ids)).items()}


def describe(event: CommunityEvent) -> tuple[str, str]:
    """(text, link) of a notification line."""
    if event.subject == "task":
        texts = {
            "offer": _("A task is recommended to you"),
            "escalate": _("A task was not claimed in time and is back with the community"),
        }
        link = (
            reverse("member-task", args=[event.subject_id])
            if event.action == "offer"
            else reverse("community-task", args=[event.subject_id])
        )
        return texts.get(event.action, event.action), link
    if event.subject == "callout":
        return _("The community calls its members out (社区吹哨)"), reverse("member-callouts")
    if event.subject == "member":
        return _("Your registration with the community is confirmed"), reverse("member-home")
    return event.action, "/"


def drain(now: dt.datetime, limit: int) -> int:
    """The community's outbox: up to `limit` unprocessed events become notifications, claimed as a batch like the
    tickets' (SKIP LOCKED on PostgreSQL, see jiesu.notify.outbox), so several workers drain it at once."""
    from jiesu.notify import outbox

    with transaction.atomic():
        events = outbox.claim(CommunityEvent, limit)
        notes = [
            outbox.notification(SOURCE, event.pk, uid, at=event.at, now=now)
            for event in outbox.mark(CommunityEvent, events, now)
            for uid in recipients(event)
        ]
        outbox.save(notes)
        return len(events)
