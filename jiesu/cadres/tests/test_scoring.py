"""Responsibility items scored item by item, by hand-computed periods; a rule change mid-year leaves the closed
period's result as it was."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from jiesu.cadres import selectors, services
from jiesu.cadres.models import CadreEvent, CadreProfile, ItemScore, Metric
from jiesu.lib.clock import SHANGHAI
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.testing.world import JIANWAI
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import new_ticket

POST = "接诉即办专员"


def at(day: int, month: int = 10, hour: int = 9) -> Any:
    return time_machine.travel(dt.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI), tick=False)


def handled(w: Any, *, signed_on: tuple[int, int], sign_late: bool, solved: bool) -> Any:
    """A ticket jw_handler signs (late or not), replies to, and the hotline calls back (solved or not)."""
    day, month = signed_on
    with at(day, month, 9):
        t = tickets.dispatch(w.dispatcher, new_ticket(w).pk)
    with at(day + (3 if sign_late else 0), month, 10):
        tickets.accept(w.jw_handler, t.pk)
        tickets.reply(w.jw_handler, t.pk, "已处理完毕")
    with at(day + (3 if sign_late else 0), month, 15):
        tickets.record_callback(
            w.agent, t.pk, contacted=True, resolution="solved" if solved else "unsolved", satisfaction="satisfied"
        )
    return t


def setup_items(cw: Any) -> dict[str, Any]:
    common = {"unit": JIANWAI, "post": POST, "effective_from": "2026-01-01"}
    return {
        "sign": services.add_item(
            cw.jw_secretary,
            title="按时签收",
            measure="computed",
            metric=Metric.SIGNED_ON_TIME_RATE,
            target="90",
            weight="40",
            **common,
        ),
        "solve": services.add_item(
            cw.jw_secretary,
            title="回访解决",
            measure="computed",
            metric=Metric.SOLVED_RATE,
            target="80",
            weight="40",
            **common,
        ),
        "study": services.add_item(
            cw.jw_secretary,
            title="政治理论学习",
            measure="judged",
            dimension="de",
            target="100",
            weight="20",
            **common,
        ),
    }


def totals(profile: CadreProfile) -> dict[str, Decimal]:
    return {f"{row['period'].starts_on:%Y-%m}": row["total"] for row in selectors.period_totals(profile)}


def test_item_by_item_and_a_rule_change_mid_year(cw: Any) -> None:
    items = setup_items(cw)
    me = CadreProfile.objects.get(user=cw.jw_handler)
    t1 = handled(cw, signed_on=(13, 10), sign_late=False, solved=True)
    t2 = handled(cw, signed_on=(13, 10), sign_late=True, solved=False)

    with at(3, 11):
        october = services.open_period(cw.jw_secretary, unit=JIANWAI, kind="month", starts_on="2026-10-01")
        services.judge(cw.jw_secretary, october.pk, me.pk, items["study"].pk, "90", "全年学习记录齐全")
        services.close_period(cw.jw_secretary, october.pk)
    rows = {s.item_id: s for s in ItemScore.objects.filter(period=october, profile=me)}
    # signed on time 1 of 2 = 50 % against 90 → 40 × 50/90 = 22.22; solved 1 of 2 = 50 % against 80 → 25.00;
    # judged 90 of 100 → 18.00; total 65.22 of 100.
    assert rows[items["sign"].pk].actual == Decimal("50.00") and rows[items["sign"].pk].points == Decimal("22.22")
    assert rows[items["solve"].pk].points == Decimal("25.00")
    assert rows[items["study"].pk].points == Decimal("18.00")
    assert sorted(rows[items["sign"].pk].tickets) == sorted([t1.pk, t2.pk])  # every figure names its tickets
    assert totals(me) == {"2026-10": Decimal("65.22")}

    # the rule changes from November: the signing item weighs 50 with target 50
    with at(4, 11):
        with pytest.raises(InvalidInput):  # a closed period lies after 2026-10-15: its rules cannot change
            services.revise_item(
                cw.jw_secretary, items["sign"].pk, target="50", weight="50", effective_from="2026-10-15"
            )
        v2 = services.revise_item(
            cw.jw_secretary, items["sign"].pk, target="50", weight="50", effective_from="2026-11-01"
        )
    handled(cw, signed_on=(10, 11), sign_late=False, solved=True)
    with at(2, 12):
        november = services.open_period(cw.jw_secretary, unit=JIANWAI, kind="month", starts_on="2026-11-01")
        services.score_period(cw.jw_secretary, november.pk)
        with pytest.raises(IllegalTransition):
            services.score_period(cw.jw_secretary, october.pk)
    rows = {s.item_id: s for s in ItemScore.objects.filter(period=november, profile=me)}
    assert rows[v2.pk].weight == Decimal("50.00") and rows[v2.pk].points == Decimal("50.00")
    assert items["sign"].pk not in rows
    assert rows[items["study"].pk].actual is None and rows[items["study"].pk].points == 0  # not judged: nothing
    # November: 50 + 40 + 0 of 110 = 81.82; October unchanged
    assert totals(me) == {"2026-10": Decimal("65.22"), "2026-11": Decimal("81.82")}
    assert ItemScore.objects.get(period=october, profile=me, item=items["sign"]).weight == Decimal("40.00")
    assert CadreEvent.objects.filter(action="period_closed").count() == 1


def test_charter_acknowledged_by_the_cadre_only(cw: Any, clock: Any) -> None:
    setup_items(cw)
    me = CadreProfile.objects.get(user=cw.jw_handler)
    charter = services.issue_charter(cw.jw_secretary, me.pk, 2026)
    with pytest.raises(NotFound):
        services.acknowledge_charter(cw.jw_leader, charter.pk)
    services.acknowledge_charter(cw.jw_handler, charter.pk)
    with pytest.raises(IllegalTransition):
        services.acknowledge_charter(cw.jw_handler, charter.pk)
    assert CadreEvent.objects.filter(action="charter_acknowledged", profile=me).count() == 1


def test_only_the_units_managers_break_goals_down(cw: Any, clock: Any) -> None:
    for who in ("jw_handler", "cw_handler", "hd_zzb", "jjw", "city_supervisor"):
        with pytest.raises(Forbidden):
            services.add_item(
                cw.users[who],
                unit=JIANWAI,
                post=POST,
                title="x",
                measure="judged",
                target="100",
                weight="10",
                effective_from="2026-01-01",
            )
    assert services.add_item(
        cw.cy_zzb,
        unit=JIANWAI,
        post=POST,
        title="x",
        measure="judged",
        target="100",
        weight="10",
        effective_from="2026-01-01",
    )
