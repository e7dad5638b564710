"""The demo's 一次一评: most phone calls an operator registered are rated, once, mostly satisfied."""

from django.test import Client

from jiesu.demo.calls import seed_call_ratings
from jiesu.testing.world import World
from jiesu.tickets.models import TicketEvent
from jiesu.tickets.tests.helpers import new_ticket


def test_demo_callers_rate_their_calls_once(world: World, client: Client) -> None:
    for i in range(20):
        new_ticket(world, title=f"来电{i}")
    new_ticket(world, channel="web", title="网上")  # not a call
    made = seed_call_ratings(seed=1)
    assert 8 <= made <= 20
    events = TicketEvent.objects.filter(action="rate_call")
    assert events.count() == made and not events.filter(ticket__channel="web").exists()
    assert all(e.created_at > e.ticket.intake_at for e in events)
    assert seed_call_ratings(seed=1) == 0  # never twice
    client.force_login(world.operator)
    assert str(made) in client.get("/intake/ratings/").content.decode()
