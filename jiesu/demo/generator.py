"""Synthetic history for the demo city at scale: orders with their lifecycle and callbacks.

Vectorised with NumPy, one month at a time. Each unit has its own quality, so rankings are realistic: most units
near the top (Beijing's rates are around 97 %), a tail of weaker ones, a few unreasonable appeals, upheld
callback appeals, returns and second handling rounds. Output goes to Parquet (the columnar copy's layout:
`facts/YYYY-MM.parquet`, plus `orders/YYYY-MM.parquet` with each order's lifecycle timestamps) or into the
database as complete tickets (`load_into_database`)."""

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jiesu.assessment.facts import SCHEMA
from jiesu.assessment.rules import month_key, next_month, previous_month


@dataclasses.dataclass(frozen=True)
class GenUnit:
    id: int
    kind: str


def months_back(last: dt.date, count: int) -> list[dt.date]:
    out = [last.replace(day=1)]
    for _i in range(count - 1):
        out.append(previous_month(out[-1]))
    return out[::-1]


def handling_units() -> list[GenUnit]:
    """The demo city's units that tickets are judged against: streets and townships, departments, companies."""
    from jiesu.orgs.models import OrgUnit, UnitKind
    from jiesu.tickets.services import HANDLING_KINDS

    kinds = HANDLING_KINDS - {UnitKind.COMMUNITY, UnitKind.VILLAGE, UnitKind.DISTRICT}
    return [
        GenUnit(pk, kind)
        for pk, kind in OrgUnit.objects.filter(kind__in=kinds).values_list("pk", "kind").order_by("pk")
    ]


