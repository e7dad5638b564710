"""Queries of proactive governance: hotspots and topics in a supervisor's area, a topic's measured progress, the
topics a ticket belongs to, proposals, and the city dashboard's figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category
from jiesu.governance import access as governance_access
from jiesu.lib import clock
from jiesu.lib.sorting import Sorts
from jiesu.orgs import access
from jiesu.orgs.models import OrgUnit, UnitKind
from jiesu.tickets import access as tickets_access
from jiesu.tickets.models import AffectedGroup, Callback, Channel, Ticket
from jiesu.tickets.selectors import district_load, street_load, with_tag
from jiesu.tickets.workflow import IN_HAND, OPEN_STATES

from .models import (
    OPEN_HOTSPOT_STATES,
    ForecastPoint,
    GovernanceEvent,
    Hotspot,
    HotspotState,
    MonthlyTopic,
    ProactiveProposal,
    ProposalState,
    TargetMetric,
    TopicState,
)


def _in_area(qs: QuerySet[Any], area: OrgUnit, field: str = "district") -> QuerySet[Any]:
    if area.kind == UnitKind.CITY:
        return qs
    return qs.filter(**{f"{field}__path__startswith": area.path})


HOTSPOT_SORTS = Sorts(
    {
        "label": ("label",),
        "place": ("district__code", "street__code"),
        "category": ("category__code",),
        "size": ("size",),
        "volume": ("volume",),
        "baseline": ("baseline",),
        "callers": ("callers",),
        "heat": ("heat",),
        "state": ("state",),
        "since": ("opened_at",),
    }
)
PROPOSAL_SORTS = Sorts(
    {
        "days": ("first_day",),
        "district": ("district__code",),
        "category": ("category__code",),
        "unit": ("unit__code",),
        "expected": ("expected",),
        "usual": ("usual",),
        "state": ("state",),
    }
)


def hotspots(user: Any, *, include_closed: bool = False, tag: str = "") -> QuerySet[Hotspot]:
    """Hotspots in the user's area; with `tag` (事项 × 标签) only those holding a ticket of that affected group."""
    area = governance_access.governance_area(user)
    if area is None:
        return Hotspot.objects.none()
    qs = Hotspot.objects.select_related("district", "street", "category")
    if tag in AffectedGroup.values:
        qs = qs.filter(pk__in=with_tag(Hotspot.tickets.through.objects.all(), tag, "ticket__").values("hotspot_id"))
    if not include_closed:
        qs = qs.filter(state__in=OPEN_HOTSPOT_STATES)
    return _in_area(qs, area).order_by("-heat", "-id")


def hotspot(user: Any, pk: int) -> Hotspot | None:
    return hotspots(user, include_closed=True).filter(pk=pk).first()


def hotspot_tickets(user: Any, h: Hotspot) -> QuerySet[Ticket]:
    return (
        tickets_access.visible_tickets(user)
        .filter(hotspots=h)
        .select_related("street", "category")
        .order_by("-intake_at")
    )


def topics(user: Any) -> QuerySet[MonthlyTopic]:
    area = governance_access.governance_area(user)
    if area is None:
        return MonthlyTopic.objects.none()
    qs = MonthlyTopic.objects.select_related("lead_unit", "district", "category", "hotspot")
    if area.kind != UnitKind.CITY:
        qs = qs.filter(district__path__startswith=area.path)
    return qs.order_by("-month", "-id")


def topics_with_tag(user: Any, tag: str, limit: int = 50) -> list[MonthlyTopic]:
    """The user's topics (newest first, at most `limit`); with `tag` only those whose scope holds a request of that
    affected group (事项 × 标签)."""
    rows = list(topics(user)[:limit])
    if tag not in AffectedGroup.values:
        return rows
    return [t for t in rows if with_tag(scope_tickets(t), tag).exists()]


def topic(user: Any, pk: int) -> MonthlyTopic | None:
    return (
        topics(user).prefetch_related("streets", "tasks__lead_unit", "tasks__cooperating_units").filter(pk=pk).first()
    )


