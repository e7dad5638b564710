"""The caller's phone and name: unmasked for hotline roles and the units handling the ticket (unless the caller
asked for confidentiality), masked for everybody else."""

from typing import Any

from django.test import Client

from jiesu.lib.masking import mask_name, mask_phone
from jiesu.testing.world import World

from .helpers import ticket_in

FULL, MASKED = "13812345678", "138****5678"


def detail_page(client: Client, user: Any, ticket: Any) -> str:
    client.force_login(user)
    return client.get(f"/tickets/{ticket.pk}/").content.decode()


def test_mask_functions() -> None:
    assert mask_phone(FULL) == MASKED
    assert mask_phone("65123456") == "651*3456"
    assert mask_phone("110") == "*10"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"


def test_handling_unit_sees_the_number_others_see_it_masked(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched")
    for user in (world.jw_handler, world.jw_leader):  # the lead unit must be able to call the caller
        page = detail_page(client, user, ticket)
        assert f'href="tel:{FULL}"' in page and "张三" in page, user
    for user in (world.city_supervisor, world.cy_supervisor):
        page = detail_page(client, user, ticket)
        assert MASKED in page and FULL not in page, user
        assert "张*" in page
    for user in (world.operator, world.dispatcher, world.agent):
        assert FULL in detail_page(client, user, ticket), user


def test_confidential_caller_stays_masked_outside_the_hotline(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched", confidential=True)
    page = detail_page(client, world.jw_handler, ticket)
    assert MASKED in page and FULL not in page and "tel:" not in page
    assert "保密" in page
    assert FULL in detail_page(client, world.operator, ticket)


def test_anonymous_call_is_registered(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched", requester_name="", requester_phone="")
    assert ticket.requester is None
    assert "匿名" in detail_page(client, world.jw_handler, ticket)


def test_admin_ticket_pages_never_show_the_requester(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched")
    world.city_supervisor.is_staff = world.city_supervisor.is_superuser = True
    world.city_supervisor.save()
    client.force_login(world.city_supervisor)
    page = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    assert page and FULL not in page
