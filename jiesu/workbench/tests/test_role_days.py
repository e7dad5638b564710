"""Every role's day in a real browser (issue 18): Playwright drives Debian's Chromium against one live server over
one seeded world for the whole module (seeded once, flushed after the module), a test per role.

Every page a role visits (and, once per module, each page its header offers) is read in Chinese on the way and
again in English when the test ends: no server error (any response, htmx and fetches included), no raw code
("in_progress", "create → draft"), no doubled heading and, in Chinese, no untranslated English phrase; in English, no
Chinese in headings, labels, tabs and buttons (`words_problems`, run for every role by the `people` fixture). The
clock is moved with time-machine, which the live server's thread shares; nothing sleeps.

Run alone: `PYTHONPATH=$PWD .venv/bin/python -m pytest -p no:cacheprovider -q jiesu/workbench/tests/test_role_days.py`
(`-k operator` etc. works too: the module creates the test database itself when no other test asked for it).
"""

import contextlib
import datetime as dt
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from playwright.sync_api import expect

from jiesu.lib import clock
from jiesu.orgs.models import OrgUnit, Role
from jiesu.testing.world import HAIDIAN_ST, JIANWAI, World, build_world, make_user
from jiesu.tickets import services
from jiesu.tickets.models import Ticket
from jiesu.tickets.tests.helpers import decline_reason, fresh, new_ticket, ticket_in
from jiesu.workbench.tests.test_browser import ARGS, CHROMIUM, PASSWORD

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is missing: scripts/bootstrap dev installs it (as root)", allow_module_level=True)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser]

TELEPHONY_KEY = "tel.jiesu-role-days-key"
CALLER = "13812345678"  # new_ticket's caller


# --- the words on a page ---------------------------------------------------------------------------------
def _codes() -> frozenset[str]:
    """Every stored choice code of every model (states, actions, outcomes, kinds …): never shown as such."""
    found: set[str] = set()
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, _label in getattr(f, "flatchoices", None) or ():
                if isinstance(value, str) and re.fullmatch(r"[a-z][a-z_]{2,}", value):
                    found.add(value)
    return frozenset(found)


# Latin words a Chinese page may show: product and format names, units, codes.
LATIN_OK = {"Excel", "CSV", "PDF", "HTML", "SVG", "ECharts", "jiesu", "Open311", "GeoReport", "API", "JSON", "XML"}
ENGLISH_PHRASE = re.compile(r"[A-Za-z][a-z]+(?:[ ,:;'-]+[A-Za-z][a-z]+)+")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Own text of the page's chrome (table and list headings, labels, legends, tabs, buttons): words of the interface, never data.
CHROME_TEXT = """() => {
  const out = [];
  document.querySelectorAll('th, dt, label, legend, nav.tabs a, button').forEach(el => {
    // not: the language switch, buttons that fill in a value, ticked lists of reference data (skills …)
    if (el.closest('body [lang], [data-value]') || el.querySelector('input[type=checkbox]')) return;
    const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join(' ').trim();
    if (own) out.push(own);
  });
  return out;
}"""


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        if len(self.items) < 40:
            self.items.append(f"{where}: {what}")


def words_problems(text: str, chrome: list[str], lang: str, codes: frozenset[str]) -> list[str]:
    found = []
    for token in set(re.findall(r"(?<![A-Za-z0-9_./:-])[a-z][a-z0-9]*_[a-z0-9_]+(?![A-Za-z0-9_/-])", text)):
        found.append(f"raw code {token!r}")
    for m in re.finditer(r"([\u4e00-\u9fff]{2,}) ?[（(]\1[）)]", text):
        found.append(f"doubled {m.group(0)!r}")
    if lang == "zh":  # no lowercase code word belongs on a Chinese page (English labels may look like codes)
        for m in re.finditer(r"\b([a-z][a-z_]+) ?(?:→|->) ?([a-z][a-z_]+)\b", text):
            if m.group(1) in codes or m.group(2) in codes:
                found.append(f"raw transition {m.group(0)!r}")
        for token in set(re.findall(r"(?<![A-Za-z0-9_./:@-])[a-z][a-z_]+(?![A-Za-z0-9_./@-])", text)):
            if token in codes:
                found.append(f"raw code {token!r}")
        for m in ENGLISH_PHRASE.finditer(text):
            if m.group(0).startswith("jiesu "):  # a command to type, e.g. "jiesu assess --month"
                continue
            if not set(re.findall(r"[A-Za-z]+", m.group(0))) <= LATIN_OK:
                found.append(f"untranslated {m.group(0)!r}")
    else:
        for own in chrome:
            bare = re.sub(r"[（(][^）)]*[）)]", "", own)
            if CJK.search(bare):
                found.append(f"Chinese in the English chrome {own!r}")
    return sorted(set(found))