EVENT_LABELS: dict[str, Any] = {
    "open": _("detected"),
    "track": _("re-measured"),
    "create": _("created"),
    "plan": _("plan written"),
    "activate": _("started"),
    "close": _("closed"),
    "add_task": _("task listed"),
    "add_policy": _("policy listed"),
    "add_target": _("target set"),
    "add_milestone": _("milestone set"),
    "done_task": _("task done"),
    "done_policy": _("policy issued"),
    "done_milestone": _("milestone reached"),
    "propose": _("proposed"),
    "accept": _("accepted"),
    "dismiss": _("dismissed"),
    "from_ticket": _("made from a ticket"),
}
STATE_LABELS: dict[str, Any] = {
    **dict(HotspotState.choices),
    **dict(TopicState.choices),
    **dict(ProposalState.choices),
    "done": _("done"),
    "active": _("in progress"),
}


def events(subject: str, pk: int) -> list[GovernanceEvent]:
    """The trail of one hotspot, topic or proposal, each event with its action and states in words."""
    rows = list(
        GovernanceEvent.objects.filter(subject=subject, subject_id=pk).select_related("actor").order_by("at", "id")
    )
    for e in rows:
        e.label = EVENT_LABELS.get(e.action, e.action)  # type: ignore[attr-defined]
        e.from_label = STATE_LABELS.get(e.from_state, e.from_state)  # type: ignore[attr-defined]
        e.to_label = STATE_LABELS.get(e.to_state, e.to_state)  # type: ignore[attr-defined]
    return rows


# --- a topic's scope and progress ------------------------------------------------------------------------
def scope_tickets(t: MonthlyTopic) -> QuerySet[Ticket]:
    """The requests a topic is measured on: its category (and below), its district and streets, one of its
    keywords in title or text; merged duplicates left out."""
    qs = tickets_access.all_tickets().filter(duplicate_of__isnull=True)
    if t.category_id:
        qs = qs.filter(category__code__startswith=t.category.code)  # type: ignore[union-attr]
    if t.district_id:
        qs = qs.filter(district_id=t.district_id)
    streets = [s.pk for s in t.streets.all()]
    if streets:
        qs = qs.filter(street_id__in=streets)
    words = t.keywords.split()
    if words:
        q = Q()
        for w in words:
            q |= Q(title__contains=w) | Q(content__contains=w)
        qs = qs.filter(q)
    return qs


@dataclass
class TargetStatus:
    metric: str
    label: str
    value: float
    by_date: dt.date
    actual: float | None
    met: bool | None


@dataclass
class Progress:
    baseline_per_30: float
    last_30: int
    change: float | None  # percent against the baseline
    monthly: list[tuple[str, int]]
    since_start: int
    called_back: int
    resolution_rate: float | None
    satisfaction_rate: float | None
    tasks_done: int
    tasks: int
    policies_done: int
    policies: int
    milestones_done: int
    milestones: int
    targets: list[TargetStatus] = field(default_factory=list)


