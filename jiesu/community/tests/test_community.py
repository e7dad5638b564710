"""Party members serving their home community, through the HTTP pages the staff, members and residents use, the
worker's tick and the services. The clock is moved, never waited for."""

import datetime as dt
import re
from typing import Any

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jiesu.community import matching, services
from jiesu.community.models import (
    CallOut,
    CommunityEvent,
    CommunityTask,
    Compound,
    Demand,
    DemandState,
    PartyMember,
    PointEntry,
    RegistrationState,
    ShiftSignUp,
    TaskOffer,
    TaskState,
)
from jiesu.demo.community import ensure_communities
from jiesu.lib import clock as jclock
from jiesu.notify.models import Notification
from jiesu.notify.outbox import process_outbox
from jiesu.operations.worker import tick
from jiesu.orgs.models import OrgUnit
from jiesu.testing.images import png
from jiesu.testing.world import World
from jiesu.tickets.tests.helpers import ticket_in


def community_notes(action: str, **more: Any) -> Any:
    """The notifications made from the community's events of one action (the generic source "community")."""
    events = CommunityEvent.objects.filter(action=action).values("pk")
    return Notification.objects.filter(source="community", source_id__in=events, **more)


pytestmark = pytest.mark.django_db
GHL = "110105001001"  # 光华里社区 (demo), under 建外街道


@pytest.fixture
def town(world: World, clock: Any) -> dict[str, Any]:
    ensure_communities()
    unit = OrgUnit.objects.get(code=GHL)
    compounds = {c.name: c for c in Compound.objects.filter(community=unit)}
    worker = get_user_model().objects.get(username="sq_worker")
    return {"unit": unit, "compounds": compounds, "worker": worker}


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def register(
    town: dict[str, Any], name: str, phone: str, skills: list[str], compound: str, **extra: Any
) -> PartyMember:
    data = {
        "name": name,
        "phone": phone,
        "work_unit_name": extra.pop("work_unit_name", "朝阳区教育委员会"),
        "compound": town["compounds"][compound].pk,
        "skills": skills,
        "slots": extra.pop("slots", 63),
    } | extra
    response = login(town["worker"]).post(f"/community/{GHL}/members/", data, follow=True)
    assert response.status_code == 200, response.content.decode()[:500]
    return PartyMember.objects.get(community=town["unit"], phone=phone)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_registry_register_report_confirm_and_scope(town: dict[str, Any], world: World) -> None:
    worker = login(town["worker"])
    response = worker.post(
        f"/community/{GHL}/members/",
        {
            "name": "王建国",
            "phone": "13900001111",
            "work_unit_name": "",
            "work_unit_code": "C004",
            "is_leading_cadre": "1",
            "compound": town["compounds"]["光华里小区"].pk,
            "skills": ["repair", "digital"],
            "slots": ["4", "8"],
        },
        follow=True,
    )
    member = PartyMember.objects.get(phone="13900001111")
    assert member.state == RegistrationState.CONFIRMED and member.work_unit and member.work_unit.code == "C004"
    assert member.work_unit_name == "北京市热力集团有限责任公司" and member.slots == 12 and member.is_leading_cadre
    password = re.search(r"一次性密码：(\S+)（", " ".join(messages_of(response)))
    assert password, messages_of(response)
    assert Client().login(username="13900001111", password=password.group(1))
    # the list masks the phone
    page = worker.get(f"/community/{GHL}/members/").content.decode()
    assert "139****1111" in page and "13900001111" not in page

    # the same phone again: refused in Chinese, nothing written
    again = worker.post(
        f"/community/{GHL}/members/",
        {"name": "王建国", "phone": "139-0000-1111", "work_unit_name": "x", "skills": ["repair"]},
    )
    assert again.status_code == 400 and "该手机号已在本社区报到" in again.content.decode()
    assert PartyMember.objects.filter(phone="13900001111").count() == 1

    # a member reports on the phone page (no login); the community confirms, then the login works
    anon = Client()
    done = anon.post(
        "/m/register/",
        {
            "community": GHL,
            "name": "李芳",
            "phone": "13900002222",
            "work_unit_name": "北京协和医院",
            "skills": ["medical"],
            "slots": ["16"],
        },
    )
    assert done.status_code == 200 and "确认" in done.content.decode()
    pending = PartyMember.objects.get(phone="13900002222")
    assert pending.state == RegistrationState.PENDING and pending.user is None
    bad = anon.post(
        "/m/register/", {"community": GHL, "name": "李四", "phone": "12", "work_unit_name": "x", "skills": ["medical"]}
    )
    assert bad.status_code == 400 and "请输入 7 到 20 位数字的电话号码" in bad.content.decode()
    stale = worker.post(f"/community/{GHL}/members/confirm/", {"member": pending.pk, "version": 99}, follow=True)
    assert "其他人同时修改" in " ".join(messages_of(stale))
    ok = worker.post(
        f"/community/{GHL}/members/confirm/", {"member": pending.pk, "version": pending.version}, follow=True
    )
    pending.refresh_from_db()
    assert pending.state == RegistrationState.CONFIRMED and pending.user is not None
    assert "一次性密码" in " ".join(messages_of(ok))
    events = CommunityEvent.objects.filter(subject="member", subject_id=pending.pk).values_list(
        "action", "from_state", "to_state"
    )
    assert list(events) == [("report", "", "pending"), ("confirm", "pending", "confirmed")]

    # branches per compound
    worker.post(f"/community/{GHL}/members/branches/")
    assert "光华里小区临时党支部" in worker.get(f"/community/{GHL}/members/").content.decode()

    # scope: the street above runs it; another street and a department do not see it
    assert login(world.jw_handler).get(f"/community/{GHL}/members/").status_code == 200
    assert login(world.cw_handler).get(f"/community/{GHL}/members/").status_code == 404
    assert login(world.cgw_handler).get(f"/community/{GHL}/members/").status_code == 404
    assert login(world.cw_handler).post(f"/community/{GHL}/members/confirm/", {"member": pending.pk}).status_code == 404


