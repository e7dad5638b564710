from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CadresConfig(AppConfig):
    name = "jiesu.cadres"
    verbose_name = _("Cadres (担当作为)")

    def ready(self) -> None:
        from jiesu.notify import outbox
        from jiesu.tickets import panels

        from . import notices, tasks
        from .panels import recognition_panel

        panels.register("recognition", recognition_panel)
        outbox.register_source(notices.SOURCE, notices.drain, describe=notices.lines, private=True)
        tasks.register()
