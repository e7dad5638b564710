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


def test_the_party_secretary_opens_the_units_tickets_but_acts_on_none(cw: Any, client: Any) -> None:
    """The 实绩档案's figures lead to tickets: the street's Party secretary opens them, reads, and acts on none."""
    from jiesu.tickets.tests.helpers import ticket_in

    ours = ticket_in(cw, "accepted")  # led by 建外街道
    theirs = ticket_in(cw, "new")  # not dispatched to 建外 yet
    client.force_login(cw.jw_secretary)
    page = client.get(f"/tickets/{ours.pk}/")
    assert page.status_code == 200 and ours.number in page.content.decode()
    assert 'id="act-' not in page.content.decode()
    assert client.get(f"/tickets/{theirs.pk}/").status_code == 404
    before = type(ours).objects.get(pk=ours.pk)
    client.post(f"/tickets/{ours.pk}/act/reply/", {"reply": "已处理", "version": str(before.version)})
    after = type(ours).objects.get(pk=ours.pk)
    assert (after.version, after.reply) == (before.version, before.reply)  # refused, nothing changed
