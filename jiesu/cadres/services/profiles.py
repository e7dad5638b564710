"""cadres services: profiles."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib.errors import InvalidInput

from ..models import CadreProfile, Ladder
from ._core import _choice, _date, _event, _manage, _text, _unit


@transaction.atomic
def create_profile(
    actor: Any,
    *,
    username: str,
    unit: str,
    post: str,
    ladder: str = Ladder.MANAGEMENT,
    level: str = "",
    party_member: bool = False,
    started_on: Any,
) -> CadreProfile:
    the_unit = _unit(unit)
    _manage(actor, the_unit)
    user = get_user_model().objects.filter(username=str(username).strip()).first()
    if user is None:
        raise InvalidInput(_("Unknown login name."), on="username")
    if CadreProfile.objects.filter(user=user).exists():
        raise InvalidInput(_("This person already has a cadre profile."), on="username")
    profile = CadreProfile.objects.create(
        user=user,
        unit=the_unit,
        post=_text(post, "post", _("post"), 100),
        ladder=_choice(ladder, Ladder, "ladder", _("career ladder")),
        level=_text(level, "level", _("level"), 50, required=False),
        party_member=bool(party_member),
        started_on=_date(started_on, "started_on", _("started on")),
    )
    _event(actor, "profile_created", profile=profile, subject="profile", subject_id=profile.pk, post=profile.post)
    return profile