def test_wish_to_rated_task_with_points_and_quarterly_reports(town: dict[str, Any], world: World, clock: Any) -> None:
    near = register(
        town, "王建国", "13900000001", ["repair", "digital"], "光华里小区", work_unit_code="C004", is_leading_cadre="1"
    )
    far = register(town, "张伟", "13900000002", ["repair"], "建外SOHO")
    register(town, "陈静", "13900000003", ["tutoring"], "光华里小区")
    anon = Client()

    # the demand boundary: a staff duty is kept but refused with the reason, never published
    duty = anon.post(
        "/wish/",
        {
            "community": GHL,
            "title": "开具居住证明",
            "text": "孩子上学需要居住证明盖章",
            "resident_name": "刘阿姨",
            "resident_phone": "13600000009",
        },
    )
    assert "社区工作人员的职责" in duty.content.decode()
    refused = Demand.objects.get(title="开具居住证明")
    assert refused.state == DemandState.REFUSED and "开具证明" in refused.refusal_reason

    wish = anon.post(
        "/wish/",
        {
            "community": GHL,
            "compound": town["compounds"]["光华里小区"].pk,
            "title": "修理滴水的水龙头",
            "text": "厨房水龙头一直滴水",
            "resident_name": "李大爷",
            "resident_phone": "13600001234",
            "idempotency_key": "k1",
        },
    )
    demand = Demand.objects.get(title="修理滴水的水龙头")
    assert demand.number in wish.content.decode() and demand.source == "resident"
    anon.post(
        "/wish/",
        {
            "community": GHL,
            "title": "修理滴水的水龙头",
            "text": "厨房水龙头一直滴水",
            "resident_name": "李大爷",
            "resident_phone": "13600001234",
            "idempotency_key": "k1",
        },
    )
    assert Demand.objects.filter(title="修理滴水的水龙头").count() == 1  # the same form twice

    worker = login(town["worker"])
    assert "李**" in worker.get(f"/community/{GHL}/demands/").content.decode()  # the list masks the resident
    published = worker.post(
        f"/community/demand/{demand.pk}/publish/",
        {"skill": "repair", "needed": 1, "version": demand.version},
        follow=True,
    )
    task = CommunityTask.objects.get(demand=demand)
    offers = list(TaskOffer.objects.filter(task=task).order_by("rank").values_list("member__name", flat=True))
    assert offers == ["王建国", "张伟"]  # skill first (陈静 cannot repair), then the same compound
    assert "王建国" in published.content.decode()
    assert task.state == TaskState.OPEN and task.claim_by == jclock.now() + dt.timedelta(hours=24)
    process_outbox(jclock.now())
    assert community_notes(user=near.user, action="offer").exists()

    # the member's phone page: recommended → claim; the other shortlisted member is too late
    phone = login(near.user)
    assert "修理滴水的水龙头" in phone.get("/m/").content.decode()
    clock.shift(dt.timedelta(hours=2))
    phone.post(f"/m/task/{task.pk}/", {"op": "claim"})
    task.refresh_from_db()
    assert task.state == TaskState.CLAIMED
    late = login(far.user).post(f"/m/task/{task.pk}/", {"op": "claim"}, follow=True)
    assert "不再开放认领" in " ".join(messages_of(late))
    # the resident's phone is shown to the claimant only
    assert "13600001234" in phone.get(f"/m/task/{task.pk}/").content.decode()
    assert "13600001234" not in login(far.user).get(f"/m/task/{task.pk}/").content.decode()

    # service record with a photo; a bad record first (hours) changes nothing
    bad = phone.post(f"/m/task/{task.pk}/", {"op": "record", "hours": "30", "note": "x"}, follow=True)
    assert "请填写所用时长" in " ".join(messages_of(bad))
    clock.shift(dt.timedelta(days=1))
    photo = SimpleUploadedFile("fix.png", png(), content_type="image/png")
    phone.post(f"/m/task/{task.pk}/", {"op": "record", "hours": "2", "note": "换了阀芯，不再滴水", "photo": photo})
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.claims.get().photo
    assert Demand.objects.get(pk=demand.pk).state == DemandState.DONE

    # the resident rates it on the tracking page (number + last four digits)
    wrong = anon.get("/wish/track/", {"number": demand.number, "tail": "0000"})
    assert "修理滴水的水龙头" not in wrong.content.decode()
    anon.post("/wish/track/", {"number": demand.number, "tail": "1234", "stars": "5", "comment": "很及时"})
    task.refresh_from_db()
    assert task.state == TaskState.RATED and task.rating.stars == 5
    again = anon.post("/wish/track/", {"number": demand.number, "tail": "1234", "stars": "1"}, follow=True)
    assert "尚未评价" in " ".join(messages_of(again)) and task.rating.stars == 5

    # points: 10 per service + 2 per hour + 5 for five stars (the city-wide rules)
    assert list(PointEntry.objects.filter(member=near).values_list("reason", "points")) == [
        ("service", 10),
        ("hours", 4),
        ("rating", 5),
    ]
    points = phone.get("/m/points/").content.decode()
    assert ">19<" in points and "2026Q4" in points

    # corrections are new entries; the ledger is never edited
    entry = PointEntry.objects.get(member=near, reason="hours")
    worker.post(f"/community/member/{near.pk}/", {"entry": entry.pk, "points": "-2", "note": "时长按 1 小时计"})
    assert PointEntry.objects.get(pk=entry.pk).points == 4
    correction = PointEntry.objects.get(corrects=entry)
    assert correction.points == -2 and correction.reason == "correction"
    with pytest.raises(Exception, match="immutable"):
        entry.delete()

    # the quarterly reports: community, member (cadre), work unit (双重考核 for 热力集团's leader)
    report = worker.get(f"/community/{GHL}/report/?q=2026Q4")
    row = next(r for r in report.context["rows"] if r.member.pk == near.pk)
    assert (row.served, row.hours, row.mean_stars, row.points) == (1, 2, 5.0, 17)
    assert report.context["totals"]["served"] == 1
    unit_report = login(world.heat_leader).get("/work-unit/community-report/?q=2026Q4")
    assert [r.member.name for r in unit_report.context["rows"]] == ["王建国"]
    assert "领导干部" in unit_report.content.decode()
    assert login(world.heat_handler).get("/work-unit/community-report/").status_code == 404
    assert worker.get(f"/community/{GHL}/report/?q=2026Q3").context["totals"]["served"] == 0


