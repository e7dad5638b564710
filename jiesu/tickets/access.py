"""Who may see and do what with tickets, on the shared primitive of `jiesu.orgs.access` (user → unit → role).

- Hotline roles (operator, dispatcher, callback agent), city supervisors and administrators see every ticket.
- A district supervisor sees the tickets placed in the district or dispatched to a unit under it.
- Unit handlers and leaders see the tickets ever dispatched to their unit or a unit below it; so does the unit's
  Party secretary (党组织书记), who follows the cadres' figures down to their tickets but acts on none.
- Anything else sees nothing. A ticket the user may not see answers like a missing one (NotFound).
"""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet

from jiesu.lib.errors import Forbidden, NotFound
from jiesu.orgs.access import AnyUser, may_see_requester, membership, sees_everything
from jiesu.orgs.models import STREET_TOWNSHIP_KINDS, UNIT_ROLES, Membership, Role

from .models import AppealType, Assignment, AssignmentRole, Channel, Ticket, TicketEvent
from .workflow import Action, DispatchState, target_state

# Which roles may perform each action (the unit-level checks are in the services).
ACTION_ROLES: dict[str, frozenset[str]] = {
    Action.INTAKE: frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    Action.ANSWER_DIRECTLY: frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    Action.DECLINE: frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    # a caller appealing a decline on the phone: the operator records it (`record_decline_appeal`)
    Action.APPEAL_DECLINE: frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    Action.DISPATCH: frozenset({Role.DISPATCHER}),
    Action.APPROVE_RETURN: frozenset({Role.DISPATCHER}),
    Action.REJECT_RETURN: frozenset({Role.DISPATCHER}),
    Action.APPROVE_EXTENSION: frozenset({Role.DISPATCHER}),
    Action.DENY_EXTENSION: frozenset({Role.DISPATCHER}),
    Action.MERGE: frozenset({Role.DISPATCHER}),
    Action.UNDO_AUTO_DISPATCH: frozenset({Role.DISPATCHER}),
    Action.SET_TAGS: frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    Action.SPLIT: frozenset({Role.DISPATCHER}),
    Action.ACCEPT: UNIT_ROLES,
    Action.REQUEST_RETURN: UNIT_ROLES,
    Action.ADD_PROGRESS: UNIT_ROLES,
    Action.REQUEST_EXTENSION: UNIT_ROLES,
    Action.WHISTLE: UNIT_ROLES,
    Action.REPORT_IN: UNIT_ROLES,
    Action.REPLY: UNIT_ROLES,
    Action.CALLBACK: frozenset({Role.CALLBACK_AGENT}),
    Action.CALLBACK_ATTEMPT: frozenset({Role.CALLBACK_AGENT}),
    Action.CLOSE: frozenset({Role.CALLBACK_AGENT}),
    Action.REOPEN: frozenset({Role.CALLBACK_AGENT}),
    Action.SUPERVISE: frozenset({Role.SUPERVISOR}),
    Action.ANSWER_SUPERVISION: UNIT_ROLES,
    Action.ASSIGN_HANDLER: frozenset({Role.UNIT_LEADER}),
    Action.FILE_APPEAL: UNIT_ROLES,
    Action.DECIDE_APPEAL: frozenset({Role.SUPERVISOR}),
}


# What a service needs with a ticket, fetched in the same query.
TICKET_RELATED = ("category", "district", "street", "lead_unit", "time_limit_policy")


def visible_tickets(user: AnyUser) -> QuerySet[Ticket]:
    """Every ticket query of the application starts here."""
    tickets = Ticket.objects.all()
    if sees_everything(user):
        return tickets
    m = membership(user)
    if m is None:
        return tickets.none()
    below = Assignment.objects.filter(ticket=OuterRef("pk"), unit__path__startswith=m.unit.path)
    if m.role == Role.SUPERVISOR:
        return tickets.filter(Q(district=m.unit) | Q(street__parent=m.unit) | Exists(below))
    if m.role in UNIT_ROLES or m.role == Role.PARTY_SECRETARY:
        return tickets.filter(Exists(below))
    return tickets.none()


def training_tickets() -> QuerySet[Ticket]:
    """Every real ticket, for the models the system learns from its own history (the worker and `jiesu nlp`, no
    user). Only texts, categories, places and units are read; requesters are not. Generated history (`jiesu bench
    generate --to db`, idempotency keys "gen:…") is left out: its texts are templates."""
    return Ticket.objects.exclude(idempotency_key__startswith="gen:")


