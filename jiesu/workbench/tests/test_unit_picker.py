"""The unit picker: a searchable tree (district → streets/townships and district departments; the city's departments
and companies), loaded by the picker from /units/picker/, in place of a flat list."""

import re

from django.test import Client

from jiesu.testing.world import World
from jiesu.tickets.tests.helpers import ticket_in


def test_the_tree_and_its_narrowed_forms(world: World, client: Client) -> None:
    client.force_login(world.dispatcher)
    tree = client.get("/units/picker/").content.decode()
    assert 'class="unit-filter"' in tree and 'class="tree unit-tree-list"' in tree
    chaoyang = tree[tree.index("<summary>朝阳区</summary>") : tree.index("<summary>丰台区</summary>")]
    assert 'data-pick="110105"' in chaoyang  # the district itself (兜底)
    assert 'data-pick="110105001"' in chaoyang and "建外街道" in chaoyang  # its street
    assert 'data-pick="110105D01"' in chaoyang  # a district department
    assert 'data-pick="110108012"' not in chaoyang  # 海淀街道 sits under 海淀区
    assert 'data-pick="D001"' in tree and 'data-pick="C004"' in tree  # city departments and companies
    assert "HC0001" not in tree  # the hotline centre dispatches, it is not a target
    summon = client.get("/units/picker/?pick=summonable").content.decode()
    assert 'data-pick="110105001"' not in summon and 'data-pick="110105D01"' in summon and 'data-pick="D001"' in summon
    assert 'data-pick="110105"' not in summon
    streets = client.get("/units/picker/?pick=streets").content.decode()
    assert 'data-pick="110105001"' in streets and 'data-pick="D001"' not in streets
    assert 'data-pick="110105D01"' not in streets
    assert client.get("/units/picker/?pick=<script>").status_code == 200  # unknown: the whole tree
    client.logout()
    assert client.get("/units/picker/").status_code == 302  # to the login page


def test_pages_offer_the_tree_not_a_datalist(world: World, client: Client) -> None:
    ticket = ticket_in(world, "new")
    client.force_login(world.dispatcher)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert '<datalist id="units">' not in page and 'list="units"' not in page
    assert re.search(r'id="pick-dispatch-lead"[^>]*|data-target="#act-dispatch \[name=lead_code\]"', page)
    assert 'data-target="#act-dispatch [name=assist_codes]" data-mode="append"' in page
    assert 'data-src="/units/picker/?pick=all"' in page
    client.force_login(world.operator)
    console = client.get("/intake/").content.decode()
    assert 'id="street-tree"' in console and 'data-src="/units/picker/?pick=streets"' in console
    client.force_login(world.city_supervisor)
    assert 'id="pick-filter-unit"' in client.get("/supervision/").content.decode()
