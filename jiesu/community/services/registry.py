"""community services: registry (member_registration)."""

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jiesu.lib import clock
from jiesu.lib.errors import IllegalTransition, InvalidInput
from jiesu.orgs.models import Membership, OrgUnit

from ..models import Compound, GroupKind, MemberGroup, PartyMember, RegistrationState
from ._core import _check_version, _community, _compound, _event, _locked, _managed, _phone, _skills, _slots, _text


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
