"""Org-unit queries: the gazetteer, which finds the place named in free text or an address.

Entries come from the units themselves (full name, short name, the name without its suffix, "朝阳" for 朝阳区,
"建外" for 建外街道) and from `PlaceHint` rows an administrator adds (aliases, roads, landmarks, compounds).
A match of a full name is strongest, then a hint, then a bare stem; a longer match beats one inside it
("海淀街道" beats the "中关村" of "中关村大街"). Several places left at the end are returned as ambiguity for
the operator to choose from: nothing is guessed.
"""

from dataclasses import dataclass

from jiesu.lib import refcache

from .models import STREET_TOWNSHIP_KINDS, OrgUnit, PlaceHint, UnitKind

refcache.watch("orgs.active_units", OrgUnit)
refcache.watch("orgs.gazetteer", OrgUnit, PlaceHint)

PLACE_KINDS = [UnitKind.DISTRICT, *STREET_TOWNSHIP_KINDS, UnitKind.COMMUNITY, UnitKind.VILLAGE]
LOCAL_KINDS = frozenset({UnitKind.COMMUNITY, UnitKind.VILLAGE})
FULL, HINT, STEM = 3, 2, 1
SUFFIXES = ("街道", "地区", "社区", "村委会", "镇", "乡", "区", "村")  # i18n: data


@dataclass(frozen=True)
class PlaceMatch:
    district: OrgUnit | None
    street: OrgUnit | None
    matched: str
    community: OrgUnit | None = None


@dataclass(frozen=True)
class _Hit:
    unit: OrgUnit
    text: str
    strength: int


def resolve_place(address: str) -> list[PlaceMatch]:
    """The places named in `address`: one match fills the form; several are ambiguity; none is an empty list."""
    address = address.strip()[:500]
    if len(address) < 2:
        return []
    units, hints = refcache.get("orgs.gazetteer", _gazetteer)
    hits = [h for u in units.values() if (h := _name_hit(u, address))]
    for text, unit_id in hints:
        if text in address and unit_id in units:
            hits.append(_Hit(units[unit_id], text, HINT))
    hits = _drop_inner(hits)

    districts = [h.unit for h in hits if h.unit.kind == UnitKind.DISTRICT]
    locals_ = _strongest([h for h in hits if h.unit.kind in LOCAL_KINDS], districts)
    streets = _strongest([h for h in hits if h.unit.kind in STREET_TOWNSHIP_KINDS], districts)
    if locals_:
        named = {h.unit.pk for h in streets}
        inside = [h for h in locals_ if not named or h.unit.parent_id in named]
        if inside:
            return [PlaceMatch(h.unit.district(), h.unit.parent, h.text, h.unit) for h in inside[:8]]
    if streets:
        return [PlaceMatch(h.unit.district(), h.unit, h.text) for h in streets[:8]]
    return [PlaceMatch(d, None, d.name) for d in districts[:8]]


def _gazetteer() -> tuple[dict[int, OrgUnit], list[tuple[str, int]]]:
    """The active place units by id (parents linked in memory) and the active hints, held in the reference cache
    (intake and the assistant read them for every order; issue 19's speed budget)."""
    every = list(OrgUnit.objects.filter(is_active=True))
    by_id = {u.pk: u for u in every}
    for unit in every:
        if unit.parent_id in by_id:
            unit.parent = by_id[unit.parent_id]
    units = {u.pk: u for u in every if u.kind in PLACE_KINDS}
    hints = [
        (text, unit_id)
        for text, unit_id in PlaceHint.objects.filter(is_active=True, unit__is_active=True).values_list(
            "text", "unit_id"
        )
        if text
    ]
    return units, hints


def place_codes(places: list[PlaceMatch]) -> tuple[str | None, str | None]:
    """(district code, street code) to file a ticket under from `resolve_place`'s answer: one match gives its
    street (or its district alone); several streets that all lie in one district still give that district, so
    an ambiguous street never loses the district (the order stays in the district's tables)."""
    if len(places) == 1:
        p = places[0]
        return (p.district.code if p.district else None), (p.street.code if p.street else None)
    districts = {p.district.code for p in places if p.district is not None}
    if places and len(districts) == 1 and all(p.district is not None for p in places):
        return districts.pop(), None
    return None, None


def _name_hit(unit: OrgUnit, text: str) -> _Hit | None:
    if unit.name in text:
        return _Hit(unit, unit.name, FULL)
    names = {unit.short_name} - {""}
    for suffix in SUFFIXES:
        if unit.name.endswith(suffix) and len(unit.name) - len(suffix) >= 2:
            names.add(unit.name[: -len(suffix)])
    found = max((n for n in names if n in text), key=len, default="")
    return _Hit(unit, found, STEM) if found else None


def _drop_inner(hits: list[_Hit]) -> list[_Hit]:
    """A hit whose text lies inside a longer hit's text is that longer name's part, not a place of its own
    ("朝阳" inside "朝阳门")."""
    texts = {h.text for h in hits}
    return [h for h in hits if not any(h.text != t and h.text in t for t in texts)]


def _strongest(hits: list[_Hit], districts: list[OrgUnit]) -> list[_Hit]:
    if districts:
        ids = {d.pk for d in districts}
        hits = [h for h in hits if (d := h.unit.district()) is not None and d.pk in ids] or hits
    top = max((h.strength for h in hits), default=0)
    return sorted((h for h in hits if h.strength == top), key=lambda h: h.unit.path)


def _active_units() -> dict[str, OrgUnit]:
    units = list(OrgUnit.objects.filter(is_active=True))
    by_id = {u.pk: u for u in units}
    for unit in units:
        if unit.parent_id in by_id:
            unit.parent = by_id[unit.parent_id]
    return {u.code: u for u in units}


def active_unit(code: str) -> OrgUnit | None:
    """The active unit with this code, with its parent (from the reference cache: intake reads it per order)."""
    return refcache.get("orgs.active_units", _active_units).get(code)
