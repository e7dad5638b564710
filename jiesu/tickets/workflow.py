"""The ticket lifecycle as data: states, actions and the one transition table the services enforce.

`dispatch_state` is the internal workflow state; `public_status` is what a citizen sees and is derived
from it here, in one place.
"""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class DispatchState(models.TextChoices):
    NEW = "new", _("Registered, not dispatched")
    DISPATCHED = "dispatched", _("Dispatched, awaiting signature")
    RETURN_REQUESTED = "return_requested", _("Return requested, under review")
    ACCEPTED = "accepted", _("Signed, being handled")
    REPLIED = "replied", _("Replied, awaiting callback")
    CALLED_BACK = "called_back", _("Called back")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another ticket")
    DECLINED = "declined", _("Declined (不予受理)")


class PublicStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", _("Closed")
    DECLINED = "declined", _("Not accepted")


PUBLIC_STATUS = {
    DispatchState.NEW: PublicStatus.RECEIVED,
    DispatchState.DISPATCHED: PublicStatus.IN_PROGRESS,
    DispatchState.RETURN_REQUESTED: PublicStatus.IN_PROGRESS,
    DispatchState.ACCEPTED: PublicStatus.IN_PROGRESS,
    DispatchState.REPLIED: PublicStatus.REPLIED,
    DispatchState.CALLED_BACK: PublicStatus.REPLIED,
    DispatchState.CLOSED: PublicStatus.CLOSED,
    DispatchState.MERGED: PublicStatus.CLOSED,
    DispatchState.DECLINED: PublicStatus.DECLINED,
}


