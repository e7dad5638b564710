"""The training record (培训档案) as a section of the cadre profile (`cadres.sections`, registered in apps.py):
every course the cadre took, with the practice scores and questionnaires, and a link to the full record."""

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jiesu.cadres.models import CadreProfile
from jiesu.cadres.sections import Section

from . import access, selectors


def training_section(viewer: Any, profile: CadreProfile) -> Section | None:
    person = profile.user
    if not access.may_read_training_record(viewer, person):
        return None
    rows = selectors.training_record(person)
    return Section(
        name="training",
        title=_("Training record (培训档案)"),
        template="training/_profile_section.html",
        context={
            "rows": rows,
            "completed": sum(1 for r in rows if r["enrolment"].completed_at),
            "record_url": reverse("training-record", args=[person.pk]),
        },
    )
