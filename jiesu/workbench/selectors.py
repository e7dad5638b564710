"""Queries behind the workbench pages. Every ticket query starts from `tickets_access.visible_tickets`; related rows
are fetched up front so that a page's query count does not grow with its rows."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.utils.translation import gettext

from jiesu.catalog.models import Category
from jiesu.intel.index import metres as metres_between
from jiesu.intel.selectors import DISTANCE_RADIUS_M, distance_bonus, similarities
from jiesu.lib import clock
from jiesu.lib.sorting import Sorts
from jiesu.lib.validation import phone_or_none
from jiesu.orgs import access
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, UNIT_ROLES, OrgUnit, UnitKind
from jiesu.tickets import access as tickets_access
from jiesu.tickets.models import (
    Assignment,
    AssignmentRole,
    ExtensionRequest,
    RequestState,
    ReturnRequest,
    SupervisionOrder,
    Ticket,
)
from jiesu.tickets.selectors import TICKET_COLUMNS, TICKET_SORTS, district_load, street_load
from jiesu.tickets.workflow import IN_HAND, OPEN_STATES, DispatchState

LIST_RELATED = ("category", "district", "street", "lead_unit", "handler")
DUE_SOON = dt.timedelta(hours=24)


def _list(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related(*LIST_RELATED)


def search(rows: QuerySet[Any], q: str, prefix: str = "", *, by_phone: bool = False) -> QuerySet[Any]:
    """The lists' search box: a ticket number (or its start), else words of the title or address. `prefix` reaches
    the ticket from another row ("ticket__" for return and extension requests). With `by_phone` (the user may
    search by phone, `access.searches_by_phone`), a phone number in any written form finds the caller's tickets."""
    q = q.strip()[:50]
    if not q:
        return rows
    phone = phone_or_none(q) if by_phone and not q.startswith("20") else None
    if phone is not None and len(phone) >= 7:
        return rows.filter(**{f"{prefix}requester__phone": phone})
    if q.isdigit():
        return rows.filter(**{f"{prefix}number__startswith": q})
    return rows.filter(Q(**{f"{prefix}title__icontains": q}) | Q(**{f"{prefix}address__icontains": q}))


# --- hotline operator: the intake console ---------------------------------------------------------------
def caller_history(user: Any, phone: str, limit: int = 10) -> list[Ticket]:
    """The caller's earlier tickets, newest first (hotline roles see them; others get none)."""
    phone = phone_or_none(phone) or ""
    if len(phone) < 7 or not access.may_see_requester(user):
        return []
    return list(
        _list(tickets_access.visible_tickets(user).filter(requester__phone=phone)).order_by("-intake_at")[:limit]
    )


def leaf_categories(day: dt.date) -> list[tuple[str, str]]:
    """(code, full path) of every effective leaf: the console's category completion list."""
    leaves = Category.objects.effective_on(day).filter(level=3).select_related("parent__parent").order_by("code")
    return [(c.code, c.full_name()) for c in leaves]


def category_tree(day: dt.date) -> list[tuple[Category, list[tuple[Category, list[Category]]]]]:
    """The effective category tree (level 1 → level 2 → leaves) for the console's searchable picker."""
    rows = list(Category.objects.effective_on(day).filter(level__lte=3).order_by("code"))
    children: dict[int | None, list[Category]] = {}
    for c in rows:
        children.setdefault(c.parent_id, []).append(c)
    return [
        (top, [(mid, children.get(mid.pk, [])) for mid in children.get(top.pk, [])]) for top in rows if top.level == 1
    ]


def search_categories(q: str, day: dt.date, limit: int = 8) -> list[Category]:
    q = q.strip()
    leaves = Category.objects.effective_on(day).filter(level=3).select_related("parent__parent")
    if not q:
        return []
    return list(
        leaves.filter(Q(code__startswith=q) | Q(name__icontains=q) | Q(keywords__icontains=q)).order_by("code")[:limit]
    )


# --- dispatcher -----------------------------------------------------------------------------------------
def dispatch_queue(user: Any) -> QuerySet[Ticket]:
    """Registered tickets to dispatch: emergencies, then urgent ones, then the rest, each oldest first."""
    rank = Case(
        When(urgency="emergency", then=0), When(urgency="urgent", then=1), default=2, output_field=IntegerField()
    )
    return (
        _list(tickets_access.visible_tickets(user).filter(dispatch_state=DispatchState.NEW))
        .annotate(urgency_rank=rank)
        .order_by("urgency_rank", "intake_at", "pk")
    )


