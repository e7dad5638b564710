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
    districts = [u for u in units if u.kind == UnitKind.DISTRICT and _match(u, address)]
    found = [(u, _match(u, address)) for u in units if u.kind != UnitKind.DISTRICT]
    streets = [(u, m) for u, m in found if m]
    if districts:
        streets = [(u, m) for u, m in streets if u.parent in districts] or streets
    # A name written in full ("海淀街道") outweighs a bare stem that is part of a road ("中关村大街").
    streets = [(u, m) for u, m in streets if m == u.name] or streets
    if streets:
        return [PlaceMatch(u.parent, u, m) for u, m in streets[:8]]
    return [PlaceMatch(d, None, d.name) for d in districts[:8]]


def _match(unit: OrgUnit, text: str) -> str:
    """The longest of the unit's names found in the text ("" if none). "建外街道" is also written "建外"; a bare
    stem needs two characters at least."""
    names = {unit.name, unit.short_name} - {""}
    for suffix in ("街道", "地区", "镇", "乡", "区"):
        if unit.name.endswith(suffix) and len(unit.name) - len(suffix) >= 2:
            names.add(unit.name[: -len(suffix)])
    return max((n for n in names if n in text), key=len, default="")
