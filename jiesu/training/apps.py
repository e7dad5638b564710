from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "jiesu.training"
    verbose_name = _("Training and care")

    def ready(self) -> None:
        from jiesu.cadres import sections
        from jiesu.notify import outbox

        from . import notices, tasks
        from .profile import training_section

        tasks.register()
        outbox.register_source(notices.SOURCE, notices.drain, describe=notices.describe_many, private=True)
        sections.register("training", training_section, order=50)  # 培训档案 on the cadre profile
