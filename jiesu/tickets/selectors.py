"""Ticket queries for pages: always start from access.visible_tickets, fetch related rows up front."""

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from jiesu.lib import clock
from jiesu.tickets import access

from .models import Ticket, TicketEvent
from .workflow import IN_HAND, OPEN_STATES


def ticket_list(user: Any, *, state: str = "", q: str = "", overdue: bool = False) -> QuerySet[Ticket]:
    tickets = access.visible_tickets(user).select_related("category", "district", "street", "lead_unit")
    if state:
        tickets = tickets.filter(dispatch_state=state)
    if q:
        tickets = tickets.filter(Q(number__startswith=q.strip()) | Q(title__icontains=q.strip()))
    if overdue:
        tickets = tickets.filter(dispatch_state__in=IN_HAND, due_at__lt=clock.now())
    return tickets.order_by("-intake_at", "-pk")


def ticket_detail(user: Any, pk: int) -> Ticket:
    related = ("category__parent__parent", "requester", "duplicate_of", "handler")
    return access.get_ticket(user, pk, related=related)


def timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor", "actor_unit").prefetch_related("attachments").order_by("id")


def district_load(tickets: QuerySet[Ticket], now: dt.datetime) -> list[dict[str, Any]]:
    """Open and overdue tickets per district (those with any open), for the district maps and tables."""
    rows = (
        tickets.filter(dispatch_state__in=OPEN_STATES, district__isnull=False)
        .values("district__code", "district__name")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(dispatch_state__in=IN_HAND, due_at__lt=now)))
        .order_by("district__code")
    )
    return [
        {"code": r["district__code"], "name": r["district__name"], "open": r["open"], "overdue": r["overdue"]}
        for r in rows
    ]
