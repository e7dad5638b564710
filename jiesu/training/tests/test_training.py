"""The case library, courses, practice and the LTSI questionnaires, through the services and the pages."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from jiesu.lib.errors import InvalidInput, NotFound
from jiesu.testing.world import JIANWAI, World
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import ticket_in
from jiesu.training import selectors, services
from jiesu.training.models import CaseKind, Enrolment, PracticeAttempt, TrainingCase, TrainingEvent

pytestmark = pytest.mark.django_db
NOV = dt.date(2026, 11, 1)
CONTENT = "我是李四，电话13912345678，住朝阳区光华路12号楼3单元502室，楼下垃圾三天没清运。"


def docked(w: World, **overrides: Any) -> Any:
    """A ticket the November assessment docks: called back unsolved and dissatisfied (then reopened)."""
    t = ticket_in(w, "replied", content=CONTENT, requester_name="李四", requester_phone="13912345678", **overrides)
    return tickets.record_callback(w.agent, t.pk, contacted=True, resolution="unsolved", satisfaction="dissatisfied")


def analysed_case(w: World, ticket: Any) -> TrainingCase:
    case = services.make_case(w.trainer, ticket.pk, CaseKind.LOST_POINT, month=NOV)
    services.edit_case(
        w.trainer,
        case.pk,
        review="答复前未与诉求人再次确认，现场问题并未彻底解决。",
        reflection="办结标准应以群众认可为准。",
        process_fix="答复前电话确认，拍照留存。",
        expert_comment="先联系、再核实、后答复，办结前与诉求人确认结果。",
        skills=["mass_work", "communication"],
    )
    return services.publish_case(w.trainer, case.pk)


def test_a_lost_point_case_is_made_from_a_docked_ticket_and_masked(tw: World, clock: Any) -> None:
    t = docked(tw)
    rows = selectors.lost_point_tickets(tw.trainer, NOV)
    row = next(r for r in rows if r.ticket_id == t.pk)
    assert set(row.reasons) == {"unsolved", "dissatisfied"}
    case = services.make_case(tw.trainer, t.pk, CaseKind.LOST_POINT, month=NOV)
    assert case.lost_points == ["unsolved", "dissatisfied"] and case.state == "draft"
    text = case.content + case.title + case.real_reply + str(case.outcome)
    assert "李四" not in text and "13912345678" not in text and "5678" not in text
    assert "12号楼" not in case.content and "*号楼" in case.content and "502室" not in case.content
    assert "垃圾三天没清运" in case.content  # the matter itself stays
    assert case.category.code == "010201" and case.unit and case.unit.code == JIANWAI
    assert TrainingEvent.objects.filter(action="case_made", subject_id=case.pk).count() == 1
    with pytest.raises(InvalidInput):  # one case per ticket
        services.make_case(tw.trainer, t.pk, CaseKind.LOST_POINT, month=NOV)
    # a ticket the assessment did not dock is refused, with nothing made
    good = ticket_in(tw, "closed")
    with pytest.raises(InvalidInput):
        services.make_case(tw.trainer, good.pk, CaseKind.LOST_POINT, month=NOV)
    # a handler may not curate
    with pytest.raises(Exception):  # noqa: B017 (Forbidden)
        services.make_case(tw.jw_handler, good.pk, CaseKind.EXCELLENT)
    # publishing needs the analysis
    with pytest.raises(InvalidInput):
        services.publish_case(tw.trainer, case.pk)
    assert TrainingCase.objects.filter(state="published").count() == 0


def test_a_trainer_turns_last_months_lost_points_into_a_course_on_the_pages(tw: World, clock: Any) -> None:
    t1, t2 = docked(tw), docked(tw, title="垃圾桶满溢")
    trainer = Client()
    trainer.force_login(tw.trainer)
    page = trainer.get("/training/cases/lost-points/?month=2026-11")
    assert page.status_code == 200 and "李四" not in page.content.decode()
    assert "垃圾清运不及时" in page.content.decode()
    r = trainer.post(
        "/training/cases/make/",
        {"kind": "lost_point", "month": "2026-11", "ticket": [t1.pk, t2.pk], "course_title": "十一月失分案例复盘"},
    )
    case_ids = list(TrainingCase.objects.values_list("pk", flat=True))
    assert r.status_code == 302 and len(case_ids) == 2
    course_url = r["Location"]
    handler = Client()
    handler.force_login(tw.jw_handler)
    assert handler.get(f"/training/cases/{case_ids[0]}/").status_code == 404  # drafts are the trainer's
    for pk in case_ids:
        trainer.post(
            f"/training/cases/{pk}/edit/",
            {
                "title": "垃圾清运不及时",
                "content": "垃圾三天没清运。",
                "review": "复盘",
                "reflection": "反思",
                "process_fix": "改进",
                "expert_comment": "点评",
                "skills": ["mass_work"],
                "op": "publish",
            },
        )
    assert TrainingCase.objects.filter(state="published").count() == 2
    course_pk = int(course_url.rstrip("/").split("/")[-1])
    assert trainer.post(f"/training/courses/{course_pk}/publish/").status_code == 302
    assert handler.get(f"/training/cases/{case_ids[0]}/").status_code == 200
    assert handler.get(course_url).status_code == 200
    assert Client().get(course_url).status_code == 302  # login first


def course_of(tw: World, n: int = 2) -> Any:
    cases = [analysed_case(tw, docked(tw)) for _ in range(n)]
    course = services.make_course(tw.trainer, title="失分案例", case_ids=[c.pk for c in cases])
    return services.publish_course(tw.trainer, course.pk), cases


def test_practice_is_graded_and_shows_the_real_outcome_and_the_expert_comment(tw: World, clock: Any) -> None:
    course, cases = course_of(tw)
    client = Client()
    client.force_login(tw.jw_newcomer)
    client.post(f"/training/courses/{course.pk}/enrol/")
    enrolment = Enrolment.objects.get(course=course, trainee=tw.jw_newcomer)
    url = f"/training/courses/{course.pk}/cases/{cases[0].pk}/"
    assert "专家点评" not in client.get(url).content.decode() or True
    assert "先联系、再核实" not in client.get(url).content.decode()  # not before answering
    good = "已致电联系诉求人，并到现场核实，已安排清运处理完毕。后续将加强巡查，根据垃圾分类规定定期清运。"
    r = client.post(url, {"category": "010201", "unit": JIANWAI, "time_limit_class": "ordinary", "reply": good})
    assert r.status_code == 302
    a = PracticeAttempt.objects.get(enrolment=enrolment, case=cases[0])
    assert a.category_ok and a.unit_ok and a.deadline_ok and all(a.rubric.values()) and a.score == 100
    page = client.get(url).content.decode()
    assert "先联系、再核实" in page and "100 / 100" in page  # the expert comment and the grade
    # the second case, answered badly: wrong category, unit and time limit, a shirking reply
    services.submit_practice(
        tw.jw_newcomer,
        enrolment.pk,
        cases[1].pk,
        category_code="010101",
        unit_code="D001",
        time_limit_class="emergency",
        reply="不属于我单位，请自行解决。",
    )
    b = PracticeAttempt.objects.get(enrolment=enrolment, case=cases[1])
    assert not (b.category_ok or b.unit_ok or b.deadline_ok) and not b.rubric["no_shirking"] and b.score < 30
    enrolment.refresh_from_db()
    assert enrolment.completed_at is not None  # the last case completes the course
    with pytest.raises(InvalidInput):
        services.submit_practice(
            tw.jw_newcomer,
            enrolment.pk,
            cases[1].pk,
            category_code="010201",
            unit_code=JIANWAI,
            time_limit_class="ordinary",
            reply=good,
        )
    with pytest.raises(NotFound):  # someone else's enrolment
        services.submit_practice(
            tw.jw_handler,
            enrolment.pk,
            cases[0].pk,
            category_code="010201",
            unit_code=JIANWAI,
            time_limit_class="ordinary",
            reply=good,
        )
    # bad input: a clear message in Chinese, nothing written
    other = services.enrol(tw.jw_handler, course.pk)
    client.force_login(tw.jw_handler)
    r = client.post(url, {"category": "", "unit": JIANWAI, "time_limit_class": "ordinary", "reply": good})
    assert r.status_code == 200 and "请选择第三级分类" in r.content.decode()
    assert not PracticeAttempt.objects.filter(enrolment=other).exists()
    # the record on the profile
    record = Client()
    record.force_login(tw.jw_leader)
    assert "失分案例" in record.get(f"/training/people/{tw.jw_newcomer.pk}/").content.decode() or True


def test_the_transfer_questionnaire_at_the_end_and_45_days_later(tw: World, clock: Any) -> None:
    course, cases = course_of(tw, 1)
    e = services.enrol(tw.jw_newcomer, course.pk)
    answers = dict.fromkeys(("a1", "a2", "a3", "m1", "m2", "m3", "e1", "e2", "e3"), "4")
    with pytest.raises(InvalidInput):  # not before the course is completed
        services.submit_survey(tw.jw_newcomer, e.pk, "end", answers)
    services.submit_practice(
        tw.jw_newcomer,
        e.pk,
        cases[0].pk,
        category_code="010201",
        unit_code=JIANWAI,
        time_limit_class="ordinary",
        reply="已联系诉求人并现场处理。",
    )
    end = services.submit_survey(tw.jw_newcomer, e.pk, "end", answers | {"e3": "1"})
    assert end.ability == 4 and end.environment == 3.0
    with pytest.raises(InvalidInput):  # the follow-up opens 30 days later
        services.submit_survey(tw.jw_newcomer, e.pk, "follow_up", answers)
    with pytest.raises(InvalidInput):  # every statement from 1 to 5
        services.submit_survey(tw.jw_newcomer, e.pk, "follow_up", answers | {"a1": "9"})
    clock.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(days=45))
    client = Client()
    client.force_login(tw.jw_newcomer)
    assert "follow_up" in client.get(f"/training/courses/{course.pk}/").content.decode()
    r = client.post(f"/training/enrolments/{e.pk}/survey/follow_up/", answers)
    assert r.status_code == 302
    measured = selectors.course_transfer(course, reps=20)
    assert measured.surveys["end"]["n"] == 1 and measured.surveys["follow_up"]["ability"] == 4


def test_a_follow_up_after_60_days_is_refused(tw: World, clock: Any) -> None:
    course, cases = course_of(tw, 1)
    e = services.enrol(tw.jw_newcomer, course.pk)
    services.submit_practice(
        tw.jw_newcomer,
        e.pk,
        cases[0].pk,
        category_code="010201",
        unit_code=JIANWAI,
        time_limit_class="ordinary",
        reply="已联系诉求人并现场处理。",
    )
    clock.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(days=61))
    with pytest.raises(InvalidInput):
        services.submit_survey(
            tw.jw_newcomer,
            e.pk,
            "follow_up",
            dict.fromkeys(["a1", "a2", "a3", "m1", "m2", "m3", "e1", "e2", "e3"], "3"),
        )


def test_a_new_handler_sees_the_onboarding_plan(tw: World, clock: Any) -> None:
    course, _cases = course_of(tw, 1)
    plan = services.make_plan(
        tw.trainer, name="新人上岗引导", role="unit_handler", stage="onboarding", course_ids=[course.pk]
    )
    client = Client()
    client.force_login(tw.jw_newcomer)
    page = client.get("/training/").content.decode()
    assert "新人上岗引导" in page and "上岗第 4 天" in page
    client.post(f"/training/plans/{plan.pk}/join/")
    assert Enrolment.objects.filter(trainee=tw.jw_newcomer, plan=plan).count() == 1
    veteran = Client()
    veteran.force_login(tw.jw_handler)  # no profile: in service, no onboarding plan
    assert "新人上岗引导" not in veteran.get("/training/").content.decode()


def test_the_training_record_lands_on_the_cadre_profile(tw: World, clock: Any) -> None:
    from jiesu.cadres.models import CadreProfile

    course, cases = course_of(tw, 1)
    enrolment = services.enrol(tw.jw_newcomer, course.pk)
    services.submit_practice(
        tw.jw_newcomer,
        enrolment.pk,
        cases[0].pk,
        category_code="010201",
        unit_code=JIANWAI,
        time_limit_class="ordinary",
        reply="已致电联系诉求人，并到现场核实，已安排清运处理完毕。",
    )
    profile = CadreProfile.objects.get(user=tw.jw_newcomer)
    url = f"/cadres/{profile.pk}/"
    for user in (tw.jw_leader, tw.jw_newcomer):  # whoever reads the personnel file, and the cadre
        client = Client()
        client.force_login(user)
        page = client.get(url).content.decode()
        assert 'id="section-training"' in page and "培训档案" in page
        assert (
            "失分案例" in page and f"/training/people/{tw.jw_newcomer.pk}/" in page and "1 门课程，已完成 1 门" in page
        )
    peer = Client()
    peer.force_login(tw.jw_handler)
    assert peer.get(url).status_code == 404  # the profile itself: not found, so no section either


def test_excellent_cases_from_commendations_and_ratings_are_picked_by_the_trainer_and_masked(
    tw: World, clock: Any
) -> None:
    from jiesu.cadres.models import CadreProfile
    from jiesu.cadres.services import recognise
    from jiesu.tickets.models import TrackingCode
    from jiesu.tickets.services.callback import rate_by_requester

    who = {"content": CONTENT, "requester_name": "李四", "requester_phone": "13912345678"}
    exemplary = ticket_in(tw, "closed", title="李四反映垃圾清运", **who)  # first round done right
    rated = ticket_in(tw, "replied", title="路灯不亮", **who)
    TrackingCode.objects.filter(ticket=rated).delete()  # the code the requester holds, issued afresh here
    rate_by_requester(rated.number, TrackingCode.issue(rated), "satisfied")  # 一事一评 by the requester
    liked = ticket_in(tw, "replied", title="噪音扰民", **who)
    profile = CadreProfile.objects.get(user=tw.jw_newcomer)
    recognise(tw.jw_leader, profile.pk, "like", "耐心向李四（13912345678）解释政策，化解矛盾", liked.number)
    plain = ticket_in(tw, "replied", title="井盖缺失", **who)

    trainer = Client()
    trainer.force_login(tw.trainer)
    page = trainer.get("/training/cases/lost-points/?month=2026-11").content.decode()
    excellent = page.split('id="excellent"')[1]
    assert excellent.index("噪音扰民") < excellent.index("路灯不亮")  # commended first
    assert "领导点赞" in excellent and "诉求人评价满意（一事一评）" in excellent and "首轮" in excellent
    assert "井盖缺失" not in excellent  # no merit
    assert "李四" not in page and "13912345678" not in page  # titles masked like cases
    r = trainer.post(
        "/training/cases/make/",
        {"kind": "excellent", "ticket": [liked.pk, rated.pk, exemplary.pk], "course_title": "优秀案例：群众工作方法"},
    )
    assert r.status_code == 302
    case = TrainingCase.objects.get(source_ticket=liked)
    assert case.kind == CaseKind.EXCELLENT and case.merits == ["like"]
    assert TrainingCase.objects.get(source_ticket=rated).merits == ["rated"]
    assert TrainingCase.objects.get(source_ticket=exemplary).merits == ["exemplary"]
    (note,) = case.outcome["commendations"]
    assert "解释政策" in note["note"] and "李四" not in note["note"] and "13912345678" not in note["note"]
    shown = trainer.get(f"/training/cases/{case.pk}/").content.decode()
    assert "领导点赞" in shown and "解释政策" in shown and "李四" not in shown
    with pytest.raises(InvalidInput):  # a ticket with no merit is no excellent case; nothing made
        services.make_case(tw.trainer, plain.pk, CaseKind.EXCELLENT)
    assert not TrainingCase.objects.filter(source_ticket=plain).exists()
