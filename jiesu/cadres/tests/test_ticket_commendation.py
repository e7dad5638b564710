"""Leaders' 点赞 and 一事一评 from the ticket page (the cadre panel registered into tickets/panels.py), through the
cadre service with its event, counted on the cadre's 实绩档案."""

from typing import Any

from django.test import Client
from django.urls import reverse

from jiesu.cadres.models import CadreEvent, CadreProfile, Recognition
from jiesu.tickets.tests.helpers import ticket_in


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(c: Client, ticket: Any, profile: CadreProfile, kind: str, note: str = "", **headers: Any) -> Any:
    page = reverse("ticket-detail", args=[ticket.pk])
    return c.post(
        reverse("cadre-act", args=["commend_on_ticket"]),
        {"ticket": ticket.pk, "profile": profile.pk, "kind": kind, "note": note, "back": page},
        follow=True,
        **headers,
    )


def test_a_leader_likes_and_reviews_a_case_from_the_ticket_page(cw: Any, clock: Any) -> None:
    t = ticket_in(cw, "closed")
    handler = CadreProfile.objects.get(user=cw.jw_handler)
    leader = client(cw.jw_leader)
    page = leader.get(reverse("ticket-detail", args=[t.pk])).content.decode()
    assert 'id="recognition"' in page and f'data-like="{handler.pk}"' in page
    # the handler themself and a unit that does not lead the handler get no buttons
    assert 'id="recognition"' not in client(cw.jw_handler).get(reverse("ticket-detail", args=[t.pk])).content.decode()

    r = post(leader, t, handler, "like")
    assert r.status_code == 200 and "已保存" in r.content.decode()
    like = Recognition.objects.get(profile=handler, kind="like")
    assert like.ticket == t and like.by == cw.jw_leader and t.number in like.note
    event = CadreEvent.objects.get(profile=handler, action="recognised")
    assert event.data == {"kind": "like", "ticket": t.number}
    page = leader.get(reverse("ticket-detail", args=[t.pk])).content.decode()
    assert f'data-like="{handler.pk}"' not in page and "您已点赞" in page

    # once per leader, cadre and ticket; a 一事一评 needs the leader's words
    r = post(leader, t, handler, "like")
    assert "您已为该工单点赞" in r.content.decode()
    r = post(leader, t, handler, "case_review", "", HTTP_ACCEPT_LANGUAGE="en")
    assert Recognition.objects.filter(profile=handler).count() == 1
    post(leader, t, handler, "case_review", "主动上门三次，协调物业彻底解决")
    assert list(Recognition.objects.filter(profile=handler).values_list("kind", flat=True).order_by("id")) == [
        "like",
        "case_review",
    ]
    # counted on the record: this month's row shows two commendations
    record = leader.get(reverse("cadre-profile", args=[handler.pk]))
    assert record.context["months"][0].recognitions == 2
    assert "主动上门三次" in record.content.decode()


def test_nobody_else_commends_and_forbidden_is_not_found(cw: Any, clock: Any) -> None:
    t = ticket_in(cw, "closed")
    handler = CadreProfile.objects.get(user=cw.jw_handler)
    for user in (cw.hd_handler, cw.jw_handler, cw.dispatcher, cw.zzb):
        r = post(client(user), t, handler, "like")
        assert r.status_code == 404, user
    other = ticket_in(cw, "dispatched")  # 建外街道 has it, nobody signed it yet
    r = post(client(cw.jw_leader), other, handler, "like")
    assert "只能表扬办理过该工单的干部" in r.content.decode()
    r = post(client(cw.jw_leader), t, handler, "resident_praise")
    assert Recognition.objects.count() == 0
