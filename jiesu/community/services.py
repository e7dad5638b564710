"""Every change of the Party members' community service: registrations, groups, the service and demand lists,
tasks (publish with matching, claim, record, rate, escalate), the points ledger and call-outs. Each runs in one
transaction and writes a `CommunityEvent` (who, what, when, from → to); notifications are made from those events.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import numpy as np
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Model, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from jiesu.community import access as community_access
from jiesu.lib import clock, events
from jiesu.lib.errors import ConcurrentEdit, Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.lib.uploads import check_images
from jiesu.lib.validation import clean_text
from jiesu.orgs.models import COMMUNITY_KINDS, Membership, OrgUnit
from jiesu.tickets import access as tickets_access
from jiesu.tickets.models import Ticket

from . import matching
from .models import (
    ALL_SLOTS,
    CLAIMABLE_STATES,
    Attendance,
    CallOut,
    CallOutShift,
    CallOutState,
    CommunityEvent,
    CommunityTask,
    Compound,
    Demand,
    DemandKind,
    DemandSource,
    DemandState,
    GroupKind,
    MemberGroup,
    PartyMember,
    PointEntry,
    PointReason,
    PointRule,
    RegistrationState,
    ResidentRating,
    ServicePost,
    ShiftSignUp,
    Skill,
    StaffDuty,
    TaskClaim,
    TaskOffer,
    TaskState,
)

M = TypeVar("M", bound=Model)
CLAIM_WINDOW = dt.timedelta(hours=24)  # unclaimed after this → back to the community (escalated)
MAX_OPEN_CLAIMS = 3  # a member holds at most this many claimed, unserved tasks
GENERAL_SKILL = "general"
PHONE = re.compile(r"^\+?\d{7,20}$")


def _event(
    actor: Any,
    community: OrgUnit | int,
    subject: str,
    subject_id: int,
    action: str,
    src: str = "",
    dst: str = "",
    **data: Any,
) -> CommunityEvent:
    return events.record(
        CommunityEvent,
        actor=actor,
        community_id=community if isinstance(community, int) else community.pk,
        subject=subject,
        subject_id=subject_id,
        action=action,
        from_state=src,
        to_state=dst,
        data=data,
    )


def _text(value: Any, label: str, on: str, limit: int, required: bool = True) -> str:
    return clean_text(value, on=on, label=label, limit=limit, required=required)


def _phone(value: Any, on: str = "phone") -> str:
    phone = re.sub(r"[\s-]", "", str(value or ""))
    if not PHONE.match(phone):
        raise InvalidInput(_("Enter a phone number of 7 to 20 digits."), on=on)
    return phone


def _slots(value: Any) -> int:
    try:
        slots = int(value or 0)
    except (TypeError, ValueError):
        raise InvalidInput(_("The available times are not valid."), on="slots") from None
    if not 0 <= slots <= ALL_SLOTS:
        raise InvalidInput(_("The available times are not valid."), on="slots")
    return slots


def _community(value: OrgUnit | str | int) -> OrgUnit:
    if isinstance(value, OrgUnit):
        return value
    unit = OrgUnit.objects.filter(code=str(value).strip(), kind__in=COMMUNITY_KINDS, is_active=True).first()
    if unit is None:
        raise InvalidInput(_("There is no such community."), on="community")
    return unit


def _managed(actor: Any, community: OrgUnit) -> None:
    if not community_access.may_manage_community(actor, community):
        raise Forbidden(_("You do not run this community's work."))


def _skills(codes: Any) -> list[Skill]:
    codes = [str(c) for c in (codes or []) if str(c).strip()]
    found = list(Skill.objects.filter(code__in=codes))
    if len(found) != len(set(codes)):
        raise InvalidInput(_("Unknown skill."), on="skills")
    return found


def _compound(community: OrgUnit, value: Any) -> Compound | None:
    if value in (None, ""):
        return None
    try:
        return Compound.objects.get(pk=int(value), community=community)
    except (Compound.DoesNotExist, TypeError, ValueError):
        raise InvalidInput(_("That compound or grid is not in this community."), on="compound") from None


def _locked(qs: QuerySet[M], pk: Any, missing: str) -> M:
    """The row `pk` of `qs`, locked for this transaction (only the row itself, not the joined ones); NotFound
    with `missing` for a missing row or a malformed key."""
    try:
        return qs.select_for_update(of=("self",)).get(pk=int(pk))
    except (ObjectDoesNotExist, TypeError, ValueError):
        raise NotFound(missing) from None


def _check_version(obj: Any, version: Any) -> None:
    if version not in (None, "") and str(obj.version) != str(version):
        raise ConcurrentEdit(_("Someone else changed this at the same time. Reload the page and try again."))


# --- registry (member_registration) -----------------------------------------------------------------------
@dataclass
class Login:
    username: str
    password: str


def _member_fields(community: OrgUnit, data: dict[str, Any]) -> dict[str, Any]:
    work_unit = None
    if data.get("work_unit_code"):
        work_unit = OrgUnit.objects.filter(code=str(data["work_unit_code"]).strip()).first()
        if work_unit is None:
            raise InvalidInput(_("Unknown unit code."), on="work_unit_code")
    return {
        "name": _text(data.get("name"), _("name"), "name", 40),
        "phone": _phone(data.get("phone")),
        "work_unit_name": _text(
            data.get("work_unit_name") or (work_unit.name if work_unit else ""), _("work unit"), "work_unit_name", 100
        ),
        "work_unit": work_unit,
        "is_leading_cadre": bool(data.get("is_leading_cadre")),
        "compound": _compound(community, data.get("compound")),
        "profession": _text(data.get("profession"), _("profession"), "profession", 60, required=False),
        "interests": _text(data.get("interests"), _("interests"), "interests", 200, required=False),
        "intentions": _text(data.get("intentions"), _("service intentions"), "intentions", 200, required=False),
        "slots": _slots(data.get("slots")),
    }


def _new_member(community: OrgUnit, data: dict[str, Any], state: str) -> PartyMember:
    fields = _member_fields(community, data)
    skills = _skills(data.get("skills"))
    if not skills:
        raise InvalidInput(_("Choose at least one skill."), on="skills")
    if PartyMember.objects.filter(community=community, phone=fields["phone"]).exists():
        raise InvalidInput(_("This phone number is already registered with the community."), on="phone")
    now = clock.now()
    try:
        with transaction.atomic():
            member = PartyMember.objects.create(
                community=community,
                state=state,
                registered_at=now,
                confirmed_at=now if state == RegistrationState.CONFIRMED else None,
                **fields,
            )
    except IntegrityError:  # the same phone submitted twice at once
        raise InvalidInput(_("This phone number is already registered with the community."), on="phone") from None
    member.skills.set(skills)
    return member


def _login_for(member: PartyMember) -> Login:
    """The member's login for the phone pages: the phone number as the user name and a one-time password the
    staff hand over (shown once)."""
    User = get_user_model()
    password = secrets.token_urlsafe(6)
    user, created = User.objects.get_or_create(username=member.phone, defaults={"first_name": member.name})
    if not created and PartyMember.objects.filter(user=user).exclude(pk=member.pk).exists():
        raise InvalidInput(_("This phone number already has a member login in another community."), on="phone")
    if not created and (user.is_staff or user.is_superuser or Membership.objects.filter(user=user).exists()):
        raise InvalidInput(_("This phone number is the login of a staff account."), on="phone")  # never take it over
    user.set_password(password)
    user.save()
    member.user = user
    return Login(member.phone, password)


@transaction.atomic
def report_member(community: OrgUnit | str, data: dict[str, Any]) -> PartyMember:
    """A member reports to their home community on the phone page (no login yet); the community confirms."""
    unit = _community(community)
    member = _new_member(unit, data, RegistrationState.PENDING)
    _event(None, unit, "member", member.pk, "report", "", RegistrationState.PENDING)
    return member


@transaction.atomic
def register_member(actor: Any, community: OrgUnit | str, data: dict[str, Any]) -> tuple[PartyMember, Login]:
    """The community's staff register a member who reported in person: confirmed at once, with a login."""
    unit = _community(community)
    _managed(actor, unit)
    member = _new_member(unit, data, RegistrationState.CONFIRMED)
    login = _login_for(member)
    member.save(update_fields=["user"])
    _event(actor, unit, "member", member.pk, "register", "", RegistrationState.CONFIRMED)
    return member, login


