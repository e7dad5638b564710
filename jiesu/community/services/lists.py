"""community services: service list (服务清单); demand list (需求清单)."""

import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from jiesu.community import access as community_access
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as tickets_access
from jiesu.tickets.models import Ticket

from ..models import (
    Demand,
    DemandKind,
    DemandSource,
    DemandState,
    PartyMember,
    RegistrationState,
    ServicePost,
    StaffDuty,
)
from ._core import _check_version, _community, _compound, _event, _locked, _managed, _phone, _skills, _slots, _text


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
