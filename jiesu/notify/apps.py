from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.notify"
    label = "notify"
    verbose_name = _("Notifications")
