"""Who may see and do what. The only place that decides visibility.

- Hotline roles (operator, dispatcher, callback agent), city supervisors and administrators see every ticket.
- A district supervisor sees the tickets placed in the district or dispatched to a unit under it.
- Unit handlers and leaders see the tickets ever dispatched to their unit or a unit below it.
- Anything else sees nothing. A ticket the user may not see answers like a missing one (NotFound).
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from .models import (
    HOTLINE_ROLES,
    Membership,
    OrgUnit,
    Role,
    UnitKind,
)

AnyUser = AbstractBaseUser | AnonymousUser


# Roles that see requesters' names and phone numbers unmasked.
UNMASKED_ROLES = HOTLINE_ROLES | {Role.ADMINISTRATOR}


def membership(user: AnyUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        found: Membership = user.membership  # type: ignore[union-attr, attr-defined]  # cached on the user by Django
    except Membership.DoesNotExist:
        return None
    return found


def sees_everything(user: AnyUser) -> bool:
    m = membership(user)
    if getattr(user, "is_superuser", False):
        return True
    if m is None:
        return False
    if m.role in HOTLINE_ROLES or m.role == Role.ADMINISTRATOR:
        return True
    return m.role == Role.SUPERVISOR and m.unit.kind == UnitKind.CITY


def may_see_requester(user: AnyUser) -> bool:
    m = membership(user)
    return bool(getattr(user, "is_superuser", False) or (m is not None and m.role in UNMASKED_ROLES))


def units_visible_to(user: AnyUser) -> QuerySet[OrgUnit]:
    units = OrgUnit.objects.all()
    if sees_everything(user):
        return units
    m = membership(user)
    return units.filter(path__startswith=m.unit.path) if m else units.none()