def progress(t: MonthlyTopic) -> Progress:
    """Measured from the requests themselves: monthly requests in scope against the baseline's rate, and the
    resolution and satisfaction of the requests in scope called back since the topic started."""
    today = clock.local_date(clock.now())
    scope = scope_tickets(t)
    base_days = (t.baseline_to - t.baseline_from).days + 1
    baseline = scope.filter(
        intake_at__gte=clock.start_of_day(t.baseline_from),
        intake_at__lt=clock.start_of_day(t.baseline_to + dt.timedelta(days=1)),
    ).count()
    per_30 = baseline * 30 / base_days
    last_30 = scope.filter(intake_at__gte=clock.start_of_day(today - dt.timedelta(days=29))).count()
    change = (last_30 - per_30) / per_30 * 100 if per_30 else None
    first_month = min(t.baseline_from, t.starts_on).replace(day=1)
    months: Counter[str] = Counter()
    for at in scope.filter(intake_at__gte=clock.start_of_day(first_month)).values_list("intake_at", flat=True):
        months[f"{clock.local_date(at):%Y-%m}"] += 1
    labels = []
    m = first_month
    while m <= today:
        labels.append(f"{m:%Y-%m}")
        m = (m + dt.timedelta(days=32)).replace(day=1)
    since = scope.filter(intake_at__gte=clock.start_of_day(t.starts_on))
    callbacks = Callback.objects.filter(ticket__in=since.values("pk"))
    answers = callbacks.aggregate(
        n=Count("pk"),
        solved=Count("pk", filter=Q(resolution="solved")),
        rated=Count("pk", filter=~Q(satisfaction="not_rated")),
        satisfied=Count("pk", filter=Q(satisfaction__in=["satisfied", "fairly_satisfied"])),
    )
    n = answers["n"]
    resolution = answers["solved"] / n * 100 if n else None
    satisfaction = answers["satisfied"] / answers["rated"] * 100 if answers["rated"] else None
    tasks = list(t.tasks.all())
    policies = list(t.policies.all())
    milestones = list(t.milestones.all())
    p = Progress(
        baseline_per_30=round(per_30, 1),
        last_30=last_30,
        change=round(change, 1) if change is not None else None,
        monthly=[(label, months.get(label, 0)) for label in labels],
        since_start=since.count(),
        called_back=n,
        resolution_rate=round(resolution, 1) if resolution is not None else None,
        satisfaction_rate=round(satisfaction, 1) if satisfaction is not None else None,
        tasks_done=sum(1 for x in tasks if x.done_on),
        tasks=len(tasks),
        policies_done=sum(1 for x in policies if x.done_on),
        policies=len(policies),
        milestones_done=sum(1 for x in milestones if x.done_on),
        milestones=len(milestones),
    )
    actual = {
        TargetMetric.VOLUME_CHANGE: p.change,
        TargetMetric.RESOLUTION_RATE: p.resolution_rate,
        TargetMetric.SATISFACTION_RATE: p.satisfaction_rate,
    }
    for target in t.targets.all():
        value = float(target.value)
        now_value = actual[TargetMetric(target.metric)]
        if now_value is None:
            met = None
        elif target.metric == TargetMetric.VOLUME_CHANGE:
            met = now_value <= value
        else:
            met = now_value >= value
        p.targets.append(
            TargetStatus(target.metric, str(TargetMetric(target.metric).label), value, target.by_date, now_value, met)
        )
    return p


def topics_for_ticket(ticket: Ticket) -> list[MonthlyTopic]:
    """The active or finished topics whose scope holds this ticket (shown on the ticket page)."""
    found = []
    candidates = MonthlyTopic.objects.exclude(state=TopicState.DRAFT).select_related("category")
    for t in candidates.prefetch_related("streets"):
        if scope_tickets(t).filter(pk=ticket.pk, intake_at__gte=clock.start_of_day(t.baseline_from)).exists():
            found.append(t)
    return found


# --- proposals -------------------------------------------------------------------------------------------
def proposals(user: Any) -> QuerySet[ProactiveProposal]:
    qs = ProactiveProposal.objects.select_related("category", "district", "unit")
    m = access.membership(user)
    area = governance_access.governance_area(user)
    if area is not None:
        return qs if area.kind == UnitKind.CITY else qs.filter(district__path__startswith=area.path)
    if m is not None and m.role in {"unit_handler", "unit_leader"}:
        return qs.filter(unit__path__startswith=m.unit.path)
    return qs.none()


def open_proposals(user: Any) -> QuerySet[ProactiveProposal]:
    return proposals(user).filter(state=ProposalState.PROPOSED)


