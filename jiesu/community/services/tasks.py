"""community services: task list (任务清单) and matching."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from jiesu.community import access as community_access
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput
from jiesu.lib.uploads import check_images
from jiesu.orgs.models import OrgUnit

from .. import matching
from ..models import (
    CLAIMABLE_STATES,
    CommunityTask,
    Compound,
    Demand,
    DemandState,
    PartyMember,
    PointEntry,
    PointReason,
    PointRule,
    RegistrationState,
    ResidentRating,
    ServicePost,
    Skill,
    TaskClaim,
    TaskOffer,
    TaskState,
)
from ._core import (
    CLAIM_WINDOW,
    GENERAL_SKILL,
    MAX_OPEN_CLAIMS,
    _check_version,
    _event,
    _locked,
    _managed,
    _skills,
    _text,
)
from .lists import _boundary_reason, _lock_demand, staff_duty_for
from .points import quarter_of


def _skill_index() -> dict[int, int]:
    return {pk: i for i, pk in enumerate(Skill.objects.order_by("pk").values_list("pk", flat=True)[:63])}


def member_columns(community: OrgUnit, skill_index: dict[int, int]) -> matching.Members:
    """The community's confirmed members as matching columns: skills, posts, place, times, open work, this
    quarter's served tasks and their ratings."""
    members = list(
        PartyMember.objects.filter(community=community, state=RegistrationState.CONFIRMED)
        .select_related("compound")
        .order_by("pk")
    )
    ids = [m.pk for m in members]
    skills: dict[int, int] = dict.fromkeys(ids, 0)
    for mid, sid in PartyMember.skills.through.objects.filter(partymember_id__in=ids).values_list(
        "partymember_id", "skill_id"
    ):
        if sid in skill_index:
            skills[mid] |= 1 << skill_index[sid]
    posts: dict[int, int] = dict.fromkeys(ids, 0)
    for mid, sid in ServicePost.members.through.objects.filter(
        partymember_id__in=ids, servicepost__is_active=True
    ).values_list("partymember_id", "servicepost__skill_id"):
        if sid in skill_index:
            posts[mid] |= 1 << skill_index[sid]
    quarter_start = quarter_of(clock.local_date(clock.now()))[1]
    load = dict(
        TaskClaim.objects.filter(member_id__in=ids, served_at__isnull=True)
        .values_list("member_id")
        .annotate(n=Count("id"))
    )
    served = dict(
        TaskClaim.objects.filter(member_id__in=ids, served_at__gte=clock.start_of_day(quarter_start))
        .values_list("member_id")
        .annotate(n=Count("id"))
    )
    ratings = {
        row["task__claims__member_id"]: row
        for row in ResidentRating.objects.filter(task__claims__member_id__in=ids)
        .values("task__claims__member_id")
        .annotate(total=Sum("stars"), n=Count("id"))
    }
    origin = _origin(community)

    def km(m: PartyMember) -> tuple[float, float]:
        c = m.compound
        if c is None or c.lat is None or c.lng is None or origin is None:
            return (np.nan, np.nan)
        return _plane(origin, c.lat, c.lng)

    xy = [km(m) for m in members]
    return matching.Members(
        ids=np.array(ids, dtype=np.int64),
        community=np.full(len(ids), community.pk, dtype=np.int64),
        skills=np.array([skills[i] for i in ids], dtype=np.int64),
        posts=np.array([posts[i] for i in ids], dtype=np.int64),
        compound=np.array([m.compound_id or -1 for m in members], dtype=np.int64),
        x=np.array([p[0] for p in xy], dtype=np.float64),
        y=np.array([p[1] for p in xy], dtype=np.float64),
        slots=np.array([m.slots for m in members], dtype=np.int64),
        load=np.array([load.get(i, 0) for i in ids], dtype=np.float64),
        served=np.array([served.get(i, 0) for i in ids], dtype=np.float64),
        rating_sum=np.array([float(ratings.get(i, {}).get("total") or 0) for i in ids]),
        rating_n=np.array([float(ratings.get(i, {}).get("n") or 0) for i in ids]),
    )


