from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.tickets"
    label = "tickets"
    verbose_name = _("Work orders")

    def ready(self) -> None:
        from . import jobs

        jobs.register()  # the deadline clocks of `jiesu worker`