def solved_cases(user: AnyUser) -> QuerySet[Ticket]:
    """Closed tickets with a reply, across all units: the solution library (诉求解决智慧库) is shared
    knowledge, so any staff member of the platform sees how others solved a matter. Pages show a case's text,
    reply and outcome only, never its requester."""
    if membership(user) is None and not getattr(user, "is_superuser", False):
        return Ticket.objects.none()
    return Ticket.objects.filter(dispatch_state=DispatchState.CLOSED).exclude(reply="")


def get_ticket(user: AnyUser, pk: int | str, *, related: tuple[str, ...] = ()) -> Ticket:
    """The ticket if the user may see it; NotFound for missing and forbidden alike."""
    try:
        return visible_tickets(user).select_related(*TICKET_RELATED, *related).get(pk=int(pk))
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def get_ticket_by_number(user: AnyUser, number: str) -> Ticket:
    try:
        return visible_tickets(user).get(number=number)
    except Ticket.DoesNotExist:
        raise NotFound() from None


def get_ticket_for_requester(number: str, secret: str) -> Ticket:
    """The citizens' portal: a ticket is theirs to see by its number plus its secret. A request made on the portal
    has a tracking code (shown once to the citizen, never to staff) and only that code opens it; a request made by
    phone opens with the code sent to the caller by SMS, or, to read but not to rate (see `requester_holds_code`),
    with the last four digits of the phone it was registered with, as do partner systems' requests, which have no
    code. Anything else (wrong secret, merged away) is NotFound."""
    number, secret = str(number or "").strip(), str(secret or "").strip()
    if not number.isdigit() or len(number) > 20 or not 4 <= len(secret) <= 16:
        raise NotFound()
    ticket = Ticket.objects.select_related(*TICKET_RELATED, "requester", "tracking_code").filter(number=number).first()
    if ticket is None:
        raise NotFound()
    code = getattr(ticket, "tracking_code", None)
    if code is not None and code.matches(secret):
        return ticket
    # a portal request opens only with its code; a phone request (whose code came by SMS, or when it was declined)
    # also with the phone's last four digits, to read
    if code is not None and ticket.channel != Channel.PHONE:
        raise NotFound()
    if not (secret.isdigit() and len(secret) == 4 and ticket.requester and ticket.requester.phone.endswith(secret)):
        raise NotFound()
    return ticket  # read-only: rating needs the code


def requester_holds_code(ticket: Ticket, secret: str) -> bool:
    """Only the holder of the portal's tracking code may act as the requester (rate the reply): the last digits of
    the phone are visible to staff in the masked number, so they prove nothing."""
    code = getattr(ticket, "tracking_code", None)
    return code is not None and bool(code.matches(secret))


def all_tickets() -> QuerySet[Ticket]:
    """Every ticket, for the server's own command line with no user (`jiesu export orders` without --user); what it
    shows of requesters is decided by the caller (masked)."""
    return Ticket.objects.all()


def phone_calls_registered(start: dt.datetime, end: dt.datetime) -> QuerySet[Ticket]:
    """Phone tickets registered in [start, end), for the hotline centre's counts per operator (一次一评); only counts
    leave the caller (workbench/ratings.py), so no unit's visibility applies."""
    return Ticket.objects.filter(channel=Channel.PHONE, intake_at__gte=start, intake_at__lt=end)


def open311_tickets() -> QuerySet[Ticket]:
    """What the public Open311 edge reads (keyless, by public number): every ticket, newest first; the edge renders
    no personal data."""
    return all_tickets().select_related("category", "lead_unit", "duplicate_of").order_by("-intake_at", "-id")


def visible_events(user: AnyUser) -> QuerySet[TicketEvent]:
    """Trail events of the tickets `user` may see (the REST API's event feed and webhooks)."""
    events = TicketEvent.objects.select_related("ticket").order_by("id")
    if sees_everything(user):
        return events
    return events.filter(ticket__in=visible_tickets(user).values("pk"))


def declined_events() -> QuerySet[TicketEvent]:
    """The declines (不予受理) the public digest counts: readable by anyone, rendered without text or requester."""
    return TicketEvent.objects.filter(action=Action.DECLINE)


def require_role(user: AnyUser, action: str) -> Membership:
    """The actor's membership if its role may perform `action`, else Forbidden."""
    m = membership(user)
    if m is None or m.role not in ACTION_ROLES.get(action, frozenset()):
        raise Forbidden()
    return m


