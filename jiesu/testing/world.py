"""A fixed world for tests: the reference data plus one user per role in known units
(after healthchecks' owner/member/outsider world)."""

from dataclasses import dataclass
from typing import Any

import factory
from django.contrib.auth import get_user_model

from jiesu.operations.reference_data import seed_reference
from jiesu.orgs.models import Membership, OrgUnit, Role

HOTLINE = "HC0001"
JIANWAI = "110105001"  # 建外街道, 朝阳区
CHAOWAI = "110105002"  # 朝外街道, 朝阳区
HAIDIAN_ST = "110108012"  # 海淀街道, 海淀区
CHAOYANG = "110105"
HAIDIAN = "110108"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("name", locale="zh_CN")


def make_user(username: str, role: str, unit_code: str) -> Any:
    user = UserFactory(username=username)
    Membership.objects.update_or_create(user=user, defaults={"unit": OrgUnit.objects.get(code=unit_code), "role": role})
    return user


USERS = {
    "operator": (Role.HOTLINE_OPERATOR, HOTLINE),
    "dispatcher": (Role.DISPATCHER, HOTLINE),
    "agent": (Role.CALLBACK_AGENT, HOTLINE),
    "city_supervisor": (Role.SUPERVISOR, "110000"),
    "cy_supervisor": (Role.SUPERVISOR, CHAOYANG),
    "hd_supervisor": (Role.SUPERVISOR, HAIDIAN),
    "jw_handler": (Role.UNIT_HANDLER, JIANWAI),
    "jw_leader": (Role.UNIT_LEADER, JIANWAI),
    "cw_handler": (Role.UNIT_HANDLER, CHAOWAI),
    "hd_handler": (Role.UNIT_HANDLER, HAIDIAN_ST),
    "cy_handler": (Role.UNIT_HANDLER, CHAOYANG),
    "cgw_handler": (Role.UNIT_HANDLER, "D001"),
    "sjj_handler": (Role.UNIT_HANDLER, "D005"),
    "heat_handler": (Role.UNIT_HANDLER, "C004"),
    "heat_leader": (Role.UNIT_LEADER, "C004"),
    "admin": (Role.ADMINISTRATOR, "110000"),
}


@dataclass
class World:
    users: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.users[name]
        except KeyError:
            raise AttributeError(name) from None


def build_world() -> World:
    if not OrgUnit.objects.filter(code=HOTLINE).exists():
        seed_reference()
    return World({name: make_user(name, role, unit) for name, (role, unit) in USERS.items()})
