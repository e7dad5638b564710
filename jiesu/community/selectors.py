"""Queries of the community pages and the quarterly reports."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from jiesu.community import access
from jiesu.lib import clock
from jiesu.lib.errors import NotFound
from jiesu.orgs.models import COMMUNITY_KINDS, OrgUnit

from .models import (
    CLAIMABLE_STATES,
    Attendance,
    CallOut,
    CallOutShift,
    CallOutState,
    CommunityEvent,
    CommunityTask,
    Compound,
    Demand,
    MemberGroup,
    PartyMember,
    PointEntry,
    RegistrationState,
    ServicePost,
    ShiftSignUp,
    Skill,
    TaskClaim,
    TaskOffer,
    TaskState,
)


def community_for(user: Any, code: str, *, reports: bool = False) -> OrgUnit:
    """A community the user runs (or, for `reports`, may read); NotFound otherwise."""
    area = access.community_report_area(user) if reports else access.managed_communities(user)
    found = area.filter(code=code).select_related("parent").first()
    if found is None:
        raise NotFound()
    return found


def members(community: OrgUnit, state: str | None = None) -> QuerySet[PartyMember]:
    qs = PartyMember.objects.filter(community=community).select_related("compound", "work_unit")
    if state:
        qs = qs.filter(state=state)
    return qs.prefetch_related("skills", "groups", "posts").order_by("state", "-registered_at", "-id")


def tasks(community: OrgUnit, states: tuple[str, ...] | None = None) -> QuerySet[CommunityTask]:
    qs = CommunityTask.objects.filter(community=community)
    if states:
        qs = qs.filter(state__in=states)
    return (
        qs.select_related("demand__compound", "skill")
        .prefetch_related(
            Prefetch("offers", queryset=TaskOffer.objects.select_related("member")),
            Prefetch("claims", queryset=TaskClaim.objects.select_related("member")),
            "rating",
        )
        .order_by("-published_at", "-id")
    )


def task_counts(community: OrgUnit) -> dict[str, int]:
    rows = CommunityTask.objects.filter(community=community).values_list("state").annotate(n=Count("id"))
    return dict(rows)


def demand_counts(community: OrgUnit) -> dict[str, int]:
    rows = Demand.objects.filter(community=community).values_list("state").annotate(n=Count("id"))
    return dict(rows)


@dataclass
class MemberDesk:
    recommended: list[CommunityTask]
    mine: list[TaskClaim]
    wall: list[CommunityTask]
    open_callouts: list[CallOut]


def member_desk(member: PartyMember) -> MemberDesk:
    """A member's phone page: tasks pushed to them, their claims, and the community's other open tasks."""
    claimed = set(TaskClaim.objects.filter(member=member).values_list("task_id", flat=True))
    base = (
        CommunityTask.objects.filter(community=member.community_id, state__in=CLAIMABLE_STATES)
        .exclude(pk__in=claimed)
        .select_related("demand__compound", "skill")
    )
    offered = set(TaskOffer.objects.filter(member=member).values_list("task_id", flat=True))
    recommended = list(base.filter(pk__in=offered).order_by("claim_by"))
    wall = list(base.exclude(pk__in=offered).order_by("claim_by")[:30])
    mine = list(
        TaskClaim.objects.filter(member=member)
        .select_related("task__demand__compound", "task__skill")
        .order_by("served_at", "-claimed_at")[:50]
    )
    callouts = list(open_callouts(member.community_id).order_by("-created_at"))
    return MemberDesk(recommended, mine, wall, callouts)


def member_task(member: PartyMember, pk: Any) -> CommunityTask:
    task = (
        CommunityTask.objects.filter(community=member.community_id, pk=int(pk))
        .select_related("demand__compound", "skill")
        .prefetch_related("claims")
        .first()
    )
    if task is None:
        raise NotFound()
    return task


def ledger(member: PartyMember) -> QuerySet[PointEntry]:
    return (
        PointEntry.objects.filter(member=member).select_related("task__demand", "shift__callout").order_by("-at", "-id")
    )


def coverage(callout: CallOut) -> list[dict[str, Any]]:
    """Each shift with its sign-ups and how far it is filled (the live coverage panel)."""
    rows = []
    for shift in CallOutShift.objects.filter(callout=callout).prefetch_related(
        Prefetch("signups", queryset=ShiftSignUp.objects.select_related("member"))
    ):
        signups = list(shift.signups.all())
        rows.append(
            {
                "shift": shift,
                "signups": signups,
                "filled": len(signups),
                "share": round(100 * len(signups) / shift.needed) if shift.needed else 100,
                "present": sum(s.attendance == Attendance.PRESENT for s in signups),
            }
        )
    return rows


# --- quarterly reports ------------------------------------------------------------------------------------
@dataclass
class MemberQuarter:
    member: PartyMember
    served: int = 0
    hours: Decimal = Decimal(0)
    ratings: int = 0
    stars: int = 0
    present: int = 0
    absent: int = 0
    points: int = 0
    total_points: int = 0
    tasks: list[TaskClaim] = field(default_factory=list)

    @property
    def mean_stars(self) -> float | None:
        return round(self.stars / self.ratings, 1) if self.ratings else None


def quarter_rows(members_qs: QuerySet[PartyMember], start: dt.date, end: dt.date) -> list[MemberQuarter]:
    """Per member, the quarter's served tasks, hours, resident ratings, call-out attendance and points."""
    since, until = clock.start_of_day(start), clock.start_of_day(end)
    chosen = list(members_qs.select_related("community", "work_unit", "compound").order_by("community__code", "name"))
    rows = {m.pk: MemberQuarter(m) for m in chosen}
    for claim in TaskClaim.objects.filter(member_id__in=rows, served_at__gte=since, served_at__lt=until).select_related(
        "task__demand", "task__rating"
    ):
        row = rows[claim.member_id]
        row.served += 1
        row.hours += claim.hours or 0
        row.tasks.append(claim)
        rating = getattr(claim.task, "rating", None)
        if rating is not None:
            row.ratings += 1
            row.stars += rating.stars
    for mid, attendance, n in (
        ShiftSignUp.objects.filter(member_id__in=rows, shift__starts_at__gte=since, shift__starts_at__lt=until)
        .values_list("member_id", "attendance")
        .annotate(n=Count("id"))
    ):
        if attendance == Attendance.PRESENT:
            rows[mid].present += n
        elif attendance == Attendance.ABSENT:
            rows[mid].absent += n
    for mid, quarter, total in (
        PointEntry.objects.filter(member_id__in=rows)
        .values_list("member_id")
        .annotate(q=Sum("points", filter=Q(at__gte=since, at__lt=until)), t=Sum("points"))
    ):
        rows[mid].points, rows[mid].total_points = quarter or 0, total or 0
    return list(rows.values())


