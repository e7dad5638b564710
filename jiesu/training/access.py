"""Who sees and does what in training and care (issue 21). The only place that decides visibility here.

Training:
- trainers (the organisation department's training office, role `trainer`) and administrators curate the case
  library and courses; their scope is their unit's area (the city's office: every unit);
- every member of staff reads published cases and courses and enrols in them;
- a person's training record (培训档案) is read by the person, by whoever reads their personnel file
  (`jiesu.cadres.access`) and by trainers.

Care (人文关怀) is stricter than the personnel file:
- a person's strain signals and care alerts: the person, the leaders of the person's unit, and the unit's Party
  secretary;
- a one-to-one talk: the person, the leader who held it, and the Party secretary of the unit;
- the organisation department sees aggregates for groups of at least `min_group` people, never a person;
- everybody else, administrators included, gets the same not-found answer as for a missing record.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from jiesu.cadres import access as cadres_access
from jiesu.lib.errors import NotFound
from jiesu.orgs.access import AnyUser, membership
from jiesu.orgs.models import Membership, OrgUnit, Role

from .models import CareAlert, TalkRecord

CURATORS = frozenset({Role.TRAINER, Role.ADMINISTRATOR})


def is_trainer(user: AnyUser) -> bool:
    m = membership(user)
    return bool(getattr(user, "is_superuser", False) or (m is not None and m.role in CURATORS))


def trainer_area(user: AnyUser) -> OrgUnit | None:
    """The area whose lost-point tickets a trainer turns into cases (None: not a trainer)."""
    if not is_trainer(user):
        return None
    m = membership(user)
    if m is None or m.role == Role.ADMINISTRATOR:
        return OrgUnit.objects.filter(kind="city").first()
    return m.unit


def is_staff_member(user: AnyUser) -> bool:
    """Anyone with a place in an org unit reads the published library and takes courses."""
    return membership(user) is not None or bool(getattr(user, "is_superuser", False))


def person_unit(person: AnyUser) -> OrgUnit | None:
    m = membership(person)
    return m.unit if m is not None else None


def _same_unit_role(user: AnyUser, unit: OrgUnit | None, role: str) -> bool:
    m = membership(user)
    return unit is not None and m is not None and m.role == role and m.unit_id == unit.pk


def is_leader_of(user: AnyUser, person: AnyUser) -> bool:
    return user.pk != person.pk and _same_unit_role(user, person_unit(person), Role.UNIT_LEADER)


def is_secretary_of(user: AnyUser, unit: OrgUnit | None) -> bool:
    return _same_unit_role(user, unit, Role.PARTY_SECRETARY)


def may_see_care(user: AnyUser, person: AnyUser) -> bool:
    """Signals, alerts and the person's context: the person, their unit's leaders and its Party secretary."""
    if not user.is_authenticated:
        return False
    if user.pk == person.pk:
        return True
    return is_leader_of(user, person) or is_secretary_of(user, person_unit(person))


def may_see_talk(user: AnyUser, talk: TalkRecord) -> bool:
    if not user.is_authenticated:
        return False
    return user.pk in {talk.person_id, talk.leader_id} or is_secretary_of(user, talk.unit)


def get_person_for_care(user: AnyUser, person_id: int | str) -> AnyUser:
    """The person whose care page `user` opens; NotFound for missing and forbidden alike."""
    try:
        person = get_user_model().objects.select_related("membership__unit").get(pk=int(person_id))
    except (ValueError, TypeError, get_user_model().DoesNotExist):
        raise NotFound() from None
    if not may_see_care(user, person):
        raise NotFound()
    return person


def visible_talks(user: AnyUser) -> QuerySet[TalkRecord]:
    talks = TalkRecord.objects.select_related("person", "leader", "unit")
    if not user.is_authenticated:
        return talks.none()
    m = membership(user)
    own = talks.filter(person_id=user.pk) | talks.filter(leader_id=user.pk)
    if m is not None and m.role == Role.PARTY_SECRETARY:
        return own | talks.filter(unit_id=m.unit_id)
    return own


def visible_alerts(user: AnyUser) -> QuerySet[CareAlert]:
    """Alerts the user receives (leaders: their unit's; Party secretaries: their unit's) or that are about them."""
    alerts = CareAlert.objects.select_related("person", "unit")
    if not user.is_authenticated:
        return alerts.none()
    m = membership(user)
    own = alerts.filter(person_id=user.pk)
    if m is not None and m.role in {Role.UNIT_LEADER, Role.PARTY_SECRETARY}:
        return own | alerts.filter(unit_id=m.unit_id).exclude(person_id=user.pk)
    return own


def leads_people(user: AnyUser) -> bool:
    m = membership(user)
    return m is not None and m.role in {Role.UNIT_LEADER, Role.PARTY_SECRETARY}


def care_area(user: AnyUser) -> OrgUnit | None:
    """The organisation department's area for care aggregates; None for everybody else."""
    m = membership(user)
    if m is not None and m.role == Role.ORG_DEPARTMENT:
        return m.unit
    return None


def may_read_training_record(user: AnyUser, person: Any) -> bool:
    if not user.is_authenticated:
        return False
    if user.pk == person.pk or is_trainer(user):
        return True
    return cadres_access.visible_profiles(user).filter(user_id=person.pk).exists()


def get_person_for_record(user: AnyUser, person_id: int | str) -> AnyUser:
    try:
        person = get_user_model().objects.get(pk=int(person_id))
    except (ValueError, TypeError, get_user_model().DoesNotExist):
        raise NotFound() from None
    if not may_read_training_record(user, person):
        raise NotFound()
    return person


def leaders_of(person: AnyUser) -> list[int]:
    unit = person_unit(person)
    if unit is None:
        return []
    return list(Membership.objects.filter(unit=unit, role=Role.UNIT_LEADER).values_list("user_id", flat=True))
