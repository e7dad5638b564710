"""Who may see and do what. The only place that decides visibility.

- Hotline roles (operator, dispatcher, callback agent), city supervisors and administrators see every ticket.
- A district supervisor sees the tickets placed in the district or dispatched to a unit under it.
- Unit handlers and leaders see the tickets ever dispatched to their unit or a unit below it.
- Anything else sees nothing. A ticket the user may not see answers like a missing one (NotFound).
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from jiesu.community.models import PartyMember, RegistrationState
from jiesu.lib.errors import Forbidden, NotFound
from jiesu.tickets.models import Assignment, Ticket, TicketEvent
from jiesu.tickets.workflow import Action, DispatchState

from .models import (
    COMMUNITY_KINDS,
    HOTLINE_ROLES,
    STREET_TOWNSHIP_KINDS,
    UNIT_ROLES,
    Membership,
    OrgUnit,
    Role,
    UnitKind,
)

AnyUser = AbstractBaseUser | AnonymousUser

# Which roles may perform each action (the unit-level checks are in the services).
ACTION_ROLES: dict[str, frozenset[str]] = {
    Action.INTAKE: frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    Action.ANSWER_DIRECTLY: frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER}),
    Action.DISPATCH: frozenset({Role.DISPATCHER}),
    Action.APPROVE_RETURN: frozenset({Role.DISPATCHER}),
    Action.REJECT_RETURN: frozenset({Role.DISPATCHER}),
    Action.APPROVE_EXTENSION: frozenset({Role.DISPATCHER}),
    Action.DENY_EXTENSION: frozenset({Role.DISPATCHER}),
    Action.MERGE: frozenset({Role.DISPATCHER}),
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
    Action.ASSIGN_HANDLER: frozenset({Role.UNIT_LEADER}),
    Action.FILE_APPEAL: UNIT_ROLES,
    Action.DECIDE_APPEAL: frozenset({Role.SUPERVISOR}),
}

# What a service needs with a ticket, fetched in the same query.
TICKET_RELATED = ("category", "district", "street", "lead_unit", "time_limit_policy")

# Roles that see requesters' names and phone numbers unmasked.
UNMASKED_ROLES = HOTLINE_ROLES | {Role.ADMINISTRATOR}


def membership(user: AnyUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        found: Membership = user.membership  # type: ignore[union-attr, attr-defined]  # cached on the user by Django
    except Membership.DoesNotExist:
        return None
    return found


def sees_everything(user: AnyUser) -> bool:
    m = membership(user)
    if getattr(user, "is_superuser", False):
        return True
    if m is None:
        return False
    if m.role in HOTLINE_ROLES or m.role == Role.ADMINISTRATOR:
        return True
    return m.role == Role.SUPERVISOR and m.unit.kind == UnitKind.CITY


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
    if m.role in UNIT_ROLES:
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


def get_ticket_for_requester(number: str, phone_tail: str) -> Ticket:
    """The citizens' portal: a ticket is theirs to see by its number plus the last four digits of the phone
    it was registered with. Anything else (wrong digits, no phone, merged away) answers NotFound."""
    number, phone_tail = str(number or "").strip(), str(phone_tail or "").strip()
    if not number.isdigit() or len(number) > 20 or len(phone_tail) != 4 or not phone_tail.isdigit():
        raise NotFound()
    ticket = (
        Ticket.objects.select_related(*TICKET_RELATED, "requester")
        .filter(number=number, requester__phone__endswith=phone_tail)
        .first()
    )
    if ticket is None:
        raise NotFound()
    return ticket


def all_tickets() -> QuerySet[Ticket]:
    """Every ticket, for the server's own command line with no user (`jiesu export orders` without --user); what it
    shows of requesters is decided by the caller (masked)."""
    return Ticket.objects.all()


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


def may_see_requester(user: AnyUser) -> bool:
    m = membership(user)
    return bool(getattr(user, "is_superuser", False) or (m is not None and m.role in UNMASKED_ROLES))


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


def offered_actions(user: AnyUser, ticket: Ticket, actions: "list[str] | None" = None) -> list[str]:
    """The actions a page offers `user` on `ticket`: the role may do them, the transition table allows them from
    the ticket's state, and the unit-level rules the services enforce hold (lead unit only; 吹哨 only by a
    street/township that leads; 报到 only by a summoned unit that has not reported in; progress only by a unit on
    the ticket; nothing a pending extension blocks; direct answers only for inquiries). A form is never offered
    only to be refused."""
    from jiesu.tickets.models import AppealType, AssignmentRole
    from jiesu.tickets.workflow import target_state

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
        if a == Action.ANSWER_DIRECTLY and ticket.appeal_type != AppealType.INQUIRY:
            continue
        offered.append(a)
    return offered


def units_visible_to(user: AnyUser) -> QuerySet[OrgUnit]:
    units = OrgUnit.objects.all()
    if sees_everything(user):
        return units
    m = membership(user)
    return units.filter(path__startswith=m.unit.path) if m else units.none()


# --- assessment (三率) ------------------------------------------------------------------------------------
def sees_assessment(user: AnyUser) -> bool:
    """The monthly assessment pages: supervisors (any level), administrators, and unit staff for their own unit."""
    m = membership(user)
    return bool(
        getattr(user, "is_superuser", False)
        or (m is not None and m.role in {Role.SUPERVISOR, Role.ADMINISTRATOR} | UNIT_ROLES)
    )


def may_view_unit_assessment(user: AnyUser, unit: OrgUnit) -> bool:
    """A unit's figures down to its tickets: the city level for every unit; a district supervisor for the units
    in the district; unit staff for their own unit and those below it."""
    if sees_everything(user):
        return True
    m = membership(user)
    if m is None or m.role not in {Role.SUPERVISOR} | UNIT_ROLES:
        return False
    return unit.path.startswith(m.unit.path)


def assessment_units(user: AnyUser) -> QuerySet[OrgUnit]:
    """The units whose figures the user may open (see `may_view_unit_assessment`)."""
    if sees_everything(user):
        return OrgUnit.objects.all()
    m = membership(user)
    if m is None or m.role not in {Role.SUPERVISOR} | UNIT_ROLES:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__startswith=m.unit.path)


def require_appeal_judge(user: AnyUser) -> Membership:
    """Appeals are decided at the city level (the hotline centre's supervisors), never by the district whose
    own streets appeal."""
    m = require_role(user, Action.DECIDE_APPEAL)
    if m.unit.kind not in {UnitKind.CITY, UnitKind.HOTLINE_CENTRE}:
        raise Forbidden()
    return m


# --- proactive governance (hotspots, monthly topics, forecasts, knowledge) ------------------------------
def governance_area(user: AnyUser) -> OrgUnit | None:
    """The area whose hotspots, topics and forecasts a supervisor or administrator steers: the city for the city
    level, the district for a district supervisor; None for everybody else (no access)."""
    m = membership(user)
    if getattr(user, "is_superuser", False) and m is None:
        return OrgUnit.objects.filter(kind=UnitKind.CITY).first()
    if m is None or m.role not in {Role.SUPERVISOR, Role.ADMINISTRATOR}:
        return None
    if m.role == Role.ADMINISTRATOR or m.unit.kind in {UnitKind.CITY, UnitKind.HOTLINE_CENTRE}:
        return OrgUnit.objects.filter(kind=UnitKind.CITY).first() or m.unit
    return m.unit


def in_area(area: OrgUnit, unit: OrgUnit | None) -> bool:
    """A district-scoped record (hotspot, topic, forecast) belongs to the area when its district lies under it;
    records with no district belong to the city only."""
    if area.kind == UnitKind.CITY:
        return True
    return unit is not None and unit.path.startswith(area.path)


def may_decide_proposal(user: AnyUser, unit: OrgUnit) -> bool:
    """A proactive proposal is decided by the responsible unit's staff or by a supervisor above it."""
    m = membership(user)
    if m is None:
        return False
    if m.role in UNIT_ROLES:
        return unit.path.startswith(m.unit.path)
    area = governance_area(user)
    return area is not None and in_area(area, unit)


def may_curate_knowledge(user: AnyUser, ticket: Ticket) -> bool:
    """Who may turn a solved ticket into a knowledge entry: the lead unit's leader, supervisors who see it, and
    administrators."""
    m = membership(user)
    if getattr(user, "is_superuser", False):
        return True
    if m is None:
        return False
    if m.role == Role.UNIT_LEADER:
        return ticket.lead_unit_id is not None and ticket.lead_unit_id == m.unit_id
    return m.role in {Role.SUPERVISOR, Role.ADMINISTRATOR}


def reads_knowledge(user: AnyUser) -> bool:
    """The knowledge base is for every member of staff (operators above all, during calls)."""
    return membership(user) is not None or bool(getattr(user, "is_superuser", False))


# --- Party members in the community (社区报到) -------------------------------------------------------------
def managed_communities(user: AnyUser) -> QuerySet[OrgUnit]:
    """The communities whose registry, lists, tasks and call-outs the user runs: the community's own staff, and
    the staff of the street or township above it (Beijing's streets run the community work); administrators
    run every community."""
    communities = OrgUnit.objects.filter(kind__in=COMMUNITY_KINDS, is_active=True)
    m = membership(user)
    if (m is not None and m.role == Role.ADMINISTRATOR) or (m is None and getattr(user, "is_superuser", False)):
        return communities
    if m is None or m.role not in UNIT_ROLES:
        return communities.none()
    if m.unit.kind in COMMUNITY_KINDS:
        return communities.filter(pk=m.unit_id)
    if m.unit.kind in STREET_TOWNSHIP_KINDS:
        return communities.filter(parent=m.unit_id)
    return communities.none()


def community_report_area(user: AnyUser) -> QuerySet[OrgUnit]:
    """The communities whose quarterly reports the user may read: those they run, and for supervisors every
    community in their area."""
    m = membership(user)
    if m is not None and m.role == Role.SUPERVISOR:
        area = OrgUnit.objects.filter(kind__in=COMMUNITY_KINDS)
        return (
            area
            if m.unit.kind in {UnitKind.CITY, UnitKind.HOTLINE_CENTRE}
            else area.filter(path__startswith=m.unit.path)
        )
    return managed_communities(user)


def may_manage_community(user: AnyUser, community: OrgUnit) -> bool:
    return managed_communities(user).filter(pk=community.pk).exists()


def party_member(user: AnyUser) -> PartyMember | None:
    """The confirmed registration of the logged-in Party member, or None."""
    if not user.is_authenticated:
        return None
    return (
        PartyMember.objects.select_related("community", "compound")
        .filter(user_id=user.pk, state=RegistrationState.CONFIRMED)
        .first()
    )


def cadre_report_unit(user: AnyUser) -> OrgUnit | None:
    """双重考核: the leader of a work unit reads the community-service report of the members who work there (and
    below it). None for everybody else."""
    m = membership(user)
    if m is not None and m.role in {Role.UNIT_LEADER, Role.ADMINISTRATOR}:
        return m.unit
    return None


def may_see_member_contact(user: AnyUser, community: OrgUnit) -> bool:
    """Members' and residents' phone numbers: only the staff who run the community see them unmasked."""
    return may_manage_community(user, community)
