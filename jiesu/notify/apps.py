from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from jiesu.lib.jobs import Tick, register_tick_step

        from .outbox import process_outbox

        def outbox(tick: Tick) -> int:
            return process_outbox(tick.now, tick.batch)

        register_tick_step("outbox", outbox, order=90)  # events → notifications, after the escalations
