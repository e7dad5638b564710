"""Care (人文关怀): signals around their thresholds, alerts to the leader, talks, the privacy matrix, aggregates
only for groups of five, and abusive calls left out of the person's own figures."""

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.test import Client

from jiesu.lib import clock
from jiesu.lib.errors import InvalidInput, NotFound
from jiesu.testing.world import World
from jiesu.tickets import services as tickets
from jiesu.tickets.tests.helpers import ticket_in
from jiesu.training import outcomes, selectors, services, strain
from jiesu.training.models import AlertState, CareAlert, CareSettings, TalkRecord, TrainingEvent

pytestmark = pytest.mark.django_db
T = strain.Thresholds()


@pytest.mark.parametrize(
    ("field", "below", "at", "code"),
    [
        ("days_without_rest", T.days_without_rest - 1, T.days_without_rest, "days_without_rest"),
        ("dissatisfied_streak", T.dissatisfied_streak - 1, T.dissatisfied_streak, "dissatisfied_streak"),
        ("reopens", T.reopens - 1, T.reopens, "reopens"),
        ("abusive", T.abusive - 1, T.abusive, "abusive"),
    ],
)
def test_each_signal_turns_on_at_its_threshold(field: str, below: int, at: int, code: str) -> None:
    assert code not in {s.code for s in strain.signals(strain.Measures(**{field: below}), T)}
    assert code in {s.code for s in strain.signals(strain.Measures(**{field: at}), T)}


def test_load_is_judged_against_the_units_median_and_alerts_need_two_signals() -> None:
    busy_unit = strain.Measures(in_hand=20, unit_median_in_hand=15)
    assert strain.signals(busy_unit, T) == []  # everybody in the unit is that busy: not this person's strain
    overloaded = strain.Measures(in_hand=20, unit_median_in_hand=10)
    (load,) = strain.signals(overloaded, T)
    assert load.code == "load" and load.value == 2.0
    assert not strain.alerts([load], T)  # one signal alone is not an alert …
    late = dataclasses.replace(overloaded, actions=20, after_hours_actions=6)
    assert strain.alerts(strain.signals(late, T), T)  # … two are
    rest = strain.signals(strain.Measures(days_without_rest=T.days_without_rest), T)
    assert strain.alerts(rest, T)  # a strong signal alerts on its own
    assert strain.alerts(rest, T) and not strain.alerts(rest, dataclasses.replace(T, strong=()))


def settings(**values: Any) -> CareSettings:
    return CareSettings.objects.create(effective_from=dt.date(2020, 1, 1), **values)


def test_a_care_alert_fires_for_the_leader_above_the_threshold_and_not_below(tw: World, clock: Any) -> None:
    settings(load_min=3, load_ratio=2.0, min_signals=1)
    for _ in range(2):
        ticket_in(tw, "accepted")
    assert services.scan(unit=tw.jw_handler.membership.unit) == []  # 2 in hand: below
    ticket_in(tw, "accepted")
    (alert,) = services.scan(unit=tw.jw_handler.membership.unit)  # 3 in hand, colleagues none
    assert alert.person == tw.jw_handler and alert.signals[0]["code"] == "load"
    assert TrainingEvent.objects.get(action="care_alert").data["leaders"] == [tw.jw_leader.pk]
    assert services.scan(unit=tw.jw_handler.membership.unit) == []  # not again while it is open
    leader = Client()
    leader.force_login(tw.jw_leader)
    page = leader.get("/care/").content.decode()
    assert "负荷" in page or "在手工单" in page
    r = leader.post(
        f"/care/people/{tw.jw_handler.pk}/talk/",
        {"held_on": "2026-11-17", "topic": "工作量与休息", "follow_up": "调整两件工单给同事", "alert": alert.pk},
    )
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.state == AlertState.TALKED and TalkRecord.objects.get().leader == tw.jw_leader
    # bad input: a clear message, nothing recorded
    with pytest.raises(InvalidInput):
        services.record_talk(tw.jw_leader, tw.jw_handler.pk, held_on="2099-01-01", topic="x")
    with pytest.raises(InvalidInput):
        services.record_talk(tw.jw_leader, tw.jw_handler.pk, held_on="2026-11-17", topic="")
    assert TalkRecord.objects.count() == 1
    with pytest.raises(NotFound):  # a colleague cannot record talks about a peer
        services.record_talk(tw.jw_handler2, tw.jw_handler.pk, held_on="2026-11-17", topic="x")


