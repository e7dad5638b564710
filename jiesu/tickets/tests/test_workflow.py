"""Every allowed transition of the table, and a refusal for each forbidden one."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from jiesu.lib.errors import IllegalTransition, NotFound
from jiesu.testing.world import CHAOWAI, World
from jiesu.tickets import services
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.workflow import TRANSITIONS, Action, DispatchState

from .helpers import decline_reason, fresh, new_ticket, ticket_in

Perform = Callable[[World, Ticket], Any]

PERFORM: dict[str, Perform] = {
    Action.ANSWER_DIRECTLY: lambda w, t: services.answer_directly(w.operator, t.pk, "已解答"),
    Action.DISPATCH: lambda w, t: services.dispatch(w.dispatcher, t.pk),
    Action.ACCEPT: lambda w, t: services.accept(w.jw_handler, t.pk),
    Action.REQUEST_RETURN: lambda w, t: services.request_return(w.jw_handler, t.pk, "不属于本单位职责"),
    Action.APPROVE_RETURN: lambda w, t: services.approve_return(w.dispatcher, t.pk, lead_code=CHAOWAI),
    Action.REJECT_RETURN: lambda w, t: services.reject_return(w.dispatcher, t.pk, "属于该单位职责"),
    Action.ADD_PROGRESS: lambda w, t: services.add_progress(w.jw_handler, t.pk, "已联系诉求人"),
    Action.REQUEST_EXTENSION: lambda w, t: services.request_extension(
        w.jw_handler, t.pk, fresh(t).due_at + dt.timedelta(days=5), "需要协调多个部门"
    ),
    Action.APPROVE_EXTENSION: lambda w, t: services.approve_extension(w.dispatcher, t.pk, "同意"),
    Action.DENY_EXTENSION: lambda w, t: services.deny_extension(w.dispatcher, t.pk, "理由不充分"),
    Action.WHISTLE: lambda w, t: services.whistle(w.jw_handler, t.pk, ["D001"], "请城管委到现场"),
    Action.REPORT_IN: lambda w, t: services.report_in(w.cgw_handler, t.pk, "已到现场"),
    Action.REPLY: lambda w, t: services.reply(w.jw_handler, t.pk, "已处理完毕"),
    Action.CALLBACK: lambda w, t: services.record_callback(
        w.agent, t.pk, contacted=True, resolution="solved", satisfaction="satisfied", finalize=False
    ),
    Action.CALLBACK_ATTEMPT: lambda w, t: services.record_callback(w.agent, t.pk, outcome="no_answer"),
    Action.CLOSE: lambda w, t: services.close(w.agent, t.pk),
    Action.REOPEN: lambda w, t: services.reopen(w.agent, t.pk, "来电人反映问题仍未解决"),
    Action.MERGE: lambda w, t: services.merge(w.dispatcher, t.pk, new_ticket(w).pk),
    Action.SPLIT: lambda w, t: services.split(w.dispatcher, t.pk, "不是同一事项，拆单"),
    Action.SUPERVISE: lambda w, t: services.supervise(w.city_supervisor, t.pk, "请加快办理"),
    Action.ASSIGN_HANDLER: lambda w, t: services.assign_handler(w.jw_leader, t.pk, w.jw_handler.pk, "请跟进"),
    Action.ANSWER_SUPERVISION: lambda w, t: services.answer_supervision(w.jw_handler, t.pk, "已加派人手，明日办结"),
    # the requester rates from the portal: ticket number plus the tracking code the citizen holds
    Action.RATE: lambda w, t: services.rate_by_requester(t.number, _code(t), "satisfied", "很及时"),
    # 一次一评 arrives from the telephony system's IVR after the call
    Action.RATE_CALL: lambda w, t: services.rate_call(t.pk, "satisfied", source="ivr:test"),
    Action.DECLINE: lambda w, t: services.decline(w.operator, t.pk, decline_reason(), "来电无具体诉求"),
    Action.APPEAL_DECLINE: lambda w, t: services.appeal_decline(t.number, _code(t), "我的诉求是具体的：楼道灯不亮"),
    # 事项 × 标签: a dispatcher sets the groups the order affects (the assistant's proposal: jiesu/intel/tests)
    Action.SET_TAGS: lambda w, t: services.set_tags(w.dispatcher, t.pk, ["elderly"]),
}


def _code(ticket: Any) -> str:
    """The tracking code a portal submission gives the citizen (issued here for a ticket made by intake)."""
    from jiesu.tickets.models import TrackingCode

    TrackingCode.objects.filter(ticket=ticket).delete()
    return TrackingCode.issue(ticket)


# Preconditions beyond the state, set up before an allowed action.
PREPARE: dict[str, Perform] = {
    Action.APPROVE_EXTENSION: PERFORM[Action.REQUEST_EXTENSION],
    Action.DENY_EXTENSION: PERFORM[Action.REQUEST_EXTENSION],
    Action.REPORT_IN: PERFORM[Action.WHISTLE],
    Action.ANSWER_SUPERVISION: PERFORM[Action.SUPERVISE],
}
REFUSED_PERFORM: dict[str, Perform] = {
    Action.REPORT_IN: lambda w, t: services.report_in(w.jw_handler, t.pk, "已到现场"),
}
UNIT_ACTIONS = {
    Action.ACCEPT,
    Action.REQUEST_RETURN,
    Action.ADD_PROGRESS,
    Action.REQUEST_EXTENSION,
    Action.WHISTLE,
    Action.REPORT_IN,
    Action.REPLY,
    Action.ASSIGN_HANDLER,
    Action.ANSWER_SUPERVISION,
}
STATES = [s.value for s in DispatchState]
CASES = [(a, s) for a in PERFORM for s in STATES]


def test_every_action_but_intake_the_worker_and_appeals_is_exercised() -> None:
    # Assessment appeals need a callback to dispute; jiesu/assessment/tests exercise them. Requester notes arrive
    # through Open311 (jiesu/integrations/tests).
    assert set(PERFORM) == set(TRANSITIONS) - {
        Action.INTAKE,
        Action.MARK_OVERDUE,
        Action.MARK_SIGN_OVERDUE,
        Action.FILE_APPEAL,
        Action.DECIDE_APPEAL,
        Action.REQUESTER_NOTE,
        Action.LOAD_HISTORY,  # bulk history import (jiesu/integrations/tests/test_transfer.py)
        Action.GROUP_WARNING,  # the assistant's early warning (jiesu/intel/tests)
        Action.UNDO_AUTO_DISPATCH,  # undoing the assistant's dispatch (jiesu/intel/tests)
    }


@pytest.mark.parametrize(("action", "state"), [c for c in CASES if c[1] in TRANSITIONS[c[0]][0]])
def test_allowed_transition(world: World, action: str, state: str) -> None:
    overrides = {"appeal_type": "inquiry"} if action == Action.ANSWER_DIRECTLY else {}
    ticket = ticket_in(world, state, **overrides)
    if action in PREPARE:
        PREPARE[action](world, ticket)
    before = fresh(ticket)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()

    PERFORM[action](world, ticket)

    after = fresh(ticket)
    expected = TRANSITIONS[action][1] or state
    assert after.dispatch_state == expected
    assert after.version == before.version + 1
    new_events = list(TicketEvent.objects.filter(ticket=ticket).order_by("id")[events_before:])
    assert [(e.action, e.from_state, e.to_state) for e in new_events] == [(action, state, expected)]


@pytest.mark.parametrize(("action", "state"), [c for c in CASES if c[1] not in TRANSITIONS[c[0]][0]])
def test_forbidden_transition_is_refused_and_changes_nothing(world: World, action: str, state: str) -> None:
    ticket = ticket_in(world, state)
    before = fresh(ticket)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    # The lead unit tries to report in: it sees the ticket, so the state decides.
    perform = REFUSED_PERFORM.get(action, PERFORM[action])

    # A unit cannot even see a ticket that was never dispatched to it: that answers as not found.
    never_dispatched = state in {DispatchState.NEW, DispatchState.DECLINED}
    expected_error = NotFound if never_dispatched and action in UNIT_ACTIONS else IllegalTransition
    with pytest.raises(expected_error) as error:
        perform(world, ticket)

    assert str(error.value)
    after = fresh(ticket)
    assert (after.dispatch_state, after.version, after.updated_at) == (
        before.dispatch_state,
        before.version,
        before.updated_at,
    )
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


def test_illegal_transition_message_is_chinese(world: World) -> None:
    ticket = ticket_in(world, "closed")
    with pytest.raises(IllegalTransition) as error:
        services.accept(world.jw_handler, ticket.pk)
    assert str(error.value) == "处于“已办结”状态的工单不能执行“签收”操作。"
