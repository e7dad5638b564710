"""A recorded 评议 for the cadre's file: Excel (openpyxl) and PDF (WeasyPrint, the assessment's font)."""

import io
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from jiesu.assessment.report import FONT

from .models import Evaluation, RubricDimension


def _rows(ev: Evaluation) -> list[dict[str, Any]]:
    labels = dict(RubricDimension.choices)
    return [row | {"dimension_label": str(labels.get(row["dimension"], row["dimension"]))} for row in ev.rows]


def html(ev: Evaluation, *, lang: str = "zh-hans") -> str:
    with translation.override(lang):
        return render_to_string("cadres/evaluation_document.html", {"ev": ev, "rows": _rows(ev), "font": FONT})


def pdf(ev: Evaluation, *, lang: str = "zh-hans") -> bytes:
    import weasyprint

    return bytes(weasyprint.HTML(string=html(ev, lang=lang)).write_pdf())


def xlsx(ev: Evaluation, *, lang: str = "zh-hans") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    with translation.override(lang):
        wb = Workbook()
        ws = wb.active
        ws.title = _("Evaluation")
        p = ev.profile
        ws.append([_("Evaluation (评议) of %(name)s") % {"name": p.display_name}])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([_("unit"), p.unit.name, _("post"), p.post])
        ws.append([_("period"), f"{ev.starts_on:%Y-%m-%d}", f"{ev.ends_on:%Y-%m-%d}"])
        ws.append([])
        ws.append(
            [_("dimension"), _("row"), _("weight"), _("scale (points)"), _("self-assessment"), _("leader's assessment")]
        )
        for row in _rows(ev):
            ws.append(
                [
                    row["dimension_label"],
                    row["title"],
                    float(row["weight"]),
                    row["scale"],
                    row.get("self"),
                    row.get("leader"),
                ]
            )
        ws.append([])
        w = ev.weights
        for label, key, value in (
            (_("self-assessment"), "self", ev.self_score),
            (_("leader's assessment"), "leader", ev.leader_score),
            (_("residents' voice"), "residents", ev.residents_score),
        ):
            ws.append([label, float(value) if value is not None else None, _("weight"), float(w[key])])
        ws.append([_("result"), float(ev.result) if ev.result is not None else None])
        ws.append([_("recorded at"), f"{ev.recorded_at:%Y-%m-%d %H:%M}" if ev.recorded_at else ""])
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()


FORMATS = {"xlsx": xlsx, "pdf": pdf}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