def test_after_hours_work_and_days_without_rest_from_the_trail(tw: World, clock: Any) -> None:
    settings(min_signals=1, days_without_rest=5, after_hours_min=3, after_hours_share=0.5)
    start = clock_start = dt.datetime(2026, 11, 10, 21, 30, tzinfo=clock_tz())
    for day in range(6):  # six evenings in a row, Tuesday to Sunday, 21:30
        clock.move_to(start + dt.timedelta(days=day))
        ticket_in(tw, "accepted")
    clock.move_to(clock_start + dt.timedelta(days=5, hours=1))
    measures, on = services.my_signals(tw.jw_handler)
    assert measures.days_without_rest == 6 and measures.after_hours_actions == measures.actions == 6
    assert {s.code for s in on} >= {"days_without_rest", "after_hours"}


def clock_tz() -> Any:
    return clock.SHANGHAI


def test_privacy_talks_and_signals_are_not_found_for_every_other_role(tw: World, clock: Any) -> None:
    talk = services.record_talk(tw.jw_leader, tw.jw_handler.pk, held_on="2026-11-16", topic="谈心")
    allowed = {"jw_handler", "jw_leader", "jw_secretary"}
    for name, user in tw.users.items():
        c = Client()
        c.force_login(user)
        person = c.get(f"/care/people/{tw.jw_handler.pk}/").status_code
        record = c.get(f"/care/talks/{talk.pk}/").status_code
        expected = 200 if name in allowed else 404
        assert (name, person, record) == (name, expected, expected)
    # another handler's care page: not for a peer; the person's own care page always
    peer = Client()
    peer.force_login(tw.jw_handler2)
    assert peer.get(f"/care/people/{tw.jw_handler.pk}/").status_code == 404
    assert peer.get(f"/care/people/{tw.jw_handler2.pk}/").status_code == 200
    assert Client().get(f"/care/talks/{talk.pk}/").status_code == 302  # anonymous: log in first
    from django.contrib import admin

    from jiesu.training.models import AbuseMark, SignalContext

    for model in (TalkRecord, CareAlert, SignalContext, AbuseMark):  # not even the Django admin shows them
        assert not admin.site.is_registered(model)


def test_the_organisation_department_sees_aggregates_only_for_groups_of_five(tw: World, clock: Any) -> None:
    CareAlert.objects.create(
        person=tw.jw_handler, unit=tw.jw_handler.membership.unit, signals=[], created_at=clock_now()
    )
    zzb = selectors.care_aggregates(tw.zzb)
    jianwai = [r for r in zzb["rows"] if r["unit"] == "建外街道"]
    assert jianwai == [{"unit": "建外街道", "people": 5, "alerted": 1, "talks": 0}]
    assert not [r for r in zzb["rows"] if r["unit"] == "朝外街道"] and zzb["hidden"] >= 1  # 1 person: hidden
    settings(min_group=6)
    assert not [r for r in selectors.care_aggregates(tw.zzb)["rows"] if r["unit"] == "建外街道"]
    assert selectors.care_aggregates(tw.jw_leader)["rows"] == []  # not an organisation department
    c = Client()
    c.force_login(tw.cy_zzb)
    page = c.get("/care/").content.decode()
    assert "建外街道" not in page  # now below the group size


def clock_now() -> dt.datetime:
    return clock.now()