def test_over_claiming_is_prevented(town: dict[str, Any]) -> None:
    busy = register(town, "王建国", "13900000001", ["general", "repair"], "光华里小区")
    worker = town["worker"]
    tasks = []
    for i in range(services.MAX_OPEN_CLAIMS + 1):
        demand = services.submit_demand(
            worker,
            town["unit"],
            {
                "source": "visit",
                "title": f"帮忙{i}",
                "text": "帮个忙",
                "resident_name": "甲",
                "resident_phone": "13600000000",
            },
        )
        tasks.append(services.publish_demand(worker, demand.pk, "repair", needed=2))
    phone = login(busy.user)
    for task in tasks[:-1]:
        phone.post(f"/m/task/{task.pk}/", {"op": "claim"})
    refused = phone.post(f"/m/task/{tasks[-1].pk}/", {"op": "claim"}, follow=True)
    assert "尚未完成的任务" in " ".join(messages_of(refused))
    twice = phone.post(f"/m/task/{tasks[0].pk}/", {"op": "claim"}, follow=True)
    assert "已经认领" in " ".join(messages_of(twice))
    assert CommunityTask.objects.get(pk=tasks[0].pk).state == TaskState.OPEN  # needs two members


def test_unclaimed_task_escalates_and_is_matched_again(town: dict[str, Any], clock: Any) -> None:
    for i in range(6):
        register(town, f"党员{i}", f"1390000010{i}", ["elderly"], "光华东里")
    worker = town["worker"]
    demand = services.submit_demand(
        worker,
        town["unit"],
        {
            "source": "wish_box",
            "title": "陪老人聊天",
            "text": "独居老人",
            "resident_name": "甲",
            "resident_phone": "13600000000",
        },
    )
    task = services.publish_demand(worker, demand.pk, "elderly")
    first = set(task.offers.values_list("member_id", flat=True))
    assert len(first) == 3
    clock.shift(dt.timedelta(hours=23))
    tick()
    assert CommunityTask.objects.get(pk=task.pk).state == TaskState.OPEN
    clock.shift(dt.timedelta(hours=2))
    tick()
    assert CommunityTask.objects.get(pk=task.pk).state == TaskState.ESCALATED
    assert community_notes(user=worker, action="escalate").exists()
    page = login(worker).get("/notifications/").content.decode()
    assert "退回社区" in page
    login(worker).post(f"/community/task/{task.pk}/rematch/")
    task.refresh_from_db()
    second = set(task.offers.values_list("member_id", flat=True)) - first
    assert task.state == TaskState.OPEN and len(second) == 3
    assert list(task.offers.order_by("rank").values_list("rank", flat=True)) == [1, 2, 3, 4, 5, 6]


