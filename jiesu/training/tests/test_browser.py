"""Training and care in a real browser (Playwright + Debian's Chromium, the pattern of the workbench's test): a new
handler's first training week, and a leader receiving a care alert and recording a talk."""

import datetime as dt
from typing import Any

import pytest

from jiesu.cadres.models import CadreProfile
from jiesu.lib import clock
from jiesu.notify.outbox import process_outbox
from jiesu.orgs.models import Role
from jiesu.testing.world import JIANWAI, World, make_user
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import ticket_in
from jiesu.training import services
from jiesu.training.models import CareSettings, CaseKind, TalkRecord
from jiesu.workbench.tests.test_browser import PASSWORD, Session, browser, w  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(browser: Any, live_server: Any) -> Any:  # noqa: F811
    """Sessions with a patient timeout: these pages compute the signals and the transfer figures."""
    sessions: list[Session] = []

    def open_session(username: str) -> Session:
        s = Session(browser, live_server.url)
        s.context.set_default_timeout(60000)
        s.context.set_default_navigation_timeout(60000)
        sessions.append(s)
        return s.login(username)

    yield open_session
    for s in sessions:
        s.context.close()


def _world(w: World) -> dict[str, Any]:  # noqa: F811
    extra = {
        "trainer": make_user("trainer", Role.TRAINER, "110000"),
        "jw_newcomer": make_user("jw_newcomer", Role.UNIT_HANDLER, JIANWAI),
    }
    for user in extra.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    CadreProfile.objects.create(
        user=extra["jw_newcomer"],
        unit=extra["jw_newcomer"].membership.unit,
        post="接诉即办专员",
        started_on=clock.local_date(clock.now()) - dt.timedelta(days=2),
    )
    return extra


def test_a_new_handlers_first_training_week(w: World, people: Any) -> None:  # noqa: F811
    extra = _world(w)
    trainer, month = extra["trainer"], clock.local_date(clock.now()).replace(day=1)
    cases = []
    for title in ("垃圾桶满溢三天", "楼道垃圾无人清运", "垃圾站异味"):
        t = ticket_in(w, "replied", title=title)
        tickets.record_callback(w.agent, t.pk, contacted=False, resolution="unsolved", satisfaction="dissatisfied")
        case = services.make_case(trainer, t.pk, CaseKind.LOST_POINT, month=month)
        services.edit_case(
            trainer,
            case.pk,
            review="未联系诉求人。",
            reflection="先联系。",
            process_fix="签收后2小时内联系。",
            expert_comment=f"专家点评：{title}，先联系、再核实、后答复。",
        )
        cases.append(services.publish_case(trainer, case.pk))
    course = services.publish_course(
        trainer, services.make_course(trainer, title="上岗引导", case_ids=[c.pk for c in cases], stage="onboarding").pk
    )
    services.make_plan(
        trainer, name="新办理员上岗引导", role="unit_handler", stage="onboarding", course_ids=[course.pk]
    )

    newcomer = people("jw_newcomer")
    page = newcomer.page
    newcomer.go("/training/")
    assert "上岗第 3 天" in page.content()
    page.click("text=开始这个计划")
    assert "报名该计划的 1 门课程" in page.content()
    page.click(f"a[href='/training/courses/{course.pk}/']")
    for n, case in enumerate(cases):
        page.click(f"text={case.title}")
        page.select_option("#category", "010201")
        page.select_option("#unit", JIANWAI)
        page.select_option("#time_limit_class", "ordinary")
        page.fill("#reply", "已致电联系诉求人，到现场核实后安排清运处理，后续将加强巡查。")
        page.click("text=提交并查看实际结果")
        page.wait_for_selector("#outcome")
        assert f"专家点评：{case.title}" in page.text_content("#outcome")
        assert "/ 100" in page.text_content("#result")
        if n == 0:
            newcomer.shot("training-practice-result")
        page.click("text=下一个案例" if n < len(cases) - 1 else "text=返回课程")
    assert "已完成" in page.content() or "完成" in page.content()
    page.click("text=现在填写")
    for code in ("a1", "a2", "a3", "m1", "m2", "m3", "e1", "e2", "e3"):
        page.check(f"input[name={code}][value='4']")
    page.click("button:has-text('提交')")
    assert "作答已记录" in page.content()


def test_a_leader_receives_a_care_alert_and_records_a_talk(w: World, people: Any) -> None:  # noqa: F811
    CareSettings.objects.create(effective_from=dt.date(2020, 1, 1), load_min=2, load_ratio=2.0, min_signals=1)
    for _ in range(2):
        ticket_in(w, "accepted")
    (alert,) = services.scan(unit=w.jw_handler.membership.unit)
    process_outbox(clock.now())  # the worker's outbox step: the alert becomes the leader's notification
    leader = people("jw_leader")
    page = leader.page
    leader.go("/care/")
    assert "在手工单高于本单位中位数" in page.text_content("#alerts")
    page.click("header a[href='/notifications/']")  # the badge in the header
    page.click("text=关怀提醒")
    assert page.url.endswith(f"/care/people/{w.jw_handler.pk}/#alert-{alert.pk}")
    page.fill("#topic", "工作量与休息安排")
    page.fill("#follow_up", "本周调两件工单给同事，周末轮休。")
    leader.shot("care-talk-form")
    page.click("text=记录谈心谈话")
    assert "谈心谈话已记录" in page.content() and "工作量与休息安排" in page.content()
    talk = TalkRecord.objects.get()
    assert talk.alert == alert and talk.leader == w.jw_leader
    peer = people("cw_handler")
    response = peer.go(f"/care/talks/{talk.pk}/")
    assert response.status == 404
