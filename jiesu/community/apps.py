from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "jiesu.community"
    verbose_name = _("Party members in the community")
