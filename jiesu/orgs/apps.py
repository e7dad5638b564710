from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.orgs"
    label = "orgs"
    verbose_name = _("Org units")
