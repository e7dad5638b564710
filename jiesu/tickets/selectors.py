"""Ticket queries for pages: always start from access.visible_tickets, fetch related rows up front."""

from typing import Any

from django.db.models import Q, QuerySet

from jiesu.lib import clock
from jiesu.lib.validation import phone_or_none
from jiesu.orgs import access

from .models import Ticket, TicketEvent
from .workflow import IN_HAND


def ticket_list(user: Any, *, state: str = "", q: str = "", overdue: bool = False) -> QuerySet[Ticket]:
    tickets = access.visible_tickets(user).select_related("category", "district", "street", "lead_unit")
    if state:
        tickets = tickets.filter(dispatch_state=state)
    phone = phone_or_none(q) if q and access.searches_by_phone(user) and not q.strip().startswith("20") else None
    if phone is not None and len(phone) >= 7:
        tickets = tickets.filter(requester__phone=phone)
    elif q:
        tickets = tickets.filter(Q(number__startswith=q.strip()) | Q(title__icontains=q.strip()))
    if overdue:
        tickets = tickets.filter(dispatch_state__in=IN_HAND, due_at__lt=clock.now())
    return tickets.order_by("-intake_at", "-pk")


def ticket_detail(user: Any, pk: int) -> Ticket:
    related = ("category__parent__parent", "requester", "duplicate_of", "handler")
    return access.get_ticket(user, pk, related=related)


def timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor", "actor_unit").prefetch_related("attachments").order_by("id")
