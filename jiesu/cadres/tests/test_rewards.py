"""Rewards from the published ranking by a configured rule; the spending ledger names the residents' problems."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from jiesu.cadres import selectors, services
from jiesu.cadres.models import Reward, RewardRule
from jiesu.cadres.tests.test_paths import published
from jiesu.lib.errors import Forbidden, InvalidInput, NotFound
from jiesu.testing.world import CHAOWAI, HAIDIAN_ST, JIANWAI
from jiesu.tickets.tests.helpers import ticket_in


def test_rewards_and_ledger(cw: Any, clock: Any) -> None:
    RewardRule.objects.create(
        name="前十名街乡奖励",
        effective_from=dt.date(2026, 1, 1),
        group="subdistrict",
        top_n=2,
        amount=Decimal("1000000"),
    )
    published(
        dt.date(2026, 10, 1),
        {
            JIANWAI: {"score": Decimal(95), "rank": 1},
            CHAOWAI: {"score": Decimal(90), "rank": 3},
            HAIDIAN_ST: {"score": Decimal(94), "rank": 2},
        },
    )
    with pytest.raises(Forbidden):
        services.compute_rewards(cw.jw_secretary, "2026-10")
    with pytest.raises(InvalidInput):
        services.compute_rewards(cw.cy_zzb, "2026-09")  # not published
    made = services.compute_rewards(cw.cy_zzb, "2026-10")  # 朝阳's area: 建外 only (海淀 is outside, 朝外 third)
    assert [(r.unit.code, r.amount) for r in made] == [(JIANWAI, Decimal("1000000.00"))]
    assert services.compute_rewards(cw.cy_zzb, "2026-10") == []  # once
    reward = Reward.objects.get()
    t = ticket_in(cw, "closed")
    with pytest.raises(InvalidInput):  # money must name the residents' problems
        services.spend(cw.jw_secretary, reward.pk, amount="300000", purpose="光华里管网改造")
    with pytest.raises(InvalidInput):
        services.spend(cw.jw_secretary, reward.pk, amount="2000000", purpose="x", tickets=t.number)
    with pytest.raises(NotFound):
        services.spend(cw.hd_zzb, reward.pk, amount="1", purpose="x", tickets=t.number)
    line = services.spend(cw.jw_secretary, reward.pk, amount="300000", purpose="光华里管网改造", tickets=t.number)
    services.spend(cw.jw_secretary, reward.pk, amount="700000", purpose="加装电梯", tickets=t.number)
    with pytest.raises(InvalidInput):  # nothing left
        services.spend(cw.jw_secretary, reward.pk, amount="1", purpose="x", tickets=t.number)
    [r] = selectors.rewards(cw.jw_secretary)
    assert (r.spent, r.left) == (Decimal("1000000.00"), Decimal("0.00"))
    assert selectors.rewards(cw.hd_zzb) == []
    with pytest.raises(ValidationError):
        line.delete()
