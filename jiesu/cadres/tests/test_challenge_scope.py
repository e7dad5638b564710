"""A 揭榜 task posted in one click from a hotspot whose label reads "place：problem" (as governance names them) is
scoped by the place, so the requests behind the hotspot are found and its progress is measured."""

from typing import Any

from django.utils import timezone

from jiesu.cadres import selectors, services
from jiesu.cadres.services.challenges import hotspot_terms
from jiesu.governance.models import Hotspot
from jiesu.orgs.models import OrgUnit
from jiesu.testing.world import JIANWAI
from jiesu.tickets.tests.helpers import ticket_in


def test_the_terms_of_a_hotspot_label() -> None:
    assert hotspot_terms("光华里小区：暖气供暖达标") == "光华里小区"
    assert hotspot_terms("暖气") == "暖气"
    assert hotspot_terms("外卖骑手：电动车充电") == "外卖骑手"


def test_a_task_from_a_named_hotspot_measures_its_requests(cw: Any, clock: Any) -> None:
    jw = OrgUnit.objects.get(code=JIANWAI)
    made = [ticket_in(cw, "dispatched", title="光华里小区暖气不热") for _ in range(3)]
    ticket_in(cw, "dispatched", title="建外SOHO门前占道经营")  # same street, not in scope
    now = timezone.now()
    hotspot = Hotspot.objects.create(
        label="光华里小区：暖气供暖达标",
        district=jw.parent,
        street=jw,
        size=3,
        volume=3,
        opened_at=now,
        updated_at=now,
        first_request_at=now,
        last_request_at=now,
    )
    hotspot.tickets.set(made)
    task = services.post_challenge(
        cw.cy_zzb, title="光华里供暖", goal="两周内解决", deadline="2027-01-31", hotspot_id=hotspot.pk
    )
    assert task.keywords == "光华里小区"
    assert set(selectors.challenge_scope(task)) == set(made)
    assert selectors.measure(task).last_30 == 3
