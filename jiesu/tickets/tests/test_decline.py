"""不予受理 with a published reason, the requester's appeal (once, with the tracking code), the public digest."""

from django.test import Client

from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import TrackingCode

from .helpers import decline_reason, fresh, new_ticket


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
    assert "无实质内容或恶意骚扰" in track and 'id="appeal"' not in track  # the phone's digits prove nothing
    code = TrackingCode.issue(ticket)  # as a portal submission would have given the citizen
    track = client.get("/portal/track/", {"number": ticket.number, "phone_tail": code}).content.decode()
    assert 'id="appeal"' in track
    digest = client.get("/portal/declined/").content.decode()
    assert "无实质内容或恶意骚扰" in digest and "13900001111" not in digest and ticket.title not in digest

    client.post("/portal/appeal/", {"number": ticket.number, "phone_tail": code, "reason": "诉求是具体的"})
    t = fresh(ticket)
    assert (t.dispatch_state, t.decline_appealed, t.decline_reason) == ("new", True, None)
    services.decline(world.dispatcher, ticket.pk, "D05", "复核后仍不予受理")
    track = client.get("/portal/track/", {"number": ticket.number, "phone_tail": code}).content.decode()
    assert 'id="appeal"' not in track  # once only