def allowed_actions(user: AnyUser) -> frozenset[str]:
    m = membership(user)
    if m is None:
        return frozenset()
    return frozenset(a for a, roles in ACTION_ROLES.items() if m.role in roles)


def sees_caller(user: AnyUser, ticket: Ticket) -> bool:
    """The requester's name and number on one ticket: the hotline roles and administrators always; the units
    handling the ticket now (lead, assisting or summoned, and the units above them), so that they can contact the
    caller, unless the caller asked for confidentiality (保密) at intake."""
    if may_see_requester(user):
        return True
    m = membership(user)
    if m is None or m.role not in UNIT_ROLES or ticket.confidential:
        return False
    return ticket.assignments.filter(is_current=True, unit__path__startswith=m.unit.path).exists()


def searches_by_phone(user: AnyUser) -> bool:
    """Who may find tickets by the caller's number: those who see numbers across tickets (hotline roles,
    administrators) and supervisors (complaints about how a caller was treated). Only within `visible_tickets`."""
    m = membership(user)
    return may_see_requester(user) or (m is not None and m.role == Role.SUPERVISOR)


LEAD_ONLY = frozenset(
    {
        Action.ACCEPT,
        Action.REQUEST_RETURN,
        Action.REQUEST_EXTENSION,
        Action.REPLY,
        Action.WHISTLE,
        Action.ASSIGN_HANDLER,
    }
)
PAUSED_BLOCKS = frozenset({Action.REQUEST_RETURN, Action.REQUEST_EXTENSION, Action.REPLY})


def offered_actions(user: AnyUser, ticket: Ticket, actions: list[str] | None = None) -> list[str]:
    """The actions a page offers `user` on `ticket`: the role may do them, the transition table allows them from
    the ticket's state, and the unit-level rules the services enforce hold (lead unit only; 吹哨 only by a
    street/township that leads; 报到 only by a summoned unit that has not reported in; progress only by a unit on
    the ticket; nothing a pending extension blocks; direct answers only for inquiries). A form is never offered
    only to be refused."""
    m = membership(user)
    if m is None:
        return []
    mine = [a for a in (actions if actions is not None else list(ACTION_ROLES)) if m.role in ACTION_ROLES.get(a, ())]
    current: list[Assignment] | None = None

    def on_ticket() -> list[Assignment]:
        nonlocal current
        if current is None:
            current = list(ticket.assignments.filter(is_current=True, unit=m.unit))
        return current

    offered = []
    for a in mine:
        if target_state(a, ticket.dispatch_state) is None:
            continue
        if a in LEAD_ONLY and ticket.lead_unit_id != m.unit_id:
            continue
        if a in PAUSED_BLOCKS and ticket.paused_at is not None:
            continue
        if a == Action.WHISTLE and m.unit.kind not in STREET_TOWNSHIP_KINDS:
            continue
        if a == Action.REPORT_IN and not any(
            x.role == AssignmentRole.WHISTLE and x.reported_in_at is None for x in on_ticket()
        ):
            continue
        if a == Action.ADD_PROGRESS and not on_ticket():
            continue
        if a in {Action.APPROVE_EXTENSION, Action.DENY_EXTENSION} and ticket.paused_at is None:
            continue
        if (
            a == Action.ANSWER_SUPERVISION
            and not ticket.supervision_orders.filter(unit=m.unit, answered_at__isnull=True).exists()
        ):
            continue
        if a == Action.ANSWER_DIRECTLY and ticket.appeal_type != AppealType.INQUIRY:
            continue
        if a == Action.APPEAL_DECLINE and ticket.decline_appealed:  # once; the second decline is final
            continue
        offered.append(a)
    return offered


def call_ratings_scope(user: AnyUser) -> str:
    """一次一评 (the caller's rating of the call): an operator sees their own ("own"); the hotline centre's
    dispatchers (the shift leads), city-level supervisors and administrators see every operator's ("all"); nobody
    else sees any (""). The call is the centre's service, not a district's, so a district supervisor sees none."""
    m = membership(user)
    if getattr(user, "is_superuser", False):
        return "all"
    if m is None:
        return ""
    if m.role == Role.HOTLINE_OPERATOR:
        return "own"
    if m.role in {Role.DISPATCHER, Role.ADMINISTRATOR} or (m.role == Role.SUPERVISOR and sees_everything(user)):
        return "all"
    return ""
