from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "jiesu.catalog"
    label = "catalog"
    verbose_name = _("Catalogues")
