"""cadres services: recognition; residents' praise and the monthly honours list."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput, NotFound
from jiesu.tickets import access as ticket_access
from jiesu.tickets.models import Ticket, TicketEvent

from .. import access, selectors
from ..models import CadreProfile, Recognition, RecognitionKind
from ._core import _choice, _event, _manage, _month, _profile, _text, _ticket_ids

# Who worked a ticket, for the commendation buttons on its page: whoever signed it, replied to it or holds it.
WORKED = ("accept", "reply")


@transaction.atomic
def recognise(actor: Any, profile_id: int, kind: str, note: str, ticket: str = "") -> Recognition:
    profile = _profile(actor, profile_id)
    _manage(actor, profile.unit)
    ids = _ticket_ids(actor, ticket)
    r = Recognition.objects.create(
        profile=profile,
        kind=_choice(kind, RecognitionKind, "kind", _("kind")),
        note=_text(note, "note", _("note"), 2000),
        ticket_id=ids[0] if ids else None,
        by=actor,
        at=clock.now(),
    )
    _event(actor, "recognised", profile=profile, subject="recognition", subject_id=r.pk, kind=r.kind)
    return r


@transaction.atomic
def praise_from_callbacks(month: Any, actor: Any = None) -> int:
    """Residents' praise lands on the profile: every callback of the month that found the matter solved and the
    resident satisfied, with the resident's words recorded in its comment, is a commendation of whoever gave the last
    reply before it. Once per ticket and round."""
    from jiesu.tickets.models import Callback

    first = _month(month, "month", _("month"))
    start, end = clock.start_of_day(first), clock.start_of_day(selectors.add_months(first, 1))
    rec = selectors.records(first, selectors.add_months(first, 1))
    repliers = {}
    for user_id, record in rec.items():
        for ticket_id in record.figures["solved"] & record.figures["satisfied"]:
            repliers[ticket_id] = user_id
    profiles = {p.user_id: p for p in CadreProfile.objects.filter(user_id__in=set(repliers.values()))}
    done = set(
        Recognition.objects.filter(kind=RecognitionKind.RESIDENT_PRAISE, ticket_id__in=list(repliers)).values_list(
            "ticket_id", "note"
        )
    )
    made = 0
    callbacks = Callback.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        resolution="solved",
        satisfaction="satisfied",
        ticket_id__in=list(repliers),
    ).exclude(comment="")
    for cb in callbacks:
        profile = profiles.get(repliers[cb.ticket_id])
        note = cb.comment[:500]
        if profile is None or (cb.ticket_id, note) in done:
            continue
        praise = Recognition.objects.create(
            profile=profile,
            kind=RecognitionKind.RESIDENT_PRAISE,
            note=note,
            ticket_id=cb.ticket_id,
            by=None,
            at=cb.created_at,
        )
        _event(actor, "recognised", profile=profile, subject="recognition", subject_id=praise.pk, kind=praise.kind)
        made += 1
    return made


def ticket_cadres(ticket: Ticket) -> list[CadreProfile]:
    """The cadres who worked the ticket (signed it, replied to it, or hold it), in order of first appearance."""
    ids = list(
        TicketEvent.objects.filter(ticket=ticket, action__in=WORKED, actor__isnull=False)
        .order_by("id")
        .values_list("actor_id", flat=True)
    )
    if ticket.handler_id:
        ids.append(ticket.handler_id)
    order = list(dict.fromkeys(ids))
    profiles = {p.user_id: p for p in CadreProfile.objects.filter(user_id__in=order).select_related("user", "unit")}
    return [profiles[u] for u in order if u in profiles]


def commendable(user: Any, ticket: Ticket) -> list[CadreProfile]:
    """The ticket's cadres this user may commend: those of the units the user leads (not the user themself)."""
    if access.personnel_scope(user) is None:  # leads no unit: nothing to ask the trail
        return []
    return [p for p in ticket_cadres(ticket) if p.user_id != user.pk and access.may_manage_unit(user, p.unit)]


@transaction.atomic
def commend_on_ticket(actor: Any, ticket_id: int, profile_id: int, kind: str, note: str = "") -> Recognition:
    """A leader's 点赞 (one click; once per leader, cadre and ticket) or 一事一评 (with the leader's words) from the
    ticket page, for a cadre who worked the ticket. It lands on the cadre's profile and record like any
    commendation."""
    try:
        ticket = ticket_access.get_ticket(actor, int(ticket_id))
    except (ValueError, TypeError):
        raise NotFound(_("The ticket does not exist or you may not see it.")) from None
    kind = _choice(kind, RecognitionKind, "kind", _("kind"))
    if kind not in (RecognitionKind.LIKE, RecognitionKind.CASE_REVIEW):
        raise InvalidInput(_("From a ticket, a leader gives a 点赞 or a 一事一评."), on="kind")
    if not any(access.may_manage_unit(actor, p.unit) for p in access.visible_profiles(actor).filter(pk=profile_id)):
        raise NotFound(_("The cadre does not exist or you may not see them."))  # forbidden answers as not found
    profile = next((p for p in ticket_cadres(ticket) if str(p.pk) == str(profile_id)), None)
    if profile is None:
        raise InvalidInput(_("Only a cadre who worked this ticket can be commended for it."), on="profile")
    if profile.user_id == actor.pk:
        raise InvalidInput(_("Nobody commends themself."), on="profile")
    if kind == RecognitionKind.LIKE:
        if Recognition.objects.filter(profile=profile, ticket=ticket, kind=kind, by=actor).exists():
            raise InvalidInput(_("You have already given a 点赞 for this ticket."), on="kind")
        words = _text(note, "note", _("note"), 2000, required=False) or f"{ticket.number} {ticket.title}"
    else:
        words = _text(note, "note", _("comment (一事一评)"), 2000)
    r = Recognition.objects.create(profile=profile, kind=kind, note=words, ticket=ticket, by=actor, at=clock.now())
    _event(
        actor,
        "recognised",
        profile=profile,
        subject="recognition",
        subject_id=r.pk,
        kind=r.kind,
        ticket=ticket.number,
    )
    return r