def test_an_abusive_call_is_left_out_of_the_operators_and_the_handlers_own_figures(tw: World, clock: Any) -> None:
    calls = []
    for _ in range(2):
        t = ticket_in(tw, "replied")
        calls.append(
            tickets.record_callback(tw.agent, t.pk, contacted=True, resolution="unsolved", satisfaction="dissatisfied")
        )
    since, until = clock_now() - dt.timedelta(days=1), clock_now() + dt.timedelta(days=1)
    assert len(outcomes.outcomes([tw.operator.pk], since, until, by="intake")[tw.operator.pk]) == 2
    client = Client()
    client.force_login(tw.operator)
    r = client.post("/care/abusive/", {"number": calls[0].number, "note": "来电人辱骂话务员"}, follow=True)
    page = r.content.decode()
    assert "休息" in page  # an operator is offered a short break
    assert len(outcomes.outcomes([tw.operator.pk], since, until, by="intake")[tw.operator.pk]) == 1
    # the handler's own figures still count both until the handler marks it too
    assert len(outcomes.outcomes([tw.jw_handler.pk], since, until)[tw.jw_handler.pk]) == 2
    services.mark_abusive(tw.jw_handler, calls[0].number)
    (left,) = outcomes.outcomes([tw.jw_handler.pk], since, until)[tw.jw_handler.pk]
    assert left.ticket_id == calls[1].pk and left.dissatisfied and left.reopened
    with pytest.raises(InvalidInput):  # someone who did not deal with it cannot mark it
        services.mark_abusive(tw.jw_handler2, calls[1].number)
    with pytest.raises(InvalidInput):  # once
        services.mark_abusive(tw.jw_handler, calls[0].number)
    with pytest.raises(NotFound):  # a ticket the user may not see
        services.mark_abusive(tw.hd_handler, calls[1].number)


def test_a_care_alert_reaches_the_leader_as_a_notification_and_leads_to_the_talk(tw: World, clock: Any) -> None:
    from django.contrib.auth import get_user_model

    from jiesu.notify.models import Notification
    from jiesu.notify.outbox import process_outbox

    settings(load_min=3, load_ratio=2.0, min_signals=1)
    for _ in range(3):
        ticket_in(tw, "accepted")
    (alert,) = services.scan(unit=tw.jw_handler.membership.unit)
    process_outbox(clock_now())
    process_outbox(clock_now())  # drained once
    told = Notification.objects.filter(source="care", source_id=alert.pk)
    assert list(told.values_list("user__username", flat=True)) == ["jw_leader"]  # not the person, not a peer
    leader = Client()
    leader.force_login(tw.jw_leader)
    assert '通知 <span class="badge red">' in leader.get("/care/").content.decode()
    page = leader.get("/notifications/").content.decode()
    name = tw.jw_handler.first_name or tw.jw_handler.username
    assert f"关怀提醒：{name}" in page
    opened = leader.get(f"/notifications/{told.get().pk}/")
    assert opened["Location"] == f"/care/people/{tw.jw_handler.pk}/#alert-{alert.pk}"
    care_page = leader.get(opened["Location"]).content.decode()
    assert f'id="alert-{alert.pk}"' in care_page and 'id="talk-form"' in care_page
    r = leader.post(
        f"/care/people/{tw.jw_handler.pk}/talk/", {"held_on": "2026-11-17", "topic": "谈心", "alert": alert.pk}
    )
    assert r.status_code == 302 and CareAlert.objects.get(pk=alert.pk).state == AlertState.TALKED
    # the admin: not even a superuser sees somebody else's care notification
    root = get_user_model().objects.create_superuser("root21", "root@example.org", "x")
    admin_client = Client()
    admin_client.force_login(root)
    change = f"/admin/notify/notification/{told.get().pk}/change/"
    assert change not in admin_client.get("/admin/notify/notification/").content.decode()
    assert admin_client.get(change).status_code in {302, 404}