def _origin(community: OrgUnit) -> tuple[float, float] | None:
    c = Compound.objects.filter(community=community, lat__isnull=False, lng__isnull=False).order_by("pk").first()
    return (c.lat, c.lng) if c is not None and c.lat is not None and c.lng is not None else None


def _plane(origin: tuple[float, float], lat: float, lng: float) -> tuple[float, float]:
    return ((lng - origin[1]) * 111.32 * float(np.cos(np.radians(origin[0]))), (lat - origin[0]) * 110.57)


def _shortlist(task: CommunityTask, exclude: set[int]) -> list[TaskOffer]:
    demand = task.demand
    index = _skill_index()
    members = member_columns(task.community, index)
    if exclude:
        keep = ~np.isin(members.ids, list(exclude))
        members = matching.Members(**{k: v[keep] for k, v in vars(members).items()})
    origin = _origin(task.community)
    c = demand.compound
    x, y = (
        _plane(origin, c.lat, c.lng) if origin and c and c.lat is not None and c.lng is not None else (np.nan, np.nan)
    )
    general = task.skill.code == GENERAL_SKILL
    demands = matching.Demands(
        ids=np.array([demand.pk]),
        community=np.array([task.community_id]),
        skill=np.array([matching.GENERAL if general else index.get(task.skill_id, 63)]),
        compound=np.array([demand.compound_id or -1]),
        x=np.array([x]),
        y=np.array([y]),
        slots=np.array([demand.slots]),
    )
    found = matching.match(members, demands, k=max(matching.SHORTLIST, task.needed + 2), explain=True)
    now = clock.now()
    return TaskOffer.objects.bulk_create(
        [
            TaskOffer(task=task, member_id=mid, rank=rank + 1, score=score, reasons=parts, offered_at=now)
            for rank, (mid, score, parts) in enumerate(
                zip(found.shortlists[0], found.scores[0], found.parts[0], strict=True)
            )
        ]
    )


@transaction.atomic
def publish_demand(actor: Any, demand_id: Any, skill: str = "", needed: Any = 1, version: Any = None) -> CommunityTask:
    """Turn a demand into a task (社区下单) and push it to the shortlist the matching finds."""
    demand = _lock_demand(demand_id)
    _managed(actor, demand.community)
    _check_version(demand, version)
    if demand.state != DemandState.SUBMITTED:
        raise IllegalTransition(_("Only a new demand can be published as a task."))
    duty = staff_duty_for(demand.community, f"{demand.title} {demand.text}")
    if duty is not None:
        raise IllegalTransition(_boundary_reason(duty))
    chosen = _skills([skill])[0] if skill else demand.skill
    if chosen is None:
        raise InvalidInput(_("Choose the skill the task needs."), on="skill")
    try:
        count = int(needed or 1)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 20:
        raise InvalidInput(_("A task needs 1 to 20 members."), on="needed")
    now = clock.now()
    task = CommunityTask.objects.create(
        demand=demand,
        community=demand.community,
        skill=chosen,
        needed=count,
        published_at=now,
        claim_by=now + CLAIM_WINDOW,
    )
    demand.state, demand.skill, demand.version = DemandState.PUBLISHED, chosen, demand.version + 1
    demand.save()
    _event(actor, demand.community, "demand", demand.pk, "publish", DemandState.SUBMITTED, demand.state, task=task.pk)
    offers = _shortlist(task, set())
    _event(
        actor,
        task.community,
        "task",
        task.pk,
        "offer",
        "",
        TaskState.OPEN,
        members=[o.member_id for o in offers],
        users=_users_of([o.member_id for o in offers]),
    )
    return task


def _users_of(member_ids: list[int]) -> list[int]:
    return list(PartyMember.objects.filter(pk__in=member_ids, user__isnull=False).values_list("user_id", flat=True))


def _lock_task(task_id: Any) -> CommunityTask:
    return _locked(
        CommunityTask.objects.select_related("community", "demand", "skill"), task_id, _("There is no such task.")
    )


