"""Who runs and reads the Party members' community service (社区报到)."""

from django.db.models import QuerySet

from jiesu.orgs.access import AnyUser, membership
from jiesu.orgs.models import COMMUNITY_KINDS, STREET_TOWNSHIP_KINDS, UNIT_ROLES, OrgUnit, Role, UnitKind

from .models import PartyMember, RegistrationState


def managed_communities(user: AnyUser) -> QuerySet[OrgUnit]:
    """The communities whose registry, lists, tasks and call-outs the user runs: the community's own staff, and
    the staff of the street or township above it (Beijing's streets run the community work); administrators
    run every community."""
    communities = OrgUnit.objects.filter(kind__in=COMMUNITY_KINDS, is_active=True)
    m = membership(user)
    if (m is not None and m.role == Role.ADMINISTRATOR) or (m is None and getattr(user, "is_superuser", False)):
        return communities
    if m is None or m.role not in UNIT_ROLES:
        return communities.none()
    if m.unit.kind in COMMUNITY_KINDS:
        return communities.filter(pk=m.unit_id)
    if m.unit.kind in STREET_TOWNSHIP_KINDS:
        return communities.filter(parent=m.unit_id)
    return communities.none()


def community_report_area(user: AnyUser) -> QuerySet[OrgUnit]:
    """The communities whose quarterly reports the user may read: those they run, and for supervisors every
    community in their area."""
    m = membership(user)
    if m is not None and m.role == Role.SUPERVISOR:
        area = OrgUnit.objects.filter(kind__in=COMMUNITY_KINDS)
        return (
            area
            if m.unit.kind in {UnitKind.CITY, UnitKind.HOTLINE_CENTRE}
            else area.filter(path__startswith=m.unit.path)
        )
    return managed_communities(user)


def may_manage_community(user: AnyUser, community: OrgUnit) -> bool:
    return managed_communities(user).filter(pk=community.pk).exists()


def party_member(user: AnyUser) -> PartyMember | None:
    """The confirmed registration of the logged-in Party member, or None."""
    if not user.is_authenticated:
        return None
    return (
        PartyMember.objects.select_related("community", "compound")
        .filter(user_id=user.pk, state=RegistrationState.CONFIRMED)
        .first()
    )


def cadre_report_unit(user: AnyUser) -> OrgUnit | None:
    """双重考核: the leader of a work unit reads the community-service report of the members who work there (and
    below it). None for everybody else."""
    m = membership(user)
    if m is not None and m.role in {Role.UNIT_LEADER, Role.ADMINISTRATOR}:
        return m.unit
    return None


def may_see_member_contact(user: AnyUser, community: OrgUnit) -> bool:
    """Members' and residents' phone numbers: only the staff who run the community see them unmasked."""
    return may_manage_community(user, community)
