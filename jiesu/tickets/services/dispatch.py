"""派单, 退单 and its review (争议审核), and 并单."""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.selectors import suggest_dispatch
from jiesu.lib import clock
from jiesu.lib.errors import IllegalTransition, InvalidInput
from jiesu.orgs.models import Membership, OrgUnit
from jiesu.sla.policy import due_at as compute_due
from jiesu.sla.policy import load_calendar
from jiesu.tickets import access

from ..models import AffectedGroup, RequestState, ReturnRequest, Ticket, TicketEvent
from ..workflow import Action, DispatchState
from ._core import _assign, _change, _load, _lock_for_assistant, _policy, _require_lead, _text, _unit, _units


# --- dispatch and returns -------------------------------------------------------------------------------
def _dispatch_fields(ticket: Ticket, lead: OrgUnit, now: dt.datetime) -> dict[str, Any]:
    policy = _policy(ticket)
    return {
        "lead_unit": lead,
        "handler": None,
        "dispatched_at": now,
        "accept_due_at": now + dt.timedelta(hours=policy.accept_within_hours),
        "accepted_at": None,
        "accept_overdue_at": None,
        "due_at": compute_due(policy, now, load_calendar()),
        "overdue_at": None,
        "paused_at": None,
    }


def _send(
    ticket: Ticket,
    action: str,
    actor: Membership | None,
    lead: OrgUnit,
    assists: Sequence[OrgUnit],
    info: dict[str, Any],
    note: str,
    expected_version: int | None,
) -> dt.datetime:
    """Hand the ticket to `lead` (and `assists`) with fresh sign and handling clocks. Returns the moment."""
    now = clock.now()
    _change(
        ticket,
        action,
        actor,
        note=note,
        data=info,
        expected_version=expected_version,
        dispatch_rule_id=info.get("rule"),
        **_dispatch_fields(ticket, lead, now),
    )
    _assign(ticket, lead, assists, now)
    return now


def _resolve_units(
    ticket: Ticket, lead_code: str | None, assist_codes: Iterable[str], exclude: OrgUnit | None = None
) -> tuple[OrgUnit, list[OrgUnit], dict[str, Any]]:
    assists = _units(assist_codes)
    info: dict[str, Any] = {"fallback": False, "rule": None}
    if lead_code:
        lead = _unit(lead_code)
    else:
        suggestion = suggest_dispatch(ticket.category, ticket.district, ticket.street, clock.local_date(clock.now()))
        if suggestion is None or suggestion.lead == exclude:
            raise InvalidInput(_("The dispatch catalogue has no unit for this ticket; choose the lead unit."))
        lead = suggestion.lead
        assists = assists or list(suggestion.assists)
        info = {"fallback": suggestion.fallback, "rule": suggestion.rule.pk if suggestion.rule else None}
    assists = [u for u in assists if u.pk != lead.pk]
    info |= {"lead": lead.code, "assists": [u.code for u in assists]}
    return lead, assists, info