@transaction.atomic
def rematch(actor: Any, task_id: Any) -> list[TaskOffer]:
    """An escalated task gets a new shortlist (members not offered it yet) and a new claiming window."""
    task = _lock_task(task_id)
    _managed(actor, task.community)
    if task.state != TaskState.ESCALATED:
        raise IllegalTransition(_("Only an escalated task can be matched again."))
    offered = set(task.offers.values_list("member_id", flat=True)) | set(
        task.claims.values_list("member_id", flat=True)
    )
    rank0 = task.offers.count()
    offers = _shortlist(task, offered)
    for o in offers:  # ranks continue after the first shortlist
        TaskOffer.objects.filter(pk=o.pk).update(rank=rank0 + o.rank)
    task.state, task.claim_by, task.version = TaskState.OPEN, clock.now() + CLAIM_WINDOW, task.version + 1
    task.save()
    _event(
        actor,
        task.community,
        "task",
        task.pk,
        "offer",
        TaskState.ESCALATED,
        TaskState.OPEN,
        members=[o.member_id for o in offers],
        users=_users_of([o.member_id for o in offers]),
    )
    return offers


@transaction.atomic
def claim_task(actor: Any, task_id: Any) -> TaskClaim:
    """党员接单: a confirmed member of the task's community claims it. The task row is locked, so two members
    cannot both take its last place; nobody holds more than MAX_OPEN_CLAIMS unserved tasks."""
    member = community_access.party_member(actor)
    task = _lock_task(task_id)
    if member is None or member.community_id != task.community_id:
        raise Forbidden(_("Only the community's registered members can claim its tasks."))
    if task.state not in CLAIMABLE_STATES:
        raise IllegalTransition(_("This task is no longer open for claiming."))
    if task.claims.filter(member=member).exists():
        raise IllegalTransition(_("You have claimed this task already."))
    if TaskClaim.objects.filter(member=member, served_at__isnull=True).count() >= MAX_OPEN_CLAIMS:
        raise IllegalTransition(
            _("You hold %(n)d tasks not yet served; finish one before claiming another.") % {"n": MAX_OPEN_CLAIMS}
        )
    claim = TaskClaim.objects.create(task=task, member=member, claimed_at=clock.now())
    src = task.state
    if task.claims.count() >= task.needed:
        task.state = TaskState.CLAIMED
    task.version += 1
    task.save()
    _event(actor, task.community, "task", task.pk, "claim", src, task.state, member=member.pk)
    return claim


def _rule(community: OrgUnit | int, reason: str, stars: int | None = None) -> int:
    cid = community if isinstance(community, int) else community.pk
    rules = PointRule.objects.filter(reason=reason, stars=stars).filter(Q(community_id=cid) | Q(community__isnull=True))
    own = next((r for r in rules if r.community_id == cid), None)
    chosen = own or next(iter(rules), None)
    return chosen.points if chosen else 0


def _award(member: PartyMember, community_id: int, reason: str, points: int, actor: Any, **refs: Any) -> None:
    if points:
        PointEntry.objects.create(
            member=member,
            community_id=community_id,
            reason=reason,
            points=points,
            at=clock.now(),
            actor=actor if actor is not None and getattr(actor, "pk", None) else None,
            **refs,
        )


