"""Proactive governance through its real interfaces: the services the worker calls, the HTTP pages, the JSON feed."""

import datetime as dt
import json
from typing import Any

import numpy as np
import pytest
from django.test import Client

from jiesu.catalog.models import KnowledgeEntry
from jiesu.demo.city import PLANTED, plant_hotspots
from jiesu.governance import forecast as fc
from jiesu.governance import services
from jiesu.governance.models import (
    GovernanceEvent,
    Hotspot,
    HotspotState,
    MonthlyTopic,
    ProactiveProposal,
    TopicState,
)
from jiesu.lib import clock
from jiesu.sla.calendar import day_kind
from jiesu.testing.world import World
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import new_ticket, ticket_in

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 17, 9, 0, tzinfo=clock.SHANGHAI)  # where the `clock` fixture starts


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def planted(world: World, clock: Any) -> list[Hotspot]:
    # A quiet background: a few unrelated requests over the previous weeks, then the planted clusters.
    for days in range(30, 2, -3):
        clock.move_to(START - dt.timedelta(days=days))
        new_ticket(world)
    clock.move_to(START)
    plant_hotspots(seed=7)
    services.refresh_hotspots()
    return list(Hotspot.objects.order_by("-heat"))


def test_planted_hotspots_are_found_with_their_place_and_category(planted: list[Hotspot]) -> None:
    found = {(h.street.code if h.street else None, h.category.code if h.category else None) for h in planted}
    for street, leaf, *_rest in PLANTED:
        assert (street, leaf) in found
    heating = next(h for h in planted if h.category and h.category.code == "020401")
    assert "光华" in heating.label and heating.state == HotspotState.EMERGING
    assert heating.volume == heating.tickets.count() == 16 and heating.callers == 16
    assert heating.heat > 0 and heating.growth > 0
    # the background requests (垃圾清运, spread over weeks) make no hotspot
    assert not any(h.category and h.category.code == "010201" for h in planted)
    assert GovernanceEvent.objects.filter(subject="hotspot", action="open").count() == len(planted)


def test_a_hotspot_grows_then_fades_and_closes(world: World, planted: list[Hotspot], clock: Any) -> None:
    heating = next(h for h in planted if h.category and h.category.code == "020401")
    clock.move_to(START + dt.timedelta(hours=6))
    for n in range(6):  # more calls on the same matter: it grows
        new_ticket(
            world,
            title="光华里小区暖气不热",
            content=f"光华里小区{n + 3}号楼暖气不热，室温只有14度。",
            category_code="020401",
            requester_phone=f"1390000000{n}",
        )
    services.refresh_hotspots()
    heating.refresh_from_db()
    assert heating.state == HotspotState.GROWING and heating.size == 22
    clock.move_to(START + dt.timedelta(days=6))
    services.refresh_hotspots()
    heating.refresh_from_db()
    assert heating.state in {HotspotState.FADING, HotspotState.STEADY}
    clock.move_to(START + dt.timedelta(days=9))
    services.refresh_hotspots()
    heating.refresh_from_db()
    assert heating.state == HotspotState.CLOSED and heating.closed_at is not None
    states = list(heating.observations.values_list("state", flat=True))
    assert states[0] == "emerging" and "growing" in states and states[-1] == "closed"


def test_supervisor_turns_a_hotspot_into_a_monthly_topic_and_watches_it(
    world: World, planted: list[Hotspot], client: Client
) -> None:
    heating = next(h for h in planted if h.category and h.category.code == "020401")
    login(client, world.city_supervisor)
    page = client.get("/governance/hotspots/").content.decode()
    assert heating.label in page
    response = client.post(f"/governance/hotspots/{heating.pk}/topic/")
    topic = MonthlyTopic.objects.get(hotspot=heating)
    assert response.status_code == 302 and response["Location"] == f"/governance/topics/{topic.pk}/"
    assert topic.lead_unit.code == "110105001" and topic.category.code == "020401" and topic.state == TopicState.DRAFT

    base = f"/governance/topics/{topic.pk}"
    # starting without a task list is refused
    client.post(f"{base}/activate/", {"version": topic.version})
    topic.refresh_from_db()
    assert topic.state == TopicState.DRAFT
    steps = [
        (
            "task",
            {
                "title": "逐户入户测温，排查管网",
                "lead_unit": "C004",
                "cooperating": ["110105001", "D002"],
                "due_on": "2026-11-30",
            },
        ),
        ("policy", {"title": "供热质量投诉快速处置办法", "kind": "new", "issuer": "D002", "due_on": "2026-12-31"}),
        ("target", {"metric": "volume_change", "value": "-50", "by_date": "2027-03-31"}),
        ("milestone", {"title": "完成入户测温", "due_on": "2026-11-28"}),
    ]
    for op, data in steps:
        topic.refresh_from_db()
        assert client.post(f"{base}/{op}/", {**data, "version": topic.version}).status_code == 302
    topic.refresh_from_db()
    assert client.post(f"{base}/activate/", {"version": topic.version}).status_code == 302
    topic.refresh_from_db()
    assert topic.state == TopicState.ACTIVE
    # a stale form changes nothing
    page = client.post(
        f"{base}/task/",
        {"title": "重复提交", "lead_unit": "C004", "due_on": "2026-11-30", "version": topic.version - 1},
        follow=True,
    ).content.decode()
    assert "刚被他人修改" in page and topic.tasks.count() == 1
    page = client.get(f"{base}/").content.decode()
    for text in ("逐户入户测温", "热力集团", "供热质量投诉快速处置办法", "完成入户测温", "-50.0%", "16"):
        assert text in page
    # progress is measured from the requests in scope: 16 in the last 30 days, all of them in the baseline too
    from jiesu.governance.selectors import progress

    p = progress(topic)
    assert p.last_30 == 16 and p.baseline_per_30 == 16.0 and p.change == 0.0 and p.targets[0].met is False
    # a linked order shows its topic
    member = heating.tickets.first()
    assert topic.title in client.get(f"/tickets/{member.pk}/").content.decode()
    assert GovernanceEvent.objects.filter(subject="topic", subject_id=topic.pk).count() >= 6
    # no access for unit staff; a district supervisor sees only the district's topics
    assert login(Client(), world.jw_handler).get("/governance/topics/").status_code == 404
    assert topic.title not in login(Client(), world.hd_supervisor).get("/governance/topics/").content.decode()
    assert login(Client(), world.cy_supervisor).get(f"{base}/").status_code == 200


