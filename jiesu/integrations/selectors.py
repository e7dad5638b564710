"""Queries of the outside contracts: the Open311 service catalogue, requests and their public updates."""

import datetime as dt
from typing import Any

from django.db.models import Max, QuerySet

from jiesu.catalog.models import Category
from jiesu.lib import clock
from jiesu.tickets import access
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.workflow import PUBLIC_STEPS

from .models import CallKind, IncomingCall, ServiceAttribute


def services(day: dt.date) -> list[Category]:
    """The Open311 services: the category leaves in force on `day`, with their top-level group."""
    return list(Category.objects.effective_on(day).filter(level=3).select_related("parent__parent").order_by("code"))


def service(code: str, day: dt.date) -> Category | None:
    return Category.objects.effective_on(day).filter(level=3, code=code).first()


def attributes(code: str | None = None) -> QuerySet[ServiceAttribute]:
    rows = ServiceAttribute.objects.order_by("category_code", "order")
    return rows if code is None else rows.filter(category_code=code)


def codes_with_attributes() -> set[str]:
    return set(ServiceAttribute.objects.values_list("category_code", flat=True))


def catalogue_changed_at() -> dt.datetime | None:
    """The last change of the catalogue or its definitions (discovery's `changeset`)."""
    attrs = ServiceAttribute.objects.aggregate(at=Max("updated_at"))["at"]
    day = Category.objects.aggregate(at=Max("effective_from"))["at"]
    found = [attrs] if attrs else []
    if day:
        found.append(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC))
    return max(found) if found else None


def requests(
    *,
    numbers: list[str] | None = None,
    codes: list[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[Ticket]:
    tickets = access.open311_tickets()
    if numbers is not None:
        return tickets.filter(number__in=numbers)
    if codes:
        tickets = tickets.filter(category__code__in=codes)
    if start is not None:
        tickets = tickets.filter(intake_at__gte=start)
    if end is not None:
        tickets = tickets.filter(intake_at__lte=end)
    return tickets


def by_token(token: str) -> Ticket | None:
    return access.open311_tickets().filter(idempotency_key=f"o311:{token}").first()


def by_number(number: str) -> Ticket | None:
    return access.open311_tickets().filter(number=number).first()


def public_updates(start: dt.datetime, end: dt.datetime, limit: int) -> list[TicketEvent]:
    """The public steps of every ticket's trail between `start` and `end` (Open311 servicerequestupdates)."""
    rows: Any = (
        TicketEvent.objects.filter(action__in=list(PUBLIC_STEPS), created_at__gte=start, created_at__lte=end)
        .select_related("ticket", "ticket__lead_unit")
        .order_by("created_at", "id")
    )
    return list(rows[:limit])


# --- telephony ------------------------------------------------------------------------------------------
def call_for_console(user: Any, pk: object) -> IncomingCall | None:
    """An answered call the console opens (screen pop): the operator's own, or any for a dispatcher."""
    try:
        found = IncomingCall.objects.filter(pk=int(str(pk)), kind=CallKind.ANSWERED).first()
    except ValueError:
        return None
    if found is None or (found.operator_id is not None and found.operator_id != getattr(user, "pk", None)):
        return None
    return found


def ringing_for(user: Any, minutes: int = 10) -> QuerySet[IncomingCall]:
    """Screen pops for this operator in the last minutes that have no ticket yet, newest first."""
    since = clock.now() - dt.timedelta(minutes=minutes)
    return IncomingCall.objects.filter(
        kind=CallKind.ANSWERED, operator=getattr(user, "pk", None), ticket__isnull=True, rang_at__gte=since
    ).order_by("-rang_at")


def missed_calls(*, include_done: bool = False) -> QuerySet[IncomingCall]:
    """漏接回拨: missed calls not called back yet, the earliest deadline first (done ones after, newest first)."""
    calls = IncomingCall.objects.filter(kind=CallKind.MISSED)
    if not include_done:
        return calls.filter(called_back_at__isnull=True).order_by("callback_due_at", "pk")
    return calls.order_by("called_back_at", "callback_due_at", "pk")
