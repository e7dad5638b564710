"""The cadre pages in a real browser (Playwright + Debian's Chromium against the live test server): the
organisation department's month (bottom list → 约谈 → rectification) and a cadre reading their own record down to
a ticket."""

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jiesu.cadres.models import CadreProfile, Interview, Ladder
from jiesu.cadres.tests.conftest import CADRE_USERS
from jiesu.cadres.tests.test_paths import published
from jiesu.lib import clock
from jiesu.testing.world import JIANWAI, build_world, make_user
from jiesu.tickets.tests.helpers import ticket_in
from jiesu.workbench.tests.test_browser import CHROMIUM, PASSWORD, browser, people  # noqa: F401  (fixtures)

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w(transactional_db: Any) -> Any:
    world = build_world()
    for name, (role, code) in CADRE_USERS.items():
        world.users[name] = make_user(name, role, code)
    for user in world.users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    CadreProfile.objects.create(
        user=world.jw_handler,
        unit=world.jw_handler.membership.unit,
        post="接诉即办专员",
        ladder=Ladder.SPECIALIST,
        party_member=True,
        started_on=dt.date(2021, 5, 1),
    )
    return world


def test_org_department_month_and_a_cadre_reading_their_record(w: Any, people: Any) -> None:  # noqa: F811
    today = clock.local_date(clock.now())
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    published(month, {JIANWAI: {"score": Decimal("58.5"), "rank": 12, "interview": True}})
    ticket = ticket_in(w, "closed")

    zzb = people("cy_zzb")
    zzb.go("/cadres/interviews/")
    page = zzb.page
    assert "建外街道" in page.inner_text("#bottom")
    page.fill("#bottom input[name=attendees]", "建外街道党工委书记、办事处主任")
    page.click("#bottom button:has-text('安排约谈')")
    page.wait_for_selector("#rectification")
    page.fill("textarea[name=minutes]", "解决率偏低，限期整改。")
    page.click("button:has-text('保存约谈记录')")
    page.wait_for_selector("#add-rectification")
    page.fill("#add-rectification input[name=title]", "回访解决率提升到85%")
    page.fill("#add-rectification input[name=target]", "85")
    page.click("#add-rectification button")
    page.wait_for_selector("#rectification td:has-text('回访解决率提升到85%')")
    interview = Interview.objects.get()
    assert interview.state == "held" and interview.items.get().owner.user == w.jw_handler

    cadre = people("jw_handler")
    cadre.go("/cadres/")  # one profile to read: their own
    cadre.page.wait_for_selector("#record")
    cadre.page.click(f"#record a[href*='/record/solved/'][href*='month={today:%Y-%m}']")
    cadre.page.wait_for_selector("#figure-tickets")
    assert ticket.number in cadre.page.inner_text("#figure-tickets")
