"""The cadre module's test world: the shared world plus the new roles and a cadre profile for each unit member."""

import datetime as dt
from typing import Any

import pytest

from jiesu.cadres.models import CadreProfile, Ladder
from jiesu.orgs.models import OrgUnit, Role
from jiesu.testing.world import CHAOYANG, HAIDIAN, JIANWAI, World, make_user

CADRE_USERS = {
    "zzb": (Role.ORG_DEPARTMENT, "110000"),
    "cy_zzb": (Role.ORG_DEPARTMENT, CHAOYANG),
    "hd_zzb": (Role.ORG_DEPARTMENT, HAIDIAN),
    "jw_secretary": (Role.PARTY_SECRETARY, JIANWAI),
    "jjw": (Role.DISCIPLINE, "110000"),
    "cy_jjw": (Role.DISCIPLINE, CHAOYANG),
    "hd_jjw": (Role.DISCIPLINE, HAIDIAN),
}
PROFILED = ("jw_handler", "jw_leader", "cw_handler", "hd_handler", "jw_secretary")


@pytest.fixture
def cw(world: World) -> World:
    """The world with the cadre roles and a profile for each street member (cadre world)."""
    users = dict(world.users)
    for name, (role, code) in CADRE_USERS.items():
        users[name] = make_user(name, role, code)
    for name in PROFILED:
        user = users[name]
        CadreProfile.objects.get_or_create(
            user=user,
            defaults={
                "unit": user.membership.unit,
                "post": {"jw_leader": "主任", "jw_secretary": "党工委书记"}.get(name, "接诉即办专员"),
                "ladder": Ladder.MANAGEMENT if name in {"jw_leader", "jw_secretary"} else Ladder.SPECIALIST,
                "level": "科员",
                "party_member": True,
                "started_on": dt.date(2020, 3, 1),
            },
        )
    return World(users)


def unit(code: str) -> Any:
    return OrgUnit.objects.get(code=code)
