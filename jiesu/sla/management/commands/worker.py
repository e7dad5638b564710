"""`jiesu worker`: the long-running background process.

Each tick it marks tickets not signed in time and tickets past their deadline, escalates them to their
unit's leaders, sends community tasks nobody claimed back to the community, then turns new events
into notifications, delivers them to webhook subscribers,
retrains the text models when enough tickets have closed since the last training (`INTEL_RETRAIN_AFTER`),
runs hotspot detection hourly and the forecasts daily (`governance.services.run_due`). It keeps no timers in
memory: everything it needs is in the database and every step is a compare-and-set, so it can be killed and
restarted at any moment (modelled on healthchecks' sendalerts).
"""

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from jiesu.community.services import escalate_due as escalate_community_tasks
from jiesu.governance.services import run_due as governance_due
from jiesu.integrations.webhooks import deliver_due
from jiesu.intel.services import retrain_if_due
from jiesu.lib import clock
from jiesu.notify.outbox import process_outbox
from jiesu.sla.models import Heartbeat
from jiesu.tickets.services import DEADLINES, escalate_overdue, overdue_candidates


def tick(batch: int = 500, throttle: float = 0.0) -> tuple[int, int]:
    now = clock.now()
    escalated = 0
    for deadline in DEADLINES:  # signing (签收) first, then handling
        for ticket_id in overdue_candidates(now, batch, deadline):
            escalated += escalate_overdue(ticket_id, now, deadline)
            if throttle:
                time.sleep(throttle)
    escalate_community_tasks(now)  # 社区任务: unclaimed within the window → back to the community
    notified = process_outbox(clock.now(), batch)
    deliver_due(batch)
    retrain_if_due()
    governance_due()
    return escalated, notified


class Command(BaseCommand):
    help = "Runs the deadline tick (overdue → escalation), the notification outbox and webhook deliveries."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--interval", type=float, default=None, help="seconds between ticks")
        parser.add_argument("--batch", type=int, default=500, help="tickets or events per step")
        parser.add_argument("--throttle", type=float, default=0.0, help="seconds to wait between tickets")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        interval = options["interval"] or settings.WORKER_INTERVAL_SECONDS
        self.stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not self.stopping:
            Heartbeat.beat("worker")  # /readyz and /metrics read it
            escalated, notified = tick(options["batch"], options["throttle"])
            if escalated or notified or options["once"]:
                self.stdout.write(f"escalated {escalated} overdue tickets, processed {notified} events", ending="\n")
                self.stdout.flush()
            if options["once"]:
                return
            waited = 0.0
            while waited < interval and not self.stopping:
                time.sleep(0.5)
                waited += 0.5