def synthetic_units(streets: int = 343, departments: int = 79, companies: int = 58) -> list[GenUnit]:
    """A city the size of Beijing (domain.md §5), for benchmarks that run without the database."""
    kinds = ["subdistrict"] * (streets * 2 // 3) + ["town"] * (streets - streets * 2 // 3)
    kinds += ["department"] * departments + ["public_service_company"] * companies
    return [GenUnit(i + 1, k) for i, k in enumerate(kinds)]


GENERATED_PREFIX = "gen:"  # idempotency keys of generated tickets; `access.training_tickets` leaves them out


class Generator:
    def __init__(self, units: Sequence[GenUnit], seed: int = 2026) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.unit_ids = np.array([u.id for u in units], dtype=np.int32)
        n = len(units)
        busy = self.rng.permutation(np.arange(1, n + 1) ** -0.7)  # a few busy units, a long tail
        self.weights = busy / busy.sum()
        # per-unit quality: most near the top, a tail of weaker units
        self.quality = np.clip(1 - self.rng.gamma(1.2, 0.035, size=n), 0.55, 1.0)
        self.next_ticket = 1

    def month(self, month: dt.date, n: int) -> tuple[pa.Table, pa.Table]:
        """(facts, orders) of `n` orders called back in `month`."""
        rng = self.rng
        idx = rng.choice(len(self.unit_ids), size=n, p=self.weights)
        q = self.quality[idx]
        ids = np.arange(self.next_ticket, self.next_ticket + n, dtype=np.int64)
        self.next_ticket += n
        r = rng.random((6, n))
        resolution = np.where(r[2] < 0.9 * q + 0.08, 0, np.where(r[2] < 0.97 * q + 0.025, 1, 2)).astype(np.int8)
        s = rng.random(n)
        satisfaction = np.select(
            [s < 0.86 * q + 0.1, s < 0.93 * q + 0.06, s < 0.95 * q + 0.045], [0, 1, 3], default=2
        ).astype(np.int8)
        rounds = (1 + (r[5] < 0.04)).astype(np.int16)
        facts = pa.table(
            {
                "ticket_id": ids,
                "callback_id": ids * 4 + rounds,
                "month": np.full(n, month_key(month), dtype=np.int32),
                "unit_id": self.unit_ids[idx],
                "round": rounds,
                "signed_in_time": r[0] < 0.9 + 0.1 * q,
                "contacted": r[1] < 0.95 + 0.05 * q,
                "resolution": resolution,
                "satisfaction": satisfaction,
                "unreasonable": r[3] < 0.004,
                "callback_voided": r[4] < 0.002,
                "returns": (r[4] > 0.97).astype(np.int16),
            },
            schema=SCHEMA,
        )
        # lifecycle: callback inside the month; intake 2–20 days before it
        start = np.datetime64(f"{month:%Y-%m}-01T00:00", "s")
        seconds = (np.datetime64(f"{next_month(month):%Y-%m}-01T00:00", "s") - start).astype(np.int64)
        callback_at = start + rng.integers(0, seconds, size=n).astype("timedelta64[s]")
        intake_at = callback_at - rng.integers(2 * 86400, 20 * 86400, size=n).astype("timedelta64[s]")
        dispatched_at = intake_at + rng.integers(60, 3600, size=n).astype("timedelta64[s]")
        accept_due_at = dispatched_at + np.timedelta64(2 * 3600, "s")
        accepted_at = np.where(
            facts["signed_in_time"].to_numpy(zero_copy_only=False),
            dispatched_at + rng.integers(60, 7200, size=n).astype("timedelta64[s]"),
            accept_due_at + rng.integers(60, 36000, size=n).astype("timedelta64[s]"),
        )
        replied_at = accepted_at + ((callback_at - accepted_at) * 0.7).astype("timedelta64[s]")
        orders = pa.table(
            {
                "ticket_id": ids,
                "unit_id": self.unit_ids[idx],
                "intake_at": intake_at,
                "dispatched_at": dispatched_at,
                "accept_due_at": accept_due_at,
                "accepted_at": accepted_at,
                "replied_at": replied_at,
                "callback_at": callback_at,
                "channel": rng.choice(np.array([0, 1, 2, 3], dtype=np.int8), size=n, p=[0.8, 0.08, 0.07, 0.05]),
            }
        )
        return facts, orders

    def months(self, months: Sequence[dt.date], orders: int) -> Iterator[tuple[dt.date, pa.Table, pa.Table]]:
        per, extra = divmod(orders, len(months))
        for i, month in enumerate(months):
            facts, lifecycle = self.month(month, per + (1 if i < extra else 0))
            yield month, facts, lifecycle


def write_parquet(gen: Generator, months: Sequence[dt.date], orders: int, out: Path) -> int:
    """Write the months under `out` (facts/ and orders/); returns the number of orders."""
    (out / "facts").mkdir(parents=True, exist_ok=True)
    (out / "orders").mkdir(parents=True, exist_ok=True)
    total = 0
    for month, facts, lifecycle in gen.months(months, orders):
        pq.write_table(facts, out / "facts" / f"{month:%Y-%m}.parquet", compression="snappy")
        pq.write_table(lifecycle, out / "orders" / f"{month:%Y-%m}.parquet", compression="snappy")
        total += facts.num_rows
    return total


def load_into_database(gen: Generator, months: Sequence[dt.date], orders: int, batch: int = 5000) -> int:
    """Insert the months as complete, closed tickets of the demo city (with assignment, the six lifecycle
    events, the callback and, for unreasonable or voided ones, the upheld appeal). Ticket numbers come from
    `reserve_history_numbers`, beyond the range live intake uses."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from jiesu.assessment.rules import RESOLUTION_CODES, SATISFACTION_CODES
    from jiesu.catalog.models import Category
    from jiesu.orgs.models import OrgUnit
    from jiesu.sla.models import TimeLimitPolicy
    from jiesu.tickets import services
    from jiesu.tickets.models import Assignment, AssignmentRole, Callback, Ticket, TicketEvent
    from jiesu.tickets.workflow import Action, DispatchState, PublicStatus

    user, _created = get_user_model().objects.get_or_create(
        username="jiesu-history", defaults={"first_name": "历史数据", "is_active": False}
    )
    leaves = list(Category.objects.filter(level=3))
    policies = {p.time_limit_class: p for p in TimeLimitPolicy.objects.filter(category__isnull=True)}
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=gen.unit_ids.tolist()).select_related("parent")}
    streets = list(OrgUnit.objects.filter(kind__in=["subdistrict", "township", "town", "area_office"]))
    rng = np.random.default_rng(7)
    channels = ["phone", "web", "app", "wechat"]
    tz = timezone.get_default_timezone()

    def when(value: np.datetime64) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(value.astype("datetime64[s]").astype(np.int64)), tz)

    total = 0
    for _month, facts, lifecycle in gen.months(months, orders):
        f, o = facts.to_pydict(), lifecycle.to_pydict()
        for start in range(0, facts.num_rows, batch):
            rows = range(start, min(start + batch, facts.num_rows))
            tickets, meta = [], []
            for i in rows:
                unit = units[f["unit_id"][i]]
                street = unit if unit.is_street_township else streets[int(rng.integers(len(streets)))]
                leaf = leaves[int(rng.integers(len(leaves)))]
                policy = policies.get(leaf.time_limit_class) or next(iter(policies.values()))
                times = {
                    k: o[k][i].replace(tzinfo=tz)  # the generator draws local (Beijing) times
                    for k in ("intake_at", "dispatched_at", "accept_due_at", "accepted_at", "replied_at", "callback_at")
                }
                tickets.append(
                    Ticket(
                        number="",
                        idempotency_key=f"{GENERATED_PREFIX}{gen.seed}:{f['ticket_id'][i]}",
                        channel=channels[o["channel"][i]],
                        appeal_type="complaint",
                        title=f"{leaf.name}问题",
                        content=f"{street.name}居民反映{leaf.name}问题，希望尽快处理。",
                        district=street.parent,
                        street=street,
                        category=leaf,
                        time_limit_class=leaf.time_limit_class,
                        time_limit_policy=policy,
                        lead_unit=unit,
                        dispatch_state=DispatchState.CLOSED,
                        public_status=PublicStatus.CLOSED,
                        intake_at=times["intake_at"],
                        dispatched_at=times["dispatched_at"],
                        accept_due_at=times["accept_due_at"],
                        accepted_at=times["accepted_at"],
                        replied_at=times["replied_at"],
                        closed_at=times["callback_at"],
                        reply="已办结。",
                        reopen_count=f["round"][i] - 1,
                        excluded_from_scoring=f["unreasonable"][i],
                        updated_at=times["callback_at"],
                    )
                )
                meta.append((i, unit, times))
            days: dict[dt.date, list[Ticket]] = {}
            for ticket in tickets:
                days.setdefault(ticket.intake_at.date(), []).append(ticket)
            for day, same_day in days.items():
                for ticket, number in zip(same_day, services.reserve_history_numbers(day, len(same_day)), strict=True):
                    ticket.number = number

            def build(
                saved: Sequence[Ticket], meta: list[Any] = meta, f: dict[str, Any] = f
            ) -> tuple[list[Assignment], list[TicketEvent], list[Callback]]:
                assignments, events, callbacks = [], [], []
                for ticket, (i, unit, t) in zip(saved, meta, strict=True):
                    assignments.append(
                        Assignment(ticket=ticket, unit=unit, role=AssignmentRole.LEAD, assigned_at=t["dispatched_at"])
                    )
                    answers = {
                        "contacted": f["contacted"][i],
                        "resolution": RESOLUTION_CODES[f["resolution"][i]],
                        "satisfaction": SATISFACTION_CODES[f["satisfaction"][i]],
                        "round": f["round"][i],
                        "unit": unit.code,
                        "source": "generator",
                    }
                    for action, a, b, at, data in (
                        (Action.INTAKE, "", "new", t["intake_at"], {"source": "generator"}),
                        (Action.DISPATCH, "new", "dispatched", t["dispatched_at"], {"lead": unit.code}),
                        (
                            Action.ACCEPT,
                            "dispatched",
                            "accepted",
                            t["accepted_at"],
                            {"late": not f["signed_in_time"][i]},
                        ),
                        (Action.REPLY, "accepted", "replied", t["replied_at"], {}),
                        (Action.CALLBACK, "replied", "called_back", t["callback_at"], answers),
                        (Action.CLOSE, "called_back", "closed", t["callback_at"], {}),
                    ):
                        events.append(
                            TicketEvent(
                                ticket=ticket,
                                action=action,
                                from_state=a,
                                to_state=b,
                                created_at=at,
                                data=data,
                                notified_at=at,
                            )
                        )
                    callbacks.append(
                        Callback(
                            ticket=ticket,
                            round=f["round"][i],
                            unit=unit,
                            agent=user,
                            contacted=f["contacted"][i],
                            resolution=RESOLUTION_CODES[f["resolution"][i]],
                            satisfaction=SATISFACTION_CODES[f["satisfaction"][i]],
                            signed_in_time=f["signed_in_time"][i],
                            created_at=t["callback_at"],
                        )
                    )
                return assignments, events, callbacks

            with transaction.atomic():
                _appeals(f, meta, services.load_history(tickets, build), user)
            total += len(tickets)
    return total


def _appeals(f: dict[str, Any], meta: list[Any], callbacks: Sequence[Any], user: Any) -> None:
    """The upheld appeals behind the generated unreasonable and voided callbacks."""
    from jiesu.assessment.models import Appeal, AppealKind, AppealState

    kinds = (("unreasonable", AppealKind.UNREASONABLE), ("callback_voided", AppealKind.CALLBACK_RESULT))
    Appeal.objects.bulk_create(
        Appeal(
            ticket_id=callback.ticket_id,
            callback=callback,
            month=t["callback_at"].date().replace(day=1),
            unit=unit,
            kind=kind,
            reason="（生成数据）",
            filed_by=user,
            filed_at=t["callback_at"],
            state=AppealState.UPHELD,
            decided_by=user,
            decided_at=t["callback_at"],
            decision_note="（生成数据）",
        )
        for callback, (i, unit, t) in zip(callbacks, meta, strict=True)
        for flag, kind in kinds
        if f[flag][i]
    )
