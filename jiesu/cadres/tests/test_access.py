"""Who sees which cadre profile: the role × unit matrix of the access layer."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jiesu.cadres import access
from jiesu.cadres.models import CadreEvent, CadreProfile
from jiesu.lib.errors import NotFound

# who → which profiles (by username) they read
EXPECTED = {
    "jw_handler": {"jw_handler"},
    "cw_handler": {"cw_handler"},
    "jw_leader": {"jw_handler", "jw_leader", "jw_secretary"},
    "jw_secretary": {"jw_handler", "jw_leader", "jw_secretary"},
    "cy_zzb": {"jw_handler", "jw_leader", "jw_secretary", "cw_handler"},
    "hd_zzb": {"hd_handler"},
    "zzb": {"jw_handler", "jw_leader", "jw_secretary", "cw_handler", "hd_handler"},
    "jjw": set(),
    "cy_jjw": set(),
    "city_supervisor": set(),
    "operator": set(),
    "admin": set(),
    "cy_supervisor": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_profile_matrix(cw: Any, who: str) -> None:
    user = cw.users[who]
    seen = {p.user.username for p in access.visible_profiles(user)}
    assert seen == EXPECTED[who]
    for profile in CadreProfile.objects.all():
        if profile.user.username in EXPECTED[who]:
            assert access.get_profile(user, profile.pk) == profile
        else:
            with pytest.raises(NotFound):
                access.get_profile(user, profile.pk)


def test_discipline_sees_flags_in_its_area_only(cw: Any) -> None:
    assert {p.user.username for p in access.flag_profiles(cw.cy_jjw)} == {
        "jw_handler",
        "jw_leader",
        "jw_secretary",
        "cw_handler",
    }
    assert {p.user.username for p in access.flag_profiles(cw.hd_jjw)} == {"hd_handler"}
    assert access.flag_profiles(cw.city_supervisor).count() == 0


def test_events_are_append_only(cw: Any) -> None:
    event = CadreEvent.objects.create(action="test", at=timezone.now())
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
