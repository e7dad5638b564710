"""The header links of the cadre pages, for `workbench.nav` to append (the cadre module registers its own)."""

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiesu.orgs import access as org_access
from jiesu.orgs.models import Role

from . import access


def links(user: Any) -> list[tuple[str, object]]:
    if not access.sees_cadre_pages(user):
        return []
    out: list[tuple[str, object]] = [(reverse("cadre-home"), _("Cadres"))]
    m = org_access.membership(user)
    role = m.role if m else None
    if role == Role.ORG_DEPARTMENT:
        out.append((reverse("cadre-interviews"), _("Interviews (约谈)")))
    if role == Role.DISCIPLINE:
        out.append((reverse("cadre-flags"), _("Supervision flags")))
    if role in {Role.DISCIPLINE, Role.ORG_DEPARTMENT, Role.PARTY_SECRETARY}:
        out.append((reverse("cadre-cases"), _("Cases")))
    out.append((reverse("cadre-challenges"), _("Challenge board (揭榜挂帅)")))
    if role in {Role.ORG_DEPARTMENT, Role.PARTY_SECRETARY, Role.UNIT_LEADER}:
        out.append((reverse("cadre-honours"), _("Honours")))
        out.append((reverse("cadre-rewards"), _("Rewards")))
    if role in {Role.PARTY_SECRETARY, Role.UNIT_LEADER} and m is not None:
        out.append((reverse("cadre-unit", args=[m.unit.code]), _("Responsibility")))
    return out
