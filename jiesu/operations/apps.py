from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "jiesu.operations"
    verbose_name = _("Operations")

    def ready(self) -> None:
        from . import tasks

        tasks.register()  # pruning (task results, sessions), beside what the other apps registered
        from . import checks  # noqa: F401  (registers the deployment checks)
