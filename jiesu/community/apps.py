from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "jiesu.community"
    verbose_name = _("Party members in the community")

    def ready(self) -> None:
        from jiesu.lib.jobs import Tick, register_tick_step
        from jiesu.notify import outbox

        from . import notices
        from .services import escalate_due

        outbox.register_source(notices.SOURCE, notices.drain, describe=notices.describe_many)

        def unclaimed_tasks(tick: Tick) -> int:
            return escalate_due(tick.now)  # 社区任务 nobody claimed in time → back to the community

        register_tick_step("community-tasks", unclaimed_tasks, order=20)
