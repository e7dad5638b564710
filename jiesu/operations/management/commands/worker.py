"""`jiesu worker`: the long-running process that ticks. Each tick runs the registered tick steps (the deadline
clocks, unclaimed community tasks, the event outbox), each guarded, and enqueues the periodic tasks that are due;
`jiesu db_worker` runs those (webhooks, retraining, hotspots, forecasts, pruning). See `jiesu.operations.worker`."""

import signal
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from jiesu.operations.worker import tick
from jiesu.sla.models import Heartbeat


class Command(BaseCommand):
    help = "Ticks the deadlines and the event outbox, and enqueues the periodic tasks for `jiesu db_worker`."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--interval", type=float, default=None, help="seconds between ticks")
        parser.add_argument("--batch", type=int, default=500, help="tickets or events per step")
        parser.add_argument("--throttle", type=float, default=0.0, help="seconds to wait between tickets")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"] or settings.WORKER_INTERVAL_SECONDS
        self.stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not self.stopping:
            done = tick(options["batch"], options["throttle"])
            Heartbeat.beat("worker")  # /readyz and /metrics read it
            if any(done.values()) or options["once"]:
                self.stdout.write(", ".join(f"{name} {n}" for name, n in done.items()), ending="\n")
                self.stdout.flush()
            if options["once"]:
                return
            waited = 0.0
            while waited < interval and not self.stopping:
                time.sleep(0.5)
                waited += 0.5
