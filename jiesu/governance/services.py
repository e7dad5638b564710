"""Every change of proactive governance: hotspot runs, monthly topics and their lists, forecasts and proactive
proposals, and knowledge entries made from solved tickets. Each runs in one transaction and writes a
`GovernanceEvent` (who, what, when, from → to)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category, KnowledgeEntry
from jiesu.governance import access as governance_access
from jiesu.lib import clock, events
from jiesu.lib.errors import ConcurrentEdit, Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.lib.masking import mask_text
from jiesu.lib.validation import clean_text
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, OrgUnit, UnitKind
from jiesu.sla.calendar import day_kind
from jiesu.tickets import access as tickets_access
from jiesu.tickets.models import AppealType, Callback, Urgency

from . import forecast as fc
from . import hotspots as hs
from .models import (
    OPEN_HOTSPOT_STATES,
    ForecastPoint,
    GovernanceEvent,
    Hotspot,
    HotspotObservation,
    HotspotState,
    MonthlyTopic,
    PolicyKind,
    ProactiveProposal,
    ProposalState,
    TargetMetric,
    TopicMilestone,
    TopicPolicy,
    TopicState,
    TopicTarget,
    TopicTask,
)


def _event(
    actor: Any, subject: str, subject_id: int, action: str, src: str = "", dst: str = "", note: str = "", **data: Any
) -> GovernanceEvent:
    return events.record(
        GovernanceEvent,
        actor=actor,
        subject=subject,
        subject_id=subject_id,
        action=action,
        from_state=src,
        to_state=dst,
        note=note,
        data=data,
    )


# --- hotspots --------------------------------------------------------------------------------------------
def hotspot_params() -> hs.Params:
    overrides: dict[str, Any] = settings.JIESU_HOTSPOT_PARAMS
    return hs.Params(**overrides)


SEVERE_TYPES = (AppealType.COMPLAINT, AppealType.TIPOFF)


def _docs(since: dt.datetime, until: dt.datetime) -> list[hs.Doc]:
    rows = (
        tickets_access.all_tickets()
        .filter(intake_at__gte=since, intake_at__lte=until, duplicate_of__isnull=True)
        .values_list(
            "id",
            "intake_at",
            "title",
            "content",
            "street__code",
            "district__code",
            "requester_id",
            "category__code",
            "urgency",
            "appeal_type",
            "latitude",
            "longitude",
        )
    )
    docs = []
    for pk, at, title, content, street, district, caller, category, urgency, appeal, lat, lon in rows.iterator():
        severity = 2.0 if urgency == Urgency.EMERGENCY else 1.2 if appeal in SEVERE_TYPES else 1.0
        docs.append(
            hs.Doc(
                id=pk,
                at=at,
                title=title,
                content=content,
                place=street or district,
                district=district,
                caller=str(caller) if caller else None,
                category=category,
                severity=severity,
                lat=float(lat) if lat is not None else None,
                lon=float(lon) if lon is not None else None,
            )
        )
    return docs


@dataclass
class HotspotRun:
    opened: int = 0
    updated: int = 0
    closed: int = 0


def refresh_hotspots(now: dt.datetime | None = None, params: hs.Params | None = None) -> HotspotRun:
    """One detection run (the worker's hourly job): find this window's clusters, continue or open hotspots, close
    those whose window is empty. Each hotspot gets an observation; state changes are events."""
    now = now or clock.now()
    p = params or hotspot_params()
    docs = _docs(now - dt.timedelta(days=p.window_days + p.baseline_days), now)
    found = hs.clusters(docs, now, p)
    at_of = {d.id: d.at for d in docs}
    run = HotspotRun()
    units = {u.code: u for u in OrgUnit.objects.filter(kind__in=[UnitKind.DISTRICT, *STREET_TOWNSHIP_KINDS])}
    categories = {c.code: c for c in Category.objects.filter(level=3)}
    with transaction.atomic():
        open_ = list(Hotspot.objects.select_for_update().filter(state__in=OPEN_HOTSPOT_STATES))
        members = defaultdict(set)
        for pk, ticket_id in Hotspot.tickets.through.objects.filter(hotspot__in=open_).values_list(
            "hotspot_id", "ticket_id"
        ):
            members[pk].add(ticket_id)
        tracked = [hs.Tracked(h.pk, members[h.pk], h.heat, h.state) for h in open_]
        by_pk = {h.pk: h for h in open_}
        for change in hs.track(tracked, found, p):
            if change.key is None:
                assert change.cluster is not None
                h = _open_hotspot(change.cluster, now, units, categories)
                run.opened += 1
                continue
            h = by_pk[change.key]
            before = h.state
            if change.cluster is None:  # nothing continues it: recount its own window
                volume = hs.window_volume((at_of[i] for i in change.members if i in at_of), now, p)
                heat, growth = hs.heat_of(volume, h.baseline, min(h.callers, volume), 0, h.severity)
                state = HotspotState.CLOSED if volume == 0 else HotspotState.FADING
                h.volume, h.heat, h.growth = volume, round(heat, 3), growth
            else:
                c = change.cluster
                state = HotspotState(change.state)
                _apply(h, c, units, categories)
            h.state, h.updated_at = state, now
            if state == HotspotState.CLOSED:
                h.closed_at = now
                run.closed += 1
            else:
                run.updated += 1
            h.size = len(change.members)
            h.save()
            h.tickets.add(*change.members)
            HotspotObservation.objects.create(
                hotspot=h, at=now, state=h.state, size=h.size, volume=h.volume, heat=h.heat
            )
            if before != state:
                _event(None, "hotspot", h.pk, "track", before, state, heat=h.heat, volume=h.volume)
        _event(None, "run", 0, "hotspots", note=f"{run.opened}/{run.updated}/{run.closed}", **run.__dict__)
    return run


def _apply(h: Hotspot, c: hs.Cluster, units: dict[str, OrgUnit], categories: dict[str, Category]) -> None:
    h.label = c.label[:120] or h.label
    h.district = units.get(c.district or "") or h.district
    street = units.get(c.place or "")
    h.street = street if street is not None and street.kind != UnitKind.DISTRICT else h.street
    h.category = categories.get(c.category or "") or h.category
    h.volume, h.baseline, h.growth = c.volume, c.baseline, c.growth
    h.callers, h.severity, h.heat = c.callers, c.severity, c.heat
    h.peak_heat = max(h.peak_heat, c.heat)
    h.first_request_at = min(h.first_request_at, c.first_at) if h.first_request_at else c.first_at
    h.last_request_at = max(h.last_request_at, c.last_at) if h.last_request_at else c.last_at


def _open_hotspot(
    c: hs.Cluster, now: dt.datetime, units: dict[str, OrgUnit], categories: dict[str, Category]
) -> Hotspot:
    h = Hotspot(opened_at=now, updated_at=now, first_request_at=c.first_at, last_request_at=c.last_at)
    _apply(h, c, units, categories)
    h.size = len(c.ids)
    h.state = HotspotState.EMERGING
    h.save()
    h.tickets.add(*c.ids)
    HotspotObservation.objects.create(hotspot=h, at=now, state=h.state, size=h.size, volume=h.volume, heat=h.heat)
    _event(None, "hotspot", h.pk, "open", "", h.state, heat=h.heat, volume=h.volume, label=h.label)
    return h


# --- monthly topics (每月一题) ---------------------------------------------------------------------------
def _area(user: Any) -> OrgUnit:
    area = governance_access.governance_area(user)
    if area is None:
        raise Forbidden()
    return area


def _unit(code: str, field: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=(code or "").strip(), is_active=True).first()
    if unit is None:
        raise InvalidInput(_("Unknown unit: “%(code)s”."), on=field, code=str(code)[:50])
    return unit


LABELS = {"title": _("Title"), "plan": _("Plan"), "keywords": _("Keywords"), "note": _("Note")}


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    return clean_text(value, on=field, label=LABELS.get(field, field), limit=limit, required=required)


def _topic_for_change(user: Any, pk: int, expected_version: int | None) -> MonthlyTopic:
    area = _area(user)
    topic = MonthlyTopic.objects.select_for_update(of=("self",)).filter(pk=pk).select_related("district").first()
    if topic is None or not governance_access.in_area(area, topic.district):
        raise NotFound()
    if topic.state == TopicState.CLOSED:
        raise IllegalTransition(_("This topic is closed and can no longer be changed."))
    if expected_version is not None and topic.version != expected_version:
        raise ConcurrentEdit()
    return topic


def _bump(topic: MonthlyTopic) -> None:
    MonthlyTopic.objects.filter(pk=topic.pk).update(version=F("version") + 1)
    topic.version += 1


@transaction.atomic
def create_topic(
    user: Any,
    *,
    title: str,
    month: dt.date,
    lead_unit_code: str,
    plan: str = "",
    category_code: str = "",
    district_code: str = "",
    street_codes: list[str] | None = None,
    keywords: str = "",
    baseline_from: dt.date | None = None,
    baseline_to: dt.date | None = None,
    starts_on: dt.date | None = None,
    hotspot_id: int | None = None,
) -> MonthlyTopic:
    area = _area(user)
    title = _text(title, "title", 120)
    today = clock.local_date(clock.now())
    lead = _unit(lead_unit_code, "lead_unit")
    category = None
    if category_code.strip():
        category = Category.objects.filter(code=category_code.strip()).first()
        if category is None:
            raise InvalidInput(_("Unknown category: “%(code)s”."), on="category", code=str(category_code)[:50])
    district = _unit(district_code, "district") if district_code.strip() else None
    if district is not None and district.kind != UnitKind.DISTRICT:
        raise InvalidInput(_("Must be a district."), on="district")
    if area.kind != UnitKind.CITY and (district is None or not governance_access.in_area(area, district)):
        raise Forbidden(_("A district supervisor can only make topics in their own district."))
    streets = [_unit(c, "streets") for c in (street_codes or []) if c.strip()]
    baseline_to = baseline_to or today - dt.timedelta(days=1)
    baseline_from = baseline_from or baseline_to - dt.timedelta(days=29)
    if baseline_from > baseline_to:
        raise InvalidInput(_("The baseline cannot start after it ends."), on="baseline_from")
    hotspot = Hotspot.objects.filter(pk=hotspot_id).first() if hotspot_id else None
    topic = MonthlyTopic.objects.create(
        title=title,
        month=month.replace(day=1),
        lead_unit=lead,
        plan=_text(plan, "plan", 20000, required=False),
        hotspot=hotspot,
        category=category,
        district=district,
        keywords=_text(keywords, "keywords", 200, required=False),
        baseline_from=baseline_from,
        baseline_to=baseline_to,
        starts_on=starts_on or today,
        created_by=user,
        created_at=clock.now(),
    )
    topic.streets.set(streets)
    _event(user, "topic", topic.pk, "create", "", topic.state, title=title, hotspot=hotspot_id)
    return topic


def create_topic_from_hotspot(user: Any, hotspot_id: int) -> MonthlyTopic:
    """A supervisor turns a hotspot into a monthly topic: its place, category and key terms become the topic's
    scope; the lead unit is the street (else the district); the baseline is the 30 days before today."""
    area = _area(user)
    h = Hotspot.objects.select_related("district", "street", "category").filter(pk=hotspot_id).first()
    if h is None or not governance_access.in_area(area, h.district):
        raise NotFound()
    lead = h.street or h.district
    if lead is None:
        raise InvalidInput(_("This hotspot has no clear place; make the topic by hand."))
    place = h.street.name if h.street else h.district.name if h.district else ""
    today = clock.local_date(clock.now())
    return create_topic(
        user,
        title=f"{place}：{h.label}"[:120],
        month=today.replace(day=1),
        lead_unit_code=lead.code,
        plan=f"源自热点“{h.label}”（{h.size} 件诉求，热度 {h.heat:.0f}）。",  # i18n: data
        category_code=h.category.code if h.category else "",
        district_code=h.district.code if h.district else "",
        street_codes=[h.street.code] if h.street else [],
        hotspot_id=h.pk,
    )


@transaction.atomic
def update_plan(user: Any, pk: int, plan: str, expected_version: int) -> MonthlyTopic:
    topic = _topic_for_change(user, pk, expected_version)
    topic.plan = _text(plan, "plan", 20000)
    MonthlyTopic.objects.filter(pk=pk).update(plan=topic.plan)
    _bump(topic)
    _event(user, "topic", pk, "plan", note=topic.plan[:200])
    return topic


TOPIC_MOVES = {"activate": (TopicState.DRAFT, TopicState.ACTIVE), "close": (TopicState.ACTIVE, TopicState.CLOSED)}


@transaction.atomic
def move_topic(user: Any, pk: int, move: str, expected_version: int, note: str = "") -> MonthlyTopic:
    area = _area(user)
    topic = MonthlyTopic.objects.select_for_update(of=("self",)).filter(pk=pk).select_related("district").first()
    if topic is None or not governance_access.in_area(area, topic.district):
        raise NotFound()
    if topic.version != expected_version:
        raise ConcurrentEdit()
    if move not in TOPIC_MOVES or topic.state != TOPIC_MOVES[move][0]:
        raise IllegalTransition(
            _("This cannot be done in the current state (%(state)s)."), state=topic.get_state_display()
        )
    if move == "activate" and not topic.tasks.exists():
        raise InvalidInput(_("List at least one task (the task list) before starting."))
    before, topic.state = topic.state, TOPIC_MOVES[move][1]
    MonthlyTopic.objects.filter(pk=pk).update(state=topic.state)
    _bump(topic)
    _event(user, "topic", pk, move, before, topic.state, note=note)
    return topic


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(_("Dates are written YYYY-MM-DD."), on=field) from None


@transaction.atomic
def add_task(
    user: Any, pk: int, *, title: str, lead_unit_code: str, cooperating: list[str], due_on: Any, expected_version: int
) -> TopicTask:
    topic = _topic_for_change(user, pk, expected_version)
    task = TopicTask.objects.create(
        topic=topic,
        title=_text(title, "title", 200),
        lead_unit=_unit(lead_unit_code, "lead_unit"),
        due_on=_date(due_on, "due_on"),
    )
    task.cooperating_units.set([_unit(c, "cooperating") for c in cooperating if c.strip()])
    _bump(topic)
    _event(user, "topic", pk, "add_task", note=task.title, task=task.pk, lead=task.lead_unit.code)
    return task


@transaction.atomic
def add_policy(
    user: Any, pk: int, *, title: str, kind: str, issuer_code: str, due_on: Any, expected_version: int
) -> TopicPolicy:
    topic = _topic_for_change(user, pk, expected_version)
    if kind not in PolicyKind.values:
        raise InvalidInput(_("Unknown kind of policy."), on="kind")
    policy = TopicPolicy.objects.create(
        topic=topic,
        title=_text(title, "title", 200),
        kind=kind,
        issuer=_unit(issuer_code, "issuer"),
        due_on=_date(due_on, "due_on"),
    )
    _bump(topic)
    _event(user, "topic", pk, "add_policy", note=policy.title, policy=policy.pk)
    return policy


@transaction.atomic
def add_target(user: Any, pk: int, *, metric: str, value: Any, by_date: Any, expected_version: int) -> TopicTarget:
    topic = _topic_for_change(user, pk, expected_version)
    if metric not in TargetMetric.values:
        raise InvalidInput(_("Unknown target measure."), on="metric")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("The target value must be a number."), on="value") from None
    if metric == TargetMetric.VOLUME_CHANGE and not -100 <= number <= 100:
        raise InvalidInput(_("A change must lie between −100%% and 100%%."), on="value")
    if metric != TargetMetric.VOLUME_CHANGE and not 0 <= number <= 100:
        raise InvalidInput(_("A rate must lie between 0 and 100."), on="value")
    target = TopicTarget.objects.create(
        topic=topic, metric=metric, value=round(number, 1), by_date=_date(by_date, "by_date")
    )
    _bump(topic)
    _event(user, "topic", pk, "add_target", metric=metric, value=number, by=str(target.by_date))
    return target


@transaction.atomic
def add_milestone(user: Any, pk: int, *, title: str, due_on: Any, expected_version: int) -> TopicMilestone:
    topic = _topic_for_change(user, pk, expected_version)
    milestone = TopicMilestone.objects.create(
        topic=topic, title=_text(title, "title", 200), due_on=_date(due_on, "due_on")
    )
    _bump(topic)
    _event(user, "topic", pk, "add_milestone", note=milestone.title, milestone=milestone.pk)
    return milestone


ITEM_MODELS: dict[str, Any] = {"task": TopicTask, "policy": TopicPolicy, "milestone": TopicMilestone}


@transaction.atomic
def mark_done(user: Any, pk: int, kind: str, item_id: int, done_on: Any, expected_version: int) -> None:
    """A task finished, a policy issued, a milestone reached (once; a correction is a new event on the topic)."""
    topic = _topic_for_change(user, pk, expected_version)
    model = ITEM_MODELS.get(kind)
    if model is None:
        raise NotFound()
    item = model.objects.filter(pk=item_id, topic=topic).first()
    if item is None:
        raise NotFound()
    if item.done_on is not None:
        raise IllegalTransition(_("This item is already done."))
    day = _date(done_on, "done_on")
    if day > clock.local_date(clock.now()):
        raise InvalidInput(_("The completion date cannot be after today."), on="done_on")
    model.objects.filter(pk=item.pk).update(done_on=day)
    _bump(topic)
    _event(user, "topic", pk, f"done_{kind}", "", "done", note=item.title, item=item.pk, on=str(day))


# --- forecasts and proactive proposals (未诉先办) ----------------------------------------------------------
HISTORY_DAYS = 3 * 365 + 30


@dataclass
class ForecastRun:
    series: int = 0
    points: int = 0
    proposals: int = 0


def daily_counts(until: dt.date) -> tuple[dict[tuple[int, int], np.ndarray], dt.date]:
    """Requests per day for every level-2 category × district, up to and including `until`."""
    first = until - dt.timedelta(days=HISTORY_DAYS - 1)
    rows = (
        tickets_access.all_tickets()
        .filter(
            intake_at__gte=clock.start_of_day(first),
            intake_at__lt=clock.start_of_day(until + dt.timedelta(days=1)),
            district__isnull=False,
            category__parent__isnull=False,
        )
        .values_list(
            "intake_at", "category__parent_id", "category__level", "category__parent__parent_id", "district_id"
        )
    )
    series: dict[tuple[int, int], np.ndarray] = {}
    for at, parent, level, grandparent, district in rows.iterator():
        l2 = parent if level == 3 else grandparent if level == 4 else None
        if l2 is None:
            continue
        key = (l2, district)
        if key not in series:
            series[key] = np.zeros(HISTORY_DAYS)
        series[key][(clock.local_date(at) - first).days] += 1
    return series, first


def refresh_forecasts(now: dt.datetime | None = None) -> ForecastRun:
    """The worker's daily job: forecast the next 14 days for every level-2 category × district with history, and
    propose a proactive task where the next 7 days are expected to exceed both `JIESU_PROACTIVE_MIN` requests and
    `JIESU_PROACTIVE_RATIO` × their usual level (the mean of the same weekdays over the last eight weeks)."""
    now = now or clock.now()
    today = clock.local_date(now)
    series, first = daily_counts(today - dt.timedelta(days=1))
    minimum = settings.JIESU_PROACTIVE_MIN
    ratio = settings.JIESU_PROACTIVE_RATIO
    run = ForecastRun()
    points = []
    surges = []
    for (category_id, district_id), y in series.items():
        if y.sum() < 3:
            continue
        # from the first request on, but never less than eight weeks (the baselines need them)
        begin = min(int(np.flatnonzero(y)[0]), len(y) - 56)
        used = y[begin:]
        start = first + dt.timedelta(days=begin)
        f = fc.forecast(used, start, 14, day_kind)
        usual = fc.seasonal_mean(used, 14)
        run.series += 1
        for day, e, lo, hi, u in zip(f.days, f.expected, f.low, f.high, usual, strict=True):
            points.append(
                ForecastPoint(
                    made_at=now,
                    category_id=category_id,
                    district_id=district_id,
                    day=day,
                    expected=round(float(e), 3),
                    low=float(lo),
                    high=float(hi),
                    usual=round(float(u), 3),
                )
            )
        week, usual_week = float(f.expected[:7].sum()), float(usual[:7].sum())
        if week >= minimum and week >= ratio * max(usual_week, 0.1):
            surges.append((category_id, district_id, f.days[0], f.days[6], week, usual_week))
    with transaction.atomic():
        ForecastPoint.objects.all().delete()
        ForecastPoint.objects.bulk_create(points, batch_size=2000)
        run.points = len(points)
        for category_id, district_id, d0, d6, week, usual_week in surges:
            run.proposals += _propose(category_id, district_id, d0, d6, week, usual_week, now)
        _event(None, "run", 0, "forecasts", note=f"{run.series}/{run.points}/{run.proposals}", **run.__dict__)
    return run


def responsible_unit(category_id: int, district_id: int) -> OrgUnit:
    """The unit that led most of the closed tickets of this category in this district; the district when none."""
    top = (
        tickets_access.all_tickets()
        .filter(category__parent_id=category_id, district_id=district_id, lead_unit__isnull=False)
        .values("lead_unit")
        .annotate(n=Count("pk"), last=Max("intake_at"))
        .order_by("-n", "-last")
        .first()
    )
    return OrgUnit.objects.get(pk=top["lead_unit"] if top else district_id)


def _propose(
    category_id: int, district_id: int, d0: dt.date, d6: dt.date, week: float, usual: float, now: dt.datetime
) -> int:
    # One proposal per surge: none while an earlier one for the same days is still proposed or accepted.
    if ProactiveProposal.objects.filter(
        category_id=category_id, district_id=district_id, last_day__gte=d0, first_day__lte=d6
    ).exists():
        return 0
    category = Category.objects.get(pk=category_id)
    district = OrgUnit.objects.get(pk=district_id)
    unit = responsible_unit(category_id, district_id)
    reason = (
        f"预测{district.name}“{category.name}”类诉求未来7天约 {week:.0f} 件，"  # i18n: data (stored)
        f"为常态（{usual:.0f} 件）的 {week / max(usual, 0.1):.1f} 倍，建议提前排查处置。"  # i18n: data (stored)
    )
    p = ProactiveProposal.objects.create(
        category=category,
        district=district,
        unit=unit,
        first_day=d0,
        last_day=d6,
        expected=round(week, 1),
        usual=round(usual, 1),
        reason=reason,
        created_at=now,
    )
    _event(None, "proposal", p.pk, "propose", "", p.state, note=reason, unit=unit.code)
    return 1


@transaction.atomic
def decide_proposal(user: Any, pk: int, accept: bool, note: str = "") -> ProactiveProposal:
    p = ProactiveProposal.objects.select_for_update(of=("self",)).select_related("unit").filter(pk=pk).first()
    if p is None or not governance_access.may_decide_proposal(user, p.unit):
        raise NotFound()
    if p.state != ProposalState.PROPOSED:
        raise IllegalTransition(_("This proposal has already been decided."))
    note = _text(note, "note", 500, required=not accept)
    before = p.state
    p.state = ProposalState.ACCEPTED if accept else ProposalState.DISMISSED
    p.decided_at, p.decision_note = clock.now(), note
    p.save(update_fields=["state", "decided_at", "decision_note"])
    _event(user, "proposal", pk, "accept" if accept else "dismiss", before, p.state, note=note)
    return p


# --- knowledge entries from solved tickets ---------------------------------------------------------------
WELL_SOLVED = {"solved"}
WELL_RATED = {"satisfied", "fairly_satisfied"}


@transaction.atomic
def knowledge_from_ticket(user: Any, ticket_pk: int) -> KnowledgeEntry:
    """One click on a well-solved ticket (closed; its last callback: solved and satisfied) makes a knowledge entry:
    the question from the title, the answer from the reply (digit runs masked), the category, the lead unit as
    owner, valid for `JIESU_KNOWLEDGE_VALID_DAYS` (365). A ticket gives at most one entry."""
    ticket = tickets_access.get_ticket(user, ticket_pk, related=("category", "lead_unit"))
    if not governance_access.may_curate_knowledge(user, ticket):
        raise Forbidden()
    if ticket.dispatch_state != "closed" or not ticket.reply.strip():
        raise IllegalTransition(_("Only closed tickets with a reply can become knowledge entries."))
    last = Callback.objects.filter(ticket=ticket).order_by("-round").first()
    if last is None or last.resolution not in WELL_SOLVED or last.satisfaction not in WELL_RATED:
        raise IllegalTransition(
            _("Only tickets whose callback was “solved” and “satisfied” can become knowledge entries.")
        )
    existing = KnowledgeEntry.objects.filter(source_ticket=ticket.number).first()
    if existing is not None:
        raise InvalidInput(_("This ticket is already a knowledge entry (%(title)s)."), title=existing.title)
    from jiesu.lib import text as zh

    words = []
    for w in zh.words(ticket.title):
        if w not in words:
            words.append(w)
    days = settings.JIESU_KNOWLEDGE_VALID_DAYS
    entry = KnowledgeEntry.objects.create(
        title=ticket.title[:200],
        answer=mask_text(ticket.reply),
        keywords=" ".join(words[:6]),
        category=ticket.category,
        owner_unit=ticket.lead_unit,
        valid_until=clock.local_date(clock.now()) + dt.timedelta(days=days),
        source=f"工单 {ticket.number}",  # i18n: data
        source_ticket=ticket.number,
    )
    _event(user, "knowledge", entry.pk, "from_ticket", "", "active", ticket=ticket.number)
    return entry


# --- the worker's schedule -------------------------------------------------------------------------------
def _last_run(kind: str) -> dt.datetime | None:
    last = GovernanceEvent.objects.filter(subject="run", action=kind).order_by("-at", "-id").first()
    return last.at if last else None


def hotspots_due(now: dt.datetime) -> bool:
    """Detection runs every `JIESU_HOTSPOT_EVERY_MINUTES` (60)."""
    last = _last_run("hotspots")
    return last is None or now - last >= dt.timedelta(minutes=settings.JIESU_HOTSPOT_EVERY_MINUTES)


def forecasts_due(now: dt.datetime) -> bool:
    """Forecasts and proposals run once a day (the first check after midnight)."""
    last = _last_run("forecasts")
    return last is None or clock.local_date(last) < clock.local_date(now)


def run_due(now: dt.datetime | None = None) -> list[str]:
    """Hotspot detection and the forecasts, each if due (the tasks in `tasks.py` run them one by one). Returns what
    ran."""
    now = now or clock.now()
    done = []
    if hotspots_due(now):
        refresh_hotspots(now)
        done.append("hotspots")
    if forecasts_due(now):
        refresh_forecasts(now)
        done.append("forecasts")
    return done