DISPATCH_SORTS = Sorts(
    {k: TICKET_COLUMNS[k] for k in ("number", "intake", "title", "category", "place")} | {"urgency": ("urgency_rank",)}
)
_REQUEST_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("ticket__number",),
    "unit": ("unit__code",),
    "requested": ("requested_at",),
}
RETURN_SORTS = Sorts(_REQUEST_COLUMNS)
EXTENSION_SORTS = Sorts(_REQUEST_COLUMNS | {"requested_due": ("requested_due_at",)})


def pending_returns(user: Any) -> QuerySet[ReturnRequest]:
    return (
        ReturnRequest.objects.filter(state=RequestState.PENDING, ticket__in=tickets_access.visible_tickets(user))
        .select_related("ticket__category", "ticket__street", "unit", "requested_by")
        .order_by("requested_at", "pk")
    )


def pending_extensions(user: Any) -> QuerySet[ExtensionRequest]:
    return (
        ExtensionRequest.objects.filter(state=RequestState.PENDING, ticket__in=tickets_access.visible_tickets(user))
        .select_related("ticket__category", "ticket__street", "unit", "requested_by")
        .order_by("requested_at", "pk")
    )


@dataclass(frozen=True)
class MergePair:
    ticket: Ticket
    master: Ticket
    score: float
    reason: str
    address_score: float | None  # None: one of the two has no address to compare
    metres: float | None = None  # where both carry coordinates
    text_score: float = 0.0  # the texts' similarity alone (`score` adds the distance bonus)


MERGE_TEXT_MIN, MERGE_PLACE_MIN, MERGE_SAME_CALLER_MIN = 0.45, 0.5, 0.25


def merge_candidates(user: Any, days: int = 7, limit: int = 30) -> list[MergePair]:
    """Undispatched tickets that look like repeats of an open ticket of the same street and category, at a close
    address (or from the same caller): merge (并单) proposals with their evidence. Where both carry coordinates the
    distance counts as it does in the intake console's duplicate search (issue 19): within `DISTANCE_RADIUS_M` the
    place holds and the score gains `distance_bonus`; farther apart they are another place, whatever the address
    text says."""
    since = clock.now() - dt.timedelta(days=days)
    new = list(dispatch_queue(user).filter(intake_at__gte=since)[:200])
    if not new:
        return []
    streets = {t.street_id for t in new if t.street_id}
    pool = list(
        _list(
            tickets_access.visible_tickets(user).filter(
                street_id__in=streets, dispatch_state__in=OPEN_STATES, intake_at__gte=since
            )
        ).order_by("intake_at", "pk")
    )
    pairs: list[MergePair] = []
    for t in new:
        rivals = [
            m
            for m in pool
            if m.pk != t.pk
            and m.intake_at <= t.intake_at
            and m.street_id == t.street_id
            and (m.category_id == t.category_id or (t.requester_id and t.requester_id == m.requester_id))
        ]
        if not rivals:
            continue
        texts = similarities(f"{t.title}{t.content}", [f"{m.title}{m.content}" for m in rivals])
        places = similarities(t.address, [m.address for m in rivals]) if t.address else None
        best: MergePair | None = None
        for i, m in enumerate(rivals):
            same_caller = bool(t.requester_id and t.requester_id == m.requester_id)
            score = text = float(texts[i])
            # two addresses that differ (another compound, another road) are another matter
            compared = places is not None and bool(m.address)
            place = float(places[i]) if compared and places is not None else 1.0
            apart = _apart(t, m)
            if apart is not None:
                place_ok = apart < DISTANCE_RADIUS_M
                score += distance_bonus(apart)
            else:
                place_ok = place >= MERGE_PLACE_MIN
            if (score >= MERGE_TEXT_MIN and place_ok) or (same_caller and score >= MERGE_SAME_CALLER_MIN):
                reason = "same_caller" if same_caller else "same_place_category"
                if best is None or score > best.score:
                    address = round(place, 2) if compared else None
                    best = MergePair(t, m, round(score, 2), reason, address, apart, round(text, 2))
        if best:
            pairs.append(best)
    return sorted(pairs, key=lambda p: -p.score)[:limit]


