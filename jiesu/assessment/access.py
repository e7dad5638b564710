"""Who may see the monthly assessment (三率) and decide appeals."""

from django.db.models import QuerySet

from jiesu.lib.errors import Forbidden
from jiesu.orgs.access import AnyUser, membership, sees_everything
from jiesu.orgs.models import UNIT_ROLES, Membership, OrgUnit, Role, UnitKind
from jiesu.tickets.access import require_role
from jiesu.tickets.workflow import Action


def sees_assessment(user: AnyUser) -> bool:
    """The monthly assessment pages: supervisors (any level), administrators, and unit staff for their own unit."""
    m = membership(user)
    return bool(
        getattr(user, "is_superuser", False)
        or (m is not None and m.role in {Role.SUPERVISOR, Role.ADMINISTRATOR} | UNIT_ROLES)
    )


def may_view_unit_assessment(user: AnyUser, unit: OrgUnit) -> bool:
    """A unit's figures down to its tickets: the city level for every unit; a district supervisor for the units
    in the district; unit staff for their own unit and those below it. Never the hotline roles, who see every
    ticket but not the assessment (nor its draft months)."""
    if not sees_assessment(user):
        return False
    if sees_everything(user):
        return True
    m = membership(user)
    if m is None or m.role not in {Role.SUPERVISOR} | UNIT_ROLES:
        return False
    return unit.path.startswith(m.unit.path)


def assessment_units(user: AnyUser) -> QuerySet[OrgUnit]:
    """The units whose figures the user may open (see `may_view_unit_assessment`)."""
    if not sees_assessment(user):
        return OrgUnit.objects.none()
    if sees_everything(user):
        return OrgUnit.objects.all()
    m = membership(user)
    if m is None or m.role not in {Role.SUPERVISOR} | UNIT_ROLES:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__startswith=m.unit.path)


def require_appeal_judge(user: AnyUser) -> Membership:
    """Appeals are decided at the city level (the hotline centre's supervisors), never by the district whose
    own streets appeal."""
    m = require_role(user, Action.DECIDE_APPEAL)
    if m.unit.kind not in {UnitKind.CITY, UnitKind.HOTLINE_CENTRE}:
        raise Forbidden()
    return m
