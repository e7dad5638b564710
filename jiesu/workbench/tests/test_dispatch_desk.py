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


def test_a_merge_is_undone_by_the_dispatcher(world: World, client: Client) -> None:
    from jiesu.tickets import services

    master = new_ticket(world, title="主工单")
    dup = services.dispatch(world.dispatcher, new_ticket(world, title="重复工单").pk)
    services.merge(world.dispatcher, dup.pk, master.pk, "同一事项")
    client.force_login(world.dispatcher)
    page = client.get(f"/tickets/{dup.pk}/").content.decode()
    assert 'id="act-split"' in page
    client.post(f"/tickets/{dup.pk}/act/split/", {"version": fresh(dup).version, "note": "不是同一事项"})
    t = fresh(dup)
    assert (t.dispatch_state, t.duplicate_of, t.lead_unit, t.closed_at) == ("new", None, None, None)
    assert not t.assignments.filter(is_current=True).exists()
    event = t.events.get(action="split")
    assert (event.from_state, event.to_state, event.data["master"]) == ("merged", "new", master.number)
    assert "重复工单" in client.get("/dispatch/").content.decode()
