from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "jiesu.assessment"
    verbose_name = _("Assessment (三率)")
