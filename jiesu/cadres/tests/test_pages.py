"""The cadre pages and admin views through the HTTP client: the role × unit matrix (forbidden answers 404, like
missing), the record's figures down to their tickets, and bad input refused in Chinese and in English with nothing
changed."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jiesu.cadres import services
from jiesu.cadres.models import CadreProfile, ResponsibilityItem, RubricRow, ToleranceGround
from jiesu.cadres.tests.test_paths import published
from jiesu.testing.world import JIANWAI
from jiesu.tickets.tests.helpers import ticket_in

EVERYONE = (
    "jw_handler",
    "cw_handler",
    "hd_handler",
    "jw_leader",
    "jw_secretary",
    "cy_zzb",
    "hd_zzb",
    "zzb",
    "jjw",
    "cy_jjw",
    "hd_jjw",
    "city_supervisor",
    "operator",
    "admin",
)
PERSONNEL = {"jw_handler", "jw_leader", "jw_secretary", "cy_zzb", "zzb"}  # jw_handler's own file and its readers
UNIT = {"jw_leader", "jw_secretary", "cy_zzb", "zzb"}  # 建外's responsibility, periods, 约谈
CASES = PERSONNEL | {"jjw", "cy_jjw"}  # flags and cases of jw_handler
BOARD = {"jw_handler", "jw_leader", "jw_secretary", "cy_zzb", "zzb"}  # a 揭榜 task of 建外


@pytest.fixture
def scene(cw: Any, clock: Any) -> dict[str, Any]:
    me = CadreProfile.objects.get(user=cw.jw_handler)
    t = ticket_in(cw, "closed")
    services.add_item(
        cw.jw_secretary,
        unit=JIANWAI,
        post=me.post,
        title="按时签收",
        measure="computed",
        metric="signed_on_time_rate",
        target="90",
        weight="50",
        effective_from="2026-01-01",
    )
    period = services.open_period(cw.jw_secretary, unit=JIANWAI, kind="month", starts_on="2026-11-01")
    services.close_period(cw.jw_secretary, period.pk)
    published(dt.date(2026, 10, 1), {JIANWAI: {"score": Decimal(60), "rank": 9, "interview": True}})
    interview = services.schedule_interview(
        cw.cy_zzb, unit=JIANWAI, month="2026-10", scheduled_for="2026-11-20 09:30", attendees="书记"
    )
    case = services.open_case(cw.cy_jjw, me.pk, "三次超时签收", tickets=t.number)
    ToleranceGround.objects.create(key="risk", kind="list", label="风险容误")
    tc = services.apply_tolerance(cw.jw_handler, me.pk, facts="夜间抢修", grounds=["risk"])
    task = services.post_challenge(
        cw.cy_zzb, title="光华里", goal="解决", deadline="2027-01-31", street=JIANWAI, keywords="暖气"
    )
    RubricRow.objects.create(
        effective_from=dt.date(2026, 1, 1), dimension="work_commitment", title="跑工单", weight=Decimal(100), scale=10
    )
    evaluation = services.open_evaluation(cw.jw_secretary, me.pk, "2026-07-01", "2027-01-01")
    return {
        "evaluation": evaluation,
        "me": me,
        "ticket": t,
        "period": period,
        "interview": interview,
        "case": case,
        "tc": tc,
        "task": task,
    }


def urls(s: dict[str, Any]) -> dict[str, tuple[str, set[str]]]:
    me = s["me"].pk
    return {
        "profile": (reverse("cadre-profile", args=[me]), PERSONNEL),
        "figure": (reverse("cadre-figure", args=[me, "signed"]) + "?month=2026-11", PERSONNEL),
        "unit": (reverse("cadre-unit", args=[JIANWAI]), UNIT),
        "chain": (reverse("cadre-chain", args=[JIANWAI]), UNIT),
        "period": (reverse("cadre-period", args=[s["period"].pk]), UNIT),
        "interview": (reverse("cadre-interview", args=[s["interview"].pk]), UNIT),
        "case": (reverse("cadre-case", args=[s["case"].pk]), CASES),
        "tolerance": (reverse("cadre-tolerance", args=[s["tc"].pk]), CASES),
        "challenge": (reverse("cadre-challenge", args=[s["task"].pk]), BOARD),
        "evaluation": (reverse("cadre-evaluation", args=[s["evaluation"].pk]), PERSONNEL),
        "admin-evaluation": (reverse("admin:cadres_evaluation_change", args=[s["evaluation"].pk]), PERSONNEL),
        "admin-profile": (reverse("admin:cadres_cadreprofile_change", args=[me]), PERSONNEL),
        "admin-case": (reverse("admin:cadres_accountabilitycase_change", args=[s["case"].pk]), CASES),
        "admin-item": (
            reverse("admin:cadres_responsibilityitem_change", args=[ResponsibilityItem.objects.get().pk]),
            UNIT,
        ),
    }


def test_role_by_unit_matrix(cw: Any, scene: dict[str, Any]) -> None:
    """Every new page and admin view, for every role and unit of the world (staff accounts, for the admin)."""
    pages = urls(scene)
    for who in EVERYONE:
        user = cw.users[who]
        type(user).objects.filter(pk=user.pk).update(is_staff=True)
        client = Client()
        client.force_login(user)
        for name, (url, allowed) in pages.items():
            status = client.get(url).status_code
            assert status == (200 if who in allowed else 404), (name, who, status)


def test_anonymous_goes_to_the_login(scene: dict[str, Any]) -> None:
    assert Client().get(reverse("cadre-profile", args=[scene["me"].pk])).status_code == 302


def test_the_secretary_follows_a_figure_down_to_its_tickets(cw: Any, scene: dict[str, Any]) -> None:
    client = Client()
    client.force_login(cw.jw_secretary)
    page = client.get(reverse("cadre-profile", args=[scene["me"].pk])).content.decode()
    figure = reverse("cadre-figure", args=[scene["me"].pk, "solved"]) + "?month=2026-11"
    assert figure.replace("?", "") in page.replace("?", "").replace("&amp;", "&")
    listing = client.get(figure).content.decode()
    assert scene["ticket"].number in listing and "13812345678" not in listing and "张三" not in listing
    # the handler's own reading of the same figure links to the ticket page, which they may open
    own = Client()
    own.force_login(cw.jw_handler)
    assert reverse("ticket-detail", args=[scene["ticket"].pk]) in own.get(figure).content.decode()


def test_bad_input_in_chinese_and_english_changes_nothing(cw: Any, scene: dict[str, Any]) -> None:
    client = Client()
    client.force_login(cw.jw_secretary)
    before = ResponsibilityItem.objects.count()
    form = {
        "unit": JIANWAI,
        "post": "专员",
        "title": "x",
        "measure": "judged",
        "target": "100",
        "weight": "很多",
        "effective_from": "2026-01-01",
        "back": reverse("cadre-unit", args=[JIANWAI]),
    }
    page = client.post(reverse("cadre-act", args=["add_item"]), form, follow=True).content.decode()
    assert "权重必须是数字。" in page
    client.post(reverse("set_language"), {"language": "en"})
    page = client.post(reverse("cadre-act", args=["add_item"]), form, follow=True).content.decode()
    assert "weight must be a number." in page
    page = client.post(
        reverse("cadre-act", args=["add_item"]), form | {"weight": "5", "effective_from": "2026-13-01"}, follow=True
    ).content.decode()
    assert "in force from must be a date (YYYY-MM-DD)." in page
    assert ResponsibilityItem.objects.count() == before


def test_the_cadre_acknowledges_and_applies_on_the_page(cw: Any, scene: dict[str, Any]) -> None:
    charter = services.issue_charter(cw.jw_secretary, scene["me"].pk, 2026)
    client = Client()
    client.force_login(cw.jw_handler)
    url = reverse("cadre-profile", args=[scene["me"].pk])
    assert "我确认本人的目标责任书" in client.get(url).content.decode()
    client.post(reverse("cadre-act", args=["acknowledge"]), {"charter": charter.pk, "back": url})
    charter.refresh_from_db()
    assert charter.acknowledged_at is not None and charter.acknowledged_at <= timezone.now()
    page = client.post(
        reverse("cadre-act", args=["apply_tolerance"]),
        {"profile": scene["me"].pk, "facts": "x", "back": url},
        follow=True,
    ).content.decode()
    assert "请至少选择一项容错情形" in page


def test_the_lists_render_for_each_cadre_role(cw: Any, scene: dict[str, Any]) -> None:
    lists = [
        "cadre-home",
        "cadre-interviews",
        "cadre-flags",
        "cadre-cases",
        "cadre-challenges",
        "cadre-rewards",
        "cadre-honours",
    ]
    for who in ("zzb", "cy_zzb", "jw_secretary", "jw_leader", "jjw", "jw_handler"):
        client = Client()
        client.force_login(cw.users[who])
        for name in lists:
            response = client.get(reverse(name), follow=True)
            assert response.status_code == 200, (who, name)
        client.post(reverse("set_language"), {"language": "en"})
        assert client.get(reverse("cadre-challenges")).status_code == 200
    client = Client()
    client.force_login(cw.cy_zzb)
    page = client.get(reverse("cadre-interviews") + "?month=2026-10").content.decode()
    assert "建外街道" in page
