from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibConfig(AppConfig):
    """The bottom layer as an app, for the few tables every layer shares (the rate-limit counters)."""

    name = "jiesu.lib"
    label = "lib"
    verbose_name = _("Shared")

    def ready(self) -> None:
        import datetime as dt

        from django.conf import settings

        from .jobs import register_pruner
        from .models import Throttle

        def old_throttle_rows(now: dt.datetime) -> int:
            before = now - dt.timedelta(days=settings.JIESU_THROTTLE_RETENTION_DAYS)
            return Throttle.objects.filter(hour__lt=before).delete()[0]

        register_pruner("throttle", old_throttle_rows)
