"""一次一评 per operator: an operator sees their own ratings, the centre sees every operator's, nobody else any;
the figures stay apart from the units' three rates."""

from django.test import Client

from jiesu.orgs.models import Role
from jiesu.testing.world import HOTLINE, World, make_user
from jiesu.tickets import services
from jiesu.tickets.tests.helpers import new_ticket


def test_operators_see_their_own_ratings_and_the_centre_sees_all(world: World, client: Client) -> None:
    other = make_user("operator2", Role.HOTLINE_OPERATOR, HOTLINE)
    mine = [new_ticket(world, title=f"来电{i}") for i in range(3)]
    theirs = services.intake(
        other,
        channel="phone",
        appeal_type="inquiry",
        title="咨询",
        content="咨询供暖时间",
        category_code="010201",
        requester_name="李四",
        requester_phone="13900001111",
        address="朝阳区建外街道光华路2号",
    )
    services.rate_call(mine[0].pk, "satisfied", source="ivr:1")
    services.rate_call(mine[1].pk, "dissatisfied", source="ivr:1", comment="等太久")
    services.rate_call(theirs.pk, "fairly_satisfied", source="ivr:1")

    client.force_login(world.operator)
    page = client.get("/intake/ratings/").content.decode()
    assert 'id="rating-summary"' in page and mine[0].number in page and mine[1].number in page
    assert theirs.number not in page and "等太久" in page
    assert "50.0%" in page  # 1 of 2 satisfied or fairly satisfied
    assert 'href="/intake/ratings/"' in page  # in the header
    # an operator cannot look at another's
    assert theirs.number not in client.get("/intake/ratings/?operator=operator2").content.decode()

    for lead in (world.dispatcher, world.city_supervisor, world.admin):
        client.force_login(lead)
        page = client.get("/intake/ratings/?sort=-share").content.decode()
        assert 'id="operator-ratings"' in page and "operator2" in page, lead
        assert page.index("operator2") < page.index('<span class="muted">operator<')  # 100 % before 50 %
        assert "66.7%" in page  # the centre: 2 of 3
        one = client.get("/intake/ratings/?operator=operator2").content.decode()
        assert theirs.number in one and mine[0].number not in one
        assert client.get("/intake/ratings/?operator=nobody").status_code == 404
        assert client.get("/intake/ratings/?month=garbage&sort=bogus").status_code == 200

    client.force_login(world.dispatcher)
    assert 'id="ratings-xlsx"' in client.get("/intake/ratings/").content.decode()
    csv = client.get("/export/call-ratings.csv?sort=-share").content.decode("utf-8-sig").splitlines()
    assert csv[1].startswith("operator2,") and csv[2].startswith("operator,") and "50.0" in csv[2]
    assert client.get("/export/call-ratings.xlsx").status_code == 200

    for outsider in (world.cy_supervisor, world.jw_handler, world.agent, world.operator):
        client.force_login(outsider)
        assert client.get("/export/call-ratings.csv").status_code == 404
        if outsider != world.operator:
            assert client.get("/intake/ratings/").status_code == 404


def test_call_ratings_never_enter_the_three_rates(world: World, client: Client) -> None:
    from jiesu.tickets.models import Callback

    t = new_ticket(world)
    services.rate_call(t.pk, "dissatisfied", source="ivr:1")
    assert not Callback.objects.filter(ticket=t).exists()  # the three rates read callbacks only
