"""Care (人文关怀): each person's strain measures, read from the trail in one pass for many people, and the
thresholds in force. The decision (which signals are on, whether to alert) is `strain.py`'s pure code."""

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Count

from jiesu.lib import clock
from jiesu.orgs.models import UNIT_ROLES, Membership, Role
from jiesu.sla.policy import load_calendar
from jiesu.tickets import access as ticket_access
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.workflow import Action, DispatchState

from . import outcomes as outcome_data
from . import strain
from .models import AbuseMark, CareSettings

IN_HAND = (DispatchState.DISPATCHED, DispatchState.ACCEPTED, DispatchState.RETURN_REQUESTED)
CARED_ROLES = frozenset({Role.UNIT_HANDLER, Role.HOTLINE_OPERATOR, Role.CALLBACK_AGENT, Role.DISPATCHER})
REST_LOOKBACK_DAYS = 45
OUTCOME_LOOKBACK_DAYS = 90


def settings_on(day: dt.date) -> CareSettings:
    """The thresholds in force on `day`; the defaults when none were entered."""
    row = CareSettings.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    return row or CareSettings(effective_from=day)


def thresholds(cs: CareSettings) -> strain.Thresholds:
    return strain.Thresholds(
        load_ratio=cs.load_ratio,
        load_min=cs.load_min,
        after_hours_share=cs.after_hours_share,
        after_hours_min=cs.after_hours_min,
        days_without_rest=cs.days_without_rest,
        dissatisfied_streak=cs.dissatisfied_streak,
        reopens=cs.reopens,
        abusive=cs.abusive,
        calls_per_day=cs.calls_per_day,
        min_signals=cs.min_signals,
        strong=tuple(cs.strong_signals or ()),
    )


def measure_all(members: Sequence[Membership], as_of: dt.datetime, cs: CareSettings) -> dict[int, strain.Measures]:
    """user id → Measures, for these memberships, at `as_of`."""
    ids = [m.user_id for m in members]
    if not ids:
        return {}
    window_start = as_of - dt.timedelta(days=cs.window_days)
    today = clock.local_date(as_of)
    calendar = load_calendar()

    # load in hand, against the median of the unit's handlers (those holding nothing count as 0)
    units = {m.unit_id for m in members}
    colleagues = list(
        Membership.objects.filter(unit_id__in=units, role__in=UNIT_ROLES).values_list("user_id", "unit_id")
    )
    in_hand = dict(
        ticket_access.all_tickets()
        .filter(handler_id__in={u for u, _unit in colleagues} | set(ids), dispatch_state__in=IN_HAND)
        .values("handler_id")
        .annotate(n=Count("id"))
        .values_list("handler_id", "n")
    )
    per_unit: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in colleagues:
        per_unit[unit_id].append(in_hand.get(user_id, 0))
    medians = {unit: float(statistics.median(v)) for unit, v in per_unit.items() if v}

    # own actions on the trail: after hours, rest days, consecutive working days, calls taken
    rest_start = as_of - dt.timedelta(days=REST_LOOKBACK_DAYS)
    actions: dict[int, int] = defaultdict(int)
    after: dict[int, int] = defaultdict(int)
    intakes: dict[int, int] = defaultdict(int)
    days: dict[int, set[dt.date]] = defaultdict(set)
    for actor, at, action in TicketEvent.objects.filter(
        actor_id__in=ids, created_at__gte=rest_start, created_at__lte=as_of
    ).values_list("actor_id", "created_at", "action"):
        local = at.astimezone(clock.SHANGHAI)
        days[actor].add(local.date())
        if at < window_start:
            continue
        actions[actor] += 1
        if (
            not calendar.is_workday(local.date())
            or local.hour < cs.workday_start_hour
            or local.hour >= cs.workday_end_hour
        ):
            after[actor] += 1
        if action == Action.INTAKE:
            intakes[actor] += 1
    workdays = max(1, calendar.workdays_between(clock.local_date(window_start), today))

    # quality: streaks and reopens from the person's own outcomes (abusive tickets left out)
    handlers = [m.user_id for m in members if m.role != Role.HOTLINE_OPERATOR]
    operators = [m.user_id for m in members if m.role == Role.HOTLINE_OPERATOR]
    since = as_of - dt.timedelta(days=OUTCOME_LOOKBACK_DAYS)
    found = outcome_data.outcomes(handlers, since, as_of)
    found.update(outcome_data.outcomes(operators, since, as_of, by="intake"))
    abusive = dict(
        AbuseMark.objects.filter(person_id__in=ids, created_at__gte=window_start, created_at__lte=as_of)
        .values("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )

    out = {}
    for m in members:
        uid = m.user_id
        streak = 0
        mine = sorted(found.get(uid, []), key=lambda o: o.at)
        for o in reversed(mine):
            if not o.dissatisfied:
                break
            streak += 1
        rest = 0
        day = today if today in days[uid] else today - dt.timedelta(days=1)
        while day in days[uid]:
            rest += 1
            day -= dt.timedelta(days=1)
        out[uid] = strain.Measures(
            in_hand=in_hand.get(uid, 0),
            unit_median_in_hand=medians.get(m.unit_id, 0.0),
            actions=actions[uid],
            after_hours_actions=after[uid],
            days_without_rest=rest,
            dissatisfied_streak=streak,
            reopens=sum(1 for o in mine if o.reopened and o.at >= window_start),
            abusive=abusive.get(uid, 0),
            calls_per_day=intakes[uid] / workdays if m.role == Role.HOTLINE_OPERATOR else 0.0,
        )
    return out
