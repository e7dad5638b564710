"""Server-side column sorting (`jiesu.lib.sorting`): a header click sorts the whole list, not the page; the sort
stays across pages and in the export; unknown values are ignored, never a 500."""

import re

import pytest
from django.test import Client

from jiesu.governance.selectors import HOTSPOT_SORTS, PROPOSAL_SORTS
from jiesu.notify.views import SORTS as NOTIFICATION_SORTS
from jiesu.testing.world import World
from jiesu.tickets.selectors import TICKET_SORTS
from jiesu.tickets.tests.helpers import new_ticket, ticket_in
from jiesu.workbench import selectors
from jiesu.workbench.ratings import OPERATOR_SORTS, RATING_SORTS
from jiesu.workbench.views import PAGE_SIZE

NUMBER = re.compile(r'<a href="/tickets/\d+/">(\d{14})</a>')


def _numbers(body: bytes) -> list[str]:
    return NUMBER.findall(body.decode())


def test_the_dispatch_queue_sorts_over_every_page_and_the_export_follows(world: World, client: Client) -> None:
    made = sorted(new_ticket(world, title=f"第{i}号诉求").number for i in range(PAGE_SIZE + 5))
    client.force_login(world.dispatcher)
    first = client.get("/dispatch/?tab=queue&sort=-number")
    assert first.status_code == 200
    page1 = _numbers(first.content)
    assert page1 == made[::-1][:PAGE_SIZE]  # the newest number of all, not of the page
    body = first.content.decode()
    assert 'href="?tab=queue&amp;sort=-number&amp;page=2"' in body  # the pager keeps the sort
    assert 'aria-sort="descending"' in body
    assert 'data-sort-key="number" href="?tab=queue&amp;sort=number"' in body  # a click turns it around
    assert 'data-sort-key="intake" href="?tab=queue&amp;sort=intake"' in body
    page2 = _numbers(client.get("/dispatch/?tab=queue&sort=-number&page=2").content)
    assert page2 == made[::-1][PAGE_SIZE:]
    assert "/export/dispatch.csv?tab=queue&amp;sort=-number" in body
    csv = client.get("/export/dispatch.csv?tab=queue&sort=-number").content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in csv[1:]] == made[::-1]
    ascending = _numbers(client.get("/dispatch/?tab=queue&sort=number").content)
    assert ascending == made[:PAGE_SIZE]


@pytest.mark.parametrize("bad", ["password", "--number", "number;drop", "-", "requester__phone", "x" * 500, "pk"])
def test_a_bad_sort_is_ignored(world: World, client: Client, bad: str) -> None:
    ticket_in(world, "dispatched")
    for user, url in [
        (world.dispatcher, "/dispatch/?tab=queue"),
        (world.dispatcher, "/dispatch/?tab=returns"),
        (world.jw_handler, "/inbox/?tab=sign"),
        (world.city_supervisor, "/supervision/?scope=all"),
        (world.city_supervisor, "/export/supervision.csv?scope=all"),
        (world.operator, "/intake/missed/"),
        (world.agent, "/callbacks/"),
        (world.jw_handler, "/notifications/?show=all"),
        (world.jw_handler, "/tickets/"),
    ]:
        client.force_login(user)
        assert client.get(url, {"sort": bad}).status_code == 200, url


def test_every_whitelisted_column_sorts_both_ways(world: World, client: Client) -> None:
    ticket_in(world, "accepted")
    ticket_in(world, "dispatched", title="另一件")
    lists = [
        (world.jw_handler, "/inbox/?tab=sign", selectors.inbox_sorts("sign")),
        (world.jw_handler, "/inbox/?tab=in_hand", selectors.inbox_sorts("in_hand")),
        (world.city_supervisor, "/supervision/?scope=all", selectors.SUPERVISION_SORTS),
        (world.dispatcher, "/dispatch/?tab=queue", selectors.DISPATCH_SORTS),
        (world.dispatcher, "/dispatch/?tab=extensions", selectors.EXTENSION_SORTS),
        (world.operator, "/intake/missed/", selectors.MISSED_CALL_SORTS),
        (world.agent, "/callbacks/", selectors.CALLBACK_SORTS),
        (world.jw_handler, "/notifications/?show=all", NOTIFICATION_SORTS),
        (world.city_supervisor, "/tickets/", TICKET_SORTS),
        (world.city_supervisor, "/governance/hotspots/", HOTSPOT_SORTS),
        (world.city_supervisor, "/governance/hotspots/?closed=1", HOTSPOT_SORTS),
        (world.cy_supervisor, "/governance/proposals/", PROPOSAL_SORTS),
        (world.dispatcher, "/intake/ratings/", OPERATOR_SORTS),
        (world.operator, "/intake/ratings/", RATING_SORTS),
    ]
    for user, url, sorts in lists:
        client.force_login(user)
        for key in sorts.fields:
            for value in (key, f"-{key}"):
                response = client.get(url, {"sort": value})
                assert response.status_code == 200, (url, value)


def test_the_inbox_sorts_by_its_deadline_and_keeps_it_in_the_export(world: World, client: Client) -> None:
    a = ticket_in(world, "dispatched", title="甲")
    b = ticket_in(world, "dispatched", title="乙")
    client.force_login(world.jw_handler)
    body = client.get("/inbox/?tab=sign&sort=-deadline").content.decode()
    assert _numbers(body.encode()) == [b.number, a.number]
    assert "sort=-deadline" in body and "/export/inbox.xlsx?tab=sign&amp;" in body
    csv = client.get("/export/inbox.csv?tab=sign&sort=-deadline").content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in csv[1:]] == [b.number, a.number]
