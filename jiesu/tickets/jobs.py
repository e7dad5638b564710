"""The tickets' part of `jiesu worker`: the two deadline clocks (signing, then handling), registered as tick steps
in `apps.py`, each ticket claimed by a compare-and-set in `services.escalate_overdue`; then the tracking codes of
phone requests go out by SMS (`services.send_tracking_codes`)."""

import time
from collections.abc import Callable

from jiesu.lib.jobs import Tick

from .services import DEADLINES, Deadline, escalate_overdue, overdue_candidates, send_tracking_codes


def deadline_step(deadline: Deadline) -> Callable[[Tick], int]:
    def run(tick: Tick) -> int:
        escalated = 0
        for ticket_id in overdue_candidates(tick.now, tick.batch, deadline):
            escalated += escalate_overdue(ticket_id, tick.now, deadline)
            if tick.throttle:
                time.sleep(tick.throttle)
        return escalated

    return run


def register() -> None:
    from jiesu.lib.jobs import register_tick_step

    for order, deadline in enumerate(DEADLINES, start=10):  # signing (签收) first, then handling
        register_tick_step(f"deadline:{deadline.action}", deadline_step(deadline), order=order)
    register_tick_step("sms:tracking-codes", lambda tick: send_tracking_codes(tick.batch), order=30)
