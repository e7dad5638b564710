"""Org-unit queries: the place named in a free-text address."""

from dataclasses import dataclass

from .models import STREET_TOWNSHIP_KINDS, OrgUnit, UnitKind


@dataclass(frozen=True)
class PlaceMatch:
    district: OrgUnit | None
    street: OrgUnit | None
    matched: str


def resolve_place(address: str) -> list[PlaceMatch]:
    """Streets/townships and districts named in an address. One match fills the form; several are shown as
    ambiguity for the operator to choose from, never guessed."""
    address = address.strip()
    if len(address) < 2:
        return []
    units = OrgUnit.objects.filter(is_active=True, kind__in=[UnitKind.DISTRICT, *STREET_TOWNSHIP_KINDS]).select_related(
        "parent"
    )
    districts = [u for u in units if u.kind == UnitKind.DISTRICT and _names_in(u, address)]
    streets = [u for u in units if u.kind != UnitKind.DISTRICT and _names_in(u, address)]
    if districts:
        streets = [s for s in streets if s.parent in districts] or streets
    if streets:
        return [PlaceMatch(s.parent, s, s.name) for s in streets[:8]]
    return [PlaceMatch(d, None, d.name) for d in districts[:8]]


def _names_in(unit: OrgUnit, text: str) -> bool:
    names = {unit.name, unit.short_name} - {""}
    # "建外街道" is also written "建外"; a bare short name needs two characters at least.
    for suffix in ("街道", "地区", "镇", "乡", "区"):
        if unit.name.endswith(suffix) and len(unit.name) - len(suffix) >= 2:
            names.add(unit.name[: -len(suffix)])
    return any(n in text for n in names)
