"""The admin is an interface like any other: every admin that shows records about tickets or people goes through
access (jiesu.lib.admin.AccessAdmin), each role × unit sees in the admin exactly what it sees elsewhere, a forbidden
object answers like a missing one, and no full phone number reaches the admin's pages."""

import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client

from jiesu.demo.community import ensure_communities
from jiesu.lib.admin import AccessAdmin
from jiesu.testing.world import HAIDIAN_ST, World
from jiesu.tickets import services
from jiesu.tickets.tests.helpers import new_ticket, ticket_in

pytestmark = pytest.mark.django_db

# Admins of configuration only (no personal data, no ticket data): plain ModelAdmin is fine for these.
CONFIG_ADMINS = {
    "auth.group",
    "cadres.evaluationrule",
    "cadres.flagrule",
    "cadres.rewardrule",
    "cadres.rubricrow",
    "cadres.toleranceground",
    "catalog.category",
    "catalog.dispatchrule",
    "catalog.knowledgeentry",
    "community.pointrule",
    "community.skill",
    "community.staffduty",
    "integrations.apiclient",
    "integrations.serviceattribute",
    "integrations.webhooksubscription",
    "operations.scheduledjob",
    "orgs.orgunit",
    "orgs.placehint",
    "sla.timelimitpolicy",
    "tickets.declinereason",
    "training.caresettings",
    "training.replyrubric",
    "training.trainingplan",
    "sla.workcalendarday",
}
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def staff_client(user: Any) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(user)
    return client


def access_admins() -> dict[str, AccessAdmin]:
    return {m._meta.label_lower: a for m, a in admin.site._registry.items() if isinstance(a, AccessAdmin)}


def test_every_admin_with_records_goes_through_access() -> None:
    others = {
        m._meta.label_lower
        for m, a in admin.site._registry.items()
        if not isinstance(a, AccessAdmin) and m._meta.app_label not in {"django_tasks_database", "django_tasks_db"}
    }
    assert others - {"auth.user"} <= CONFIG_ADMINS, sorted(others - CONFIG_ADMINS)
    assert {"tickets.ticket", "tickets.callback", "tickets.returnrequest", "tickets.extensionrequest",
            "community.partymember", "notify.notification"} <= set(access_admins())  # fmt: skip


def test_admin_shows_each_role_exactly_what_access_allows(world: World, clock: Any) -> None:
    ensure_communities()
    jianwai = ticket_in(world, "closed")  # 建外街道, with a callback
    services.request_return(world.jw_handler, ticket_in(world, "dispatched").pk, "不属于本街道职责，电话13900001234")
    haidian = new_ticket(world, street_code=HAIDIAN_ST, address="海淀区海淀街道1号", requester_phone="13511112222")
    services.dispatch(world.dispatcher, haidian.pk)
    services.request_return(world.hd_handler, haidian.pk, "不属于本街道职责")
    admins = access_admins()
    leaks = []
    for name, user in world.users.items():
        client = staff_client(user)
        for label, model_admin in admins.items():
            visible = type(model_admin).visible(user)
            url = f"/admin/{label.replace('.', '/')}/"
            page = client.get(url)
            if page.status_code == 403:  # the module is closed to this role altogether (e.g. personnel records)
                assert not visible.exists(), (name, url)
                continue
            assert page.status_code == 200, (name, url, page.status_code)
            shown = page.context["cl"].result_count
            assert shown == visible.count(), (name, label, shown, visible.count())
            model = model_admin.model
            hidden = model.objects.exclude(pk__in=visible.values("pk")).first()
            if hidden is not None:  # forbidden answers exactly like a missing object
                forbidden = client.get(f"{url}{hidden.pk}/change/")
                missing = client.get(f"{url}99999999/change/")
                assert forbidden.status_code == missing.status_code in {302, 404}, (name, label)
            for row in visible[:3]:
                detail = client.get(f"{url}{row.pk}/change/")
                assert detail.status_code == 200, (name, label)
                leaks += [(name, label, p) for p in PHONE.findall(detail.content.decode())]
            leaks += [(name, label, p) for p in PHONE.findall(page.content.decode())]
    assert not leaks, leaks[:5]
    # the street sees its own callback, not the other district's
    jw = staff_client(world.jw_handler)
    assert jw.get("/admin/tickets/callback/").context["cl"].result_count == 1
    assert jianwai.callbacks.count() == 1
    assert staff_client(world.hd_supervisor).get("/admin/tickets/callback/").context["cl"].result_count == 0
    assert staff_client(world.hd_supervisor).get("/admin/tickets/returnrequest/").context["cl"].result_count == 1
    assert staff_client(world.city_supervisor).get("/admin/tickets/returnrequest/").context["cl"].result_count == 2