class Action(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ANSWER_DIRECTLY = "answer_directly", _("Answer directly")
    DISPATCH = "dispatch", _("Dispatch")
    ACCEPT = "accept", _("Sign for")
    REQUEST_RETURN = "request_return", _("Request return")
    APPROVE_RETURN = "approve_return", _("Approve return and re-dispatch")
    REJECT_RETURN = "reject_return", _("Reject return")
    ADD_PROGRESS = "add_progress", _("Add progress note")
    REQUEST_EXTENSION = "request_extension", _("Request extension")
    APPROVE_EXTENSION = "approve_extension", _("Approve extension")
    DENY_EXTENSION = "deny_extension", _("Deny extension")
    WHISTLE = "whistle", _("Blow the whistle")
    REPORT_IN = "report_in", _("Report in")
    REPLY = "reply", _("Reply")
    CALLBACK = "callback", _("Callback")
    CALLBACK_ATTEMPT = "callback_attempt", _("Callback attempt: caller not reached")
    CLOSE = "close", _("Close")
    REOPEN = "reopen", _("Reopen for rehandling")
    MERGE = "merge", _("Merge into master ticket")
    SPLIT = "split", _("Undo the merge (split)")
    SUPERVISE = "supervise", _("Supervise")
    ANSWER_SUPERVISION = "answer_supervision", _("Answer the supervision (督办反馈)")
    ASSIGN_HANDLER = "assign_handler", _("Reassign within the unit")
    RATE = "rate", _("Rated by the requester")
    MARK_SIGN_OVERDUE = "mark_sign_overdue", _("Not signed in time: escalate")
    MARK_OVERDUE = "mark_overdue", _("Overdue: escalate")
    FILE_APPEAL = "file_appeal", _("Assessment appeal filed")
    DECIDE_APPEAL = "decide_appeal", _("Assessment appeal decided")
    REQUESTER_NOTE = "requester_note", _("Note from the requester")
    DECLINE = "decline", _("Decline (不予受理)")
    APPEAL_DECLINE = "appeal_decline", _("Requester appeals the decline")
    RATE_CALL = "rate_call", _("Call rated by the caller (一次一评)")
    LOAD_HISTORY = "load_history", _("Closed in the source system (loaded history)")
    UNDO_AUTO_DISPATCH = "undo_auto_dispatch", _("Undo the automatic dispatch")
    GROUP_WARNING = "group_warning", _("Group complaint early warning")
    SET_TAGS = "set_tags", _("Set the affected groups")


S = DispatchState
OPEN_STATES = frozenset({S.NEW, S.DISPATCHED, S.RETURN_REQUESTED, S.ACCEPTED, S.REPLIED, S.CALLED_BACK})
IN_HAND = frozenset({S.DISPATCHED, S.RETURN_REQUESTED, S.ACCEPTED})

# action → (states it may start from, state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    Action.INTAKE: (frozenset({""}), S.NEW),
    Action.ANSWER_DIRECTLY: (frozenset({S.NEW}), S.CLOSED),
    Action.DISPATCH: (frozenset({S.NEW}), S.DISPATCHED),
    Action.ACCEPT: (frozenset({S.DISPATCHED}), S.ACCEPTED),
    Action.REQUEST_RETURN: (frozenset({S.DISPATCHED, S.ACCEPTED}), S.RETURN_REQUESTED),
    Action.APPROVE_RETURN: (frozenset({S.RETURN_REQUESTED}), S.DISPATCHED),
    Action.REJECT_RETURN: (frozenset({S.RETURN_REQUESTED}), S.DISPATCHED),
    Action.ADD_PROGRESS: (frozenset({S.ACCEPTED}), None),
    Action.REQUEST_EXTENSION: (frozenset({S.ACCEPTED}), None),
    Action.APPROVE_EXTENSION: (frozenset({S.ACCEPTED}), None),
    Action.DENY_EXTENSION: (frozenset({S.ACCEPTED}), None),
    Action.WHISTLE: (frozenset({S.ACCEPTED}), None),
    Action.REPORT_IN: (frozenset({S.ACCEPTED}), None),
    Action.REPLY: (frozenset({S.ACCEPTED}), S.REPLIED),
    Action.CALLBACK: (frozenset({S.REPLIED}), S.CALLED_BACK),
    # A call that did not reach the caller (无人接听): recorded, the ticket waits for the next try.
    Action.CALLBACK_ATTEMPT: (frozenset({S.REPLIED}), None),
    Action.CLOSE: (frozenset({S.CALLED_BACK}), S.CLOSED),
    Action.REOPEN: (frozenset({S.CALLED_BACK, S.CLOSED}), S.DISPATCHED),
    Action.MERGE: (frozenset({S.NEW, S.DISPATCHED, S.ACCEPTED}), S.MERGED),
    # A merge undone: the ticket is its own again and goes back to the dispatch queue.
    Action.SPLIT: (frozenset({S.MERGED}), S.NEW),
    Action.SUPERVISE: (OPEN_STATES - {S.NEW}, None),
    Action.ANSWER_SUPERVISION: (OPEN_STATES - {S.NEW}, None),
    Action.ASSIGN_HANDLER: (frozenset({S.DISPATCHED, S.ACCEPTED}), None),
    Action.RATE: (frozenset({S.REPLIED, S.CALLED_BACK, S.CLOSED}), None),
    Action.MARK_SIGN_OVERDUE: (frozenset({S.DISPATCHED}), None),
    Action.MARK_OVERDUE: (IN_HAND, None),
    # Appeals about the assessment (申诉) concern a callback already made; the ticket's state is untouched.
    Action.FILE_APPEAL: ((OPEN_STATES - {S.NEW}) | {S.CLOSED}, None),
    Action.DECIDE_APPEAL: ((OPEN_STATES - {S.NEW}) | {S.CLOSED}, None),
    # A requester's comment through an integration (Open311 servicerequestupdates): recorded, never a state change.
    Action.REQUESTER_NOTE: (OPEN_STATES | {S.CLOSED}, None),
    # 不予受理 (2025 national rules): a request outside the hotline's remit is declined with a published reason; the
    # requester may appeal once, which puts it back for registration review.
    Action.DECLINE: (frozenset({S.NEW}), S.DECLINED),
    Action.APPEAL_DECLINE: (frozenset({S.DECLINED}), S.NEW),
    # 一次一评: the caller rates the call itself (the operator's service), once per ticket, apart from the case.
    Action.RATE_CALL: (OPEN_STATES | {S.CLOSED, S.MERGED, S.DECLINED}, None),
    # Loaded history (imports): an order finished in another system is closed with its reply, in one step.
    Action.LOAD_HISTORY: (frozenset({S.NEW}), S.CLOSED),
    # The assistant dispatches with the ordinary action (its event has data["auto"] = True); a dispatcher takes it
    # back before the unit signs, and the ticket waits for a person again.
    Action.UNDO_AUTO_DISPATCH: (frozenset({S.DISPATCHED}), S.NEW),
    # The assistant warns the district: many callers about one place in a short time (state untouched).
    Action.GROUP_WARNING: (OPEN_STATES, None),
    # 事项 × 标签: the assistant proposes the affected groups at intake, staff edit them (state untouched).
    Action.SET_TAGS: (OPEN_STATES | {S.CLOSED}, None),
}


def target_state(action: str, current: str) -> str | None:
    """The state `action` leads to from `current`, or None when the table forbids it."""
    allowed, to = TRANSITIONS[action]
    if current not in allowed:
        return None
    return to or current


# What a citizen sees of the event trail: the steps, never staff names or internal notes.
PUBLIC_STEPS: dict[str, Any] = {
    Action.INTAKE: _("Your request was registered."),
    Action.DISPATCH: _("Passed to the responsible unit."),
    Action.APPROVE_RETURN: _("Passed to another responsible unit."),
    Action.ACCEPT: _("The responsible unit has taken it on."),
    Action.ADD_PROGRESS: _("The unit is working on it."),
    Action.REPLY: _("The unit has replied."),
    Action.ANSWER_DIRECTLY: _("Answered by the hotline."),
    Action.CALLBACK: _("The hotline called you back."),
    Action.CLOSE: _("Closed."),
    Action.LOAD_HISTORY: _("Closed."),
    Action.REOPEN: _("Reopened for further handling."),
    Action.MERGE: _("Handled together with an earlier request about the same matter."),
    Action.RATE: _("You rated the result."),
    Action.DECLINE: _("Not accepted (不予受理); see the reason. You may appeal once."),
    Action.APPEAL_DECLINE: _("Your appeal is registered; the hotline reviews the request again."),
    Action.RATE_CALL: _("You rated the call."),
}
