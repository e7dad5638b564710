"""Access × masking over every interface and every role: the web pages, the REST API, Open311, the export, the
webhook payload and the admin never give a full phone, ID card, bank card number or e-mail address from an order's
text, title, address, notes or reply to a role that may not see requesters, nor the requester's own phone."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from jiesu.integrations.models import ApiClient
from jiesu.integrations.webhooks import payload
from jiesu.lib.masking import mask_text
from jiesu.orgs.access import may_see_requester
from jiesu.testing.world import World
from jiesu.tests.test_admin_access import staff_client
from jiesu.tickets import services
from jiesu.tickets.tests.helpers import new_ticket

pytestmark = pytest.mark.django_db

SECRETS = {
    "mobile in text": "13987654321",
    "id card": "110105199001011234",
    "bank card": "6222021234567890",
    "e-mail": "zhang.san@example.com",
    "requester phone": "13811112222",
    "mobile in title": "13700001111",
    "mobile in address": "13600002222",
    "mobile in note": "13500003333",
    "mobile in reply": "13400004444",
}


def test_the_masking_function() -> None:
    text = "电话138 1234 5678，身份证11010519900101123X，卡6222-0212-3456-7890，邮箱li.si@example.cn，光华路1号"
    masked = mask_text(text)
    assert "1234 5678" not in masked and "5678" in masked
    assert "1990010" not in masked and "123X" in masked
    assert "0212-3456" not in masked and "7890" in masked
    assert "li.si@" not in masked and "l***@example.cn" in masked
    assert "光华路1号" in masked  # house numbers are not personal data


def _seen_by(world: World, user: Any, ticket: Any, tmp_path: Path) -> dict[str, str]:
    """Everything each interface gives this user about the ticket, as text."""
    seen: dict[str, str] = {}
    web = Client()
    web.force_login(user)
    for url in (
        f"/tickets/{ticket.pk}/",
        "/tickets/",
        "/inbox/",
        "/dispatch/",
        "/callbacks/",
        "/supervision/",
        "/notifications/",
    ):
        seen[f"web {url}"] = web.get(url).content.decode()
    client = ApiClient(name=f"matrix-{user.username}", user=user)
    key = client.issue_key()
    client.save()
    rest = Client(headers={"Authorization": f"Bearer {key}"})
    for url in (
        f"/api/v1/orders/{ticket.number}",
        f"/api/v1/orders/{ticket.number}/events",
        "/api/v1/orders",
        "/api/v1/events",
    ):
        seen[f"rest {url}"] = json.dumps(rest.get(url).json(), ensure_ascii=False)
    out = tmp_path / f"{user.username}.csv"
    call_command(
        "export",
        "orders",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--format",
        "csv",
        "--user",
        user.username,
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    seen["export"] = out.read_text(encoding="utf-8-sig")
    unmasked = may_see_requester(user)
    seen["webhook"] = json.dumps([payload(e, unmasked) for e in ticket.events.all()], ensure_ascii=False)
    admin = staff_client(user)
    seen["admin"] = admin.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()
    return seen


def test_no_role_that_may_not_see_requesters_gets_personal_data(world: World, tmp_path: Path) -> None:
    ticket = new_ticket(
        world,
        title=f"占道经营 回电{SECRETS['mobile in title']}",
        content=(
            f"请回电{SECRETS['mobile in text']}，身份证{SECRETS['id card']}，"
            f"退款到卡{SECRETS['bank card']}，邮件{SECRETS['e-mail']}"
        ),
        address=f"朝阳区建外街道光华路1号 联系{SECRETS['mobile in address']}",
        requester_phone=SECRETS["requester phone"],
    )
    services.dispatch(world.dispatcher, ticket.pk)
    services.accept(world.jw_handler, ticket.pk)
    services.add_progress(world.jw_handler, ticket.pk, f"已联系{SECRETS['mobile in note']}")
    services.reply(world.jw_handler, ticket.pk, f"已处理，可致电{SECRETS['mobile in reply']}")
    public = Client()
    open311 = public.get(f"/open311/v2/requests/{ticket.number}.json").content.decode()
    open311 += public.get("/open311/v2/requests.json").content.decode()
    leaks = [(label, s) for label, s in SECRETS.items() if s in open311]
    assert leaks == [], f"Open311 (public) shows {leaks}"

    checked = 0
    for name, user in world.users.items():
        seen = _seen_by(world, user, ticket, tmp_path)
        if may_see_requester(user):
            assert SECRETS["mobile in text"] in seen[f"web /tickets/{ticket.pk}/"], name  # the data is really there
            continue
        for interface, text in seen.items():
            leaks = [label for label, s in SECRETS.items() if s in text]
            assert leaks == [], f"{name} sees {leaks} on {interface}"
            checked += 1
    assert checked > 50