@transaction.atomic
def confirm_member(actor: Any, member_id: Any, version: Any = None) -> Login:
    member = _lock_member(member_id)
    _managed(actor, member.community)
    _check_version(member, version)
    if member.state != RegistrationState.PENDING:
        raise IllegalTransition(_("Only a registration waiting for confirmation can be confirmed."))
    login = _login_for(member)
    member.state, member.confirmed_at, member.version = RegistrationState.CONFIRMED, clock.now(), member.version + 1
    member.save()
    _event(actor, member.community, "member", member.pk, "confirm", RegistrationState.PENDING, member.state)
    return login


@transaction.atomic
def reject_member(actor: Any, member_id: Any, reason: str, version: Any = None) -> None:
    member = _lock_member(member_id)
    _managed(actor, member.community)
    _check_version(member, version)
    reason = _text(reason, _("reason"), "reason", 200)
    if member.state != RegistrationState.PENDING:
        raise IllegalTransition(_("Only a registration waiting for confirmation can be rejected."))
    member.state, member.version = RegistrationState.REJECTED, member.version + 1
    member.save()
    _event(
        actor, member.community, "member", member.pk, "reject", RegistrationState.PENDING, member.state, reason=reason
    )


def _lock_member(member_id: Any) -> PartyMember:
    return _locked(PartyMember.objects.select_related("community"), member_id, _("There is no such member."))