def test_topic_input_errors_come_back_in_chinese(world: World, client: Client, clock: Any) -> None:
    login(client, world.city_supervisor)
    page = client.post("/governance/topics/", {"title": "", "lead_unit": "C004"}, follow=True).content.decode()
    assert "不能为空" in page
    page = client.post("/governance/topics/", {"title": "供暖", "lead_unit": "NOPE"}, follow=True).content.decode()
    assert "未知单位" in page
    client.post("/governance/topics/", {"title": "供暖不热", "lead_unit": "C004", "category": "0204"})
    topic = MonthlyTopic.objects.get()
    page = client.post(
        f"/governance/topics/{topic.pk}/target/",
        {"metric": "volume_change", "value": "lots", "by_date": "2027-03-31", "version": topic.version},
        follow=True,
    ).content.decode()
    assert "目标值须为数字" in page and not topic.targets.exists()


def test_forecast_learns_weekdays_and_beats_last_week_on_a_seasonal_series() -> None:
    rng = np.random.default_rng(1)
    first = dt.date(2023, 1, 2)
    days = [first + dt.timedelta(days=i) for i in range(1050)]
    rate = np.array([(8 if d.weekday() < 5 else 3) * (3 if d.month in (11, 12) else 1) for d in days])
    y = rng.poisson(rate).astype(float)
    f = fc.forecast(y[:-14], first, 14)
    actual = y[-14:]
    assert len(f.days) == 14 and (f.low <= f.expected).all() and (f.expected <= f.high).all()
    assert fc.wape(actual, f.expected) < fc.wape(actual, fc.last_week(y[:-14]))
    # late November: the yearly factor carries the winter level, weekdays above weekends
    weekday = [e for d, e in zip(f.days, f.expected, strict=True) if d.weekday() < 5]
    weekend = [e for d, e in zip(f.days, f.expected, strict=True) if d.weekday() >= 5]
    assert min(weekday) > max(weekend)


