from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.workbench"
    label = "workbench"
    verbose_name = _("Workbench")
