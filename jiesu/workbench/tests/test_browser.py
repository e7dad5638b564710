"""The workbench in a real browser: Playwright drives Debian's Chromium against the live test server.

Each role works in its own browser session, logged in through the login page. Screenshots of the main screens are
saved under var/screenshots/ (JIESU_SCREENSHOT_DIR) as test artifacts.
"""

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from jiesu.lib import clock
from jiesu.testing.images import png
from jiesu.testing.world import CHAOWAI, World, build_world
from jiesu.tickets import services
from jiesu.tickets.models import Ticket
from jiesu.tickets.tests.helpers import fresh, ticket_in

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is missing: scripts/bootstrap dev installs it (as root)", allow_module_level=True)

# Playwright's sync API keeps an event loop in this thread; the ORM calls here are still plain sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-pass"
SHOTS = Path(os.environ.get("JIESU_SCREENSHOT_DIR", settings.BASE_DIR / "var" / "screenshots"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def w(transactional_db: Any) -> World:
    world = build_world()
    for user in world.users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return world


class Session:
    """One person's browser session."""

    def __init__(self, browser: Any, base: str, *, mobile: bool = False) -> None:
        size = {"width": 390, "height": 844} if mobile else {"width": 1366, "height": 900}
        self.context = browser.new_context(viewport=size, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        self.base = base

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, username: str) -> "Session":
        self.go("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("header .who")
        return self

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def act(self, action: str, **fields: str) -> None:
        """Fill and submit the action form `action` on the ticket page."""
        form = f"#act-{action}"
        for name, value in fields.items():
            self.page.fill(f"{form} [name={name}]", value)
        self.page.click(f"{form} button[type=submit]")
        self.page.wait_for_load_state()


@pytest.fixture
def people(browser: Any, live_server: Any) -> Iterator[Any]:
    sessions: list[Session] = []

    def open_session(username: str | None = None, *, mobile: bool = False) -> Session:
        s = Session(browser, live_server.url, mobile=mobile)
        sessions.append(s)
        return s.login(username) if username else s

    yield open_session
    for s in sessions:
        s.context.close()


def test_citizen_request_through_dispatch_sign_reply_callback_to_close(w: World, people: Any) -> None:
    citizen = people(mobile=True)
    citizen.go("/portal/")
    page = citizen.page
    page.select_option("#id_appeal_type", "complaint")
    page.select_option("#id_category_code", "010201")
    page.fill("#id_title", "小区门口垃圾堆了三天")
    page.fill("#id_content", "光华路9号院门口的垃圾桶三天没人清运，已经满出来了，味道很大。")
    page.fill("#id_address", "朝阳区建外街道光华路9号院")
    page.fill("#id_requester_phone", "13912345678")
    page.set_input_files("#id_photos", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": png(64, 48)}])
    citizen.shot("portal-submit")
    page.click("button[type=submit]")
    number = page.text_content("#ticket-number").strip()
    code = page.text_content("#tracking-code").strip()  # the citizen's own secret, shown once
    citizen.shot("portal-submitted")
    ticket = Ticket.objects.get(number=number)
    assert ticket.street.name == "建外街道" and ticket.attachments.count() == 1

    dispatcher = people("dispatcher")
    dispatcher.go("/dispatch/")
    dispatcher.shot("dispatch-desk")
    dispatcher.page.click(f"text={number}")
    assert "派单目录建议" in dispatcher.page.content()
    dispatcher.shot("ticket-detail-dispatch")
    dispatcher.act("dispatch")
    assert fresh(ticket).dispatch_state == "dispatched"

    handler = people("jw_handler")
    handler.go("/inbox/")
    handler.shot("unit-inbox")
    handler.page.click(f"text={number}")
    handler.act("accept")
    handler.page.set_input_files(
        "#act-add_progress input[name=photos]",
        files=[{"name": "清运后.png", "mimeType": "image/png", "buffer": png(64, 48, (40, 160, 80))}],
    )
    handler.act("add_progress", note="已联系物业，当天下午清运完毕")
    handler.act("reply", text="经核实，物业已于当天清运完毕，并增加了清运频次。")
    handler.shot("ticket-detail-replied")
    assert fresh(ticket).dispatch_state == "replied" and ticket.attachments.count() == 2

    agent = people("agent")
    agent.go("/callbacks/")
    agent.shot("callback-worklist")
    card = f"#cb-{ticket.pk}"
    agent.page.check(f"{card} input[name=outcome][value=reached]")
    agent.page.select_option(f"{card} select[name=contacted]", "yes")
    agent.page.select_option(f"{card} select[name=resolution]", "solved")
    agent.page.select_option(f"{card} select[name=satisfaction]", "satisfied")
    agent.page.fill(f"{card} input[name=note]", "来电人表示满意")
    agent.page.click(f"{card} button")
    agent.page.wait_for_load_state()
    assert fresh(ticket).dispatch_state == "closed"
    assert number not in agent.page.content()

    citizen.go(f"/portal/track/?number={number}&phone_tail={code}")
    assert "已办结" in citizen.page.text_content("#public-status")
    assert "增加了清运频次" in citizen.page.text_content("#reply")
    citizen.page.check("input[name=satisfaction][value=satisfied]")
    citizen.shot("portal-track")
    citizen.page.click("text=提交评价")
    citizen.page.wait_for_selector("text=感谢您的评价")
    assert ticket.events.filter(action="rate").count() == 1


def test_return_requested_and_reviewed(w: World, people: Any) -> None:
    operator = people("operator")
    page = operator.page
    operator.go("/intake/")
    # keyboard only, from the caller's phone (focused on load) to the saved order
    expect(page.locator("#id_requester_phone")).to_be_focused()
    page.wait_for_load_state("networkidle")  # the panel's first refresh is in
    keys = page.keyboard
    keys.type("13600001234")
    keys.press("Tab")
    keys.type("赵先生")
    keys.press("Tab")  # channel: phone (the default)
    keys.press("Tab")  # appeal type: inquiry → complaint
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    keys.press("Tab")
    keys.type("夜市摊贩占道经营")
    keys.press("Tab")
    keys.type("每天晚上光华路上很多摊贩占道经营，行人只能走机动车道。")
    keys.press("Tab")
    keys.type("朝阳区建外街道光华路")
    expect(page.locator("#id_street_code")).to_have_value("110105001")  # placed by the panel
    keys.press("Tab")
    keys.press("Tab")
    keys.type("010101")
    keys.press("Tab")
    page.wait_for_selector("#assist >> text=7 工作日")
    operator.shot("intake-console")
    keys.press("Control+Enter")
    page.wait_for_selector("text=已保存")
    ticket = Ticket.objects.get(title="夜市摊贩占道经营")
    assert (ticket.street.code, ticket.category.code, ticket.requester.phone) == ("110105001", "010101", "13600001234")

    dispatcher = people("dispatcher")
    dispatcher.go(f"/tickets/{ticket.pk}/")
    dispatcher.act("dispatch")

    handler = people("jw_handler")
    handler.go(f"/tickets/{ticket.pk}/")
    handler.act("request_return", note="摊贩位于朝外街道辖区，请改派朝外街道")
    assert fresh(ticket).dispatch_state == "return_requested"

    dispatcher.go("/dispatch/?tab=returns")
    assert "请改派朝外街道" in dispatcher.page.content()
    dispatcher.shot("dispatch-returns")
    dispatcher.page.click("a.button:has-text('审核')")
    dispatcher.act("approve_return", lead_code=CHAOWAI, note="同意，改派朝外街道")
    assert fresh(ticket).lead_unit.code == CHAOWAI

    other = people("cw_handler")
    other.go("/inbox/")
    assert ticket.number in other.page.content()
    handler.go("/inbox/?tab=returned")
    assert ticket.number in handler.page.content()


def test_overdue_ticket_seen_and_supervised_by_the_supervisor(w: World, people: Any) -> None:
    with clock.at(clock.now() - dt.timedelta(days=30)):
        late = ticket_in(w, "accepted")
    supervisor = people("city_supervisor")
    supervisor.go("/supervision/")
    row = supervisor.page.locator("tr", has_text=late.number)
    assert re.search(r"已超期", row.text_content() or "")
    supervisor.shot("supervision")
    row.locator("button", has_text="督办").click()
    supervisor.page.wait_for_load_state()
    assert fresh(late).supervised
    assert "督办" in supervisor.page.locator("tr", has_text=late.number).text_content()

    supervisor.go("/supervision/overview/")
    supervisor.page.wait_for_selector("#map svg")
    supervisor.page.wait_for_selector("#hours svg")
    supervisor.shot("overview")


def test_unit_user_opening_another_units_ticket_gets_not_found(w: World, people: Any) -> None:
    ticket = ticket_in(w, "accepted")
    outsider = people("hd_handler")
    response = outsider.go(f"/tickets/{ticket.pk}/")
    assert response.status == 404
    assert "不存在" in outsider.page.content()
    assert ticket.title not in outsider.page.content()
    outsider.shot("not-found")


def test_console_proposes_category_unit_and_duplicates_while_typing(w: World, people: Any, settings: Any) -> None:
    from jiesu.intel.tests.synthetic import measured_category_model, sample_call

    measured_category_model()  # the demo trains on its history; here on synthetic calls, measured on held-out ones
    title, content = sample_call("020401")
    earlier = services.intake(
        w.operator,
        channel="phone",
        appeal_type="complaint",
        title=title,
        content=content,
        category_code="020401",
        requester_phone="13900007777",
        address="朝阳区建外街道光华路1号",
        street_code="110105001",
    )
    operator = people("operator")
    page = operator.page
    operator.go("/intake/")
    page.wait_for_load_state("networkidle")
    page.fill("#id_title", title)
    page.fill("#id_content", content)
    page.fill("#id_address", "朝阳区建外街道光华路1号")
    expect(page.locator("#id_category_code")).to_have_value("020401")  # filled, and shown
    page.wait_for_selector("#unit-proposals >> text=北京市热力集团有限责任公司")
    page.wait_for_selector(f"#duplicates >> text={earlier.number}")
    assert "建议分类" in page.content()
    operator.shot("intake-proposals")


def test_console_auto_fill_follows_the_text_and_never_overwrites_the_operator(w: World, people: Any) -> None:
    from jiesu.intel.tests.synthetic import measured_category_model, sample_call

    heating, water = sample_call("020401"), sample_call("020101")

    measured_category_model()
    operator = people("operator")
    page = operator.page
    operator.go("/intake/")
    page.wait_for_load_state("networkidle")
    page.fill("#id_title", heating[0])
    page.fill("#id_content", heating[1])
    expect(page.locator("#id_category_code")).to_have_value("020401")
    # the operator rewrites the text: the assistant's value follows it
    page.fill("#id_title", water[0])
    page.fill("#id_content", water[1])
    expect(page.locator("#id_category_code")).to_have_value("020101")
    # a text that fits no category: the stale value goes, and the panel says it is unsure
    page.fill("#id_title", "我家的猫走丢了")
    page.fill("#id_content", "橘猫昨天晚上从窗户跑出去了，能帮忙发个寻猫启事吗")
    page.wait_for_selector("#category-unsure")
    expect(page.locator("#id_category_code")).to_have_value("")
    operator.shot("intake-unsure")
    # a value the operator typed is never replaced
    page.fill("#id_category_code", "010101")
    page.fill("#id_title", heating[0])
    page.fill("#id_content", heating[1])
    page.wait_for_selector("#category-proposals >> text=020401")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#id_category_code") == "010101"


def test_city_dashboard_draws_the_district_map_and_refreshes_without_reload(w: World, people: Any) -> None:
    from jiesu.demo.city import plant_hotspots
    from jiesu.governance import services as governance

    plant_hotspots(seed=3)
    governance.refresh_hotspots()
    governance.refresh_forecasts()
    supervisor = people("city_supervisor")
    supervisor.go("/dashboard/")
    page = supervisor.page
    page.wait_for_selector("#map[data-map=ready]")
    page.wait_for_selector("#map svg path")
    assert page.locator("#map svg path").count() >= 16  # the 16 district outlines from the GeoJSON
    assert "光华" in page.text_content("#hotspots")
    page.select_option("#metric", "open")
    before = int(page.text_content("#h-today"))
    services.intake(
        w.operator,
        channel="phone",
        appeal_type="complaint",
        title="路灯不亮",
        content="小区门口路灯坏了。",
        category_code="100102",
        requester_phone="13700001111",
        street_code=CHAOWAI,
    )
    marker = page.evaluate(
        "() => { window.__same = true; return document.getElementById('dashboard').dataset.refreshed }"
    )
    page.evaluate("() => window.jiesuDashboardRefresh()")
    expect(page.locator("#h-today")).to_have_text(str(before + 1))
    assert page.evaluate("() => window.__same") is True  # the same page: no reload
    assert marker != page.evaluate("() => document.getElementById('dashboard').dataset.refreshed")
    supervisor.shot("dashboard")
    from jiesu.governance.models import Hotspot

    hot = Hotspot.objects.order_by("-heat").first()
    assert hot is not None
    supervisor.go(f"/governance/hotspots/{hot.pk}/")
    page.click("#to-topic")
    page.wait_for_selector("#tasks")
    assert "每月一题" in page.content()
    supervisor.shot("monthly-topic")


def test_community_wish_to_rated_service_and_a_call_out_on_phones(w: World, people: Any) -> None:
    """Issue 8's path: the worker collects a wish and publishes it; a member claims and records it on a phone;
    the resident rates it on a phone; the points show; a call-out fills while the worker watches."""
    from django.contrib.auth import get_user_model

    from jiesu.community import services as community
    from jiesu.community.models import CommunityTask, Compound, Demand
    from jiesu.demo.community import ensure_communities

    ensure_communities()
    worker_user = get_user_model().objects.get(username="sq_worker")
    worker_user.set_password(PASSWORD)
    worker_user.save()
    compound = Compound.objects.get(name="光华里小区")
    member, _login = community.register_member(
        worker_user,
        "110105001001",
        {
            "name": "王建国",
            "phone": "13900000001",
            "work_unit_name": "热力集团",
            "compound": compound.pk,
            "skills": ["repair"],
            "slots": 63,
        },
    )
    assert member.user is not None
    member.user.set_password(PASSWORD)
    member.user.save()

    worker = people("sq_worker")
    page = worker.page
    assert "/community/110105001001/tasks/" in page.url  # a community worker lands on the task list
    worker.go("/community/110105001001/demands/")
    page.fill("#d-title", "修理滴水的水龙头")
    page.fill("#d-text", "厨房水龙头一直滴水，老人行动不便。")
    page.select_option("#d-compound", str(compound.pk))
    page.select_option("#d-skill", "repair")
    page.fill("#d-name", "李大爷")
    page.fill("#d-phone", "13600001234")
    page.click("#d-phone >> xpath=ancestor::form//button[@type='submit']")
    page.wait_for_selector("text=已加入清单")
    page.click("text=发布并匹配")
    page.wait_for_selector("text=推送名单")
    assert "王建国" in page.text_content("main")
    worker.shot("community-task")
    task = CommunityTask.objects.get()

    phone = people(member.user.username, mobile=True)
    mp = phone.page
    assert mp.url.endswith("/m/")
    mp.click("text=修理滴水的水龙头")
    mp.click("text=认领这项任务")
    mp.wait_for_selector("text=认领成功")
    mp.fill("#m-hours", "1.5")
    mp.fill("#m-note", "换了阀芯，不再滴水")
    mp.set_input_files("#m-photo", files=[{"name": "修好了.png", "mimeType": "image/png", "buffer": png(64, 48)}])
    mp.click("text=提交服务记录")
    mp.wait_for_selector("text=服务记录已提交")
    assert mp.evaluate("() => document.documentElement.scrollWidth") <= 390  # fits the phone
    phone.shot("member-task-recorded")

    number = Demand.objects.get().number
    resident = people(mobile=True)
    resident.go(f"/wish/track/?number={number}&tail=1234")
    rp = resident.page
    rp.check("input[name=stars][value='5']")
    rp.click("text=评价服务")
    rp.wait_for_selector("text=感谢您的评价")
    resident.shot("resident-rated")
    task.refresh_from_db()
    assert task.state == "rated"

    phone.go("/m/points/")
    assert mp.text_content(".points-total").strip() == "18"  # 10 for the service, 3 for 1.5 h, 5 for five stars

    worker.go("/community/110105001001/callouts/")
    page.fill("#c-title", "暴雨防汛值守")
    page.fill("#c-reason", "暴雨橙色预警")
    page.fill("input[name=role0]", "低洼点位值守")
    page.fill("input[name=place0]", "光华路下穿桥")
    page.fill("input[name=start0]", "08:00")
    page.fill("input[name=end0]", "12:00")
    page.fill("input[name=needed0]", "1")
    page.click("text=发出召集")
    page.wait_for_selector(".coverage")
    assert page.text_content(".coverage").strip() == "0 / 1"
    page.evaluate("() => { window.__same = true }")
    phone.go("/m/callouts/")
    mp.click("text=报名这个班次")
    mp.wait_for_selector("text=报名成功")
    expect(page.locator(".coverage").first).to_have_text("1 / 1", timeout=20000)
    assert page.evaluate("() => window.__same") is True  # live coverage, no reload
    worker.shot("community-callout-filled")


def test_phone_pages_fit_390_px_and_the_big_screen_reads(w: World, people: Any) -> None:
    resident = people(mobile=True)
    resident.go("/wish/")
    assert resident.page.evaluate("document.documentElement.scrollWidth") <= 390
    button = resident.page.locator("button[type=submit]")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    resident.shot("wish-390")

    supervisor = people("city_supervisor")
    supervisor.go("/dashboard/?screen=1")
    colours = supervisor.page.evaluate(
        """() => { const b = document.querySelector('#h-today'); const card = b.closest('.stat');
        return [getComputedStyle(b).color, getComputedStyle(card).backgroundColor,
                getComputedStyle(document.querySelector('th')).color, getComputedStyle(document.querySelector('th')).backgroundColor]; }"""
    )
    assert colours[0] != colours[1] and colours[2] != colours[3]
    assert colours[1] != "rgb(255, 255, 255)"
    supervisor.shot("dashboard-screen")
