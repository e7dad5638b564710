"""A unit sees and changes only the tickets dispatched to it or below it; others answer as not found."""

import pytest
from django.test import Client

from jiesu.lib.errors import Forbidden, NotFound
from jiesu.testing.world import World
from jiesu.tickets import access, services
from jiesu.tickets.tests.helpers import fresh, ticket_in


def test_other_street_cannot_see_or_change(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched")  # led by 建外街道

    assert access.visible_tickets(world.jw_handler).filter(pk=ticket.pk).exists()
    assert not access.visible_tickets(world.cw_handler).filter(pk=ticket.pk).exists()
    with pytest.raises(NotFound):
        services.accept(world.cw_handler, ticket.pk)
    with pytest.raises(NotFound):
        services.request_return(world.hd_handler, ticket.pk, "不是我们的")
    assert fresh(ticket).dispatch_state == "dispatched"

    client.force_login(world.cw_handler)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404
    assert client.post(f"/tickets/{ticket.pk}/act/accept/").status_code == 404
    missing = client.get("/tickets/999999/")
    assert missing.status_code == 404  # forbidden and missing look the same
    assert ticket.number not in client.get("/tickets/").content.decode()
    assert fresh(ticket).dispatch_state == "dispatched"


def test_own_unit_sees_it_in_list_and_detail(world: World, client: Client) -> None:
    ticket = ticket_in(world, "dispatched")
    client.force_login(world.jw_handler)
    assert ticket.number in client.get("/tickets/").content.decode()
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200


def test_district_and_its_supervisor_see_tickets_below(world: World) -> None:
    ticket = ticket_in(world, "dispatched")
    assert access.visible_tickets(world.cy_handler).filter(pk=ticket.pk).exists()  # 朝阳区 ⊃ 建外街道
    assert access.visible_tickets(world.cy_supervisor).filter(pk=ticket.pk).exists()
    assert not access.visible_tickets(world.hd_supervisor).filter(pk=ticket.pk).exists()
    assert access.visible_tickets(world.city_supervisor).filter(pk=ticket.pk).exists()


def test_undispatched_ticket_is_seen_only_by_the_hotline_and_its_district(world: World) -> None:
    ticket = ticket_in(world, "new")
    assert access.visible_tickets(world.dispatcher).filter(pk=ticket.pk).exists()
    assert not access.visible_tickets(world.jw_handler).filter(pk=ticket.pk).exists()
    assert access.visible_tickets(world.cy_supervisor).filter(pk=ticket.pk).exists()


def test_assisting_unit_sees_but_may_not_sign(world: World) -> None:
    ticket = ticket_in(world, "new", category_code="010103", title="违法建设")  # street leads, D017 assists
    ticket = services.dispatch(world.dispatcher, ticket.pk)
    assert [a.unit.code for a in ticket.assignments.filter(role="assist")] == ["D017"]
    from jiesu.testing.world import make_user

    zf = make_user("zf_handler", "unit_handler", "D017")
    assert access.visible_tickets(zf).filter(pk=ticket.pk).exists()
    with pytest.raises(Forbidden):
        services.accept(zf, ticket.pk)


def test_wrong_role_is_refused(world: World) -> None:
    ticket = ticket_in(world, "new")
    with pytest.raises(Forbidden) as error:
        services.dispatch(world.operator, ticket.pk)
    assert str(error.value) == "您的角色或单位无权执行此操作。"


def test_anonymous_is_sent_to_login(client: Client, world: World) -> None:
    response = client.get("/tickets/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