def test_hotline_request_passed_to_the_demand_list(town: dict[str, Any], world: World) -> None:
    ticket = ticket_in(world, "accepted")
    street = login(world.jw_handler)  # 建外街道 leads the ticket and runs 光华里社区
    street.post(f"/community/{GHL}/demands/", {"ticket": ticket.number, "skill": "environment"})
    demand = Demand.objects.get(source_ticket=ticket)
    assert demand.source == "hotline" and demand.community.code == GHL and demand.skill.code == "environment"
    again = street.post(f"/community/{GHL}/demands/", {"ticket": ticket.number}, follow=True)
    assert "已在需求清单" in " ".join(messages_of(again))
    # the community worker has no access to the ticket (never dispatched to the community)
    denied = login(town["worker"]).post(f"/community/{GHL}/demands/", {"ticket": ticket.number}, follow=True)
    assert "没有这个工单" in " ".join(messages_of(denied))


def test_callout_fills_its_shifts_with_live_coverage_and_attendance(town: dict[str, Any]) -> None:
    members = [register(town, f"党员{i}", f"1390000020{i}", ["patrol"], "光华里小区") for i in range(4)]
    worker = login(town["worker"])
    bad = worker.post(
        f"/community/{GHL}/callouts/",
        {
            "title": "防汛",
            "reason": "暴雨",
            "role0": "值守",
            "place0": "桥下",
            "day0": "2026-11-18",
            "start0": "08:00",
            "end0": "x",
            "needed0": "2",
        },
    )
    assert bad.status_code == 400 and "第 1 个班次" in bad.content.decode()
    worker.post(
        f"/community/{GHL}/callouts/",
        {
            "title": "暴雨防汛值守",
            "reason": "暴雨橙色预警",
            "role0": "低洼点位值守",
            "place0": "光华路下穿桥",
            "day0": "2026-11-18",
            "start0": "08:00",
            "end0": "12:00",
            "needed0": "2",
            "role1": "转移老人",
            "place1": "光华里小区",
            "day1": "2026-11-18",
            "start1": "10:00",
            "end1": "14:00",
            "needed1": "1",
        },
    )
    callout = CallOut.objects.get(community=town["unit"])
    shifts = list(callout.shifts.order_by("starts_at"))
    process_outbox(jclock.now())
    assert community_notes(action="call").count() == 4
    phones = [login(m.user) for m in members]
    for p in phones[:2]:
        p.post("/m/callouts/", {"shift": shifts[0].pk})
    full = phones[2].post("/m/callouts/", {"shift": shifts[0].pk}, follow=True)
    assert "班次已满" in " ".join(messages_of(full))
    overlap = phones[0].post("/m/callouts/", {"shift": shifts[1].pk}, follow=True)
    assert "同一时间" in " ".join(messages_of(overlap))
    phones[2].post("/m/callouts/", {"shift": shifts[1].pk})
    live = worker.get(f"/community/callout/{callout.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in live and live.count("2 / 2") == 1 and live.count("1 / 1") == 1
    signup = ShiftSignUp.objects.filter(shift=shifts[0]).first()
    assert signup is not None
    worker.post(f"/community/callout/{callout.pk}/attend/", {"signup": signup.pk, "present": "1"})
    assert PointEntry.objects.get(member=signup.member).points == 15
    worker.post(f"/community/callout/{callout.pk}/close/")
    closed = phones[3].post("/m/callouts/", {"shift": shifts[1].pk}, follow=True)
    assert messages_of(closed) == ["本次召集已结束。"]
    assert not ShiftSignUp.objects.filter(member=members[3]).exists()


def test_english_interface_gets_english_refusals(town: dict[str, Any]) -> None:
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.post(
        "/wish/",
        {"community": "nope", "title": "x", "text": "y", "resident_name": "a", "resident_phone": "13600000000"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "There is no such community." in response.content.decode()


def test_matching_prefers_skill_place_time_and_spreads_work() -> None:
    n = 6
    members = matching.Members(
        ids=np.arange(1, n + 1),
        community=np.ones(n, dtype=np.int64),
        skills=np.array([1, 1, 1, 1, 2, 1]),
        posts=np.array([0, 0, 0, 0, 0, 1]),
        compound=np.array([7, 7, 8, 8, 7, 9]),
        x=np.full(n, np.nan),
        y=np.full(n, np.nan),
        slots=np.array([4, 8, 4, 4, 4, 4]),
        load=np.zeros(n),
        served=np.zeros(n),
        rating_sum=np.zeros(n),
        rating_n=np.zeros(n),
    )
    demands = matching.Demands(
        ids=np.array([1]),
        community=np.array([1]),
        skill=np.array([0]),
        compound=np.array([7]),
        x=np.array([np.nan]),
        y=np.array([np.nan]),
        slots=np.array([4]),
    )
    found = matching.match(members, demands, explain=True)
    assert found.shortlists[0][0] == 1  # skill, same compound, the right time
    assert 5 not in found.shortlists[0]  # no skill, never
    many = matching.Demands(**{k: np.repeat(v, 12) for k, v in vars(demands).items()})
    firsts = [s[0] for s in matching.match(members, many).shortlists]
    assert len(set(firsts)) >= 3  # fairness spreads the first places
    more = matching.Demands(**{k: np.repeat(v, 15) for k, v in vars(demands).items()})
    naive = [s[0] for s in matching.first_come(members, more).shortlists]
    assert naive[:3] == [1, 1, 1] and 5 in naive  # first come: the earliest registrant, whatever the skill


def test_registration_never_takes_over_a_staff_login(town: dict[str, Any]) -> None:
    from jiesu.orgs.models import Role
    from jiesu.testing.world import JIANWAI, make_user

    staff = make_user("13900009999", Role.UNIT_HANDLER, JIANWAI)
    staff.set_password("staff-secret")
    staff.save()
    response = login(town["worker"]).post(
        f"/community/{GHL}/members/",
        {"name": "冒名", "phone": "13900009999", "work_unit_name": "x", "skills": ["repair"]},
    )
    assert response.status_code == 400 and "工作人员账号的登录名" in response.content.decode()
    assert not PartyMember.objects.filter(phone="13900009999").exists()  # the whole registration rolled back
    assert Client().login(username="13900009999", password="staff-secret")


def test_public_wish_page_is_rate_limited_per_address(town: dict[str, Any]) -> None:
    anon = Client()
    for _ in range(20):
        assert anon.post("/wish/", {"community": GHL, "title": "", "text": ""}).status_code == 400
    limited = anon.post("/wish/", {"community": GHL, "title": "x", "text": "y"})
    assert limited.status_code == 429 and "请求过于频繁" in limited.content.decode()
    assert not Demand.objects.exists()
