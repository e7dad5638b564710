"""Two handlers signing the same ticket at once: exactly one wins, the other gets a clear error."""

import threading
from typing import Any

import pytest
from django.db import connection

from jiesu.lib.errors import ConcurrentEdit, ServiceError
from jiesu.testing.world import World, make_user
from jiesu.tickets import services
from jiesu.tickets.models import TicketEvent

from .helpers import fresh, ticket_in


def test_stale_version_loses(world: World) -> None:
    ticket = ticket_in(world, "dispatched")
    seen_by_both = ticket.version
    second = make_user("jw_handler2", "unit_handler", "110105001")

    services.accept(world.jw_handler, ticket.pk, expected_version=seen_by_both)
    with pytest.raises(ConcurrentEdit) as error:
        services.accept(second, ticket.pk, expected_version=seen_by_both)

    assert str(error.value) == "该工单刚被他人修改，请刷新后重试。"
    assert TicketEvent.objects.filter(ticket=ticket, action="accept").count() == 1
    assert fresh(ticket).version == seen_by_both + 1


def test_stale_progress_note_is_refused_and_nothing_half_written(world: World) -> None:
    ticket = ticket_in(world, "accepted")
    stale = ticket.version
    services.add_progress(world.jw_handler, ticket.pk, "第一次进展")
    with pytest.raises(ConcurrentEdit):
        services.request_extension(
            world.jw_handler, ticket.pk, fresh(ticket).due_at.replace(year=2027), "理由", expected_version=stale
        )
    assert not ticket.extension_requests.exists()
    assert fresh(ticket).paused_at is None


@pytest.mark.django_db(transaction=True)
def test_two_threads_sign_at_once_exactly_one_wins() -> None:
    from jiesu.testing.world import build_world

    world = build_world()
    ticket = ticket_in(world, "dispatched")
    second = make_user("jw_handler2", "unit_handler", "110105001")
    version = ticket.version
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def sign(user: Any) -> None:
        try:
            barrier.wait()
            services.accept(user, ticket.pk, expected_version=version)
            results.append("ok")
        except ServiceError as error:
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign, args=(u,)) for u in (world.jw_handler, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(map(type, results), key=str) == sorted([str, ConcurrentEdit], key=str), results
    assert TicketEvent.objects.filter(ticket=ticket, action="accept").count() == 1
    assert fresh(ticket).dispatch_state == "accepted"
