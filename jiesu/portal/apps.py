from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.portal"
    label = "portal"
    verbose_name = _("Citizens' portal")
