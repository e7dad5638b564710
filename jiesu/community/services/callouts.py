"""community services: call-outs (社区吹哨、党员报到)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jiesu.community import access as community_access
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput
from jiesu.orgs.models import OrgUnit

from ..models import (
    Attendance,
    CallOut,
    CallOutShift,
    CallOutState,
    PartyMember,
    PointReason,
    RegistrationState,
    ShiftSignUp,
)
from ._core import _event, _locked, _managed, _text
from .tasks import _award, _rule


@dataclass
class ShiftInput:
    role: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    needed: int


@transaction.atomic
def create_callout(actor: Any, community: OrgUnit, title: str, reason: str, shifts: list[ShiftInput]) -> CallOut:
    """The community blows the whistle: every confirmed member with a login is notified."""
    _managed(actor, community)
    title = _text(title, _("title"), "title", 60)
    reason = _text(reason, _("situation"), "reason", 300)
    if not shifts:
        raise InvalidInput(_("Add at least one shift."), on="shifts")
    for s in shifts:
        _text(s.role, _("role"), "shifts", 40)
        _text(s.place, _("place"), "shifts", 60)
        if s.ends_at <= s.starts_at:
            raise InvalidInput(_("A shift must end after it starts."), on="shifts")
        if not 1 <= s.needed <= 500:
            raise InvalidInput(_("A shift needs 1 to 500 members."), on="shifts")
    callout = CallOut.objects.create(
        community=community, title=title, reason=reason, created_at=clock.now(), created_by=actor
    )
    CallOutShift.objects.bulk_create(
        [
            CallOutShift(
                callout=callout,
                role=s.role.strip(),
                place=s.place.strip(),
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                needed=s.needed,
            )
            for s in shifts
        ]
    )
    users = list(
        PartyMember.objects.filter(
            community=community, state=RegistrationState.CONFIRMED, user__isnull=False
        ).values_list("user_id", flat=True)
    )
    _event(actor, community, "callout", callout.pk, "call", "", CallOutState.OPEN, users=users, shifts=len(shifts))
    return callout


@transaction.atomic
def sign_up(actor: Any, shift_id: Any) -> ShiftSignUp:
    """党员报到: a member signs up for a shift; never beyond the shift's need, never two overlapping shifts."""
    member = community_access.party_member(actor)
    shift = _locked(CallOutShift.objects.select_related("callout"), shift_id, _("There is no such shift."))
    if member is None or member.community_id != shift.callout.community_id:
        raise Forbidden(_("Only the community's registered members can sign up."))
    if shift.callout.state != CallOutState.OPEN:
        raise IllegalTransition(_("This call-out is closed."))
    if shift.signups.filter(member=member).exists():
        raise IllegalTransition(_("You have signed up for this shift already."))
    if shift.signups.count() >= shift.needed:
        raise IllegalTransition(_("This shift is full."))
    overlap = ShiftSignUp.objects.filter(
        member=member, shift__starts_at__lt=shift.ends_at, shift__ends_at__gt=shift.starts_at
    ).exists()
    if overlap:
        raise IllegalTransition(_("You are signed up for another shift at the same time."))
    signup = ShiftSignUp.objects.create(shift=shift, member=member, signed_at=clock.now())
    _event(actor, shift.callout.community_id, "shift", shift.pk, "sign_up", member=member.pk, callout=shift.callout_id)
    return signup


@transaction.atomic
def record_attendance(actor: Any, signup_id: Any, present: bool) -> ShiftSignUp:
    signup = _locked(
        ShiftSignUp.objects.select_related("shift__callout", "member"), signup_id, _("There is no such sign-up.")
    )
    community = signup.shift.callout.community
    _managed(actor, community)
    if signup.attendance != Attendance.SIGNED_UP:
        raise IllegalTransition(_("Attendance is recorded already."))
    signup.attendance = Attendance.PRESENT if present else Attendance.ABSENT
    signup.save()
    reason = PointReason.ATTENDANCE if present else PointReason.NO_SHOW
    _award(signup.member, community.pk, reason, _rule(community, reason), actor, shift=signup.shift)
    _event(
        actor,
        community,
        "signup",
        signup.pk,
        "attend",
        Attendance.SIGNED_UP,
        signup.attendance,
        member=signup.member_id,
    )
    return signup


@transaction.atomic
def close_callout(actor: Any, callout_id: Any) -> CallOut:
    callout = _locked(CallOut.objects.select_related("community"), callout_id, _("There is no such call-out."))
    _managed(actor, callout.community)
    if callout.state != CallOutState.OPEN:
        raise IllegalTransition(_("This call-out is closed already."))
    callout.state = CallOutState.CLOSED
    callout.save()
    _event(actor, callout.community, "callout", callout.pk, "close", CallOutState.OPEN, CallOutState.CLOSED)
    return callout
