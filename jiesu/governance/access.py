"""Who steers proactive governance (hotspots, monthly topics, forecasts, proposals) and curates knowledge."""

from jiesu.orgs.access import AnyUser, membership
from jiesu.orgs.models import UNIT_ROLES, OrgUnit, Role, UnitKind
from jiesu.tickets.models import Ticket


def governance_area(user: AnyUser) -> OrgUnit | None:
    """The area whose hotspots, topics and forecasts a supervisor or administrator steers: the city for the city
    level, the district for a district supervisor; None for everybody else (no access)."""
    m = membership(user)
    if getattr(user, "is_superuser", False) and m is None:
        return OrgUnit.objects.filter(kind=UnitKind.CITY).first()
    if m is None or m.role not in {Role.SUPERVISOR, Role.ADMINISTRATOR}:
        return None
    if m.role == Role.ADMINISTRATOR or m.unit.kind in {UnitKind.CITY, UnitKind.HOTLINE_CENTRE}:
        return OrgUnit.objects.filter(kind=UnitKind.CITY).first() or m.unit
    return m.unit


def in_area(area: OrgUnit, unit: OrgUnit | None) -> bool:
    """A district-scoped record (hotspot, topic, forecast) belongs to the area when its district lies under it;
    records with no district belong to the city only."""
    if area.kind == UnitKind.CITY:
        return True
    return unit is not None and unit.path.startswith(area.path)


def may_decide_proposal(user: AnyUser, unit: OrgUnit) -> bool:
    """A proactive proposal is decided by the responsible unit's staff or by a supervisor above it."""
    m = membership(user)
    if m is None:
        return False
    if m.role in UNIT_ROLES:
        return unit.path.startswith(m.unit.path)
    area = governance_area(user)
    return area is not None and in_area(area, unit)


def may_curate_knowledge(user: AnyUser, ticket: Ticket) -> bool:
    """Who may turn a solved ticket into a knowledge entry: the lead unit's leader, supervisors who see it, and
    administrators."""
    m = membership(user)
    if getattr(user, "is_superuser", False):
        return True
    if m is None:
        return False
    if m.role == Role.UNIT_LEADER:
        return ticket.lead_unit_id is not None and ticket.lead_unit_id == m.unit_id
    return m.role in {Role.SUPERVISOR, Role.ADMINISTRATOR}