def community_members(community: OrgUnit) -> QuerySet[PartyMember]:
    return PartyMember.objects.filter(community=community, state=RegistrationState.CONFIRMED)


def work_unit_members(unit: OrgUnit) -> QuerySet[PartyMember]:
    """双重考核: the confirmed members who work in the unit or below it, in whatever community they live."""
    return PartyMember.objects.filter(work_unit__path__startswith=unit.path, state=RegistrationState.CONFIRMED)


def work_unit_names(communities: QuerySet[OrgUnit]) -> list[tuple[str, int]]:
    """Work units (by name) of the members of these communities, with their member counts."""
    rows = (
        PartyMember.objects.filter(community__in=communities, state=RegistrationState.CONFIRMED)
        .values_list("work_unit_name")
        .annotate(n=Count("id"))
        .order_by("-n", "work_unit_name")
    )
    return list(rows)


def open_task_count(member: PartyMember) -> int:
    return TaskClaim.objects.filter(member=member, served_at__isnull=True).count()


def served_tasks(community: OrgUnit) -> QuerySet[CommunityTask]:
    return CommunityTask.objects.filter(community=community, state__in=(TaskState.DONE, TaskState.RATED))


def tasks_by_pk(pk: Any) -> CommunityTask | None:
    return (
        CommunityTask.objects.filter(pk=int(pk))
        .select_related("community", "demand__compound", "demand__source_ticket", "skill")
        .prefetch_related(
            Prefetch("offers", queryset=TaskOffer.objects.select_related("member")),
            Prefetch("claims", queryset=TaskClaim.objects.select_related("member")),
        )
        .first()
    )