@transaction.atomic
def form_compound_branches(actor: Any, community: OrgUnit) -> int:
    """One temporary Party branch per compound or grid with its confirmed members (re-run to bring them up to
    date). Returns how many branches were made or refreshed."""
    _managed(actor, community)
    count = 0
    for compound in Compound.objects.filter(community=community):
        members = PartyMember.objects.filter(compound=compound, state=RegistrationState.CONFIRMED)
        if not members.exists():
            continue
        group, created = MemberGroup.objects.get_or_create(
            community=community,
            name=_("%(compound)s temporary branch") % {"compound": compound.name},
            defaults={"kind": GroupKind.BRANCH, "compound": compound},
        )
        group.members.set(members)
        _event(actor, community, "group", group.pk, "form" if created else "refresh", size=members.count())
        count += 1
    return count


@transaction.atomic
def create_interest_group(actor: Any, community: OrgUnit, name: str, member_ids: list[Any]) -> MemberGroup:
    _managed(actor, community)
    name = _text(name, _("name"), "name", 60)
    members = list(
        PartyMember.objects.filter(
            community=community,
            state=RegistrationState.CONFIRMED,
            pk__in=[int(i) for i in member_ids if str(i).isdigit()],
        )
    )
    if not members:
        raise InvalidInput(_("Choose at least one confirmed member."), on="members")
    if MemberGroup.objects.filter(community=community, name=name).exists():
        raise InvalidInput(_("A group of this name exists already."), on="name")
    group = MemberGroup.objects.create(community=community, kind=GroupKind.INTEREST, name=name)
    group.members.set(members)
    _event(actor, community, "group", group.pk, "form", size=len(members))
    return group


# --- service list (服务清单) -----------------------------------------------------------------------------
@transaction.atomic
def create_post(
    actor: Any, community: OrgUnit, name: str, skill: str, capacity: Any, description: str = ""
) -> ServicePost:
    _managed(actor, community)
    name = _text(name, _("name"), "name", 60)
    found = _skills([skill])
    if not found:
        raise InvalidInput(_("Choose the skill the post needs."), on="skill")
    try:
        size = int(capacity)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= 500:
        raise InvalidInput(_("The capacity must be between 1 and 500."), on="capacity")
    if ServicePost.objects.filter(community=community, name=name).exists():
        raise InvalidInput(_("A post of this name exists already."), on="name")
    post = ServicePost.objects.create(
        community=community,
        name=name,
        skill=found[0],
        capacity=size,
        description=_text(description, _("description"), "description", 300, required=False),
    )
    _event(actor, community, "post", post.pk, "create", capacity=size)
    return post


