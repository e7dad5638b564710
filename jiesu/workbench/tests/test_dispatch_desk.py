"""The dispatch desk: urgent first, batch dispatch with one event per ticket, stale rows reported."""

from django.test import Client

from jiesu.testing.world import World
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.tests.helpers import fresh, new_ticket


def test_urgent_first_and_batch_dispatch(world: World, client: Client) -> None:
    normal = new_ticket(world, title="普通工单")
    urgent = new_ticket(world, title="紧急工单", urgency="urgent")
    stale = new_ticket(world, title="被改过的工单")
    client.force_login(world.dispatcher)
    page = client.get("/dispatch/").content.decode()
    assert page.index("紧急工单") < page.index("普通工单")
    assert 'id="batch-dispatch"' in page
    response = client.post(
        "/dispatch/batch/",
        {"t": [f"{normal.pk}:{fresh(normal).version}", f"{urgent.pk}:{fresh(urgent).version}", f"{stale.pk}:99"]},
        follow=True,
    )
    body = response.content.decode()
    assert fresh(normal).dispatch_state == fresh(urgent).dispatch_state == "dispatched"
    assert fresh(stale).dispatch_state == "new" and "刚被他人修改" in body
    assert TicketEvent.objects.filter(action="dispatch").count() == 2
