"""The township duty chain (吴大兵 2022) of a street or township for a month: responsibility per post, coordination,
supervision, accountability, the residents' channel and the public notice, each figure with where it comes from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from jiesu.assessment import selectors as assessment_selectors
from jiesu.assessment.models import UnitScore
from jiesu.governance.models import TopicTask
from jiesu.lib import clock
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as ticket_access
from jiesu.tickets.models import TicketEvent

from . import access, selectors
from .models import (
    AccountabilityCase,
    CadreProfile,
    ChallengeTask,
    Flag,
    FlagState,
    ResponsibilityItem,
    ToleranceCase,
)


@dataclass
class Chain:
    posts: list[tuple[str, int, int]] = field(default_factory=list)  # post, cadres, items in force
    acknowledged: int = 0
    whistles: int = 0
    topic_tasks: int = 0
    topic_tasks_done: int = 0
    challenges: int = 0
    flags_open: int = 0
    flags_decided: int = 0
    cases: int = 0
    tolerance: int = 0
    requests: int = 0
    score: UnitScore | None = None
    snapshot: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def duty_chain(user: Any, unit: OrgUnit, month: dt.date) -> Chain:
    start, end = clock.start_of_day(month), clock.start_of_day(selectors.add_months(month, 1))
    today = clock.local_date(clock.now())
    c = Chain()
    items = ResponsibilityItem.objects.filter(unit=unit, effective_from__lte=today).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=today)
    )
    per_post_items = dict(items.values("post").annotate(n=Count("pk")).values_list("post", "n"))
    cadres = CadreProfile.objects.filter(unit=unit)
    per_post_cadres = dict(cadres.values("post").annotate(n=Count("pk")).values_list("post", "n"))
    c.posts = [
        (post, per_post_cadres.get(post, 0), per_post_items.get(post, 0))
        for post in sorted(set(per_post_items) | set(per_post_cadres))
    ]
    from .models import Charter

    c.acknowledged = Charter.objects.filter(profile__unit=unit, year=month.year, acknowledged_at__isnull=False).count()
    c.whistles = TicketEvent.objects.filter(
        action="whistle", actor_unit=unit, created_at__gte=start, created_at__lt=end
    ).count()
    tasks = TopicTask.objects.filter(Q(lead_unit=unit) | Q(cooperating_units=unit)).distinct()
    c.topic_tasks, c.topic_tasks_done = tasks.count(), tasks.filter(done_on__isnull=False).count()
    c.challenges = ChallengeTask.objects.filter(area__path__startswith=unit.path).count()
    in_unit = access.flag_profiles(user).filter(unit__path__startswith=unit.path)
    flags = Flag.objects.filter(profile__in=in_unit)
    c.flags_open = flags.filter(state=FlagState.OPEN).count()
    c.flags_decided = flags.exclude(state=FlagState.OPEN).count()
    c.cases = AccountabilityCase.objects.filter(profile__in=in_unit).count()
    c.tolerance = ToleranceCase.objects.filter(profile__in=in_unit).count()
    c.requests = ticket_access.all_tickets().filter(street=unit, intake_at__gte=start, intake_at__lt=end).count()
    c.snapshot = assessment_selectors.current_snapshot(month, published_only=True)
    if c.snapshot is not None:
        c.score = UnitScore.objects.filter(snapshot=c.snapshot, unit=unit).first()
    return c
