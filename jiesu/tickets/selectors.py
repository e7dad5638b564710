"""Ticket queries for pages: always start from access.visible_tickets, fetch related rows up front."""

import datetime as dt
from typing import Any, TypeVar

from django.db.models import Count, Model, Q, QuerySet, Value

from jiesu.lib import clock
from jiesu.lib.sorting import Sorts
from jiesu.lib.validation import phone_or_none
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, OrgUnit
from jiesu.tickets import access

from .models import AffectedGroup, Ticket, TicketEvent
from .workflow import IN_HAND, OPEN_STATES

M = TypeVar("M", bound=Model)

# The sortable columns of every ticket list (`jiesu.lib.sorting`): key → ordering fields.
TICKET_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("number",),
    "title": ("title",),
    "category": ("category__code",),
    "place": ("district__code", "street__code"),
    "unit": ("lead_unit__code",),
    "handler": ("handler__username",),
    "state": ("dispatch_state",),
    "urgency": ("urgency",),
    "intake": ("intake_at",),
    "due": ("due_at",),
    "supervised": ("supervised",),
}
TICKET_SORTS = Sorts(TICKET_COLUMNS)


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


def street_load(
    tickets: QuerySet[Ticket], now: dt.datetime, district: OrgUnit, since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per street/township of `district` (every one, zeros included): open and overdue tickets placed in it, and
    those registered since `since`; for a district's own map and tables."""
    counted = tickets.filter(street__parent=district).values("street__code")
    load = {
        r["street__code"]: r
        for r in counted.annotate(
            open=Count("pk", filter=Q(dispatch_state__in=OPEN_STATES)),
            overdue=Count("pk", filter=Q(dispatch_state__in=IN_HAND, due_at__lt=now)),
            today=Count("pk", filter=Q(intake_at__gte=since)) if since else Value(0),
        ).order_by()
    }
    streets = OrgUnit.objects.filter(parent=district, kind__in=STREET_TOWNSHIP_KINDS, is_active=True).order_by("code")
    return [
        {
            "code": s.code,
            "name": s.name,
            **{k: load.get(s.code, {}).get(k, 0) for k in ("open", "overdue", "today")},
        }
        for s in streets
    ]


def declined_digest(months: int = 6) -> dict[str, Any]:
    """不予受理, anonymised for the public: per month, reason and category the number of declined requests (and
    how many were appealed), the last 50 with day, category, district and reason only; and the published reasons."""
    from collections import Counter

    from django.utils import timezone

    from .models import DeclineReason

    since = clock.now() - dt.timedelta(days=31 * months)
    events = (
        access.declined_events()
        .filter(created_at__gte=since)
        .select_related("ticket__category", "ticket__district")
        .order_by("-created_at")
    )
    reasons = {r.code: r for r in DeclineReason.objects.all()}
    table: Counter[tuple[str, str]] = Counter()
    recent: list[dict[str, Any]] = []
    for e in events:
        month = f"{timezone.localtime(e.created_at):%Y-%m}"
        code = str(e.data.get("reason", ""))
        table[(month, code)] += 1
        if len(recent) < 50:
            recent.append(
                {
                    "day": timezone.localtime(e.created_at).date(),
                    "category": e.ticket.category.name,
                    "district": e.ticket.district.name if e.ticket.district else "",
                    "reason": reasons[code].title if code in reasons else code,
                    "appealed": e.ticket.decline_appealed,
                }
            )
    rows = sorted(
        ((month, reasons[code].title if code in reasons else code, n) for (month, code), n in table.items()),
        reverse=True,
    )
    return {
        "rows": rows,
        "recent": recent,
        "reasons": [r for r in reasons.values() if r.is_active],
        "appealed": sum(1 for e in events if e.ticket.decline_appealed),
    }


def with_tag(tickets: QuerySet[M], tag: str, prefix: str = "") -> QuerySet[M]:
    """Only the tickets carrying the affected-group `tag` (事项 × 标签); unchanged when `tag` is empty or unknown.
    `prefix` reaches the ticket through a relation ("ticket__")."""
    if tag not in AffectedGroup.values:
        return tickets
    return tickets.filter(**{f"{prefix}tags__contains": f" {tag} "})