def demand_for_resident(number: str, phone_tail: str) -> Demand | None:
    """A resident sees their wish by its number plus the last four digits of the phone it was made with."""
    if not number.isdigit() or len(number) > 20 or len(phone_tail) != 4 or not phone_tail.isdigit():
        return None
    return (
        Demand.objects.filter(number=number, resident_phone__endswith=phone_tail)
        .select_related("community", "compound")
        .first()
    )


# --- lists the pages show -----------------------------------------------------------------------------------
def skills() -> QuerySet[Skill]:
    return Skill.objects.all()


def compounds(community: OrgUnit) -> QuerySet[Compound]:
    return Compound.objects.filter(community=community)


def groups(community: OrgUnit) -> QuerySet[MemberGroup]:
    return MemberGroup.objects.filter(community=community).prefetch_related("members")


def posts(community: OrgUnit) -> QuerySet[ServicePost]:
    return ServicePost.objects.filter(community=community).select_related("skill").prefetch_related("members")


def demand_list(community: OrgUnit, state: str) -> QuerySet[Demand]:
    return Demand.objects.filter(community=community, state=state).select_related("compound", "skill", "source_ticket")


def demand(pk: int) -> Demand | None:
    return Demand.objects.filter(pk=pk).select_related("community").first()


def task_events(task: CommunityTask) -> list[CommunityEvent]:
    return list(CommunityEvent.objects.filter(subject="task", subject_id=task.pk).select_related("actor"))


def callouts(community: OrgUnit) -> QuerySet[CallOut]:
    return CallOut.objects.filter(community=community)


def open_callouts(community_id: int) -> QuerySet[CallOut]:
    return CallOut.objects.filter(community=community_id, state=CallOutState.OPEN)


def callout(pk: int) -> CallOut | None:
    return CallOut.objects.filter(pk=pk).select_related("community").first()


def member(pk: int) -> PartyMember | None:
    return PartyMember.objects.filter(pk=pk).select_related("community", "compound", "work_unit").first()


def member_quarter(member: PartyMember, start: dt.date, end: dt.date) -> MemberQuarter:
    return quarter_rows(PartyMember.objects.filter(pk=member.pk), start, end)[0]


def public_communities() -> QuerySet[OrgUnit]:
    """The communities a member can report to and a resident can make a wish in."""
    return OrgUnit.objects.filter(kind__in=COMMUNITY_KINDS, is_active=True).select_related("parent")


def public_compounds() -> QuerySet[Compound]:
    return Compound.objects.filter(community__in=public_communities()).select_related("community")


def community_summary(rows: list[MemberQuarter]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The community's quarter in totals, and per work unit (by name), most served first."""
    rated = sum(r.ratings for r in rows)
    totals = {
        "members": len(rows),
        "active": sum(r.served > 0 or r.present > 0 for r in rows),
        "served": sum(r.served for r in rows),
        "hours": sum(r.hours for r in rows),
        "ratings": rated,
        "stars": round(sum(r.stars for r in rows) / max(1, rated), 1),
        "present": sum(r.present for r in rows),
        "points": sum(r.points for r in rows),
    }
    units: dict[str, dict[str, Any]] = {}
    for r in rows:
        name = r.member.work_unit_name
        u = units.setdefault(name, {"name": name, "members": 0, "served": 0, "hours": 0, "points": 0})
        u["members"] += 1
        u["served"] += r.served
        u["hours"] += r.hours
        u["points"] += r.points
    return totals, sorted(units.values(), key=lambda u: (-u["served"], u["name"]))
