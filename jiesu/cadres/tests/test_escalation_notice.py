"""An overdue rectification item escalates (the worker's periodic verification) and the outbox tells its owner, the
unit's Party secretary and leader, and the organisation department that held the 约谈; each opens the 约谈."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jiesu.cadres import services, tasks
from jiesu.cadres.models import CadreEvent, CadreProfile
from jiesu.cadres.tests.test_paths import published
from jiesu.lib.clock import SHANGHAI
from jiesu.notify.models import Notification
from jiesu.notify.outbox import process_outbox
from jiesu.testing.world import JIANWAI


def test_an_overdue_rectification_notifies_once(cw: Any, clock: Any) -> None:
    published(dt.date(2026, 10, 1), {JIANWAI: {"score": Decimal(60), "rank": 9, "interview": True}})
    interview = services.schedule_interview(
        cw.cy_zzb, unit=JIANWAI, month="2026-10", scheduled_for="2026-11-25 09:30", attendees="书记、主任"
    )
    services.record_minutes(cw.cy_zzb, interview.pk, "限期整改")
    handler = CadreProfile.objects.get(user=cw.jw_handler)
    services.add_rectification(
        cw.cy_zzb,
        interview.pk,
        title="提高综合得分",
        owner=handler.pk,
        due_on="2026-12-10",
        metric="score",
        target="80",
    )
    process_outbox(timezone.now())  # the trail so far notifies nobody
    assert Notification.objects.count() == 0
    assert not CadreEvent.objects.filter(notified_at__isnull=True).exists()

    clock.move_to(dt.datetime(2026, 12, 11, 9, 0, tzinfo=SHANGHAI))
    assert tasks.rectifications_due(timezone.now())
    assert services.verify_rectifications() == {"verified": 0, "escalated": 1}
    assert process_outbox(timezone.now()) >= 1
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"jw_handler", "jw_leader", "jw_secretary", "cy_zzb"}
    process_outbox(timezone.now())
    services.verify_rectifications()  # escalates once
    process_outbox(timezone.now())
    assert Notification.objects.count() == 4

    for user in (cw.jw_handler, cw.cy_zzb):
        c = Client()
        c.force_login(user)
        page = c.get(reverse("notifications")).content.decode()
        assert "整改事项逾期已升级：提高综合得分（建外街道，期限 2026-12-10）" in page
        note = Notification.objects.get(user=user)
        opened = c.get(reverse("notification-open", args=[note.pk]), follow=True)
        assert opened.status_code == 200 and opened.request["PATH_INFO"] == reverse(
            "cadre-interview", args=[interview.pk]
        )
        assert "提高综合得分" in opened.content.decode()
    # nobody outside learns of it
    c = Client()
    c.force_login(cw.hd_handler)
    assert c.get(reverse("cadre-interview", args=[interview.pk])).status_code == 404
