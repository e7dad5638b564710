"""Reading assessments: which snapshot stands for a month, the notification's content, and the drill-down
from a figure to its tickets."""

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiesu.assessment import access as assessment_access
from jiesu.orgs.models import OrgUnit
from jiesu.tickets import access as tickets_access

from .models import Appeal, AppealState, Snapshot, UnitScore
from .reference_engine import Judgement, judge
from .rules import SATISFACTION_CODES, Rules, previous_month

GROUP_LABELS = {
    "streets": gettext_lazy("Streets"),
    "townships": gettext_lazy("Townships"),
    "departments": gettext_lazy("Departments"),
    "companies": gettext_lazy("Public-service companies"),
    "other": gettext_lazy("Other units (not ranked)"),
}


def group_label(group: str) -> str:
    return str(GROUP_LABELS.get(group, group))


def current_snapshot(month: dt.date, *, published_only: bool = False) -> Snapshot | None:
    """The version that stands for the month: the latest published one, else (unless `published_only`) the draft."""
    snapshots = Snapshot.objects.filter(month=month.replace(day=1))
    published = snapshots.filter(published_at__isnull=False).order_by("-version").first()
    if published or published_only:
        return published
    return snapshots.order_by("-version").first()


def versions(month: dt.date) -> QuerySet[Snapshot]:
    return Snapshot.objects.filter(month=month).order_by("-version")


def months_with_snapshots(*, published_only: bool = False) -> list[dt.date]:
    qs = Snapshot.objects.all()
    if published_only:
        qs = qs.filter(published_at__isnull=False)
    return sorted(set(qs.values_list("month", flat=True)), reverse=True)


@dataclasses.dataclass
class Report:
    snapshot: Snapshot
    groups: list[tuple[str, str, list[UnitScore]]]  # (group, label, scores ranked first)
    interview: list[UnitScore]
    recognition: list[UnitScore]
    focus: list[UnitScore]
    trend: list[dict[str, Any]]  # per month: month, response/resolution/satisfaction rates, volume

    @property
    def all_totals(self) -> dict[str, Any]:
        return dict(self.snapshot.totals.get("all", {}))


def trend(month: dt.date, months: int = 6, *, published_only: bool = False) -> list[dict[str, Any]]:
    """City-wide rates of the months up to `month`, from each month's standing snapshot."""
    out = []
    m = month
    for _i in range(months):
        snap = current_snapshot(m, published_only=published_only)
        if snap is not None:
            t = snap.totals.get("all", {})
            out.append(
                {
                    "month": f"{m:%Y-%m}",
                    **{k: t.get(k) for k in ("response_rate", "resolution_rate", "satisfaction_rate", "volume")},
                }
            )
        m = previous_month(m)
    return out[::-1]


def report(snapshot: Snapshot, *, published_only: bool = False) -> Report:
    scores = list(snapshot.scores.select_related("unit", "unit__parent").order_by("group", "rank", "unit__code"))
    order = [*Rules.from_json(snapshot.rules).groups, "other"]
    groups = []
    for group in order:
        rows = [s for s in scores if s.group == group]
        rows.sort(key=lambda s: (s.rank is None, s.rank or 0, s.unit.code))
        if rows:
            groups.append((group, group_label(group), rows))
    return Report(
        snapshot=snapshot,
        groups=groups,
        interview=sorted((s for s in scores if s.interview), key=lambda s: (s.group, s.score, s.unit.code)),
        recognition=sorted((s for s in scores if s.recognition), key=lambda s: (s.group, -(s.score or 0), s.unit.code)),
        focus=sorted((s for s in scores if s.focus), key=lambda s: (s.score, s.unit.code)),
        trend=trend(snapshot.month, published_only=published_only),
    )


# --- drill-down: a unit's figures down to the tickets ----------------------------------------------------
FIGURES = ("all", "responded", "not_responded", "judged", "rated", "excluded")