def _apart(a: Ticket, b: Ticket) -> float | None:
    """Metres between two tickets' coordinates, or None where one has none."""
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    return metres_between(float(a.latitude), float(a.longitude), float(b.latitude), float(b.longitude))  # type: ignore[arg-type]


# --- handling unit --------------------------------------------------------------------------------------
INBOX_TABS = ("sign", "in_hand", "due_soon", "overdue", "returned", "reopened", "supervised", "report_in")
# The deadline a tab is about, shown (and sortable) in its own column.
INBOX_DEADLINE_FIELDS = {"sign": "accept_due_at", "supervised": "respond_by", "report_in": "report_in_due_at"}


def inbox_sorts(tab: str) -> Sorts:
    field = INBOX_DEADLINE_FIELDS.get(tab)
    return Sorts(TICKET_COLUMNS | {"deadline": (field,)}) if field else TICKET_SORTS


def inbox(user: Any, tab: str, *, mine: bool = False) -> QuerySet[Ticket]:
    """The unit's tabs. Tickets where the unit is lead, assisting or summoned, from `visible_tickets`."""
    m = access.membership(user)
    tickets = tickets_access.visible_tickets(user)
    if m is None:
        return tickets.none()
    unit = m.unit
    now = clock.now()
    current = Assignment.objects.filter(ticket=OuterRef("pk"), unit=unit, is_current=True)
    lead = Q(lead_unit=unit)
    if tab == "sign":
        tickets = tickets.filter(lead, dispatch_state=DispatchState.DISPATCHED)
        order: tuple[str, ...] = ("accept_due_at", "pk")
    elif tab == "in_hand":
        tickets = tickets.filter(Exists(current), dispatch_state=DispatchState.ACCEPTED)
        order = ("due_at", "pk")
    elif tab == "due_soon":
        tickets = tickets.filter(lead, dispatch_state__in=IN_HAND, due_at__gte=now, due_at__lt=now + DUE_SOON)
        order = ("due_at", "pk")
    elif tab == "overdue":
        tickets = tickets.filter(lead, dispatch_state__in=IN_HAND, due_at__lt=now)
        order = ("due_at", "pk")
    elif tab == "returned":
        returned = ReturnRequest.objects.filter(ticket=OuterRef("pk"), unit=unit)
        tickets = tickets.filter(Exists(returned))
        order = ("-updated_at", "pk")
    elif tab == "reopened":
        tickets = tickets.filter(lead, reopen_count__gt=0, dispatch_state__in=OPEN_STATES)
        order = ("due_at", "pk")
    elif tab == "supervised":  # 督办 orders to answer, the earliest deadline first
        orders = SupervisionOrder.objects.filter(ticket=OuterRef("pk"), unit=unit, answered_at__isnull=True)
        tickets = tickets.filter(Exists(orders)).annotate(
            respond_by=Subquery(orders.order_by("respond_by").values("respond_by")[:1])
        )
        order = ("respond_by", "pk")
    elif tab == "report_in":  # summoned by a street's whistle (吹哨), not reported in yet
        summons = Assignment.objects.filter(
            ticket=OuterRef("pk"), unit=unit, is_current=True, role=AssignmentRole.WHISTLE, reported_in_at__isnull=True
        )
        tickets = tickets.filter(Exists(summons), dispatch_state=DispatchState.ACCEPTED).annotate(
            report_in_due_at=Subquery(summons.values("report_in_due_at")[:1])
        )
        order = ("report_in_due_at", "pk")
    else:
        return tickets.none()
    if mine:
        tickets = tickets.filter(handler=user)
    return _list(tickets).order_by(*order)


def inbox_counts(user: Any) -> dict[str, int]:
    return {tab: inbox(user, tab).count() for tab in INBOX_TABS}


@dataclass(frozen=True)
class Workload:
    user: Any
    in_hand: int
    due_soon: int
    overdue: int


