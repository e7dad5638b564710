"""不予受理 with a published reason, the requester's appeal (once, with the tracking code), the public digest; a
phone caller's appeal (the code told with the decline, or recorded by an operator when they call back)."""

import re

import pytest
from django.test import Client

from jiesu.testing.world import World
from jiesu.tickets import services
from jiesu.tickets.models import TicketEvent, TrackingCode

from .helpers import decline_reason, fresh, new_ticket, ticket_in

CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


@pytest.mark.parametrize("caller", ["010-65123456", "13812345678"])
def test_decline_appeal_and_the_public_digest(world: World, client: Client, caller: str) -> None:
    """A landline caller is told an appeal code with the decline; a mobile caller has had theirs by SMS since
    intake, and the decline shows none."""
    ticket = new_ticket(world, title="请帮我查邻居的手机号 13900001111", requester_phone=caller)
    mobile = caller.startswith("1")
    sms = TrackingCode.shown(TrackingCode.objects.get(ticket=ticket).sms_code) if mobile else ""
    client.force_login(world.operator)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="act-decline"' in page
    decline_reason()
    response = client.post(
        f"/tickets/{ticket.pk}/act/decline/",
        {"version": fresh(ticket).version, "decline_reason": "D05", "note": "无具体诉求"},
        follow=True,
    )
    assert fresh(ticket).dispatch_state == "declined"
    told = CODE.search(response.content.decode())  # shown once to the operator, to tell the caller
    if mobile:
        assert told is None and "申诉码" in response.content.decode()  # the SMS code is the appeal code
        code = sms
    else:
        assert told is not None and ticket.number in response.content.decode()
        code = told.group(0)
    assert code not in client.get(f"/tickets/{ticket.pk}/").content.decode()  # never again
    assert code not in str(TicketEvent.objects.filter(ticket=ticket).values_list("data", "note"))

    client.logout()
    track = client.get("/portal/track/", {"number": ticket.number, "phone_tail": caller[-4:]}).content.decode()
    assert "无实质内容或恶意骚扰" in track and 'id="appeal"' not in track  # the phone's digits prove nothing
    assert 'id="appeal-how"' in track  # … but the page says how to appeal
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


def _appeal(client: Client, ticket_pk: int, **fields: str) -> str:
    data = {"version": str(fresh_version(ticket_pk)), "note": "我的诉求是具体的"} | fields
    return client.post(f"/tickets/{ticket_pk}/act/appeal_decline/", data, follow=True).content.decode()


def fresh_version(pk: int) -> int:
    from jiesu.tickets.models import Ticket

    return Ticket.objects.get(pk=pk).version


@pytest.mark.parametrize("proof", ["number", "code"])
def test_an_operator_records_a_phone_callers_appeal(world: World, client: Client, proof: str) -> None:
    decline_reason()
    ticket = ticket_in(world, "declined")  # registered from 13812345678
    assert TrackingCode.objects.filter(ticket=ticket).exists()  # given with the decline, kept only as a hash
    client.force_login(world.jw_handler)
    assert client.post(f"/tickets/{ticket.pk}/act/appeal_decline/", {"note": "x"}).status_code == 404
    client.force_login(world.operator)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="act-appeal_decline"' in page and 'id="appeal-caller-phone"' in page
    refused = _appeal(client, ticket.pk, caller_phone="13900009999")  # another number, no code
    assert "registered with" in refused or "登记" in refused
    assert fresh(ticket).dispatch_state == "declined"
    if proof == "number":
        _appeal(client, ticket.pk, caller_phone="+86 138-1234-5678")  # the same number, written otherwise
    else:
        TrackingCode.objects.filter(ticket=ticket).delete()
        told = TrackingCode.issue(ticket)
        _appeal(client, ticket.pk, appeal_code=told.lower())
    t = fresh(ticket)
    assert (t.dispatch_state, t.decline_appealed, t.decline_reason) == ("new", True, None)
    event = t.events.order_by("-id").first()
    assert event is not None and event.action == "appeal_decline" and event.actor == world.operator
    assert event.data["source"] == "phone" and event.data["proof"] == proof
    services.decline(world.dispatcher, ticket.pk, "D05", "复核后仍不予受理")  # final
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="act-appeal_decline"' not in page
    assert (
        "appealed already" in _appeal(client, ticket.pk, caller_phone="13812345678")
        or fresh(ticket).dispatch_state == "declined"
    )
    assert fresh(ticket).dispatch_state == "declined"


def test_an_undelivered_sms_code_is_replaced_at_the_decline(world: World, client: Client) -> None:
    decline_reason()
    ticket = new_ticket(world, requester_phone="13812345678")
    TrackingCode.objects.filter(ticket=ticket).update(sms_code="", sms_attempts=3)  # the gateway gave up
    client.force_login(world.operator)
    response = client.post(
        f"/tickets/{ticket.pk}/act/decline/",
        {"version": fresh(ticket).version, "decline_reason": "D05", "note": "无具体诉求"},
        follow=True,
    )
    told = CODE.search(response.content.decode())
    assert told is not None and TrackingCode.objects.get(ticket=ticket).matches(told.group(0))
