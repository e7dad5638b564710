"""The monthly assessment end to end: tickets made through the real services, `jiesu assess` and
`jiesu report` on the command line, the pages through the HTTP client."""

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from jiesu.assessment import services
from jiesu.assessment.models import Appeal, RuleSet, Snapshot, UnitScore
from jiesu.lib.clock import SHANGHAI
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput
from jiesu.testing.world import CHAOWAI, JIANWAI, World
from jiesu.tickets import services as tickets
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.tests.helpers import new_ticket, ticket_in

OCTOBER = dt.date(2026, 10, 1)


def called_back(
    w: World, *, contacted: bool = True, resolution: str = "solved", satisfaction: str = "satisfied"
) -> Any:
    t = ticket_in(w, "replied")
    return tickets.record_callback(
        w.agent, t.pk, contacted=contacted, resolution=resolution, satisfaction=satisfaction, finalize=False
    )


@pytest.fixture
def october(world: World, clock: Any) -> dict[str, Any]:
    """October 2026: five tickets judged against 建外, one returned by 建外 and finished by 朝外, a merged
    duplicate. Then the clock goes back to November, when October is assessed."""
    clock.move_to(dt.datetime(2026, 10, 13, 9, 0, tzinfo=SHANGHAI))
    made = {
        "perfect": called_back(world),
        "not_contacted": called_back(world, contacted=False),
        "partly": called_back(world, resolution="partly", satisfaction="fairly_satisfied"),
        "not_rated": called_back(world, satisfaction="not_rated"),
        "unsolved": called_back(world, resolution="unsolved", satisfaction="dissatisfied"),
    }
    returned = tickets.dispatch(world.dispatcher, new_ticket(world).pk)
    tickets.request_return(world.jw_handler, returned.pk, "不属于本街道职责")
    tickets.approve_return(world.dispatcher, returned.pk, lead_code=CHAOWAI)
    tickets.accept(world.cw_handler, returned.pk)
    tickets.reply(world.cw_handler, returned.pk, "已处理")
    made["returned"] = tickets.record_callback(
        world.agent, returned.pk, contacted=True, resolution="solved", satisfaction="satisfied"
    )
    duplicate = ticket_in(world, "dispatched")
    tickets.merge(world.dispatcher, duplicate.pk, made["perfect"].pk)
    clock.move_to(dt.datetime(2026, 11, 3, 9, 0, tzinfo=SHANGHAI))
    RuleSet.objects.update(min_sample=1)
    return made


def score(unit_code: str, snapshot: Snapshot | None = None) -> UnitScore:
    snapshot = snapshot or Snapshot.objects.filter(month=OCTOBER).order_by("-version").first()
    return UnitScore.objects.get(snapshot=snapshot, unit__code=unit_code)


def assess(*args: str) -> str:
    out = io.StringIO()
    call_command("assess", "--month", "2026-10", *args, stdout=out)
    return out.getvalue()


def test_assess_counts_rates_and_final_owner(october: dict[str, Any]) -> None:
    output = assess()
    assert "2026-10 第1版（草稿）" in output and "建外街道" in output
    jw = score(JIANWAI)
    # five callbacks against 建外; the merged duplicate has none, so its master counts once
    assert (jw.volume, jw.excluded, jw.responded, jw.judged, jw.rated) == (5, 0, 4, 5, 4)
    assert jw.response_rate == Decimal("80.00")
    assert jw.resolution_rate == Decimal("70.00")  # (1 + 1 + .5 + 1 + 0) / 5
    assert jw.satisfaction_rate == Decimal("70.00")  # (1 + 1 + .8 + 0) / 4: not rated is left out
    assert jw.score == Decimal("73.00")  # .3 × 80 + .35 × 70 + .35 × 70
    cw = score(CHAOWAI)  # the returned ticket counts against 朝外, which finally handled it
    assert (cw.volume, cw.score, cw.rank) == (1, Decimal("100.00"), 1)
    assert jw.rank == 2


def test_recomputing_gives_identical_numbers(october: dict[str, Any]) -> None:
    assess()
    first = Snapshot.objects.get(month=OCTOBER)
    digest, rows = first.digest, list(first.scores.values_list("unit_id", "score", "rank"))
    assess()
    again = Snapshot.objects.get(month=OCTOBER)
    assert (again.pk, again.version, again.digest) == (first.pk, 1, digest)
    assert list(again.scores.values_list("unit_id", "score", "rank")) == rows


