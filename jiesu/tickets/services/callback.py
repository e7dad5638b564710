"""回访, 办结, 重办 and the requester's own rating."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.orgs.models import Membership
from jiesu.sla.policy import due_at as compute_due
from jiesu.tickets import access

from ..models import Callback, CallbackOutcome, Channel, Resolution, Satisfaction, Ticket
from ..workflow import Action
from ._core import _change, _check_transition, _choice, _load, _policy, _text


# --- callback, close, reopen, merge, supervise ----------------------------------------------------------
def _needs_rehandling(resolution: str, satisfaction: str) -> bool:
    return (
        resolution in settings.JIESU_REHANDLE_ON_RESOLUTION or satisfaction in settings.JIESU_REHANDLE_ON_SATISFACTION
    )


def _reopen(ticket: Ticket, actor: Membership, note: str, expected_version: int | None = None) -> None:
    now = clock.now()
    policy = _policy(ticket)
    _change(
        ticket,
        Action.REOPEN,
        actor,
        note=note,
        expected_version=expected_version,
        data={"round": ticket.reopen_count + 2},
        reopen_count=ticket.reopen_count + 1,
        dispatched_at=now,
        accepted_at=None,
        accept_overdue_at=None,
        replied_at=None,
        closed_at=None,
        overdue_at=None,
        paused_at=None,
        callback_attempts=0,
        callback_retry_at=None,
        accept_due_at=now + dt.timedelta(hours=policy.accept_within_hours),
        due_at=compute_due(policy, now),
    )


def retry_interval(attempt: int) -> dt.timedelta:
    """The wait after the `attempt`-th unanswered call (JIESU_CALLBACK_RETRY_MINUTES; the last one repeats)."""
    minutes = settings.JIESU_CALLBACK_RETRY_MINUTES or [60]
    return dt.timedelta(minutes=minutes[min(attempt, len(minutes)) - 1])


@transaction.atomic
def record_callback(
    user: Any,
    ticket_id: int,
    *,
    contacted: bool | None = None,
    resolution: str = "",
    satisfaction: str = "",
    comment: str = "",
    outcome: str = CallbackOutcome.REACHED,
    finalize: bool = True,
    expected_version: int | None = None,
) -> Ticket:
    """回访. `outcome` is what came of the call:

    - reached: three separate answers (contacted, solved, satisfied);
    - no answer (无人接听): one unanswered call (its own event, `callback_attempt`); the ticket waits for the next
      try after JIESU_CALLBACK_RETRY_MINUTES, and after JIESU_CALLBACK_ATTEMPTS unanswered calls the callback is
      recorded as not reached;
    - refused (拒访): the caller was reached and would not answer;
    - wrong number: the number does not reach the caller.
    A recorded callback without answers has "not asked" for both; how it counts in the 三率 is the assessment
    rule set's data. With `finalize` the ticket then closes, or reopens (重办) when the caller is dissatisfied or
    the problem unsolved (configurable: JIESU_REHANDLE_ON_*). Without it, the ticket waits in "called back" for a
    separate close or reopen (e.g. after a review)."""
    outcome = _choice(outcome or CallbackOutcome.REACHED, CallbackOutcome, _("outcome of the call"))
    action = Action.CALLBACK_ATTEMPT if outcome == CallbackOutcome.NO_ANSWER else Action.CALLBACK
    ticket, actor = _load(user, ticket_id, action, expected_version)
    comment = _text(comment, "comment", required=False, limit_key="note")
    attempts = ticket.callback_attempts + (0 if outcome == CallbackOutcome.REACHED else 1)
    if outcome == CallbackOutcome.REACHED:
        if not isinstance(contacted, bool):
            raise InvalidInput(_("Say whether the requester was contacted."))
        if not resolution or not satisfaction:
            raise InvalidInput(_("Record both answers: is it solved, and is the caller satisfied."))
        resolution = _choice(resolution, Resolution, _("resolution"))
        satisfaction = _choice(satisfaction, Satisfaction, _("satisfaction"))
    else:
        contacted = outcome == CallbackOutcome.REFUSED
        resolution, satisfaction = Resolution.NOT_ASKED, Satisfaction.NOT_ASKED
    now = clock.now()
    if outcome == CallbackOutcome.NO_ANSWER and attempts < settings.JIESU_CALLBACK_ATTEMPTS:
        retry_at = now + retry_interval(attempts)
        _change(
            ticket,
            Action.CALLBACK_ATTEMPT,
            actor,
            note=comment,
            data={"outcome": outcome, "attempt": attempts, "retry_at": retry_at.isoformat()},
            expected_version=expected_version,
            callback_attempts=attempts,
            callback_retry_at=retry_at,
        )
        return ticket
    answers = {
        "outcome": outcome,
        "attempts": max(attempts, 1),
        "contacted": contacted,
        "resolution": resolution,
        "satisfaction": satisfaction,
        "round": ticket.reopen_count + 1,
        "unit": ticket.lead_unit.code if ticket.lead_unit else None,
    }
    _change(
        ticket,
        Action.CALLBACK,
        actor,
        note=comment,
        data=answers,
        expected_version=expected_version,
        callback_attempts=0,
        callback_retry_at=None,
    )
    Callback.objects.create(
        ticket=ticket,
        round=ticket.reopen_count + 1,
        unit=ticket.lead_unit,
        agent=actor.user,
        contacted=contacted,
        resolution=resolution,
        satisfaction=satisfaction,
        comment=comment,
        outcome=outcome,
        attempts=max(attempts, 1),
        signed_in_time=bool(
            ticket.accepted_at and (ticket.accept_due_at is None or ticket.accepted_at <= ticket.accept_due_at)
        ),
        created_at=now,
    )
    if not finalize:
        return ticket
    if _needs_rehandling(resolution, satisfaction):
        _reopen(ticket, actor, note=comment)
    else:
        _change(ticket, Action.CLOSE, actor, closed_at=clock.now())
    return ticket


@transaction.atomic
def close(user: Any, ticket_id: int, note: str = "", *, expected_version: int | None = None) -> Ticket:
    ticket, actor = _load(user, ticket_id, Action.CLOSE, expected_version)
    note = _text(note, "note", required=False)
    _change(ticket, Action.CLOSE, actor, note=note, expected_version=expected_version, closed_at=clock.now())
    return ticket


@transaction.atomic
def reopen(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """重办: back to the same lead unit with a new deadline."""
    ticket, actor = _load(user, ticket_id, Action.REOPEN, expected_version)
    note = _text(note, "note")
    if ticket.lead_unit is None:
        raise IllegalTransition(_("This ticket was never dispatched; it cannot be reopened."))
    _reopen(ticket, actor, note, expected_version)
    return ticket


@transaction.atomic
def rate_by_requester(number: str, phone_tail: str, satisfaction: str, comment: str = "") -> Ticket:
    """The requester's own evaluation from the portal, once per handling round, after the reply.
    It is recorded beside the hotline's callback (回访), which stays the official judgement."""
    ticket = access.get_ticket_for_requester(number, phone_tail)
    if not access.requester_holds_code(ticket, phone_tail):
        raise Forbidden(
            _(
                "Rating needs the tracking code you were given: on the page after submitting, or by SMS for a "
                "request made by phone. Without one, the hotline's callback asks for your rating."
            )
        )
    satisfaction = _choice(satisfaction, Satisfaction, _("satisfaction"))
    if satisfaction == Satisfaction.NOT_ASKED:
        raise InvalidInput(_("Unknown %(field)s: “%(value)s”."), field=_("satisfaction"), value=satisfaction)
    comment = _text(comment, "comment", required=False, limit_key="note")
    _check_transition(ticket, Action.RATE)
    round_ = ticket.reopen_count + 1
    if ticket.events.filter(action=Action.RATE, data__round=round_).exists():
        raise IllegalTransition(_("You have already rated this reply. Thank you."))
    _change(
        ticket,
        Action.RATE,
        None,
        note=comment,
        data={"satisfaction": satisfaction, "round": round_, "source": "portal"},
    )
    return ticket


