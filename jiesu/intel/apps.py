from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelConfig(AppConfig):
    name = "jiesu.intel"
    verbose_name = _("Intelligence")

    def ready(self) -> None:
        from . import tasks

        tasks.register()
