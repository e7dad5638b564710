"""A notification's source is generic: a registered source (community, care, …) says how its lines read and where
they lead; notify never imports it. One notification per (source record, user); exactly one source per row."""

from collections.abc import Sequence
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.test import Client

from jiesu.lib import clock
from jiesu.notify import outbox
from jiesu.notify.models import Notification
from jiesu.testing.world import World


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> list[Sequence[int]]:
    calls: list[Sequence[int]] = []

    def describe(ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        calls.append(ids)
        return {i: (f"Something happened #{i}", f"/training/?about={i}") for i in ids}

    monkeypatch.setattr(outbox, "_sources", dict(outbox._sources))
    outbox.register_source("test-source", lambda now, limit: 0, describe=describe)
    return calls


def test_a_registered_source_reads_opens_and_counts(world: World, client: Client, source: Any) -> None:
    now = clock.now()
    outbox.save([outbox.notification("test-source", i, world.jw_leader.pk, at=now, now=now) for i in (7, 8, 9)])
    outbox.save([outbox.notification("test-source", 7, world.jw_leader.pk, at=now, now=now)])  # a repeat: dropped
    assert Notification.objects.filter(source="test-source").count() == 3
    client.force_login(world.jw_leader)
    page = client.get("/notifications/").content.decode()
    assert "Something happened #7" in page and "Something happened #9" in page
    assert len(source) == 1  # the whole page described in one call
    assert '通知 <span class="badge red">3</span>' in page
    n = Notification.objects.get(source="test-source", source_id=8)
    response = client.get(f"/notifications/{n.pk}/")
    assert response.status_code == 302 and response["Location"] == "/training/?about=8"
    assert Notification.objects.filter(read_at__isnull=True, source="test-source").count() == 2
    client.force_login(world.jw_handler)  # somebody else's notifications: not on their page, not openable
    assert "Something happened" not in client.get("/notifications/").content.decode()
    assert client.get(f"/notifications/{n.pk}/")["Location"] == "/notifications/"


def test_an_unregistered_source_still_reads(world: World, client: Client) -> None:
    now = clock.now()
    outbox.save([outbox.notification("gone-app", 1, world.jw_leader.pk, at=now, now=now)])
    client.force_login(world.jw_leader)
    assert "gone-app" in client.get("/notifications/").content.decode()
    n = Notification.objects.get(source="gone-app")
    assert client.get(f"/notifications/{n.pk}/")["Location"] == "/notifications/"


def test_a_notification_has_exactly_one_source(world: World) -> None:
    now = clock.now()
    for bad in [
        Notification(user=world.jw_leader, created_at=now),  # none
        Notification(user=world.jw_leader, source="x", created_at=now),  # a name without a record
        Notification(user=world.jw_leader, source_id=1, created_at=now),  # a record without a name
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            bad.save()


def test_the_admin_shows_only_ones_own_sourced_notifications(world: World, source: Any) -> None:
    now = clock.now()
    outbox.save(
        [outbox.notification("test-source", 5, u.pk, at=now, now=now) for u in (world.jw_leader, world.jw_handler)]
    )
    leader = world.jw_leader
    leader.is_staff = True
    leader.save(update_fields=["is_staff"])
    leader.user_permissions.set(Permission.objects.filter(codename="view_notification"))
    client = Client()
    client.force_login(leader)
    page = client.get("/admin/notify/notification/")
    assert page.status_code == 200 and page.content.decode().count("test-source") == 1
    other = Notification.objects.get(user=world.jw_handler, source="test-source")
    assert client.get(f"/admin/notify/notification/{other.pk}/change/").status_code in {302, 404}