@transaction.atomic
def dispatch(
    user: Any,
    ticket_id: int,
    *,
    lead_code: str | None = None,
    assist_codes: Iterable[str] = (),
    note: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """派单: to a lead unit (from the catalogue when none is given; the district as fallback, 兜底)."""
    ticket, actor = _load(user, ticket_id, Action.DISPATCH, expected_version)
    note = _text(note, "note", required=False)
    lead, assists, info = _resolve_units(ticket, lead_code, assist_codes)
    _send(ticket, Action.DISPATCH, actor, lead, assists, info, note, expected_version)
    return ticket


@transaction.atomic
def auto_dispatch(
    ticket_id: int, *, lead_code: str, assist_codes: Iterable[str] = (), evidence: dict[str, Any]
) -> Ticket:
    """派单 by the assistant, without a person (the caller, `intel`, has checked its measured thresholds). The event is
    an ordinary dispatch with no actor and `data["auto"] = True` plus the evidence (probabilities, thresholds), so
    the trail, the unit's inbox and the statistics treat it as a dispatch and anyone can see it was automatic."""
    ticket = _lock_for_assistant(ticket_id)
    lead, assists, info = _resolve_units(ticket, lead_code, assist_codes)
    _send(ticket, Action.DISPATCH, None, lead, assists, info | {"auto": True, "evidence": evidence}, "", None)
    return ticket


@transaction.atomic
def group_warning(ticket_id: int, evidence: dict[str, Any]) -> Ticket:
    """群体诉求预警, raised by the assistant (no actor) on the ticket that completed the group: the outbox notifies
    the supervisors of the ticket's district. The evidence names the tickets, callers and window."""
    ticket = _lock_for_assistant(ticket_id)
    _change(ticket, Action.GROUP_WARNING, None, data=evidence)
    return ticket


def last_auto_dispatch(ticket: Ticket) -> TicketEvent | None:
    """The automatic dispatch that put the ticket where it is now, if its last dispatch was one."""
    last = ticket.events.filter(action__in=[Action.DISPATCH, Action.UNDO_AUTO_DISPATCH]).order_by("-pk").first()
    return last if last is not None and last.action == Action.DISPATCH and last.data.get("auto") else None


@transaction.atomic
def undo_auto_dispatch(user: Any, ticket_id: int, note: str = "", *, expected_version: int | None = None) -> Ticket:
    """A dispatcher takes back an automatic dispatch before the unit signs (one click): the unit loses the ticket,
    the ticket waits in the dispatch queue again, and the event records which unit and category were undone
    (the assistant counts undos per category when it sets its next threshold)."""
    ticket, actor = _load(user, ticket_id, Action.UNDO_AUTO_DISPATCH, expected_version)
    note = _text(note, "note", required=False)
    auto = last_auto_dispatch(ticket)
    if auto is None:
        raise IllegalTransition(_("Only an automatic dispatch can be undone."))
    now = clock.now()
    _change(
        ticket,
        Action.UNDO_AUTO_DISPATCH,
        actor,
        note=note,
        data={"lead": auto.data.get("lead"), "category": ticket.category.code if ticket.category else None},
        expected_version=expected_version,
        lead_unit=None,
        handler=None,
        dispatched_at=None,
        accept_due_at=None,
        accept_overdue_at=None,
        dispatch_rule_id=None,
    )
    ticket.assignments.filter(is_current=True).update(is_current=False, ended_at=now)
    return ticket


@transaction.atomic
def request_return(user: Any, ticket_id: int, reason: str, *, expected_version: int | None = None) -> Ticket:
    """退单: the lead unit asks to hand the ticket back, within the policy's window."""
    ticket, actor = _load(user, ticket_id, Action.REQUEST_RETURN, expected_version)
    _require_lead(ticket, actor)
    reason = _text(reason, "reason", limit_key="note")
    now = clock.now()
    window = dt.timedelta(hours=_policy(ticket).return_within_hours)
    if ticket.dispatched_at and now > ticket.dispatched_at + window:
        raise InvalidInput(
            _("A return must be requested within %(hours)d hours of dispatch."),
            hours=_policy(ticket).return_within_hours,
        )
    if ticket.paused_at is not None:
        raise IllegalTransition(_("An extension request is pending; wait for the decision first."))
    _change(ticket, Action.REQUEST_RETURN, actor, note=reason, expected_version=expected_version)
    ReturnRequest.objects.create(
        ticket=ticket, unit=actor.unit, reason=reason, requested_by=actor.user, requested_at=now
    )
    return ticket


def _pending_return(ticket: Ticket) -> ReturnRequest:
    request = ticket.return_requests.filter(state=RequestState.PENDING).first()
    if request is None:
        raise IllegalTransition(_("There is no pending return request."))
    return request


@transaction.atomic
def approve_return(
    user: Any,
    ticket_id: int,
    *,
    lead_code: str | None = None,
    assist_codes: Iterable[str] = (),
    note: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """争议审核 → 改派: the return is justified; the ticket goes to another unit."""
    ticket, actor = _load(user, ticket_id, Action.APPROVE_RETURN, expected_version)
    note = _text(note, "note", required=False)
    request = _pending_return(ticket)
    lead, assists, info = _resolve_units(ticket, lead_code, assist_codes, exclude=ticket.lead_unit)
    if lead.pk == request.unit_id:
        raise InvalidInput(_("Re-dispatch to a different unit than the one that returned the ticket."))
    now = _send(ticket, Action.APPROVE_RETURN, actor, lead, assists, info, note, expected_version)
    request.decide(RequestState.APPROVED, actor.user, now, note)
    return ticket


@transaction.atomic
def reject_return(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """The return is not justified: back to the same unit, which must sign again."""
    ticket, actor = _load(user, ticket_id, Action.REJECT_RETURN, expected_version)
    note = _text(note, "note")
    now = clock.now()
    _change(
        ticket,
        Action.REJECT_RETURN,
        actor,
        note=note,
        expected_version=expected_version,
        accepted_at=None,
        accept_overdue_at=None,
        accept_due_at=now + dt.timedelta(hours=_policy(ticket).accept_within_hours),
    )
    _pending_return(ticket).decide(RequestState.REJECTED, actor.user, now, note)
    return ticket


@transaction.atomic
def merge(user: Any, ticket_id: int, master_id: int, note: str = "", *, expected_version: int | None = None) -> Ticket:
    """并单: the ticket is a duplicate of `master` and closes with it."""
    ticket, actor = _load(user, ticket_id, Action.MERGE, expected_version)
    master = access.get_ticket(user, master_id)
    _merge(ticket, actor, master, note, expected_version)
    return ticket


def _merge(ticket: Ticket, actor: Membership, master: Ticket, note: str, expected_version: int | None = None) -> None:
    note = _text(note, "note", required=False)
    if master.pk == ticket.pk or master.dispatch_state == DispatchState.MERGED:
        raise InvalidInput(_("Choose another ticket, not itself or a merged one, as the master."))
    _change(
        ticket,
        Action.MERGE,
        actor,
        note=note,
        expected_version=expected_version,
        data={"master": master.number},
        duplicate_of=master,
        closed_at=clock.now(),
        paused_at=None,
    )


@transaction.atomic
def split(user: Any, ticket_id: int, note: str, *, expected_version: int | None = None) -> Ticket:
    """拆单: undo a merge. The ticket is no longer a duplicate; it goes back to the dispatch queue (its units, if it
    had any, are released) with its own event naming the master it left."""
    ticket, actor = _load(user, ticket_id, Action.SPLIT, expected_version)
    note = _text(note, "note")
    master = ticket.duplicate_of
    now = clock.now()
    _change(
        ticket,
        Action.SPLIT,
        actor,
        note=note,
        expected_version=expected_version,
        data={"master": master.number if master else None},
        duplicate_of=None,
        closed_at=None,
        lead_unit=None,
        handler=None,
        dispatched_at=None,
        accept_due_at=None,
        accepted_at=None,
    )
    ticket.assignments.filter(is_current=True).update(is_current=False, ended_at=now)
    return ticket


def _tags(values: Sequence[str]) -> str:
    unknown = [v for v in values if v not in AffectedGroup.values]
    if unknown:
        raise InvalidInput(_("Unknown affected group: “%(value)s”."), value=str(unknown[0])[:30], on="tags")
    ordered = [g for g in AffectedGroup.values if g in set(values)]
    return f" {' '.join(ordered)} " if ordered else ""


@transaction.atomic
def set_tags(
    user: Any, ticket_id: int, tags: Sequence[str], note: str = "", *, expected_version: int | None = None
) -> Ticket:
    """事项 × 标签: an operator or dispatcher sets the groups the order affects (one event with before and after)."""
    ticket, actor = _load(user, ticket_id, Action.SET_TAGS, expected_version)
    note = _text(note, "note", required=False)
    value = _tags(tags)
    if value == ticket.tags:
        return ticket
    before = ticket.tag_list
    _change(
        ticket,
        Action.SET_TAGS,
        actor,
        note=note,
        data={"from": before, "to": value.split(), "by": "staff"},
        expected_version=expected_version,
        tags=value,
    )
    return ticket


@transaction.atomic
def propose_tags(ticket_id: int, tags: Sequence[str], evidence: dict[str, Any]) -> Ticket | None:
    """The assistant's tags at intake (no actor; the event carries the words that matched). Nothing when empty."""
    value = _tags(tags)
    if not value:
        return None
    ticket = _lock_for_assistant(ticket_id)
    _change(
        ticket,
        Action.SET_TAGS,
        None,
        data={"from": ticket.tag_list, "to": value.split(), "by": "assistant"} | evidence,
        tags=value,
    )
    return ticket
