"""一次一评: the callers' ratings of their calls (how the operator served), per operator and month.

The rating is the `rate_call` event on the ticket made from the call (posted by the telephony system's IVR); the
operator is the one who registered the ticket. These figures are the hotline centre's own and never enter the
units' three rates (those come from callbacks only)."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, FloatField, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from jiesu.lib import clock
from jiesu.lib.sorting import Sorts
from jiesu.orgs.models import Role
from jiesu.tickets import access as tickets_access
from jiesu.tickets.models import Satisfaction, TicketEvent
from jiesu.tickets.workflow import Action

ANSWERS = (Satisfaction.SATISFIED, Satisfaction.FAIRLY_SATISFIED, Satisfaction.DISSATISFIED)
OPERATOR_SORTS = Sorts(
    {
        "operator": ("username",),
        "calls": ("calls",),
        "rated": ("rated",),
        "satisfied": ("satisfied",),
        "fairly_satisfied": ("fairly_satisfied",),
        "dissatisfied": ("dissatisfied",),
        "share": ("share",),
    }
)
RATING_SORTS = Sorts({"at": ("created_at",), "number": ("ticket__number",), "answer": ("data__satisfaction",)})


def month_of(value: str, today: dt.date) -> dt.date:
    """The first day of the month `value` names ("2026-11"); this month for anything else."""
    try:
        first = dt.date.fromisoformat(f"{value.strip()[:7]}-01")
    except ValueError:
        return today.replace(day=1)
    return first if first <= today else today.replace(day=1)


def bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    after = (first + dt.timedelta(days=32)).replace(day=1)
    return clock.start_of_day(first), clock.start_of_day(after)


def _ratings(start: dt.datetime, end: dt.datetime) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(action=Action.RATE_CALL, created_at__gte=start, created_at__lt=end)


def _count(rows: QuerySet[Any], by: str) -> Any:
    counted = rows.filter(**{by: OuterRef("pk")}).order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def per_operator(first: dt.date) -> QuerySet[Any]:
    """Every hotline operator (and anybody else whose calls were rated that month) with the month's phone tickets
    registered, ratings, each answer, and the share satisfied or fairly satisfied (None without ratings)."""
    start, end = bounds(first)
    ratings = _ratings(start, end)
    calls = tickets_access.phone_calls_registered(start, end)
    answers = {a.value: _count(ratings.filter(data__satisfaction=a.value), "ticket__created_by") for a in ANSWERS}
    users = get_user_model().objects.annotate(
        calls=_count(calls, "created_by"), rated=_count(ratings, "ticket__created_by"), **answers
    )
    return (
        users.filter(Q(membership__role=Role.HOTLINE_OPERATOR) | Q(pk__in=ratings.values("ticket__created_by")))
        .annotate(
            share=Case(
                When(rated__gt=0, then=(F("satisfied") + F("fairly_satisfied")) * 100.0 / F("rated")),
                default=None,
                output_field=FloatField(),
            )
        )
        .order_by("username", "pk")
    )


def totals(first: dt.date) -> dict[str, Any]:
    """The centre's month: ratings, each answer and the share, over all operators."""
    start, end = bounds(first)
    counts = _ratings(start, end).aggregate(
        rated=Count("pk"), **{a.value: Count("pk", filter=Q(data__satisfaction=a.value)) for a in ANSWERS}
    )
    good = counts[Satisfaction.SATISFIED.value] + counts[Satisfaction.FAIRLY_SATISFIED.value]
    counts["share"] = good * 100.0 / counts["rated"] if counts["rated"] else None
    return counts


def ratings_of(operator: Any, first: dt.date) -> QuerySet[TicketEvent]:
    """One operator's rated calls of the month, newest first."""
    start, end = bounds(first)
    return (
        _ratings(start, end).filter(ticket__created_by=operator).select_related("ticket").order_by("-created_at", "-pk")
    )


def months(today: dt.date, n: int = 12) -> list[dt.date]:
    first, out = today.replace(day=1), []
    for _i in range(n):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return out


def table(operators: Any) -> tuple[list[str], list[list[Any]]]:
    """The centre's view as rows for the Excel/CSV export (no personal data: operators by login and name)."""
    from django.utils.translation import gettext as _

    header = [
        _("operator"),
        _("name"),
        _("phone tickets registered"),
        _("rated"),
        str(Satisfaction.SATISFIED.label),
        str(Satisfaction.FAIRLY_SATISFIED.label),
        str(Satisfaction.DISSATISFIED.label),
        _("satisfied or fairly satisfied") + " %",
    ]
    rows = [
        [
            o.username,
            o.first_name,
            o.calls,
            o.rated,
            o.satisfied,
            o.fairly_satisfied,
            o.dissatisfied,
            round(o.share, 1) if o.share is not None else "",
        ]
        for o in operators
    ]
    return header, rows
