from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "jiesu.integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from . import tasks

        tasks.register()
