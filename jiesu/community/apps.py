from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "jiesu.community"
    verbose_name = _("Party members in the community")

    def ready(self) -> None:
        from jiesu.notify import outbox

        from . import notices

        outbox.register_source("community", notices.drain, field="community_event", describe=notices.describe)  # type: ignore[arg-type]