def unit_workload(user: Any) -> tuple[list[Workload], int]:
    """Per handler of the user's unit: tickets led by the unit in hand, due within 24 h, overdue; and how many
    in-hand tickets nobody holds."""
    m = access.membership(user)
    if m is None:
        return [], 0
    now = clock.now()
    led = tickets_access.visible_tickets(user).filter(lead_unit=m.unit, dispatch_state__in=IN_HAND)
    rows = {
        r["handler"]: r
        for r in led.values("handler").annotate(
            n=Count("pk"),
            soon=Count("pk", filter=Q(due_at__gte=now, due_at__lt=now + DUE_SOON)),
            late=Count("pk", filter=Q(due_at__lt=now)),
        )
    }
    people = get_user_model().objects.filter(membership__unit=m.unit, membership__role__in=UNIT_ROLES)
    loads = [
        Workload(
            p, rows.get(p.pk, {}).get("n", 0), rows.get(p.pk, {}).get("soon", 0), rows.get(p.pk, {}).get("late", 0)
        )
        for p in people.order_by("username")
    ]
    return loads, rows.get(None, {}).get("n", 0)


# --- callback agent -------------------------------------------------------------------------------------
def callback_worklist(user: Any) -> QuerySet[Ticket]:
    """Replies waiting for a callback: those due now first (never tried, or their retry time has come), oldest
    reply first; then those waiting for their next try, soonest first."""
    now = clock.now()
    waiting = Q(callback_retry_at__gt=now)
    return (
        _list(tickets_access.visible_tickets(user).filter(dispatch_state=DispatchState.REPLIED))
        .annotate(
            waiting=Case(When(waiting, then=1), default=0, output_field=IntegerField()),
            sort_at=Case(When(waiting, then=F("callback_retry_at")), default=F("replied_at")),
        )
        .order_by("waiting", "sort_at", "pk")
    )


# --- supervisor -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SupervisionFilter:
    scope: str = "overdue"  # overdue | due_soon | open | all
    district: str = ""
    street: str = ""
    unit: str = ""
    category: str = ""  # a category code or its prefix (一级/二级)
    state: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


SUPERVISION_SORTS = TICKET_SORTS
MISSED_CALL_SORTS = Sorts({"rang": ("rang_at",), "caller": ("caller_phone",), "due": ("callback_due_at",)})
CALLBACK_SORTS = Sorts(
    {k: TICKET_COLUMNS[k] for k in ("number", "category", "unit", "due")} | {"replied": ("replied_at",)}
)


def supervision_list(user: Any, f: SupervisionFilter) -> QuerySet[Ticket]:
    now = clock.now()
    tickets = tickets_access.visible_tickets(user)
    if f.scope == "overdue":
        tickets = tickets.filter(dispatch_state__in=IN_HAND, due_at__lt=now)
    elif f.scope == "due_soon":
        tickets = tickets.filter(dispatch_state__in=IN_HAND, due_at__gte=now, due_at__lt=now + DUE_SOON)
    elif f.scope == "open":
        tickets = tickets.filter(dispatch_state__in=OPEN_STATES)
    if f.district:
        tickets = tickets.filter(district__code=f.district)
    if f.street:
        tickets = tickets.filter(street__code=f.street)
    if f.unit:
        tickets = tickets.filter(lead_unit__code=f.unit)
    if f.category:
        tickets = tickets.filter(category__code__startswith=f.category)
    if f.state:
        tickets = tickets.filter(dispatch_state=f.state)
    if f.date_from:
        tickets = tickets.filter(intake_at__gte=clock.start_of_day(f.date_from))
    if f.date_to:
        tickets = tickets.filter(intake_at__lt=clock.start_of_day(f.date_to + dt.timedelta(days=1)))
    return _list(tickets).order_by("due_at", "pk")


def districts(user: Any) -> QuerySet[OrgUnit]:
    """The districts `user` may filter by: every one for the city, their own for a district supervisor."""
    units = OrgUnit.objects.filter(kind=UnitKind.DISTRICT, is_active=True)
    return units.filter(pk__in=access.units_visible_to(user)).order_by("code")


def top_categories(day: dt.date) -> QuerySet[Category]:
    return Category.objects.effective_on(day).filter(level=1).order_by("code")


