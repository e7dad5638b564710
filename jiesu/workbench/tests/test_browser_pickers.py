"""In Chromium, briefly: the unit picker's tree filters and fills the field (JS in app.js, under the CSP), and a
district supervisor's map draws their district alone with its streets beside it."""

from typing import Any

import pytest

from jiesu.testing.world import World
from jiesu.tickets.tests.helpers import fresh, ticket_in

from .test_browser import browser, people, w  # noqa: F401  (fixtures; the module skips without Chromium)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_unit_tree_fills_and_appends(w: World, people: Any) -> None:  # noqa: F811
    ticket = ticket_in(w, "new")
    dispatcher = people("dispatcher")
    dispatcher.go(f"/tickets/{ticket.pk}/")
    page = dispatcher.page
    page.click("#pick-dispatch-lead > summary")
    page.wait_for_selector("#pick-dispatch-lead[data-ready='1'] .unit-filter")
    page.fill("#pick-dispatch-lead .unit-filter", "建外")
    page.click("#pick-dispatch-lead button[data-pick='110105001']")
    assert page.input_value("#act-dispatch [name=lead_code]") == "110105001"
    assert "建外街道" in page.text_content("#pick-dispatch-lead .picked")
    page.click("#pick-dispatch-assist > summary")
    page.wait_for_selector("#pick-dispatch-assist[data-ready='1'] .unit-filter")
    page.fill("#pick-dispatch-assist .unit-filter", "110105D0")  # by code: 朝阳区's departments
    assert page.locator("#pick-dispatch-assist button[data-pick='110105D01']").is_visible()
    assert not page.locator("#pick-dispatch-assist button[data-pick='110105001']").is_visible()
    page.click("#pick-dispatch-assist button[data-pick='110105D01']")
    page.click("#pick-dispatch-assist button[data-pick='110105D02']")
    assert page.input_value("#act-dispatch [name=assist_codes]") == "110105D01,110105D02"
    page.click("#act-dispatch button[type=submit]")
    page.wait_for_load_state()
    t = fresh(ticket)
    assert t.dispatch_state == "dispatched" and t.lead_unit is not None and t.lead_unit.code == "110105001"
    assert set(t.assignments.filter(role="assist").values_list("unit__code", flat=True)) == {"110105D01", "110105D02"}


def test_a_district_supervisor_sees_their_district_and_streets(w: World, people: Any) -> None:  # noqa: F811
    ticket_in(w, "accepted")
    supervisor = people("cy_supervisor")
    supervisor.go("/supervision/overview/")
    page = supervisor.page
    page.wait_for_selector("#map[data-map=ready] svg path")
    assert page.locator("#map svg path").count() < 16  # 朝阳区 alone (a few rings), not the 16 districts
    page.wait_for_selector("#streets[data-streets] svg")
    assert int(page.get_attribute("#streets", "data-streets") or 0) >= 40
    assert "建外街道" in page.text_content("#streets")
    # the charts' text is in the page's CJK font stack, not ECharts' bare sans-serif
    font = page.get_attribute("#streets svg text", "style") or page.eval_on_selector(
        "#streets svg text", "t => t.getAttribute('font-family') || getComputedStyle(t).fontFamily"
    )
    assert "WenQuanYi" in font, font
