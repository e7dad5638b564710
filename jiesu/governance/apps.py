from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "jiesu.governance"
    verbose_name = _("Proactive governance")

    def ready(self) -> None:
        from jiesu.tickets import panels

        from .panels import governance_panel

        panels.register("governance", governance_panel)
        from . import tasks

        tasks.register()
