"""The reference data every installation starts from (`jiesu seed`): Beijing's units with their official codes, the
category tree with its dispatch catalogue, the time-limit policies."""

import pytest

from jiesu.catalog.models import Category, DispatchRule
from jiesu.operations.reference_data import seed_reference
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, OrgUnit, UnitKind
from jiesu.sla.models import TimeLimitPolicy


@pytest.mark.django_db
def test_beijing_units_with_official_codes(world: object) -> None:
    assert OrgUnit.objects.filter(kind=UnitKind.DISTRICT).count() == 16
    assert OrgUnit.objects.filter(kind__in=STREET_TOWNSHIP_KINDS).count() == 343
    jianwai = OrgUnit.objects.get(code="110105001")
    assert (jianwai.name, jianwai.parent.name, jianwai.kind) == ("建外街道", "朝阳区", "subdistrict")
    assert jianwai.path == "/110000/110105/110105001/"
    assert OrgUnit.objects.filter(kind=UnitKind.DEPARTMENT).count() >= 20
    assert OrgUnit.objects.filter(kind=UnitKind.PUBLIC_SERVICE_COMPANY).count() >= 10


@pytest.mark.django_db
def test_every_district_has_its_departments_as_dispatch_targets(world: object) -> None:
    for district in OrgUnit.objects.filter(kind=UnitKind.DISTRICT):
        names = set(
            OrgUnit.objects.filter(parent=district, kind=UnitKind.DEPARTMENT).values_list("short_name", flat=True)
        )
        stem = district.short_name or district.name.removesuffix("区")
        assert {stem + "区城管委", stem + "区住建委"} <= names, district.name
    cgw = OrgUnit.objects.get(code="110105D01")
    assert (cgw.name, cgw.path) == ("朝阳区城市管理委员会", "/110000/110105/110105D01/")


@pytest.mark.django_db
def test_reference_seed_is_idempotent(world: object) -> None:
    counts = (
        OrgUnit.objects.count(),
        Category.objects.count(),
        DispatchRule.objects.count(),
        TimeLimitPolicy.objects.count(),
    )
    seed_reference()
    assert counts == (
        OrgUnit.objects.count(),
        Category.objects.count(),
        DispatchRule.objects.count(),
        TimeLimitPolicy.objects.count(),
    )


@pytest.mark.django_db
def test_every_leaf_has_class_owner_and_a_dispatch_rule(world: object) -> None:
    leaves = Category.objects.filter(level=3)
    assert leaves.count() >= 40
    for leaf in leaves:
        assert leaf.time_limit_class and leaf.owner_kind
        assert leaf.dispatch_rules.exists(), leaf
        assert leaf.parent.parent.level == 1