@transaction.atomic
def record_service(actor: Any, task_id: Any, hours: Any, note: str, photo: UploadedFile | None = None) -> TaskClaim:
    """The member's service record: time spent, a note and a photo. When every claimant has recorded, the task is
    served and the points for service and hours are booked."""
    member = community_access.party_member(actor)
    task = _lock_task(task_id)
    claim = task.claims.filter(member=member).first() if member else None
    if claim is None:
        raise Forbidden(_("Only a member who claimed this task can record its service."))
    if claim.served_at is not None:
        raise IllegalTransition(_("You have recorded this service already."))
    if task.state not in (TaskState.CLAIMED, *CLAIMABLE_STATES):
        raise IllegalTransition(_("This task is no longer open."))
    try:
        spent = Decimal(str(hours or "").strip()).quantize(Decimal("0.1"))
    except InvalidOperation:
        spent = Decimal(0)
    if not Decimal("0.1") <= spent <= Decimal("24"):
        raise InvalidInput(_("Enter the hours spent, between 0.1 and 24."), on="hours")
    claim.note = _text(note, _("service note"), "note", 1000)
    if photo is not None:
        checked = check_images([photo])[0]
        claim.photo.save(f"{task.pk}-{claim.member_id}.{checked.content_type.split('/')[1]}", checked.file, save=False)
    claim.served_at, claim.hours = clock.now(), spent
    claim.save()
    community = task.community_id
    _award(claim.member, community, PointReason.SERVICE, _rule(community, PointReason.SERVICE), actor, task=task)
    per_hour = _rule(community, PointReason.HOURS)
    _award(claim.member, community, PointReason.HOURS, round(per_hour * float(spent)), actor, task=task)
    src = task.state
    if not task.claims.filter(served_at__isnull=True).exists() and task.claims.count() >= 1:
        task.state, task.done_at = TaskState.DONE, clock.now()
        Demand.objects.filter(pk=task.demand_id).update(state=DemandState.DONE)
    task.version += 1
    task.save()
    _event(actor, task.community, "task", task.pk, "record", src, task.state, member=claim.member_id, hours=str(spent))
    return claim


@transaction.atomic
def rate_task(actor: Any, task_id: Any, stars: Any, comment: str = "") -> ResidentRating:
    """The resident's rating (from the phone page, actor None, after the number and phone check) or one the staff
    record from a visit. Each serving member gets the points the rule gives for that many stars."""
    task = _lock_task(task_id)
    if actor is not None and getattr(actor, "pk", None):
        _managed(actor, task.community)
    if task.state != TaskState.DONE:
        raise IllegalTransition(_("Only a served task that is not rated yet can be rated."))
    try:
        value = int(stars)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InvalidInput(_("Choose one to five stars."), on="stars")
    rating = ResidentRating.objects.create(
        task=task,
        stars=value,
        comment=_text(comment, _("comment"), "comment", 300, required=False),
        rated_at=clock.now(),
        recorded_by=actor if actor is not None and getattr(actor, "pk", None) else None,
    )
    points = _rule(task.community_id, PointReason.RATING, value)
    for claim in task.claims.select_related("member"):
        _award(claim.member, task.community_id, PointReason.RATING, points, actor, task=task)
    task.state, task.version = TaskState.RATED, task.version + 1
    task.save()
    _event(actor, task.community, "task", task.pk, "rate", TaskState.DONE, TaskState.RATED, stars=value)
    return rating


def escalate_due(now: dt.datetime | None = None) -> int:
    """Tasks nobody claimed within the window go back to the community (the worker runs this)."""
    now = now or clock.now()
    done = 0
    for pk in CommunityTask.objects.filter(state=TaskState.OPEN, claim_by__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            task = _lock_task(pk)
            if task.state != TaskState.OPEN or task.claim_by > now:
                continue
            claimed = task.claims.count()
            task.state, task.version = TaskState.ESCALATED, task.version + 1
            task.save()
            _event(
                None, task.community, "task", task.pk, "escalate", TaskState.OPEN, TaskState.ESCALATED, claimed=claimed
            )
            done += 1
    return done


@transaction.atomic
def cancel_task(actor: Any, task_id: Any, reason: str) -> None:
    task = _lock_task(task_id)
    _managed(actor, task.community)
    reason = _text(reason, _("reason"), "reason", 200)
    if task.state not in CLAIMABLE_STATES:
        raise IllegalTransition(_("Only an unclaimed task can be cancelled."))
    src = task.state
    task.state, task.version = TaskState.CANCELLED, task.version + 1
    task.save()
    Demand.objects.filter(pk=task.demand_id).update(state=DemandState.REFUSED, refusal_reason=reason)
    _event(actor, task.community, "task", task.pk, "cancel", src, task.state, reason=reason)
