"""Residents' praise from the callbacks lands on the profile; the monthly honours list and the recognition wall."""

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse

from jiesu.cadres import selectors, services
from jiesu.cadres.models import CadreProfile, Recognition
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import ticket_in

NOVEMBER = dt.date(2026, 11, 1)


def test_praise_honours_and_wall(cw: Any, clock: Any) -> None:
    for i in range(3):
        t = ticket_in(cw, "replied")
        tickets.record_callback(
            cw.agent,
            t.pk,
            contacted=True,
            resolution="solved",
            satisfaction="satisfied",
            comment="居民表示非常感谢" if i < 2 else "",
        )
    me = CadreProfile.objects.get(user=cw.jw_handler)
    assert services.praise_from_callbacks("2026-11") == 2  # the callbacks with the resident's words
    assert services.praise_from_callbacks("2026-11") == 0  # once
    assert Recognition.objects.filter(profile=me, kind="resident_praise").count() == 2
    [h] = selectors.honours(cw.jw_secretary, NOVEMBER)
    assert (h.profile, h.solved, h.called_back, h.recognitions) == (me, 3, 3, 2)
    assert selectors.honours(cw.hd_zzb, NOVEMBER) == []
    client = Client()
    client.force_login(cw.jw_secretary)
    page = client.get(reverse("cadre-honours") + "?month=2026-11&screen=1").content.decode()
    assert me.display_name in page and "居民表示非常感谢" in page
    other = Client()
    other.force_login(cw.operator)
    assert other.get(reverse("cadre-honours")).status_code == 404
