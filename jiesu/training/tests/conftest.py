"""The training world: the shared world plus a trainer, the new cadre roles and more 建外 staff."""

import datetime as dt
from typing import Any

import pytest

from jiesu.cadres.models import CadreProfile
from jiesu.orgs.models import Role
from jiesu.testing.world import CHAOYANG, JIANWAI, World, make_user

EXTRA = {
    "trainer": (Role.TRAINER, "110000"),
    "zzb": (Role.ORG_DEPARTMENT, "110000"),
    "cy_zzb": (Role.ORG_DEPARTMENT, CHAOYANG),
    "jw_secretary": (Role.PARTY_SECRETARY, JIANWAI),
    "jw_newcomer": (Role.UNIT_HANDLER, JIANWAI),
    "jw_handler2": (Role.UNIT_HANDLER, JIANWAI),
}


@pytest.fixture
def tw(world: World) -> World:
    users: dict[str, Any] = dict(world.users)
    for name, (role, code) in EXTRA.items():
        users[name] = make_user(name, role, code)
    CadreProfile.objects.get_or_create(
        user=users["jw_newcomer"],
        defaults={
            "unit": users["jw_newcomer"].membership.unit,
            "post": "接诉即办专员",
            "started_on": dt.date(2026, 11, 14),
        },
    )
    return World(users)