def overview(user: Any) -> dict[str, Any]:
    """Today's load for the supervisor's dashboard: headline counts, intake per hour (today and yesterday),
    open tickets by state, and per district open / overdue counts."""
    now = clock.now()
    today = clock.start_of_day(clock.local_date(now))
    yesterday = today - dt.timedelta(days=1)
    tickets = tickets_access.visible_tickets(user)
    open_ = tickets.filter(dispatch_state__in=OPEN_STATES)
    headline = open_.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(dispatch_state__in=IN_HAND, due_at__lt=now)),
        due_soon=Count("pk", filter=Q(dispatch_state__in=IN_HAND, due_at__gte=now, due_at__lt=now + DUE_SOON)),
        supervised=Count("pk", filter=Q(supervised=True)),
    )
    recent = tickets.filter(intake_at__gte=yesterday).values_list("intake_at", flat=True)
    hours = {"today": [0] * 24, "yesterday": [0] * 24}
    for at in recent:
        local = at.astimezone(clock.SHANGHAI)
        hours["today" if at >= today else "yesterday"][local.hour] += 1
    headline["today"] = sum(hours["today"])
    by_state = dict(open_.values_list("dispatch_state").annotate(n=Count("pk")).values_list("dispatch_state", "n"))
    states = [(str(DispatchState(s).label), by_state.get(s, 0)) for s in DispatchState.values if s in OPEN_STATES]
    data = {"headline": headline, "hours": hours, "states": states, "districts": district_load(tickets, now)}
    return data | district_focus(user, tickets, now, today)


def district_focus(user: Any, tickets: QuerySet[Ticket], now: dt.datetime, today: dt.datetime) -> dict[str, Any]:
    """A district supervisor's map shows their district and its streets: the district (`focus`) and the load per
    street (`streets`). Nothing for the city level."""
    m = access.membership(user)
    if m is None or m.unit.kind != UnitKind.DISTRICT:
        return {"focus": None, "streets": []}
    return {
        "focus": {"code": m.unit.code, "name": m.unit.name},
        "streets": street_load(tickets, now, m.unit, since=today),
    }


# --- the unit picker ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitGroup:
    """One branch of the unit picker's tree: a district (the district itself, then its streets/townships and its
    departments as sub-branches) or a city-level list (departments, public-service companies)."""

    name: str
    code: str
    unit: OrgUnit | None  # the district itself, pickable (兜底); None for a plain list
    units: list[OrgUnit]
    branches: list["UnitGroup"]


UNIT_PICKS = ("all", "summonable", "streets")  # every handling unit | departments and companies (吹哨) | streets


def unit_tree(pick: str) -> list[UnitGroup]:
    """The active handling units as a tree: district → streets/townships and district departments; then the city's
    departments and the public-service companies. `pick` narrows it (see UNIT_PICKS)."""
    units = list(
        OrgUnit.objects.filter(is_active=True)
        .exclude(kind__in=[UnitKind.CITY, UnitKind.COMMUNITY, UnitKind.VILLAGE, UnitKind.HOTLINE_CENTRE])
        .select_related("parent")
        .order_by("path")
    )
    below: dict[int, list[OrgUnit]] = {}
    for u in units:
        if u.parent_id is not None:
            below.setdefault(u.parent_id, []).append(u)
    summonable = {UnitKind.DEPARTMENT, UnitKind.PUBLIC_SERVICE_COMPANY}
    groups: list[UnitGroup] = []
    for d in (u for u in units if u.kind == UnitKind.DISTRICT):
        streets = [u for u in below.get(d.pk, []) if u.kind in STREET_TOWNSHIP_KINDS]
        departments = [u for u in below.get(d.pk, []) if u.kind == UnitKind.DEPARTMENT]
        branches = []
        if pick != "summonable" and streets:
            branches.append(UnitGroup(gettext("Streets and townships"), d.code + "-s", None, streets, []))
        if pick != "streets" and departments:
            branches.append(UnitGroup(gettext("District departments"), d.code + "-d", None, departments, []))
        groups.append(UnitGroup(d.name, d.code, d if pick == "all" else None, [], branches))
    if pick != "streets":
        top = [u for u in units if u.parent is not None and u.parent.kind == UnitKind.CITY and u.kind in summonable]
        for kind, label in (
            (UnitKind.DEPARTMENT, gettext("City departments")),
            (UnitKind.PUBLIC_SERVICE_COMPANY, gettext("Public-service companies")),
        ):
            chosen = [u for u in top if u.kind == kind]
            if chosen:
                groups.append(UnitGroup(label, kind, None, chosen, []))
    return groups