class Session:
    """One person's browser session. Every response is watched for 5xx; every page reached is remembered, read in
    Chinese by `check()` on the way and in English by `read_in_english()` at the end."""

    def __init__(self, browser: Any, base: str, codes: frozenset[str], *, mobile: bool = False) -> None:
        size = {"width": 390, "height": 844} if mobile else {"width": 1366, "height": 900}
        self.context = browser.new_context(viewport=size, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        self.base, self.codes = base, codes
        self.visited: dict[str, None] = {}
        self.problems = Problems()
        self.page.on("response", self._response)
        self.page.on("framenavigated", self._navigated)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.accept()))
        self.dialogs: list[str] = []
        self.touring = False

    def _response(self, r: Any) -> None:
        if r.status >= 500:
            self.problems.add(r.url, f"HTTP {r.status}")

    def _navigated(self, frame: Any) -> None:
        if frame == self.page.main_frame and frame.url.startswith(self.base):
            path = frame.url[len(self.base) :].split("#")[0]
            if not path.startswith(("/accounts/", "/export/", "/notifications/read")):
                self.visited[path] = None

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.check()
        return response

    def login(self, username: str) -> "Session":
        self.page.goto(self.base + "/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("header .who")
        self.check()
        return self

    def check(self, lang: str = "zh") -> None:
        """The page as it stands: no raw code, no untranslated words (see `words_problems`)."""
        self.page.wait_for_load_state()
        text = self.page.inner_text("body")
        chrome = self.page.evaluate(CHROME_TEXT) if lang == "en" else []
        where = f"{lang} {self.page.url[len(self.base) :]}"
        for p in words_problems(text, chrome, lang, self.codes):
            self.problems.add(where, p)

    def act(self, action: str, **fields: str) -> None:
        """Fill and submit the action form `action` on the ticket page."""
        form = f"#act-{action}"
        for name, value in fields.items():
            self.page.fill(f"{form} [name={name}]", value)
        self.page.click(f"{form} button[type=submit]")
        self.check()

    def click(self, selector: str) -> None:
        self.page.click(selector)
        self.check()

    def tour(self) -> None:
        """Open the pages the header offers this role (its workbench) that no role opened on a tour yet."""
        links = self.page.locator("header a[href^='/']:not(.brand)")
        for href in dict.fromkeys(links.evaluate_all("els => els.map(e => e.getAttribute('href'))")):
            if href not in TOURED and not href.startswith(("/admin/", "/accounts/")):
                TOURED.add(href)
                self.go(href)

    def read_in_english(self) -> None:
        self.context.add_cookies([{"name": "django_language", "value": "en", "url": self.base}])
        for path in list(self.visited):
            response = self.page.goto(self.base + path)
            if response is not None and response.status >= 500:
                self.problems.add(path, f"HTTP {response.status} in English")
            self.check("en")


# --- one seeded world and one live server for the module ----------------------------------------------------
@dataclass
class City:
    w: World
    base: str
    t: dict[str, Ticket]


@contextlib.contextmanager
def _test_database(*, keep: bool) -> Iterator[None]:
    """pytest-django creates the test database only when a collected test asks for `db`; these tests hold the
    database for the whole module instead, so they create it themselves when nothing else did (e.g. `-k operator`)."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        yield
        return
    config = setup_databases(verbosity=0, interactive=False, aliases={"default"}, keepdb=keep)
    try:
        yield
    finally:
        if not keep:
            teardown_databases(config, verbosity=0)


@pytest.fixture(scope="module")
def city(django_db_blocker: Any, request: Any) -> Iterator[City]:
    from pytest_django.live_server_helper import LiveServer

    from jiesu.integrations.models import ApiClient

    with django_db_blocker.unblock(), _test_database(keep=bool(request.config.getvalue("reuse_db"))):
        w = build_world()
        w.users["jw_handler2"] = make_user("jw_handler2", Role.UNIT_HANDLER, JIANWAI)
        for user in w.users.values():
            user.set_password(PASSWORD)
            user.save(update_fields=["password", "first_name"])
        switch = ApiClient(name="switch", telephony=True)
        switch.issue_key(TELEPHONY_KEY)
        switch.save()
        decline_reason()
        t = _seed(w)
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield City(w, server.url, t)
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


def _seed(w: World) -> dict[str, Ticket]:
    t: dict[str, Ticket] = {}
    now = clock.now()
    with clock.at(now - dt.timedelta(days=3)):
        t["earlier"] = ticket_in(w, "closed", title="楼下餐馆油烟扰民")  # the operator's caller's history
    # dispatcher: a queue with an urgent order, a return, an extension, a merge candidate
    with clock.at(now - dt.timedelta(hours=3)):
        t["q_old"] = new_ticket(w, title="人行道地砖松动", requester_phone="13900000001")
    with clock.at(now - dt.timedelta(hours=2)):
        t["q_urgent"] = new_ticket(w, title="路口井盖缺失", urgency="urgent", requester_phone="13900000002")
    t["returned"] = ticket_in(w, "return_requested", title="摊贩占道经营", requester_phone="13900000003")
    ext = ticket_in(w, "accepted", title="老旧小区加装电梯咨询", requester_phone="13900000004")
    t["extension"] = services.request_extension(
        w.jw_handler, ext.pk, (ext.due_at or now) + dt.timedelta(days=5), "需协调产权单位"
    )
    with clock.at(now - dt.timedelta(days=1)):
        t["master"] = ticket_in(w, "dispatched", title="光华路1号院垃圾堆积", requester_phone="13900000005")
    t["repeat"] = new_ticket(w, title="光华路1号院垃圾堆积", requester_phone="13900000006")
    t["to_decline"] = new_ticket(w, title="来电咨询无具体内容", requester_phone="13900000015")
    # handler and leader: to sign, confidential, summoned, supervised
    t["to_sign"] = ticket_in(w, "dispatched", title="楼道堆物堵塞", requester_phone="13900000007")
    t["secret"] = ticket_in(w, "dispatched", title="举报违建", confidential=True, requester_phone="13900000008")
    whistled = ticket_in(w, "accepted", title="马路对面工地夜间施工", requester_phone="13900000009")
    t["whistled"] = services.whistle(w.jw_handler, whistled.pk, ["D001"], "请区城管委到场")
    sup = ticket_in(w, "accepted", title="小区路灯不亮", requester_phone="13900000010")
    t["supervised"] = services.supervise(w.city_supervisor, sup.pk, "请两日内修复并反馈")
    heating = new_ticket(w, title="暖气不热", category_code="020401", requester_phone="13900000014")
    heating = services.dispatch(w.dispatcher, heating.pk)
    t["heating"] = services.accept(w.heat_handler, heating.pk)
    # callback agent
    t["replied"] = ticket_in(w, "replied", title="垃圾桶破损", requester_phone="13900000011")
    t["refused"] = ticket_in(w, "replied", title="垃圾桶位置不合理", requester_phone="13900000016")
    # supervisor: overdue in 朝阳区 and in 海淀区
    with clock.at(now - dt.timedelta(days=30)):
        t["late"] = ticket_in(w, "accepted", title="树枝压住电线", requester_phone="13900000012")
        late_hd = new_ticket(
            w, title="海淀路面塌陷", street_code=HAIDIAN_ST, address="海淀区海淀街道", requester_phone="13900000013"
        )
        late_hd = services.dispatch(w.dispatcher, late_hd.pk)
        t["late_hd"] = services.accept(w.hd_handler, late_hd.pk)
    # a hotspot: five calls about one flooded underpass this week
    for hours in (2, 10, 30, 50, 70):
        with clock.at(now - dt.timedelta(hours=hours)):
            new_ticket(
                w,
                title="光华路下穿桥积水",
                content=f"光华路下穿桥下雨后积水很深，车辆无法通行，已经{hours}小时了。",
                category_code="100102",
                address="朝阳区建外街道光华路下穿桥",
                requester_phone=f"1370000{hours:04d}",
            )
    from jiesu.governance import services as governance

    governance.refresh_hotspots()
    # the supervisor's notifications: 35, more than a page
    from jiesu.notify.models import Notification
    from jiesu.tickets.models import TicketEvent

    events = TicketEvent.objects.order_by("pk")[:35]
    Notification.objects.bulk_create(
        Notification(user=w.city_supervisor, event=e, created_at=e.created_at) for e in events
    )
    return t


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


TOURED: set[str] = set()  # the header's pages opened on a tour in this module (each once, by the first role)


@pytest.fixture
def people(city: City, browser: Any, django_db_blocker: Any) -> Iterator[Any]:
    """Open sessions; when the test is done, read every page each session reached in English, and fail on any
    server error, raw code or untranslated word met on the way."""
    codes = _codes()
    sessions: list[Session] = []

    def open_session(username: str | None = None, *, mobile: bool = False) -> Session:
        s = Session(browser, city.base, codes, mobile=mobile)
        sessions.append(s)
        s.touring = bool(username)
        return s.login(username) if username else s

    with django_db_blocker.unblock():
        yield open_session
        problems = []
        for s in sessions:
            if s.touring:  # the role's other pages, once per module
                s.tour()
            s.read_in_english()
            problems += s.problems.items
            s.context.close()
    assert not problems, "\n".join(problems)


# --- the roles ---------------------------------------------------------------------------------------------
def test_operator(city: City, people: Any) -> None:
    """Screen pop from the telephony system, the category tree, 保密, an anonymous call, the missed-call queue."""
    operator = people("operator")
    page = operator.page
    at = clock.now().isoformat()
    api = operator.context.request
    headers = {"Authorization": f"Bearer {TELEPHONY_KEY}", "Content-Type": "application/json"}
    answered = {
        "call_id": "CTI-RD-1",
        "event": "answered",
        "caller": "+86 138-1234-5678",
        "recording_id": "REC-RD-1",
        "agent": "operator",
        "at": at,
    }
    pop = api.post(city.base + "/telephony/calls/", data=json.dumps(answered), headers=headers)
    assert pop.status == 201, pop.text()
    assert api.post(city.base + "/telephony/calls/", data=json.dumps(answered), headers=headers).status == 409
    missed = {"call_id": "CTI-RD-2", "event": "missed", "caller": "010-6512 3456", "at": at}
    assert api.post(city.base + "/telephony/calls/", data=json.dumps(missed), headers=headers).status == 201

    operator.go("/intake/")
    strip = page.locator("#calls a.button", has_text=CALLER)
    expect(strip).to_be_visible()
    strip.click()
    operator.check()
    expect(page.locator("#screen-pop")).to_contain_text("REC-RD-1")
    expect(page.locator("#id_requester_phone")).to_have_value(CALLER)
    expect(page.locator("#assist")).to_contain_text(city.t["earlier"].number)  # the caller's history
    page.fill("#id_title", "电动车违规充电")
    page.fill("#id_content", "有人从楼上拉电线给电动车充电，存在安全隐患。")
    page.fill("#id_address", "朝阳区建外街道光华路5号")
    expect(page.locator("#id_street_code")).to_have_value("110105001")
    page.click("#category-tree summary")  # the searchable tree, not a typed code
    page.fill("#category-tree input[type=search]", "垃圾清运")
    leaf = page.locator("#category-tree button[data-value='010201']")
    expect(leaf).to_be_visible()
    expect(page.locator("#category-tree button[data-value='010101']")).to_be_hidden()
    leaf.click()
    expect(page.locator("#id_category_code")).to_have_value("010201")
    page.check("#id_confidential")
    page.click("#save")
    expect(page.locator("main .card").first).to_contain_text("电动车违规充电")
    operator.check()
    popped = Ticket.objects.get(title="电动车违规充电")
    assert popped.recording_id == "REC-RD-1" and popped.confidential and popped.requester.phone == CALLER

    operator.go("/intake/")  # an anonymous call: no number, no name; a place between two streets of one district
    page.select_option("#id_appeal_type", "suggestion")
    page.fill("#id_title", "建议增设公交站")
    page.fill("#id_content", "两个街道交界处没有公交站，建议增设。")
    page.fill("#id_address", "朝阳区建外街道和朝外街道交界处")
    expect(page.locator("#assist")).to_contain_text("地址有歧义")
    expect(page.locator("#id_district_code")).to_have_value("110105")  # the ticket keeps its district
    page.fill("#id_category_code", "010101")
    page.click("#save")
    expect(page.locator("main .card").first).to_contain_text("建议增设公交站")
    anonymous = Ticket.objects.get(title="建议增设公交站")
    assert anonymous.requester is None and anonymous.district.code == "110105" and anonymous.street is None

    rating = {"call_id": "CTI-RD-1", "event": "rating", "satisfaction": "satisfied"}  # 一次一评 from the IVR
    assert api.post(city.base + "/telephony/calls/", data=json.dumps(rating), headers=headers).status == 200

    operator.go("/intake/")  # an inquiry answered on the phone (直接办结): closed, never "waiting for dispatch"
    page.fill("#id_requester_phone", "13700000001")
    page.select_option("#id_appeal_type", "inquiry")
    page.fill("#id_title", "大件垃圾怎么处理")
    page.fill("#id_content", "家里有旧沙发要扔，请问怎么处理？")
    page.fill("#id_category_code", "010201")
    page.fill("#id_answer", "可预约小区物业或街道的大件垃圾收运服务。")
    page.click("#save")
    saved = page.locator("main .card").first
    expect(saved).to_contain_text("已办结")
    expect(saved).not_to_contain_text("待派单")
    operator.check()

    declined = city.t["to_decline"]  # 不予受理, with a reason from the published list
    operator.go(f"/tickets/{declined.pk}/")
    page.select_option("#act-decline select[name=decline_reason]", "D05")
    operator.act("decline", note="来电无具体诉求")
    assert "不予受理" in operator.dialogs[-1]
    assert fresh(declined).dispatch_state == "declined"
    expect(page.locator("#state")).to_contain_text("不予受理")
    expect(page.locator("main")).to_contain_text("申诉码")  # told to the caller once
    # the caller calls again to appeal: proven by the number they call from, written any way
    operator.act("appeal_decline", caller_phone="139 0000 0015", note="来电人补充了具体地点")
    assert fresh(declined).dispatch_state == "new" and fresh(declined).decline_appealed

    operator.go("/intake/ratings/")  # 一次一评: the operator's own calls, apart from the units' rates
    expect(page.locator("#rating-list")).to_contain_text(popped.number)

    operator.go("/intake/")
    operator.click("#calls a[href='/intake/missed/']")  # 漏接回拨, from the call strip
    row = page.locator("tr", has_text="01065123456")
    expect(row).to_be_visible()
    expect(row.locator(".countdown")).to_contain_text("剩余")
    row.locator("select[name=outcome]").select_option("no_answer")
    row.locator("button").click()
    operator.check()
    expect(page.locator("tr", has_text="01065123456")).to_contain_text("1")  # tried once, still waiting
    page.locator("tr", has_text="01065123456").locator("select[name=outcome]").select_option("reached")
    page.locator("tr", has_text="01065123456").locator("button").click()
    operator.check()
    operator.click("nav.tabs a[href='?show=done']")
    expect(page.locator("tr", has_text="01065123456")).to_be_visible()


def _row_index(page: Any, number: str) -> int:
    numbers = [n.strip() for n in page.locator("table tbody tr td:nth-child(2)").all_inner_texts()]
    return numbers.index(number)


def test_dispatcher(city: City, people: Any) -> None:
    """Urgent first, sortable columns, batch dispatch; a return reviewed with the unit picker; an extension
    decided; a merge confirmed, then undone (split)."""
    t = city.t
    dispatcher = people("dispatcher")
    page = dispatcher.page
    dispatcher.go("/dispatch/")
    urgent, old = t["q_urgent"].number, t["q_old"].number
    assert _row_index(page, urgent) < _row_index(page, old)  # urgent first, though younger
    dispatcher.click("th a[data-sort-key=intake]")  # sorted on the server: intake time, ascending
    expect(page.locator("th:has(a[data-sort-key=intake])")).to_have_attribute("aria-sort", "ascending")
    assert _row_index(page, old) < _row_index(page, urgent)
    page.check(f"input[aria-label='{urgent}']")
    page.check(f"input[aria-label='{old}']")
    dispatcher.click("#batch-dispatch p.filters button")
    assert dispatcher.dialogs and "派单目录" in dispatcher.dialogs[-1]  # asked first
    assert {fresh(t["q_urgent"]).dispatch_state, fresh(t["q_old"]).dispatch_state} == {"dispatched"}
    expect(page.locator("#batch-dispatch table")).not_to_contain_text(urgent)

    dispatcher.click("nav.tabs a[href='?tab=returns']")
    row = page.locator("tr", has_text=t["returned"].number)
    expect(row).to_contain_text("不属于本街道职责")  # the unit's reason
    row.locator("a.button").click()
    dispatcher.check()
    expect(page.locator("#return-review")).to_be_visible()
    # the new unit is picked from the searchable unit tree, not typed as a code
    picker = page.locator("#pick-approve_return-lead")
    picker.locator("summary").click()
    picker.locator(".unit-filter").fill("朝外")
    picker.locator("[data-pick='110105002']").click()
    expect(page.locator("#act-approve_return [name=lead_code]")).to_have_value("110105002")
    expect(picker.locator(".picked")).to_contain_text("朝外街道")
    dispatcher.act("approve_return", note="同意，改派朝外街道")
    assert fresh(t["returned"]).lead_unit.code == "110105002"

    dispatcher.go("/dispatch/?tab=extensions")
    row = page.locator("tr", has_text=t["extension"].number)
    expect(row).to_contain_text("需协调产权单位")
    row.locator("a.button").click()
    dispatcher.check()
    dispatcher.act("approve_extension", note="同意延期")
    assert fresh(t["extension"]).paused_at is None and fresh(t["extension"]).due_at > t["extension"].due_at

    dispatcher.go("/dispatch/?tab=merge")
    row = page.locator("tr", has_text=t["repeat"].number)
    expect(row).to_contain_text(t["master"].number)
    row.locator("button").click()
    dispatcher.check()
    assert "并入" in dispatcher.dialogs[-1]
    assert fresh(t["repeat"]).dispatch_state == "merged"
    dispatcher.go(f"/tickets/{t['repeat'].pk}/")
    dispatcher.act("split", note="并非同一诉求，拆分")
    assert fresh(t["repeat"]).dispatch_state == "new" and fresh(t["repeat"]).duplicate_of is None
    expect(page.locator("#timeline")).to_contain_text("撤销并单")


def test_handler_and_leader(city: City, people: Any) -> None:
    """The inbox with the signing deadline; sign; call the caller from the order (unless 保密); reply; 督办 answered;
    a summoned department reports in; the leader reassigns inside the unit."""
    t, w = city.t, city.w
    handler = people("jw_handler")
    page = handler.page
    handler.go("/inbox/")  # 待签收 first, with its deadline
    expect(page.locator("th", has_text="签收时限")).to_be_visible()
    row = page.locator("tr", has_text=t["to_sign"].number)
    expect(row.locator(".countdown").first).to_contain_text("剩余")
    row.locator("a").first.click()
    handler.check()
    expect(page.locator("#call-caller")).to_have_attribute("href", "tel:13900000007")  # calls the caller
    handler.act("accept")
    assert fresh(t["to_sign"]).dispatch_state == "accepted"
    expect(page.locator("#act-whistle")).to_have_count(1)  # a street may summon departments
    handler.act("reply", text="已联系物业清理楼道堆物，并告知来电人。")
    assert fresh(t["to_sign"]).dispatch_state == "replied"

    handler.go("/inbox/")
    with page.expect_download() as download:  # the lists export masked
        page.click("a[href^='/export/inbox.csv']")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert t["secret"].number in exported and "139****0008" in exported and "13900000008" not in exported

    handler.go(f"/tickets/{t['secret'].pk}/")  # 保密: masked, no number to dial
    expect(page.locator("#caller")).to_contain_text("139****0008")
    expect(page.locator("#call-caller")).to_have_count(0)

    handler.go("/inbox/?tab=supervised")  # 督办 to answer, with its deadline
    expect(page.locator("th", has_text="反馈时限")).to_be_visible()
    page.locator("tr", has_text=t["supervised"].number).locator("a").first.click()
    handler.check()
    expect(page.locator("#supervision-orders")).to_contain_text("请两日内修复并反馈")
    handler.act("answer_supervision", text="已联系供电公司，明日修复。")
    expect(page.locator("#supervision-orders")).to_contain_text("明日修复")

    summoned = people("cgw_handler")
    summoned.go("/inbox/?tab=report_in")
    expect(summoned.page.locator("th", has_text="报到时限")).to_be_visible()
    row = summoned.page.locator("tr", has_text=t["whistled"].number)
    expect(row.locator(".countdown").first).to_be_visible()
    row.locator("a").first.click()
    summoned.check()
    expect(summoned.page.locator("#act-reply")).to_have_count(0)  # a summoned unit reports in, never replies
    expect(summoned.page.locator("#act-request_return")).to_have_count(0)
    summoned.act("report_in", note="已到场，协调施工方停止夜间施工")
    assert t["whistled"].assignments.filter(unit__code="D001", reported_in_at__isnull=False).exists()

    company = people("heat_handler")  # a company leads the heating order: no whistle offered
    company.go(f"/tickets/{t['heating'].pk}/")
    expect(company.page.locator("#act-reply")).to_have_count(1)
    expect(company.page.locator("#act-whistle")).to_have_count(0)

    leader = people("jw_leader")
    leader.go("/inbox/?tab=in_hand")
    expect(leader.page.locator("h3", has_text="各办理人工作量")).to_be_visible()
    leader.go(f"/tickets/{t['whistled'].pk}/")
    leader.page.select_option("#act-assign_handler select[name=handler_id]", str(w.jw_handler2.pk))
    leader.act("assign_handler", note="交王二办理")
    assert fresh(t["whistled"]).handler == w.jw_handler2


def test_callback_agent(city: City, people: Any) -> None:
    """The form starts empty; no answer brings the ticket back at its retry time (the clock moved); the caller is
    reached on the retry; the answers show on the ticket page."""
    ticket = city.t["replied"]
    agent = people("agent")
    page = agent.page
    agent.go("/callbacks/")
    card = page.locator(f"#cb-{ticket.pk}")
    expect(card.locator("input[name=outcome]:checked")).to_have_count(0)
    for name in ("contacted", "resolution", "satisfaction"):
        expect(card.locator(f"select[name={name}]")).to_have_value("")
    card.locator("input[name=outcome][value=no_answer]").check()
    card.locator("button").click()
    agent.check()
    card = page.locator(f"#cb-{ticket.pk}")
    expect(card).to_contain_text("无人接听")
    expect(card.locator(".soon")).to_contain_text("再次回访")
    retry = fresh(ticket).callback_retry_at
    assert retry is not None and fresh(ticket).dispatch_state == "replied"
    with time_machine.travel(retry + dt.timedelta(minutes=1), tick=True):  # the live server shares the clock
        agent.go("/callbacks/")
        card = page.locator(f"#cb-{ticket.pk}")
        expect(card).to_contain_text("现在可再次回访")
        card.locator("input[name=outcome][value=reached]").check()
        card.locator("select[name=contacted]").select_option("yes")
        card.locator("select[name=resolution]").select_option("solved")
        card.locator("select[name=satisfaction]").select_option("satisfied")
        card.locator("input[name=note]").fill("第二次接通，表示满意")
        card.locator("button").click()
        agent.check()
        assert fresh(ticket).dispatch_state == "closed"
        agent.go(f"/tickets/{ticket.pk}/")
        answers = page.locator("#callbacks tbody tr").first
        for word in ("是", "已解决", "满意", "第二次接通"):
            expect(answers).to_contain_text(word)
        expect(page.locator("#timeline")).to_contain_text("未接通")

        refused = city.t["refused"]  # a caller who will not answer: recorded at once, without answers
        agent.go("/callbacks/")
        card = page.locator(f"#cb-{refused.pk}")
        card.locator("input[name=outcome][value=refused]").check()
        card.locator("button").click()
        agent.check()
        assert fresh(refused).callback_attempts == 0 and fresh(refused).dispatch_state != "replied"
        agent.go(f"/tickets/{refused.pk}/")
        expect(page.locator("#callbacks tbody tr").first).to_contain_text("未询问（未接通或拒访）")


def test_supervisor(city: City, people: Any) -> None:
    """The overdue list exported to Excel (masked); 督办 from the list; a district supervisor sees only their
    district; the big screen reads; notifications paged, sorted and marked read in bulk."""
    from openpyxl import load_workbook

    t = city.t
    supervisor = people("city_supervisor")
    page = supervisor.page
    supervisor.go("/supervision/")
    expect(page.locator("tr", has_text=t["late"].number)).to_contain_text("已超期")
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    by_number = {str(r[0]): r for r in rows[1:]}
    assert {t["late"].number, t["late_hd"].number} <= set(by_number)
    cells = " ".join(str(c) for c in by_number[t["late"].number])
    assert "139****0012" in cells and "13900000012" not in cells  # masked
    assert all(str(h or "").strip() for h in rows[0])

    supervisor.go("/tickets/?q=139-0000-0012")  # found by the caller's number, written any way
    expect(page.locator("table")).to_contain_text(t["late"].number)

    district = people("cy_supervisor")
    district.go("/supervision/")
    expect(district.page.locator("table")).to_contain_text(t["late"].number)
    expect(district.page.locator("table")).not_to_contain_text(t["late_hd"].number)
    options = district.page.locator("select[name=district] option").all_inner_texts()
    assert "海淀区" not in options
    district.go("/supervision/overview/")  # their district's streets, each a link to its open tickets
    district.click("main table a[href$='street=110105001']")
    expect(district.page.locator("table")).to_contain_text(t["late"].number)

    supervisor.go("/dashboard/?screen=1")
    colours = page.evaluate(
        """() => { const b = document.querySelector('#h-today'), card = b.closest('.stat'), th = document.querySelector('th');
        return [getComputedStyle(b).color, getComputedStyle(card).backgroundColor,
                getComputedStyle(th).color, getComputedStyle(th).backgroundColor]; }"""
    )
    assert colours[0] != colours[1] and colours[2] != colours[3]

    from jiesu.governance.models import Hotspot

    hotspot = Hotspot.objects.order_by("-heat").first()
    assert hotspot is not None
    supervisor.go(f"/governance/hotspots/{hotspot.pk}/")  # its trail, then 每月一题 made from it
    supervisor.click("#to-topic")
    expect(page.locator("#tasks")).to_be_visible()

    supervisor.go("/notifications/?show=all")
    expect(page.locator(".pager")).to_contain_text("1 / 2")
    stamps = [s.strip() for s in page.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert stamps == sorted(stamps, reverse=True)
    supervisor.go("/notifications/")
    page.check("thead input[data-check-all]")
    supervisor.click("button[name=page_ids]")
    expect(page.locator("h1 .badge")).to_have_text(re.compile(r"^\D*5\D*$"))  # 35 − the 30 of page one
    supervisor.click("button[name=all]")
    expect(page.locator("h1 .badge")).to_have_text(re.compile(r"^\D*0\D*$"))


def test_community_worker_member_and_citizen(city: City, people: Any) -> None:
    """Short paths beside test_browser's full community and portal paths: the community worker's lists, a Party
    member's phone pages at 390 px, a citizen's request on the portal, the public digest and disclosure pages."""
    from django.contrib.auth import get_user_model

    from jiesu.community import services as community
    from jiesu.community.models import Compound
    from jiesu.community.services.callouts import ShiftInput
    from jiesu.demo.community import ensure_communities

    ensure_communities()
    worker_user = get_user_model().objects.get(username="sq_worker")
    compound = Compound.objects.get(name="光华里小区")
    member, _login = community.register_member(
        worker_user,
        "110105001001",
        {
            "name": "李建华",
            "phone": "13900000099",
            "work_unit_name": "热力集团",
            "compound": compound.pk,
            "skills": ["repair"],
            "slots": 63,
        },
    )
    for user in (worker_user, member.user):
        assert user is not None
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])

    # a task served and rated by the resident, and a call-out with a shift: the pages the trial found broken
    demand = community.submit_demand(
        worker_user,
        "110105001001",
        {
            "source": "visit",
            "title": "修理漏水的水管",
            "text": "厨房水管漏水，老人行动不便。",
            "resident_name": "王大妈",
            "resident_phone": "13600004321",
        },
    )
    task = community.publish_demand(worker_user, demand.pk, "repair")
    community.claim_task(member.user, task.pk)
    community.record_service(member.user, task.pk, "1", "换了水管接头")
    community.rate_task(None, task.pk, 5, "修得很好")
    start = clock.now() + dt.timedelta(days=1)
    callout = community.create_callout(
        worker_user,
        OrgUnit.objects.get(code="110105001001"),
        "暴雨防汛值守",
        "暴雨橙色预警",
        [ShiftInput("低洼点位值守", "光华路下穿桥", start, start + dt.timedelta(hours=4), 1)],
    )
    community.sign_up(member.user, callout.shifts.get().pk)

    worker = people("sq_worker")
    assert "/community/110105001001/tasks/" in worker.page.url
    worker.go(f"/community/task/{task.pk}/")
    expect(worker.page.locator("main")).to_contain_text("修得很好")
    worker.go(f"/community/callout/{callout.pk}/")
    expect(worker.page.locator("main")).to_contain_text("光华路下穿桥")
    expect(worker.page.locator("main")).not_to_contain_text("原状态")  # shift columns say what they hold
    for path in ("members", "demands", "callouts", "report"):
        worker.go(f"/community/110105001001/{path}/")
    worker.go("/community/110105001001/members/")
    expect(worker.page.locator("main")).to_contain_text("李建华")

    assert member.user is not None
    phone = people(member.user.username, mobile=True)
    for path in ("/m/", "/m/points/", "/m/callouts/"):
        phone.go(path)
        assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= 390  # fits the phone

    citizen = people(mobile=True)
    citizen.go(f"/wish/track/?number={demand.number}&tail=4321")
    expect(citizen.page.get_by_label("编号")).to_have_value(demand.number)
    expect(citizen.page.locator("main")).not_to_contain_text("数字")  # the wish's number, not "digits"
    expect(citizen.page.locator("main")).to_contain_text("修得很好")
    citizen.go("/portal/")
    page = citizen.page
    page.select_option("#id_appeal_type", "complaint")
    page.select_option("#id_category_code", "010201")
    page.fill("#id_title", "小区门口垃圾没人收")
    page.fill("#id_content", "光华路9号院门口的垃圾两天没人清运。")
    page.fill("#id_address", "朝阳区建外街道光华路9号院")
    page.fill("#id_requester_phone", "13912340000")
    citizen.click("button[type=submit]")
    number = (page.text_content("#ticket-number") or "").strip()
    code = (page.text_content("#tracking-code") or "").strip()
    citizen.go(f"/portal/track/?number={number}&phone_tail={code}")
    expect(page.locator("#public-status")).to_contain_text("已受理")
    for path in ("/portal/declined/", "/public/assessment/", "/wish/"):
        citizen.go(path)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_the_page_reader_flags_raw_codes_and_untranslated_words() -> None:
    """The reader every role test uses."""
    codes = _codes()
    assert {"in_progress", "dispatched", "no_answer", "callback_attempt"} <= codes
    assert words_problems("派单 · 已受理 → 已派单 · 剩余 3小时 · 导出 Excel", [], "zh", codes) == []
    assert words_problems("Dispatched, awaiting signature", ["Sign due at"], "en", codes) == []
    assert words_problems("状态：in_progress", [], "zh", codes) == ["raw code 'in_progress'"]
    assert "raw transition 'create → draft'" in words_problems("创建 create → draft", [], "zh", codes)
    assert words_problems("状态dispatched", [], "zh", codes) == ["raw code 'dispatched'"]
    assert words_problems("每月一题 (每月一题)", [], "zh", codes) == ["doubled '每月一题 (每月一题)'"]
    assert words_problems("请 Sign the ticket", [], "zh", codes) == ["untranslated 'Sign the ticket'"]
    assert words_problems("", ["派单", "Supervision to answer (督办)"], "en", codes) == [
        "Chinese in the English chrome '派单'"
    ]
