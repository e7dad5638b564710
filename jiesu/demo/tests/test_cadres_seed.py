"""The demo's cadre layer seeds through the services, on the test world, idempotently."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from jiesu.cadres.models import (
    AccountabilityCase,
    CadreProfile,
    ChallengeState,
    ChallengeTask,
    Charter,
    Interview,
    ItemScore,
    ToleranceCase,
)
from jiesu.cadres.tests.test_paths import published
from jiesu.demo.cadres import seed_cadres
from jiesu.governance.models import Hotspot
from jiesu.orgs.models import OrgUnit
from jiesu.testing.world import CHAOWAI, JIANWAI, World


def test_seed_cadres(world: World, clock: Any) -> None:
    published(dt.date(2026, 10, 1), {CHAOWAI: {"score": Decimal(55), "rank": 10, "interview": True}})
    jw = OrgUnit.objects.get(code=JIANWAI)
    now = timezone.now()
    Hotspot.objects.create(
        label="光华 小区 暖气 不热",
        district=jw.parent,
        street=jw,
        opened_at=now,
        updated_at=now,
        first_request_at=now,
        last_request_at=now,
    )
    seeded = seed_cadres()
    assert {"zzb", "cy_zzb", "jw_secretary", "jjw"} <= set(get_user_model().objects.values_list("username", flat=True))
    assert CadreProfile.objects.filter(user__username="jw_handler").exists()
    assert Charter.objects.filter(profile__unit=jw).count() == CadreProfile.objects.filter(unit=jw).count()
    assert ItemScore.objects.filter(period__unit=jw, frozen=True).exists()
    interview = Interview.objects.get()
    assert interview.unit.code == CHAOWAI and interview.items.count() == 2
    task = ChallengeTask.objects.get()
    assert task.hotspot is not None and task.state == ChallengeState.APPOINTED
    assert ToleranceCase.objects.count() == 1 and AccountabilityCase.objects.count() == 1
    assert len(seeded.lines) == 6
    assert seed_cadres().lines == []  # idempotent
