from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.portal"
    label = "portal"
    verbose_name = _("Citizens' portal")

    def ready(self) -> None:
        import datetime as dt

        from django.conf import settings

        from jiesu.lib.jobs import register_pruner

        from .models import Throttle

        def old_throttle_rows(now: dt.datetime) -> int:
            before = now - dt.timedelta(days=settings.JIESU_THROTTLE_RETENTION_DAYS)
            return Throttle.objects.filter(hour__lt=before).delete()[0]

        register_pruner("portal-throttle", old_throttle_rows)
