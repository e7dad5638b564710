"""The monthly notification (通报) as a file: Excel (openpyxl), PDF (WeasyPrint, CJK font from the system) or a
standalone HTML page. The web page for supervisors renders the same template fragment and the same SVG chart."""

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .models import UnitScore
from .selectors import Report

SERIES = (
    ("response_rate", "#1f6feb", gettext_noop("Response rate")),
    ("resolution_rate", "#2da44e", gettext_noop("Resolution rate")),
    ("satisfaction_rate", "#d4a72c", gettext_noop("Satisfaction rate")),
)
FONT = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif"


def trend_svg(trend: list[dict[str, Any]], width: int = 640, height: int = 240) -> str:
    """A line chart of the city-wide three rates by month, as inline SVG (works in the browser and the PDF)."""
    left, right, top, bottom = 48, 110, 16, 32
    values = [Decimal(p[k]) for p in trend for k, _c, _l in SERIES if p.get(k) is not None]
    if not values:
        return ""
    low = min(Decimal(90), (min(values) // 5) * 5)
    span = Decimal(100) - low or Decimal(1)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(trend) - 1)

    def y(v: Decimal) -> float:
        return top + float((Decimal(100) - v) / span) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(_("Trend of the three rates"))}" font-family="{FONT}" font-size="11">'
    ]
    for tick in range(int(low), 101, 5):
        ty = y(Decimal(tick))
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#555">{tick}%</text>')
    for i, p in enumerate(trend):
        parts.append(
            f'<text x="{left + i * step:.1f}" y="{height - 10}" text-anchor="middle" fill="#555">{p["month"]}</text>'
        )
    for n, (key, colour, label) in enumerate(SERIES):
        points = [(left + i * step, y(Decimal(p[key]))) for i, p in enumerate(trend) if p.get(key) is not None]
        if points:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="{colour}"/>' for x, yy in points)
        ly = top + 14 + n * 18
        parts.append(f'<rect x="{width - right + 12}" y="{ly - 9}" width="12" height="3" fill="{colour}"/>')
        parts.append(f'<text x="{width - right + 30}" y="{ly - 4}" fill="#333">{escape(_(label))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def context(report: Report) -> dict[str, Any]:
    return {"report": report, "snapshot": report.snapshot, "trend_svg": trend_svg(report.trend)}


def html(report: Report, *, lang: str = "zh-hans") -> str:
    with translation.override(lang):
        return render_to_string("assessment/bulletin_document.html", context(report) | {"font": FONT})


def pdf(report: Report, *, lang: str = "zh-hans") -> bytes:
    import weasyprint

    return bytes(weasyprint.HTML(string=html(report, lang=lang)).write_pdf())


def _pct(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


HEADERS = (
    gettext_noop("rank"),
    gettext_noop("unit"),
    gettext_noop("district"),
    gettext_noop("assessed"),
    gettext_noop("excluded"),
    gettext_noop("response rate %"),
    gettext_noop("resolution rate %"),
    gettext_noop("satisfaction rate %"),
    gettext_noop("bonus"),
    gettext_noop("score"),
    gettext_noop("change"),
    gettext_noop("marks"),
)


def _marks(s: UnitScore) -> str:
    marks = [
        _("Interview (约谈)") if s.interview else "",
        _("Recognised") if s.recognition else "",
        _("Governance focus (治理类街乡)") if s.focus else "",
    ]
    if s.rank is None:
        marks.append(_("Not ranked (sample too small)"))
    return "、".join(m for m in marks if m)


def _row(s: UnitScore) -> list[Any]:
    district = s.unit.district() if s.unit.parent_id else None
    return [
        s.rank,
        s.unit.name,
        district.name if district and district.pk != s.unit.pk else "",
        s.volume,
        s.excluded,
        _pct(s.response_rate),
        _pct(s.resolution_rate),
        _pct(s.satisfaction_rate),
        float(s.bonus),
        _pct(s.score),
        _pct(s.score_change),
        _marks(s),
    ]


def xlsx(report: Report, *, lang: str = "zh-hans") -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Font

    with translation.override(lang):
        snap = report.snapshot
        wb = Workbook()
        ws = wb.active
        ws.title = _("Notification")
        bold = Font(bold=True)
        ws.append(
            [_("12345 hotline: monthly assessment notification (通报) %(month)s") % {"month": f"{snap.month:%Y-%m}"}]
        )
        ws["A1"].font = Font(bold=True, size=14)
        status = (
            _("published %(at)s") % {"at": f"{snap.published_at:%Y-%m-%d %H:%M}"} if snap.published_at else _("draft")
        )
        ws.append([_("version"), snap.version, status])
        if snap.reason:
            ws.append([_("reason for the correction"), snap.reason])
        ws.append(
            [_("rules"), snap.rules.get("name"), _("in force from %(m)s") % {"m": snap.rules.get("effective_from")}]
        )
        t = report.all_totals
        ws.append([])
        ws.append([_("assessed"), _("response rate %"), _("resolution rate %"), _("satisfaction rate %")])
        ws.append(
            [
                t.get("volume"),
                *(float(t[k]) if t.get(k) else None for k in ("response_rate", "resolution_rate", "satisfaction_rate")),
            ]
        )
        for title, rows in (
            (_("Interview list (约谈)"), report.interview),
            (_("Recognition list"), report.recognition),
            (_("Governance-focus streets (治理类街乡)"), report.focus),
        ):
            ws.append([])
            ws.append([title])
            ws.cell(ws.max_row, 1).font = bold
            for s in rows:
                ws.append([s.unit.name, _pct(s.score), s.rank])
        for _group, label, rows in report.groups:
            sheet = wb.create_sheet(label[:31])
            sheet.append([_(h) for h in HEADERS])
            for cell in sheet[1]:
                cell.font = bold
            for s in rows:
                sheet.append(_row(s))
            sheet.column_dimensions["B"].width = 28
            sheet.freeze_panes = "A2"
        trend = wb.create_sheet(_("Trend"))
        trend.append([_("month"), *(_(label) for _k, _c, label in SERIES)])
        for p in report.trend:
            trend.append([p["month"], *(float(p[k]) if p.get(k) else None for k, _c, _l in SERIES)])
        if report.trend:
            chart = LineChart()
            chart.title = _("Trend of the three rates")
            chart.y_axis.title = "%"
            chart.add_data(
                Reference(trend, min_col=2, max_col=4, min_row=1, max_row=len(report.trend) + 1), titles_from_data=True
            )
            chart.set_categories(Reference(trend, min_col=1, min_row=2, max_row=len(report.trend) + 1))
            trend.add_chart(chart, "F2")
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


def html_bytes(report: Report, *, lang: str = "zh-hans") -> bytes:
    return html(report, lang=lang).encode()


FORMATS: dict[str, Callable[..., bytes]] = {"xlsx": xlsx, "pdf": pdf, "html": html_bytes}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
