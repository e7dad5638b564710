"""The pages under the production Content Security Policy, in a real browser (issue 22): Chromium loads each role's
main pages from the live server with django-csp's header on, no page reports a CSP violation or a console error,
and the scripts that moved out of the templates (htmx panels, the intake console, the dashboard's map) still run.

A positive control first: an inline script added to a page is refused and reported, so a page with an inline
script or handler would fail here."""

from typing import Any

import pytest
from playwright.sync_api import expect

from jiesu.testing.world import World
from jiesu.workbench.tests.test_browser import browser, people, w  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every page and every asynchronous request is watched from the document's start: Chromium fires
# `securitypolicyviolation` for each refusal (Playwright's init script itself is not subject to the page's CSP).
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
for (const name of ['htmx:sendError', 'htmx:responseError', 'htmx:onLoadError', 'htmx:swapError']) {
    document.addEventListener(name, e => window.__csp.push(name + ' ' + ((e.detail.requestConfig || {}).path || '')));
}
"""
# htmx logs each of its events with an error to the console, also a request it aborts on purpose (hx-sync replace,
# a navigation): its failures are collected above as events instead, its console lines are left out.

# Each role's main pages, and a selector that is there only once the page's own scripts or htmx have run.
PAGES: dict[str | None, list[tuple[str, str]]] = {
    None: [("/portal/", "form"), ("/accounts/login/", "form")],
    "operator": [("/intake/", "#calls a[href*=missed]"), ("/tickets/", "main")],
    "dispatcher": [("/dispatch/", "main")],
    "jw_handler": [("/inbox/", "main"), ("/notifications/", "main")],
    "agent": [("/callbacks/", "main")],
    "city_supervisor": [("/supervision/", "main"), ("/supervision/overview/", "main"), ("/dashboard/", "#map svg")],
    "admin": [("/assistant/", "main"), ("/admin/", "#content")],
}


def watched(session: Any) -> Any:
    page = session.page
    page.add_init_script(WATCH)
    session.errors = []
    page.on("console", lambda m: session.errors.append(m.text) if _counts(m) else None)
    page.on("pageerror", lambda e: session.errors.append(f"uncaught: {e}"))
    return session


def _counts(message: Any) -> bool:
    """A console error, less the browser's own request for /favicon.ico (the site has none: a 404 no page asked
    for) and htmx's log lines (its failures are collected as events)."""
    if message.type != "error" or message.text.startswith("htmx:"):
        return False
    return not str(message.location.get("url", "")).endswith("/favicon.ico")


def violations(session: Any) -> list[str]:
    return list(session.page.evaluate("() => window.__csp")) + list(session.errors)


def test_the_main_pages_run_under_the_production_csp_without_a_violation(w: World, people: Any) -> None:  # noqa: F811
    probe = watched(people())
    response = probe.go("/portal/")
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    probe.page.wait_for_load_state("networkidle")
    assert violations(probe) == []
    with pytest.raises(Exception):  # noqa: B017  (Playwright's error for a refused script tag)
        probe.page.add_script_tag(content="window.__inline = 1")
    assert probe.page.evaluate("() => window.__inline") is None
    assert any("script-src" in v for v in violations(probe)), "the policy is not enforced by the browser"

    for username, pages in PAGES.items():
        session = watched(people(username) if username else people())
        for path, ready in pages:
            answer = session.go(path)
            assert answer.status == 200, (username, path, answer.status)
            assert "script-src 'self'" in answer.headers.get("content-security-policy", ""), path
            session.page.wait_for_selector(ready)
            session.page.wait_for_load_state("networkidle")
            assert violations(session) == [], (username, path, violations(session))


def test_htmx_and_the_page_scripts_work_under_the_csp(w: World, people: Any) -> None:  # noqa: F811
    operator = watched(people("operator"))
    page = operator.page
    operator.go("/intake/")
    page.wait_for_load_state("networkidle")
    # htmx: typing asks the server for the assist panel and swaps it in (no inline script, no eval)
    page.fill("#id_title", "小区门口垃圾堆了三天")
    page.fill("#id_content", "光华路9号院门口的垃圾桶三天没人清运。")
    page.fill("#id_address", "朝阳区建外街道光华路9号院")
    expect(page.locator("#assist")).to_contain_text("建外")
    # the site's script (static/jiesu/app.js): the category tree's filter box and its buttons fill the code
    page.click("#category-tree summary")
    page.fill("#category-tree input[data-filter]", "010201")
    page.click("#category-tree button[data-value='010201']")
    expect(page.locator("#id_category_code")).to_have_value("010201")
    page.fill("#id_requester_phone", "13912340000")
    page.wait_for_load_state("networkidle")
    assert violations(operator) == []
    page.click("#save")
    expect(page.locator("body")).to_contain_text("139****0000")  # saved; the SMS notice names the masked number
    page.wait_for_selector("#calls a[href*=missed]")
    page.wait_for_load_state("networkidle")
    assert violations(operator) == []