@transaction.atomic
def join_post(actor: Any, post_id: Any, member_id: Any | None = None) -> ServicePost:
    """A member takes a post (from their phone), or the staff put a member on it; never beyond its capacity."""
    post = _locked(
        ServicePost.objects.filter(is_active=True).select_related("community", "skill"),
        post_id,
        _("There is no such post."),
    )
    if member_id is None:
        member = community_access.party_member(actor)
        if member is None or member.community_id != post.community_id:
            raise Forbidden(_("Only the community's registered members can take its posts."))
    else:
        _managed(actor, post.community)
        member = PartyMember.objects.filter(
            pk=int(member_id), community=post.community, state=RegistrationState.CONFIRMED
        ).first()
        if member is None:
            raise InvalidInput(_("Choose a confirmed member of this community."), on="member")
    if post.members.filter(pk=member.pk).exists():
        raise IllegalTransition(_("The member holds this post already."))
    if post.members.count() >= post.capacity:
        raise IllegalTransition(_("The post is full (%(n)d of %(n)d).") % {"n": post.capacity})
    post.members.add(member)
    member.skills.add(post.skill)
    _event(actor, post.community, "post", post.pk, "join", member=member.pk)
    return post


# --- demand list (需求清单) ------------------------------------------------------------------------------
def staff_duty_for(community: OrgUnit, text: str) -> StaffDuty | None:
    """The demand boundary: the staff duty a need's text falls under, if any."""
    for duty in StaffDuty.objects.filter(Q(community=community) | Q(community__isnull=True)):
        if any(word and word in text for word in duty.keywords.split()):
            return duty
    return None


def _boundary_reason(duty: StaffDuty) -> str:
    return _(
        "This is the community staff's own duty (%(duty)s); the community office handles it, not the volunteers."
    ) % {"duty": duty.name}


@transaction.atomic
def submit_demand(actor: Any, community: OrgUnit | str, data: dict[str, Any]) -> Demand:
    """A micro-wish or need enters the demand list: collected by the staff (visit, wish box, questionnaire) or
    sent by a resident from the phone page (actor None). A need that is the staff's own duty is kept but refused at
    once with the reason, so it is never published to the members."""
    unit = _community(community)
    source = str(data.get("source") or "")
    if actor is not None and getattr(actor, "pk", None):
        _managed(actor, unit)
        collected = {DemandSource.VISIT, DemandSource.WISH_BOX, DemandSource.QUESTIONNAIRE}
        if source not in collected and not (source == DemandSource.HOTLINE and data.get("source_ticket")):
            raise InvalidInput(_("Choose how the need was collected."), on="source")
    else:
        source = DemandSource.RESIDENT
    key = str(data.get("idempotency_key") or "")[:64] or None
    if key and (same := Demand.objects.filter(idempotency_key=key).first()) is not None:
        return same  # the same form sent twice
    kind = str(data.get("kind") or DemandKind.MICRO_WISH)
    if kind not in DemandKind.values:
        raise InvalidInput(_("Unknown kind of demand."), on="kind")
    title = _text(data.get("title"), _("title"), "title", 60)
    text = _text(data.get("text"), _("description"), "text", 1000)
    skill = _skills([data["skill"]])[0] if data.get("skill") else None
    now = clock.now()
    demand = Demand.objects.create(
        number=secrets.token_hex(8),
        community=unit,
        compound=_compound(unit, data.get("compound")),
        kind=kind,
        source=source,
        title=title,
        text=text,
        skill=skill,
        slots=_slots(data.get("slots")),
        resident_name=_text(data.get("resident_name"), _("resident"), "resident_name", 40),
        resident_phone=_phone(data.get("resident_phone"), on="resident_phone"),
        source_ticket=data.get("source_ticket"),
        idempotency_key=key,
        created_at=now,
        created_by=actor if actor is not None and getattr(actor, "pk", None) else None,
    )
    demand.number = f"{clock.local_date(now):%y%m%d}{demand.pk % 1_000_000:06d}"
    duty = staff_duty_for(unit, f"{title} {text}")
    if duty is not None:
        demand.state, demand.refusal_reason = DemandState.REFUSED, _boundary_reason(duty)
    demand.save(update_fields=["number", "state", "refusal_reason"])
    _event(actor, unit, "demand", demand.pk, "submit", "", DemandState.SUBMITTED, source=source)
    if duty is not None:
        _event(None, unit, "demand", demand.pk, "refuse", DemandState.SUBMITTED, DemandState.REFUSED, duty=duty.name)
    return demand


