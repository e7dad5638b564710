"""The cadre panel on the ticket page (registered in `CadresConfig.ready`): a leader's 点赞 and 一事一评 for the cadres
who worked the ticket."""

from typing import Any

from jiesu.tickets.models import Ticket

from .models import Recognition, RecognitionKind
from .services import commendable


def recognition_panel(user: Any, ticket: Ticket, actions: frozenset[str]) -> dict[str, Any] | None:
    if not getattr(user, "is_authenticated", False):
        return None
    cadres = commendable(user, ticket)
    if not cadres:
        return None
    liked = set(
        Recognition.objects.filter(ticket=ticket, by=user, kind=RecognitionKind.LIKE, profile__in=cadres).values_list(
            "profile_id", flat=True
        )
    )
    given = Recognition.objects.filter(ticket=ticket, profile__in=cadres).select_related("profile__user", "by")
    return {
        "template": "cadres/_ticket_panel.html",
        "cadres": [(p, p.pk in liked) for p in cadres],
        "given": list(given.order_by("at", "id")),
    }
