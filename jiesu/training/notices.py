"""Care alerts reach the person's leaders as notifications (source "care" of `jiesu.notify.outbox`).

The notification outbox drains new alerts (`CareAlert.notified_at`, claimed as a batch like the tickets' events) and
tells the leaders of the alert's unit, never the person; the line names the person and leads to their care page. It
says nothing of the signals: the care page shows them to whoever may read them. The source is private: the
notification admin shows these lines only to their recipient, administrators included.
"""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from jiesu.orgs.models import Membership, Role

from .models import CareAlert

SOURCE = "care"


def recipients(alerts: Sequence[CareAlert]) -> dict[int, list[int]]:
    """The leaders of each alert's unit (by alert id), without the person, in one query."""
    leaders: dict[int, set[int]] = {}
    for user_id, unit_id in Membership.objects.filter(
        unit_id__in={a.unit_id for a in alerts}, role=Role.UNIT_LEADER, user__is_active=True
    ).values_list("user_id", "unit_id"):
        leaders.setdefault(unit_id, set()).add(user_id)
    return {a.pk: sorted(leaders.get(a.unit_id, set()) - {a.person_id}) for a in alerts}


def drain(now: dt.datetime, limit: int) -> int:
    from jiesu.notify import outbox

    with transaction.atomic():
        alerts = outbox.claim(CareAlert, limit)
        if not alerts:
            return 0
        told = recipients(outbox.mark(CareAlert, alerts, now))
        outbox.save(
            [outbox.notification(SOURCE, a.pk, uid, at=a.created_at, now=now) for a in alerts for uid in told[a.pk]]
        )
        return len(alerts)


def describe_many(ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(text, link) of care-alert notification lines, by alert id (one query)."""
    alerts = CareAlert.objects.select_related("person").in_bulk(list(ids))
    return {
        pk: (
            _("Care alert: %(person)s") % {"person": a.person.first_name or a.person.username},
            f"{reverse('care-person', args=[a.person_id])}#alert-{a.pk}",
        )
        for pk, a in alerts.items()
    }
