from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "jiesu.training"
    verbose_name = _("Training and care")

    def ready(self) -> None:
        from . import tasks

        tasks.register()