# --- the city dashboard ----------------------------------------------------------------------------------
def dashboard(user: Any) -> dict[str, Any]:
    """Everything the dashboard shows, as plain JSON-able data (the page polls it)."""
    area = governance_access.governance_area(user)
    assert area is not None
    now = clock.now()
    today = clock.local_date(now)
    start = clock.start_of_day(today)
    tickets = tickets_access.visible_tickets(user)
    todays = tickets.filter(intake_at__gte=start)
    by_channel = dict(todays.values_list("channel").annotate(n=Count("pk")).values_list("channel", "n"))
    channels = [[str(label), by_channel.get(value, 0)] for value, label in Channel.choices]
    tops = {c.code: c.name for c in Category.objects.filter(level=1)}
    by_top: Counter[str] = Counter()
    for code in todays.values_list("category__code", flat=True):
        by_top[tops.get(code[:2], code[:2])] += 1
    open_ = tickets.filter(dispatch_state__in=OPEN_STATES)
    overdue = open_.filter(dispatch_state__in=IN_HAND, due_at__lt=now)
    month_start = clock.start_of_day(today.replace(day=1))
    per_district: dict[str, dict[str, Any]] = defaultdict(lambda: {"today": 0, "open": 0, "overdue": 0})
    for code, n in todays.filter(district__isnull=False).values_list("district__code").annotate(n=Count("pk")):
        per_district[code]["today"] = n
    for row in district_load(tickets, now):
        per_district[row["code"]].update(open=row["open"], overdue=row["overdue"])
    rates = (
        Callback.objects.filter(created_at__gte=month_start, ticket__in=tickets.values("pk"))
        .values_list("ticket__district__code")
        .annotate(
            n=Count("pk"),
            satisfied=Count("pk", filter=Q(satisfaction__in=["satisfied", "fairly_satisfied"])),
            rated=Count("pk", filter=~Q(satisfaction="not_rated")),
        )
    )
    for code, _n, satisfied, rated in rates:
        if code:
            per_district[code]["satisfaction"] = round(satisfied / rated * 100, 1) if rated else None
    districts = []
    for d in OrgUnit.objects.filter(kind=UnitKind.DISTRICT).order_by("code"):
        if area.kind != UnitKind.CITY and not d.path.startswith(area.path):
            continue
        row = per_district.get(d.code, {"today": 0, "open": 0, "overdue": 0})
        districts.append({"code": d.code, "name": d.name, **row, "satisfaction": row.get("satisfaction")})
    open_hotspots = hotspots(user)
    hot = [
        {
            "id": h.pk,
            "label": h.label,
            "place": h.street.name if h.street else h.district.name if h.district else "",
            "size": h.size,
            "volume": h.volume,
            "heat": round(h.heat, 1),
            "state": str(h.get_state_display()),
        }
        for h in open_hotspots[:8]
    ]
    topic_rows = []
    for t in topics(user).exclude(state=TopicState.DRAFT)[:6]:
        p = progress(t)
        topic_rows.append(
            {
                "id": t.pk,
                "title": t.title,
                "change": p.change,
                "last_30": p.last_30,
                "baseline": p.baseline_per_30,
                "tasks": f"{p.tasks_done}/{p.tasks}",
            }
        )
    return {
        "at": now.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        "area": area.name,
        "headline": {
            "today": todays.count(),
            "open": open_.count(),
            "overdue": overdue.count(),
            "hotspots": open_hotspots.count(),
            "proposals": open_proposals(user).count(),
        },
        "channels": channels,
        "categories": sorted(by_top.items(), key=lambda kv: -kv[1]),
        "districts": districts,
        # a district's dashboard: its own outline on the map, and its streets
        "focus": {"code": area.code, "name": area.name} if area.kind == UnitKind.DISTRICT else None,
        "streets": street_load(tickets, now, area, since=start) if area.kind == UnitKind.DISTRICT else [],
        "hotspots": hot,
        "topics": topic_rows,
        "forecast": forecast_vs_actual(user, area, today),
    }


def forecast_vs_actual(user: Any, area: OrgUnit, today: dt.date) -> dict[str, Any]:
    """The area's daily requests over the last 28 days beside the stored forecast for the next 14 (sums over the
    categories and districts; the interval bounds are summed too, so the band is wider than a true interval)."""
    first = today - dt.timedelta(days=28)
    actual: Counter[dt.date] = Counter()
    rows = tickets_access.visible_tickets(user).filter(intake_at__gte=clock.start_of_day(first), district__isnull=False)
    for at in rows.values_list("intake_at", flat=True):
        actual[clock.local_date(at)] += 1
    points = _in_area(ForecastPoint.objects.filter(day__gte=today), area)
    fc = {
        r["day"]: r
        for r in points.values("day").annotate(e=Sum("expected"), lo=Sum("low"), hi=Sum("high")).order_by("day")
    }
    days = [first + dt.timedelta(days=i) for i in range(28 + 14)]
    return {
        "days": [f"{d:%m-%d}" for d in days],
        "actual": [actual.get(d, 0) if d <= today else None for d in days],
        "expected": [round(fc[d]["e"], 1) if d in fc else None for d in days],
        "low": [fc[d]["lo"] if d in fc else None for d in days],
        "high": [fc[d]["hi"] if d in fc else None for d in days],
    }