def test_forecasts_propose_a_proactive_task_that_the_responsible_unit_decides(
    world: World, clock: Any, client: Client
) -> None:
    # Six quiet weeks of heating calls in Chaoyang (one a week), then a burst in the last week.
    for week in range(6, 0, -1):
        clock.move_to(START - dt.timedelta(days=7 * week))
        t = new_ticket(world, title="暖气不热", content="家里暖气不热。", category_code="020401")
        tickets.dispatch(world.dispatcher, t.pk)  # the catalogue sends heating to 热力集团
        tickets.accept(world.heat_handler, t.pk)
        tickets.reply(world.heat_handler, t.pk, "已修复。")
        tickets.record_callback(world.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied")
    for n in range(50):
        clock.move_to(START - dt.timedelta(hours=7 * 24 - 3 * n - 1))
        new_ticket(
            world,
            title="暖气不热",
            content=f"{n}号楼暖气不热。",
            category_code="020401",
            requester_phone=f"1380000{n:04d}",
        )
    clock.move_to(START)
    run = services.refresh_forecasts()
    assert run.series >= 1 and run.points == run.series * 14 and run.proposals == 1
    proposal = ProactiveProposal.objects.get()
    assert proposal.district.code == "110105" and proposal.category.code == "0204"
    assert proposal.unit.code == "C004"  # 热力集团 led the closed heating tickets of the district
    assert proposal.expected >= 10 and proposal.expected >= 1.5 * proposal.usual
    # the next day's run does not propose the same surge again
    assert services.refresh_forecasts().proposals == 0
    # the responsible unit sees and accepts it; another unit does not see it
    assert "暖气" not in login(Client(), world.jw_handler).get("/governance/proposals/").content.decode()
    login(client, world.heat_handler)
    assert proposal.reason in client.get("/governance/proposals/").content.decode()
    assert client.post(f"/governance/proposals/{proposal.pk}/accept/", {"note": "提前入户排查"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == "accepted" and proposal.decision_note == "提前入户排查"
    page = client.post(f"/governance/proposals/{proposal.pk}/dismiss/", {"note": "x"}, follow=True).content.decode()
    assert "已处理" in page
    assert GovernanceEvent.objects.filter(subject="proposal", action="accept", actor=world.heat_handler).exists()


def test_one_click_knowledge_entry_from_a_well_solved_ticket_and_chinese_search(
    world: World, client: Client, clock: Any
) -> None:
    solved = ticket_in(world, "closed", title="小区垃圾桶满溢无人清运")
    login(client, world.jw_leader)
    assert "加入知识库" in client.get(f"/tickets/{solved.pk}/").content.decode()
    response = client.post(f"/knowledge/from-ticket/{solved.pk}/", follow=True)
    entry = KnowledgeEntry.objects.get(source_ticket=solved.number)
    assert entry.owner_unit.code == "110105001" and entry.answer == "已清运完毕" and entry.is_active
    assert entry.valid_until == START.date() + dt.timedelta(days=365)
    assert f"已加入知识库：{entry.title}" in response.content.decode()
    again = client.post(f"/knowledge/from-ticket/{solved.pk}/", follow=True).content.decode()
    assert "已转入知识库" in again and KnowledgeEntry.objects.filter(source_ticket=solved.number).count() == 1
    # not solved → refused
    t = ticket_in(world, "replied")
    tickets.record_callback(world.agent, t.pk, contacted=True, resolution="unsolved", satisfaction="dissatisfied")
    t = ticket_in(world, "replied", title="另一件")
    tickets.record_callback(world.agent, t.pk, contacted=True, resolution="partly", satisfaction="satisfied")
    refused = client.post(f"/knowledge/from-ticket/{t.pk}/", follow=True).content.decode()
    assert "已解决" in refused and not KnowledgeEntry.objects.filter(source_ticket=t.number).exists()
    # the operator searches in Chinese while on the call; an expired entry is left out
    op = login(Client(), world.operator)
    page = op.get("/knowledge/", {"q": "垃圾桶满了没人清运"}).content.decode()
    assert entry.title in page
    clock.move_to(START + dt.timedelta(days=400))
    op = login(Client(), world.operator)
    assert entry.title not in op.get("/knowledge/", {"q": "垃圾桶满了没人清运"}).content.decode()
    assert entry.title in op.get("/knowledge/", {"q": "垃圾桶满了没人清运", "expired": "1"}).content.decode()
    # another unit's handler may not make entries
    other = ticket_in(world, "closed", title="再一件")
    assert login(Client(), world.hd_handler).post(f"/knowledge/from-ticket/{other.pk}/").status_code == 404


def test_dashboard_data_is_scoped_and_live(world: World, planted: list[Hotspot], client: Client) -> None:
    services.refresh_forecasts()
    login(client, world.city_supervisor)
    assert client.get("/dashboard/").status_code == 200
    data = json.loads(client.get("/dashboard/data.json").content)
    assert data["headline"]["hotspots"] == len(planted) and len(data["districts"]) == 16
    assert {h["label"] for h in data["hotspots"]} == {h.label for h in planted}
    assert len(data["forecast"]["days"]) == 42 and any(v is not None for v in data["forecast"]["expected"])
    before = data["headline"]["today"]
    new_ticket(world)
    assert json.loads(client.get("/dashboard/data.json").content)["headline"]["today"] == before + 1
    hd = json.loads(login(Client(), world.hd_supervisor).get("/dashboard/data.json").content)
    assert [d["name"] for d in hd["districts"]] == ["海淀区"]
    assert all(h["place"] in ("海淀街道", "海淀区") for h in hd["hotspots"])
    assert login(Client(), world.jw_handler).get("/dashboard/data.json").status_code == 404


def test_worker_runs_hotspots_hourly_and_forecasts_daily(world: World, clock: Any) -> None:
    assert services.run_due() == ["hotspots", "forecasts"]
    assert services.run_due() == []
    clock.move_to(START + dt.timedelta(minutes=61))
    assert services.run_due() == ["hotspots"]
    clock.move_to(START + dt.timedelta(days=1))
    assert services.run_due() == ["hotspots", "forecasts"]
    assert day_kind(dt.date(2026, 10, 1)) == 7 and day_kind(dt.date(2025, 9, 28)) == 8