def test_published_snapshot_is_immutable_and_a_correction_is_a_new_version(
    october: dict[str, Any], world: World
) -> None:
    assess("--publish")
    published = Snapshot.objects.get(month=OCTOBER)
    assert published.is_published
    row = published.scores.first()
    assert row is not None
    row.score = Decimal("1")
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        published.delete()
    with pytest.raises(CommandError) as err:
        assess()  # recomputing a published month needs a reason
    assert "更正原因不能为空" in str(err.value)
    with pytest.raises(IllegalTransition):
        services.file_appeal(world.jw_handler, october["unsolved"].pk, "callback_result", "回访结果有误")
    assess("--correct", "纠正10月回访录入错误")
    v2 = Snapshot.objects.get(month=OCTOBER, version=2)
    assert v2.reason == "纠正10月回访录入错误" and not v2.is_published
    assert Snapshot.objects.get(month=OCTOBER, version=1).digest == published.digest
    assert [e.action for e in v2.events.all()] == ["correct"]


def test_appeal_changes_exactly_the_affected_numbers(october: dict[str, Any], world: World) -> None:
    assess()
    before = {s.unit.code: s for s in Snapshot.objects.get(month=OCTOBER).scores.select_related("unit")}
    jw, supervisor = Client(), Client()
    jw.force_login(world.jw_handler)
    supervisor.force_login(world.city_supervisor)
    unsolved = october["unsolved"]
    response = jw.post(
        f"/assessment/appeal/{unsolved.pk}/",
        {"kind": "callback_result", "reason": "诉求人反映的是物业问题，已另行转办"},
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get(ticket=unsolved)
    # publishing waits for the pending appeal
    with pytest.raises(IllegalTransition):
        services.publish(OCTOBER)
    response = supervisor.post(
        f"/assessment/appeals/{appeal.pk}/decide/", {"decision": "uphold", "note": "经核实，申诉成立"}
    )
    assert response.status_code == 302
    assert [e.action for e in TicketEvent.objects.filter(ticket=unsolved).order_by("id")][-2:] == [
        "file_appeal",
        "decide_appeal",
    ]
    assess()
    after = {s.unit.code: s for s in Snapshot.objects.get(month=OCTOBER).scores.select_related("unit")}
    j0, j1 = before[JIANWAI], after[JIANWAI]
    assert (j1.judged, j1.rated, j1.volume, j1.responded) == (j0.judged - 1, j0.rated - 1, j0.volume, j0.responded)
    assert j1.resolution_rate == Decimal("87.50")  # 3.5 / 4
    assert j1.satisfaction_rate == Decimal("93.33")  # 2.8 / 3
    for code, s in before.items():
        if code != JIANWAI:
            assert (after[code].score, after[code].volume) == (s.score, s.volume)


def test_unreasonable_appeal_excludes_the_ticket(october: dict[str, Any], world: World) -> None:
    appeal = services.file_appeal(world.jw_handler, october["unsolved"].pk, "unreasonable", "诉求人要求超出政策范围")
    with pytest.raises(Forbidden):  # a district supervisor may not judge its own streets' appeals
        services.decide_appeal(world.cy_supervisor, appeal.pk, upheld=True, note="x")
    services.decide_appeal(world.city_supervisor, appeal.pk, upheld=True, note="经审核属不合理诉求")
    assess()
    jw = score(JIANWAI)
    assert (jw.volume, jw.excluded) == (4, 1)
    assert jw.resolution_rate == Decimal("87.50")


def test_rule_change_mid_year_leaves_earlier_months_unchanged(october: dict[str, Any], clock: Any) -> None:
    september = dt.date(2026, 9, 1)
    services.compute(september)
    sept_digest = Snapshot.objects.get(month=september).digest
    assess("--publish")
    v1 = score(JIANWAI)
    RuleSet.objects.create(
        name="2026年10月起",
        effective_from=dt.date(2026, 10, 1),
        weight_response=Decimal("0.1"),
        weight_resolution=Decimal("0.45"),
        weight_satisfaction=Decimal("0.45"),
        min_sample=1,
    )
    services.compute(september)
    assert Snapshot.objects.get(month=september).digest == sept_digest
    assess("--correct", "新规则自10月起施行")
    v2 = score(JIANWAI)
    assert v1.score == Decimal("73.00")
    assert v2.score == Decimal("71.00")  # .1 × 80 + .45 × 70 + .45 × 70
    with pytest.raises(ValidationError):  # the rules a published month used stay as they were
        rs = RuleSet.objects.get(effective_from=dt.date(2020, 1, 1))
        rs.min_sample = 9
        rs.save()


def test_bad_month_and_future_month_are_clear_errors(world: World, clock: Any) -> None:
    with pytest.raises(CommandError) as err:
        call_command("assess", "--month", "2026/10")
    assert "YYYY-MM" in str(err.value)
    with pytest.raises(InvalidInput):
        services.compute(dt.date(2027, 1, 1))
    with pytest.raises(CommandError) as err:
        call_command("report", "--month", "2025-01", "--format", "xlsx")
    assert "jiesu assess" in str(err.value)
