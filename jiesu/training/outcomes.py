"""Each person's own outcomes, read from the trail: every callback (回访) on a ticket, attributed to the person
who replied in that round (for operators: who took the call), with the five outcomes transfer is measured on.

- on_time: signed within the sign limit and not marked overdue in that round;
- contacted, solved (answer "solved"), satisfied (satisfied or fairly satisfied): the callback's answers;
- reopened: the ticket was reopened after this callback.

A ticket the person marked abusive (辱骂) is left out of that person's figures (only theirs).
"""

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db.models import Q

from jiesu.tickets.models import Callback, TicketEvent
from jiesu.tickets.workflow import Action

from .models import AbuseMark

METRICS = ("on_time", "contacted", "solved", "satisfied", "reopened")


@dataclasses.dataclass(frozen=True)
class Outcome:
    person: int
    ticket_id: int
    at: dt.datetime
    on_time: bool
    contacted: bool
    solved: bool
    satisfied: bool
    reopened: bool
    dissatisfied: bool = False  # judged dissatisfied or unsolved (the care signal's streak)

    def value(self, metric: str) -> float:
        return float(getattr(self, metric))


def category_q(codes: Sequence[str]) -> Q:
    """Tickets whose category is one of `codes` or lies below one (codes are prefixes: 01 → 0102 → 010201)."""
    q = Q(pk__in=[])
    for code in codes:
        q |= Q(ticket__category__code__startswith=code)
    return q


def outcomes(
    people: Iterable[int],
    since: dt.datetime,
    until: dt.datetime,
    *,
    category_codes: Sequence[str] | None = None,
    by: str = "reply",
) -> dict[int, list[Outcome]]:
    """person → their outcomes of callbacks in [since, until). `by`: "reply" (handlers) or "intake" (operators)."""
    wanted = set(people)
    result: dict[int, list[Outcome]] = defaultdict(list)
    if not wanted:
        return result
    callbacks = Callback.objects.filter(created_at__gte=since, created_at__lt=until)
    if category_codes is not None:
        callbacks = callbacks.filter(category_q(category_codes))
    rows = list(
        callbacks.values_list(
            "ticket_id", "round", "created_at", "contacted", "resolution", "satisfaction", "signed_in_time"
        )
    )
    if not rows:
        return result
    tickets = sorted({r[0] for r in rows})
    action = Action.REPLY if by == "reply" else Action.INTAKE
    trail: dict[int, list[tuple[dt.datetime, int, str, int | None]]] = defaultdict(list)
    for start in range(0, len(tickets), 2000):
        chunk = tickets[start : start + 2000]
        for pk, ticket_id, act, actor_id, at in TicketEvent.objects.filter(
            ticket_id__in=chunk, action__in=[action, Action.MARK_OVERDUE, Action.REOPEN, Action.CALLBACK]
        ).values_list("pk", "ticket_id", "action", "actor_id", "created_at"):
            trail[ticket_id].append((at, pk, act, actor_id))
    abusive = set(
        AbuseMark.objects.filter(person_id__in=wanted, ticket_id__in=tickets).values_list("ticket_id", "person_id")
    )
    for ticket_id, round_, at, contacted, resolution, satisfaction, signed in rows:
        # The round-th CALLBACK event of the ticket is this callback (one callback per round); the round ran from
        # the previous callback to it, and a reopen after it (before the next callback) was its consequence.
        person = None
        overdue = False
        reopened = False
        seen = 0
        for _when, _pk, act, actor in sorted(trail.get(ticket_id, ())):
            if act == Action.CALLBACK:
                seen += 1
                if seen > round_:
                    break
                overdue = False if seen < round_ else overdue
                continue
            if seen < round_:
                if act == action and actor is not None:
                    person = actor
                elif act == Action.MARK_OVERDUE:
                    overdue = True
            elif act == Action.REOPEN:
                reopened = True
        if person is None or person not in wanted or (ticket_id, person) in abusive:
            continue
        result[person].append(
            Outcome(
                person,
                ticket_id,
                at,
                on_time=bool(signed) and not overdue,
                contacted=bool(contacted),
                solved=resolution == "solved",
                satisfied=satisfaction in {"satisfied", "fairly_satisfied"},
                reopened=reopened,
                dissatisfied=satisfaction == "dissatisfied" or resolution == "unsolved",
            )
        )
    return result


def rates(items: Sequence[Outcome]) -> dict[str, float | None]:
    n = len(items)
    return {m: (sum(o.value(m) for o in items) / n if n else None) for m in METRICS}
