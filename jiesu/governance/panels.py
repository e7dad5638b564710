"""The governance panel on the ticket page (registered in `GovernanceConfig.ready`)."""

from typing import Any

from jiesu.catalog.models import KnowledgeEntry
from jiesu.tickets.models import Ticket

from . import access
from .selectors import topics_for_ticket


def governance_panel(user: Any, ticket: Ticket, actions: frozenset[str]) -> dict[str, Any]:
    """The monthly topics and hotspots this ticket belongs to, and the one-click knowledge entry."""
    return {
        "topics": topics_for_ticket(ticket),
        "hotspots": list(ticket.hotspots.all()[:3]),  # type: ignore[attr-defined]
        "sees_hotspots": access.governance_area(user) is not None,
        "knowledge_button": ticket.dispatch_state == "closed"
        and access.may_curate_knowledge(user, ticket)
        and not KnowledgeEntry.objects.filter(source_ticket=ticket.number).exists(),
    }