@dataclasses.dataclass
class Line:
    ticket_id: int
    number: str
    title: str
    counted: bool
    responded: bool | None
    resolution_credit: int | None  # ‰, None when not counted in the resolution rate
    satisfaction_credit: int | None
    reasons: list[str]
    appeal: Any = None  # the unit's appeal on this ticket, set by the page


def _reasons(row: dict[str, Any], rules: Rules, j: Judgement) -> list[str]:
    """Why the ticket stands as it does in each figure (the numbers themselves are `reference.judge`'s)."""
    reasons: list[str] = []
    if row["returns"]:
        reasons.append(
            _("returned %(n)s times, counted against the unit that finally handled it") % {"n": row["returns"]}
        )
    if row["round"] > 1:
        reasons.append(_("callback of handling round %(n)s") % {"n": row["round"]})
    if not j.counted:
        reasons.append(_("judged an unreasonable appeal (不合理诉求) on review: not assessed"))
        return reasons
    if rules.response_basis != "contacted" and not row["signed_in_time"]:
        reasons.append(_("not signed for within the time limit"))
    if rules.response_basis != "signed" and not (row["contacted"] or row["callback_voided"]):
        reasons.append(_("the requester says nobody contacted them"))
    if row["callback_voided"]:
        reasons.append(_("appeal against the callback upheld: not in the resolution and satisfaction rates"))
    elif j.satisfaction_milli is None:
        answer = _label(SATISFACTION_CODES[row["satisfaction"]])
        reasons.append(_("“%(answer)s” is not counted in the satisfaction rate") % {"answer": answer})
    return reasons


def _label(code: str) -> str:
    from jiesu.tickets.models import Resolution, Satisfaction

    for choices in (Resolution, Satisfaction):
        if code in choices.values:
            return str(choices(code).label)
    return code


def explain(user: Any, snapshot: Snapshot, unit: OrgUnit, figure: str = "all", limit: int = 2000) -> list[Line]:
    """The tickets behind one unit's figures in a snapshot, read from the snapshot's frozen facts, each with
    its credit towards every rate and the reasons it counted or not. Only tickets the user may see get their
    number and title; the rest stay as ids (none, for the roles that may open a unit at all)."""
    rules = Rules.from_json(snapshot.rules)
    path = Path(snapshot.facts_file)
    con = duckdb.connect()
    rel = con.execute("SELECT * FROM read_parquet(?) WHERE unit_id = ? ORDER BY ticket_id", [str(path), unit.pk])
    names = [d[0] for d in rel.description]
    lines: list[Line] = []
    rows = [dict(zip(names, r, strict=True)) for r in rel.fetchall()]
    known = {
        pk: (number, title)
        for pk, number, title in tickets_access.visible_tickets(user)
        .filter(pk__in=[r["ticket_id"] for r in rows])
        .values_list("pk", "number", "title")
    }
    for row in rows:
        j = judge(row, rules)
        keep = {
            "all": True,
            "responded": j.counted and j.responded,
            "not_responded": j.counted and j.responded is False,
            "judged": j.resolution_milli is not None,
            "rated": j.satisfaction_milli is not None,
            "excluded": not j.counted,
        }.get(figure, True)
        if not keep:
            continue
        number, title = known.get(row["ticket_id"], (str(row["ticket_id"]), ""))
        lines.append(
            Line(
                row["ticket_id"],
                number,
                title,
                j.counted,
                j.responded,
                j.resolution_milli,
                j.satisfaction_milli,
                _reasons(row, rules, j),
            )
        )
        if len(lines) >= limit:
            break
    return lines


def appeals(user: Any, *, month: dt.date | None = None, state: str | None = None) -> QuerySet[Appeal]:
    """Appeals the user may see: the city level all; others those of their units."""
    qs = Appeal.objects.select_related("ticket", "unit", "filed_by", "decided_by")
    qs = qs.filter(unit__in=assessment_access.assessment_units(user))
    if month:
        qs = qs.filter(month=month)
    if state:
        qs = qs.filter(state=state)
    return qs


def pending_appeal_count(month: dt.date) -> int:
    return Appeal.objects.filter(month=month, state=AppealState.PENDING).count()
