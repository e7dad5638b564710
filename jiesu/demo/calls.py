"""一次一评 in the demo city: callers rate the call after hanging up (the IVR's question), for most phone tickets an
operator registered: mostly satisfied, some fairly, a few not (with what they said). A call is rated a couple of
minutes after it was registered, never twice; a second run adds nothing."""

import datetime as dt
import random

from jiesu.lib import clock
from jiesu.tickets import services
from jiesu.tickets.models import Channel, Ticket, TicketEvent
from jiesu.tickets.workflow import Action

ANSWERS = [("satisfied", 82), ("fairly_satisfied", 13), ("dissatisfied", 5)]
COMPLAINTS = ["等待时间太长", "话务员没听明白我的问题", "重复问了好几遍", "语气不太耐烦"]  # i18n: data
SHARE = 0.7  # of the calls, rated (the others hung up before the question)


def seed_call_ratings(seed: int = 2026) -> int:
    rated = TicketEvent.objects.filter(action=Action.RATE_CALL).values("ticket_id")
    calls = (
        Ticket.objects.filter(channel=Channel.PHONE, created_by__isnull=False)
        .exclude(pk__in=rated)
        .order_by("intake_at", "pk")
        .values_list("pk", "intake_at")
    )
    answers, weights = zip(*ANSWERS, strict=True)
    made, now = 0, clock.now()
    for pk, intake_at in calls:
        rng = random.Random(f"{seed}-{pk}")  # the same call decides the same way on a second run
        if rng.random() >= SHARE:
            continue
        answer = rng.choices(answers, weights)[0]
        comment = rng.choice(COMPLAINTS) if answer == "dissatisfied" else ""
        with clock.at(min(intake_at + dt.timedelta(minutes=rng.randint(1, 4)), now)):
            services.rate_call(pk, answer, source="ivr:demo", comment=comment)
        made += 1
    return made