@transaction.atomic
def rate_call(ticket_id: int, satisfaction: str, *, source: str, comment: str = "") -> Ticket:
    """一次一评: the caller rates the call (the operator's service), once per ticket, through the telephony system's
    IVR after the call (`source` names it, e.g. "ivr:3"). Kept on the trail with the operator who took the call; it
    never enters the units' three rates (those come from callbacks only)."""
    ticket = access.all_tickets().filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound()
    satisfaction = _choice(satisfaction, Satisfaction, _("satisfaction"))
    if satisfaction in {Satisfaction.NOT_ASKED, Satisfaction.NOT_RATED}:
        raise InvalidInput(_("Unknown %(field)s: “%(value)s”."), field=_("satisfaction"), value=satisfaction)
    comment = _text(comment, "comment", required=False, limit_key="note")
    _check_transition(ticket, Action.RATE_CALL)
    if ticket.channel != Channel.PHONE or ticket.created_by_id is None:
        raise IllegalTransition(_("Only a request made by phone has a call to rate."))
    if ticket.events.filter(action=Action.RATE_CALL).exists():
        raise IllegalTransition(_("You have already rated this call. Thank you."))
    _change(
        ticket,
        Action.RATE_CALL,
        None,
        note=comment,
        data={"satisfaction": satisfaction, "operator": ticket.created_by_id, "source": source},
    )
    return ticket
