"""评议 by the versioned rubric: self, leader and the residents' voice, combined by weights, hand-computed; the
recorded result is immutable, visible to the cadre and exportable."""

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from jiesu.cadres import services
from jiesu.cadres.models import CadreProfile, Evaluation, EvaluationRule, RubricRow
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import ticket_in


def rubric() -> dict[str, RubricRow]:
    day = dt.date(2026, 1, 1)
    return {
        "political": RubricRow.objects.create(
            effective_from=day, dimension="political_commitment", title="对党忠诚", weight=Decimal(30), scale=10
        ),
        "work": RubricRow.objects.create(
            effective_from=day, dimension="work_commitment", title="下基层跑工单", weight=Decimal(30), scale=10
        ),
        "effective": RubricRow.objects.create(
            effective_from=day,
            dimension="effective_action",
            title="回访解决",
            weight=Decimal(40),
            scale=10,
            metric="solved_rate",
            target=Decimal(80),
        ),
    }


def test_evaluation_by_hand(cw: Any, clock: Any) -> None:
    rows = rubric()
    EvaluationRule.objects.create(
        effective_from=dt.date(2026, 1, 1),
        weight_self=Decimal("0.2"),
        weight_leader=Decimal("0.5"),
        weight_residents=Decimal("0.3"),
    )
    me = CadreProfile.objects.get(user=cw.jw_handler)
    ticket_in(cw, "closed")  # solved and satisfied
    t = ticket_in(cw, "replied")
    tickets.record_callback(cw.agent, t.pk, contacted=True, resolution="unsolved", satisfaction="dissatisfied")
    with pytest.raises(Forbidden):
        services.open_evaluation(cw.jw_handler, me.pk, "2026-07-01", "2027-01-01")
    ev = services.open_evaluation(cw.jw_secretary, me.pk, "2026-07-01", "2027-01-01")
    with pytest.raises(InvalidInput):  # a judged row above its scale
        services.self_assess(cw.jw_handler, ev.pk, {f"row-{rows['political'].pk}": "11", f"row-{rows['work'].pk}": "9"})
    with pytest.raises(Forbidden):
        services.self_assess(cw.jw_leader, ev.pk, {})
    # measured row: solved 1 of 2 = 50 % against 80 → 10 × 50/80 = 6.25 points of 10
    # self: (30 × 9/10 + 30 × 8/10 + 40 × 6.25/10) / 100 × 100 = 27 + 24 + 25 = 76.00
    ev = services.self_assess(cw.jw_handler, ev.pk, {f"row-{rows['political'].pk}": "9", f"row-{rows['work'].pk}": "8"})
    assert ev.self_score == Decimal("76.00")
    with pytest.raises(IllegalTransition):  # the leader has not assessed yet
        services.record_evaluation(cw.jw_secretary, ev.pk)
    # leader: 30 × 0.8 + 30 × 0.7 + 25 = 70.00
    ev = services.leader_assess(
        cw.jw_secretary, ev.pk, {f"row-{rows['political'].pk}": "8", f"row-{rows['work'].pk}": "7"}, "下沉记录"
    )
    assert ev.leader_score == Decimal("70.00")
    ev = services.record_evaluation(cw.jw_secretary, ev.pk)
    # residents: satisfied 1 of 2 rated = 50.00; result 0.2 × 76 + 0.5 × 70 + 0.3 × 50 = 15.2 + 35 + 15 = 65.20
    assert (ev.residents_score, ev.result) == (Decimal("50.00"), Decimal("65.20"))
    with pytest.raises(IllegalTransition):
        services.leader_assess(cw.jw_secretary, ev.pk, {}, "x")
    with pytest.raises(ValidationError):
        ev.result = Decimal(99)
        ev.save()
    # the rubric changes later: the recorded evaluation keeps the rows it was made with
    RubricRow.objects.create(
        effective_from=dt.date(2027, 1, 1), dimension="political_commitment", title="新版", weight=Decimal(100), scale=5
    )
    assert sorted(r["title"] for r in Evaluation.objects.get(pk=ev.pk).rows) == sorted(
        ["对党忠诚", "下基层跑工单", "回访解决"]
    )

    client = Client()
    client.force_login(cw.jw_handler)  # the cadre sees it and downloads it for the file
    assert "65.20" in client.get(reverse("cadre-evaluation", args=[ev.pk])).content.decode()
    response = client.get(reverse("cadre-evaluation-download", args=[ev.pk, "xlsx"]))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    assert any(row[0].value == "结果" and row[1].value == 65.2 for row in sheet.iter_rows())
    other = Client()
    other.force_login(cw.cw_handler)
    assert other.get(reverse("cadre-evaluation-download", args=[ev.pk, "xlsx"])).status_code == 404