@transaction.atomic
def demand_from_ticket(actor: Any, ticket_id: Any, community: OrgUnit | str, skill: str = "") -> Demand:
    """Pass a hotline request that the community handles to the demand list, when volunteers can solve it. The
    ticket itself goes on under the hotline's rules; the demand names it."""
    unit = _community(community)
    _managed(actor, unit)
    ticket: Ticket = tickets_access.get_ticket(actor, ticket_id, related=("requester",))
    if Demand.objects.filter(source_ticket=ticket, community=unit).exists():
        raise IllegalTransition(_("This request is on the demand list already."))
    requester = ticket.requester
    return submit_demand(
        actor,
        unit,
        {
            "source": DemandSource.HOTLINE,
            "kind": DemandKind.NEED,
            "title": ticket.title[:60] or ticket.number,
            "text": ticket.content[:1000],
            "skill": skill,
            "resident_name": (requester.name if requester else "") or _("caller"),
            "resident_phone": (requester.phone if requester else "") or "12345",
            "source_ticket": ticket,
        },
    )


def _lock_demand(demand_id: Any) -> Demand:
    return _locked(Demand.objects.select_related("community", "compound"), demand_id, _("There is no such demand."))


@transaction.atomic
def refuse_demand(actor: Any, demand_id: Any, reason: str, version: Any = None) -> Demand:
    demand = _lock_demand(demand_id)
    _managed(actor, demand.community)
    _check_version(demand, version)
    reason = _text(reason, _("reason"), "reason", 300)
    if demand.state != DemandState.SUBMITTED:
        raise IllegalTransition(_("Only a new demand can be refused."))
    demand.state, demand.refusal_reason, demand.version = DemandState.REFUSED, reason, demand.version + 1
    demand.save()
    _event(actor, demand.community, "demand", demand.pk, "refuse", DemandState.SUBMITTED, demand.state, reason=reason)
    return demand


# --- task list (任务清单) and matching -------------------------------------------------------------------
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


# --- points ledger --------------------------------------------------------------------------------------
@transaction.atomic
def correct_points(actor: Any, entry_id: Any, points: Any, note: str) -> PointEntry:
    """A correction is a new entry naming the one it corrects; the ledger is never edited."""
    try:
        entry = PointEntry.objects.select_related("member", "community").get(pk=int(entry_id))
    except (PointEntry.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("There is no such entry.")) from None
    _managed(actor, entry.community)
    try:
        delta = int(points)
    except (TypeError, ValueError):
        delta = 0
    if delta == 0 or abs(delta) > 1000:
        raise InvalidInput(_("Enter a correction between -1000 and 1000, not 0."), on="points")
    note = _text(note, _("note"), "note", 200)
    correction = PointEntry.objects.create(
        member=entry.member,
        community=entry.community,
        reason=PointReason.CORRECTION,
        points=delta,
        corrects=entry,
        note=note,
        at=clock.now(),
        actor=actor,
    )
    _event(actor, entry.community, "points", correction.pk, "correct", corrects=entry.pk, points=delta)
    return correction


# --- call-outs (社区吹哨、党员报到) ------------------------------------------------------------------------
@dataclass
class ShiftInput:
    role: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    needed: int


@transaction.atomic
def create_callout(actor: Any, community: OrgUnit, title: str, reason: str, shifts: list[ShiftInput]) -> CallOut:
    """The community blows the whistle: every confirmed member with a login is notified."""
    _managed(actor, community)
    title = _text(title, _("title"), "title", 60)
    reason = _text(reason, _("situation"), "reason", 300)
    if not shifts:
        raise InvalidInput(_("Add at least one shift."), on="shifts")
    for s in shifts:
        _text(s.role, _("role"), "shifts", 40)
        _text(s.place, _("place"), "shifts", 60)
        if s.ends_at <= s.starts_at:
            raise InvalidInput(_("A shift must end after it starts."), on="shifts")
        if not 1 <= s.needed <= 500:
            raise InvalidInput(_("A shift needs 1 to 500 members."), on="shifts")
    callout = CallOut.objects.create(
        community=community, title=title, reason=reason, created_at=clock.now(), created_by=actor
    )
    CallOutShift.objects.bulk_create(
        [
            CallOutShift(
                callout=callout,
                role=s.role.strip(),
                place=s.place.strip(),
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                needed=s.needed,
            )
            for s in shifts
        ]
    )
    users = list(
        PartyMember.objects.filter(
            community=community, state=RegistrationState.CONFIRMED, user__isnull=False
        ).values_list("user_id", flat=True)
    )
    _event(actor, community, "callout", callout.pk, "call", "", CallOutState.OPEN, users=users, shifts=len(shifts))
    return callout


