"""Who sees which personnel records (issue 20). The only place that decides visibility in the cadre module.

Personnel records are sensitive:
- a cadre always sees their own profile and records;
- a unit's Party secretary and its leader see the cadres of the unit and of the units below it;
- the organisation department (city or district, by the unit of its membership) sees its area;
- discipline inspection (city or district) sees the supervision flags and accountability / fault-tolerance cases
  in its area (and the profiles those concern), not the rest of the personnel file;
- a superuser (the system's operator) sees everything, for the Django admin;
- everybody else sees nothing. Forbidden answers like missing (NotFound), as for tickets.

Scopes are `OrgUnit.path` prefixes: the city unit's path is a prefix of every unit's, so "city-level" needs no
special case.
"""

from django.db.models import Q, QuerySet

from jiesu.lib.errors import NotFound
from jiesu.orgs.access import AnyUser, membership
from jiesu.orgs.models import Membership, OrgUnit, Role

from .models import CadreProfile

# Roles that read the personnel file of the units at and below their own.
UNIT_PERSONNEL_ROLES = frozenset({Role.PARTY_SECRETARY, Role.UNIT_LEADER})
# Roles whose scope is an area (a city or a district).
AREA_ROLES = frozenset({Role.ORG_DEPARTMENT, Role.DISCIPLINE})


def is_operator(user: AnyUser) -> bool:
    return bool(getattr(user, "is_superuser", False))


def _role(user: AnyUser) -> Membership | None:
    return membership(user)


def personnel_scope(user: AnyUser) -> str | None:
    """The `OrgUnit.path` prefix under which the user reads whole personnel files; "" for everything; None for
    no unit (the cadre then sees only their own)."""
    if is_operator(user):
        return ""
    m = _role(user)
    if m is None:
        return None
    if m.role in UNIT_PERSONNEL_ROLES or m.role == Role.ORG_DEPARTMENT:
        return m.unit.path
    return None


def discipline_scope(user: AnyUser) -> str | None:
    """The path prefix under which the user reads supervision flags and cases: discipline inspection's area, and
    whoever reads the personnel files there."""
    m = _role(user)
    if m is not None and m.role == Role.DISCIPLINE:
        return m.unit.path
    return personnel_scope(user)


def _own(user: AnyUser) -> Q:
    return Q(user_id=user.pk) if user.is_authenticated else Q(pk__in=[])


def visible_profiles(user: AnyUser) -> QuerySet[CadreProfile]:
    """Every cadre-profile query of the module starts here: the personnel files the user may read."""
    profiles = CadreProfile.objects.select_related("user", "unit")
    if not user.is_authenticated:
        return profiles.none()
    scope = personnel_scope(user)
    if scope == "":
        return profiles
    if scope is not None:
        return profiles.filter(Q(unit__path__startswith=scope) | _own(user))
    return profiles.filter(_own(user))


def flag_profiles(user: AnyUser) -> QuerySet[CadreProfile]:
    """The cadres whose supervision flags and cases the user may read (discipline inspection's area, plus what
    `visible_profiles` gives)."""
    profiles = CadreProfile.objects.select_related("user", "unit")
    if not user.is_authenticated:
        return profiles.none()
    scope = discipline_scope(user)
    if scope == "":
        return profiles
    if scope is not None:
        return profiles.filter(Q(unit__path__startswith=scope) | _own(user))
    return profiles.filter(_own(user))


def get_profile(user: AnyUser, pk: int | str) -> CadreProfile:
    """The profile if the user may read it; NotFound for missing and forbidden alike."""
    try:
        return visible_profiles(user).get(pk=int(pk))
    except (CadreProfile.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def own_profile(user: AnyUser) -> CadreProfile | None:
    if not user.is_authenticated:
        return None
    return CadreProfile.objects.select_related("user", "unit").filter(user_id=user.pk).first()


def personnel_units(user: AnyUser) -> QuerySet[OrgUnit]:
    """The units whose personnel records (responsibility items, evaluations, records) the user reads."""
    scope = personnel_scope(user)
    if scope is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__startswith=scope)


def discipline_units(user: AnyUser) -> QuerySet[OrgUnit]:
    scope = discipline_scope(user)
    if scope is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__startswith=scope)


def in_scope(scope: str | None, unit: OrgUnit | None) -> bool:
    return scope is not None and unit is not None and unit.path.startswith(scope)


def may_read_unit(user: AnyUser, unit: OrgUnit) -> bool:
    return in_scope(personnel_scope(user), unit)


def may_manage_unit(user: AnyUser, unit: OrgUnit) -> bool:
    """Who breaks a unit's goals down into posts, judges items and runs its evaluations: the unit's Party
    secretary and leader (and those of the units above it), and the organisation department of its area."""
    if is_operator(user):
        return True
    m = _role(user)
    if m is None or m.role not in UNIT_PERSONNEL_ROLES | {Role.ORG_DEPARTMENT}:
        return False
    return unit.path.startswith(m.unit.path)


def org_department_area(user: AnyUser) -> OrgUnit | None:
    """The area the organisation department steers (约谈, rewards, the honours list); None for everybody else."""
    m = _role(user)
    if m is not None and m.role == Role.ORG_DEPARTMENT:
        return m.unit
    return None


def discipline_area(user: AnyUser) -> OrgUnit | None:
    """The area discipline inspection supervises (flag queue, accountability cases); None for everybody else."""
    m = _role(user)
    if m is not None and m.role == Role.DISCIPLINE:
        return m.unit
    return None


def sees_cadre_pages(user: AnyUser) -> bool:
    """Whether the cadre pages appear in the navigation at all."""
    return own_profile(user) is not None or personnel_scope(user) is not None or discipline_scope(user) is not None
