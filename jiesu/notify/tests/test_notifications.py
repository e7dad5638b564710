"""Notifications made from the event outbox reach the people concerned, on their own page."""

import datetime as dt

import time_machine
from django.test import Client

from jiesu.lib.clock import SHANGHAI
from jiesu.notify.models import Notification
from jiesu.operations.worker import tick
from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.tests.helpers import ticket_in


def test_dispatch_notifies_the_unit_and_return_the_dispatchers(world: World) -> None:
    ticket = ticket_in(world, "dispatched")
    services.request_return(world.jw_handler, ticket.pk, "不属于本街道")
    tick()
    assert set(Notification.objects.filter(event__action="dispatch").values_list("user__username", flat=True)) == {
        "jw_handler",
        "jw_leader",
    }
    assert set(
        Notification.objects.filter(event__action="request_return").values_list("user__username", flat=True)
    ) == {
        "dispatcher",
    }
    tick()  # processed once only
    assert Notification.objects.filter(event__action="dispatch").count() == 2


def test_leader_sees_the_escalation_on_the_notifications_page(world: World, client: Client) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        ticket = ticket_in(world, "accepted")
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI), tick=False):
        tick()
    client.force_login(world.jw_leader)
    assert '通知 <span class="badge red">2</span>' in client.get("/tickets/").content.decode()  # dispatch, escalation
    page = client.get("/notifications/").content.decode()
    assert ticket.number in page and "超期升级" in page
    assert "通知 (" not in client.get("/tickets/").content.decode()  # read now
    client.force_login(world.cw_handler)
    assert ticket.number not in client.get("/notifications/").content.decode()