@transaction.atomic
def sign_up(actor: Any, shift_id: Any) -> ShiftSignUp:
    """党员报到: a member signs up for a shift; never beyond the shift's need, never two overlapping shifts."""
    member = community_access.party_member(actor)
    shift = _locked(CallOutShift.objects.select_related("callout"), shift_id, _("There is no such shift."))
    if member is None or member.community_id != shift.callout.community_id:
        raise Forbidden(_("Only the community's registered members can sign up."))
    if shift.callout.state != CallOutState.OPEN:
        raise IllegalTransition(_("This call-out is closed."))
    if shift.signups.filter(member=member).exists():
        raise IllegalTransition(_("You have signed up for this shift already."))
    if shift.signups.count() >= shift.needed:
        raise IllegalTransition(_("This shift is full."))
    overlap = ShiftSignUp.objects.filter(
        member=member, shift__starts_at__lt=shift.ends_at, shift__ends_at__gt=shift.starts_at
    ).exists()
    if overlap:
        raise IllegalTransition(_("You are signed up for another shift at the same time."))
    signup = ShiftSignUp.objects.create(shift=shift, member=member, signed_at=clock.now())
    _event(actor, shift.callout.community_id, "shift", shift.pk, "sign_up", member=member.pk, callout=shift.callout_id)
    return signup


@transaction.atomic
def record_attendance(actor: Any, signup_id: Any, present: bool) -> ShiftSignUp:
    signup = _locked(
        ShiftSignUp.objects.select_related("shift__callout", "member"), signup_id, _("There is no such sign-up.")
    )
    community = signup.shift.callout.community
    _managed(actor, community)
    if signup.attendance != Attendance.SIGNED_UP:
        raise IllegalTransition(_("Attendance is recorded already."))
    signup.attendance = Attendance.PRESENT if present else Attendance.ABSENT
    signup.save()
    reason = PointReason.ATTENDANCE if present else PointReason.NO_SHOW
    _award(signup.member, community.pk, reason, _rule(community, reason), actor, shift=signup.shift)
    _event(
        actor,
        community,
        "signup",
        signup.pk,
        "attend",
        Attendance.SIGNED_UP,
        signup.attendance,
        member=signup.member_id,
    )
    return signup


@transaction.atomic
def close_callout(actor: Any, callout_id: Any) -> CallOut:
    callout = _locked(CallOut.objects.select_related("community"), callout_id, _("There is no such call-out."))
    _managed(actor, callout.community)
    if callout.state != CallOutState.OPEN:
        raise IllegalTransition(_("This call-out is closed already."))
    callout.state = CallOutState.CLOSED
    callout.save()
    _event(actor, callout.community, "callout", callout.pk, "close", CallOutState.OPEN, CallOutState.CLOSED)
    return callout


# --- quarters --------------------------------------------------------------------------------------------
def quarter_of(day: dt.date) -> tuple[str, dt.date, dt.date]:
    """("2026Q4", first day, first day of the next quarter)."""
    q = (day.month - 1) // 3
    start = dt.date(day.year, 3 * q + 1, 1)
    end = dt.date(day.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
    return f"{day.year}Q{q + 1}", start, end


def parse_quarter(text: str | None) -> tuple[str, dt.date, dt.date]:
    match = re.fullmatch(r"(\d{4})Q([1-4])", (text or "").strip().upper())
    if not match:
        return quarter_of(clock.local_date(clock.now()))
    return quarter_of(dt.date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1))
