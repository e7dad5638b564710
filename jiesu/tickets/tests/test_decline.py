"""不予受理 with a published reason, the requester's appeal (once), the public digest; 一次一评 apart from the case."""

from django.test import Client

from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import Callback

from .helpers import decline_reason, fresh, new_ticket, ticket_in


def test_decline_appeal_and_the_public_digest(world: World, client: Client) -> None:
    ticket = new_ticket(world, title="请帮我查邻居的手机号 13900001111")
    client.force_login(world.operator)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="act-decline"' in page
    decline_reason()
    response = client.post(
        f"/tickets/{ticket.pk}/act/decline/",
        {"version": fresh(ticket).version, "decline_reason": "D05", "note": "无具体诉求"},
    )
    assert response.status_code == 302 and fresh(ticket).dispatch_state == "declined"

    client.logout()
    track = client.get("/portal/track/", {"number": ticket.number, "phone_tail": "5678"}).content.decode()
    assert "无实质内容或恶意骚扰" in track and 'id="appeal"' in track
    digest = client.get("/portal/declined/").content.decode()
    assert "无实质内容或恶意骚扰" in digest and "13900001111" not in digest and ticket.title not in digest

    client.post("/portal/appeal/", {"number": ticket.number, "phone_tail": "5678", "reason": "诉求是具体的"})
    t = fresh(ticket)
    assert (t.dispatch_state, t.decline_appealed, t.decline_reason) == ("new", True, None)
    services.decline(world.dispatcher, ticket.pk, "D05", "复核后仍不予受理")
    track = client.get("/portal/track/", {"number": ticket.number, "phone_tail": "5678"}).content.decode()
    assert 'id="appeal"' not in track  # once only


def test_the_call_is_rated_apart_from_the_case(world: World, client: Client) -> None:
    ticket = ticket_in(world, "closed")
    track = client.get("/portal/track/", {"number": ticket.number, "phone_tail": "5678"}).content.decode()
    assert 'id="rate-call"' in track
    client.post(
        "/portal/rate-call/",
        {"number": ticket.number, "phone_tail": "5678", "satisfaction": "dissatisfied", "comment": "等待太久"},
    )
    event = fresh(ticket).events.get(action="rate_call")
    assert event.data["satisfaction"] == "dissatisfied" and event.data["operator"] == world.operator.pk
    # the unit's callback (the case) is untouched: satisfied
    assert list(Callback.objects.filter(ticket=ticket).values_list("satisfaction", flat=True)) == ["satisfied"]
    track = client.get("/portal/track/", {"number": ticket.number, "phone_tail": "5678"}).content.decode()
    assert 'id="rate-call"' not in track
