"""cadres services: recognition; residents' praise and the monthly honours list."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock

from .. import selectors
from ..models import CadreProfile, Recognition, RecognitionKind
from ._core import _choice, _event, _manage, _month, _profile, _text, _ticket_ids


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
