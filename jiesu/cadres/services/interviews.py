"""cadres services: 约谈 → 整改清单 → verification."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.assessment import selectors as assessment_selectors
from jiesu.assessment.models import Snapshot, UnitScore
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.orgs.models import OrgUnit

from .. import access, selectors
from ..models import CadreProfile, Interview, InterviewState, RectificationItem, RectificationMetric, RectificationState
from ._core import _choice, _date, _datetime, _decimal, _event, _month, _text, _unit


def _area(user: Any) -> OrgUnit:
    area = access.org_department_area(user)
    if area is None:
        raise Forbidden()
    return area


@transaction.atomic
def schedule_interview(
    actor: Any, *, unit: str, month: Any, scheduled_for: Any, attendees: str, place: str = ""
) -> Interview:
    area = _area(actor)
    the_unit = _unit(unit)
    if not the_unit.path.startswith(area.path):
        raise NotFound(_("The unit does not exist or lies outside your area."))
    first = _month(month, "month", _("assessment month"))
    snapshot, bottom = selectors.bottom_list(actor, first)
    row = next((r for r in bottom if r.unit_id == the_unit.pk), None)
    if snapshot is None or row is None:
        raise InvalidInput(_("The unit is not on that month's published 约谈 list."), on="unit")
    when = _datetime(scheduled_for, "scheduled_for", _("when"))
    if Interview.objects.filter(unit=the_unit, month=first).exists():
        raise InvalidInput(_("A 约谈 of this unit for that month is already scheduled."), on="unit")
    interview = Interview.objects.create(
        unit=the_unit,
        month=first,
        snapshot=snapshot,
        score=row.score,
        rank=row.rank,
        scheduled_for=when,
        place=_text(place, "place", _("place"), 100, required=False),
        attendees=_text(attendees, "attendees", _("attendees"), 1000),
        scheduled_by=actor,
        created_at=clock.now(),
    )
    _event(actor, "interview_scheduled", unit=the_unit, subject="interview", subject_id=interview.pk)
    return interview


def _interview(actor: Any, pk: int) -> Interview:
    interview = Interview.objects.select_related("unit").filter(pk=pk).first()
    if interview is None or not access.may_read_unit(actor, interview.unit):
        raise NotFound(_("The 约谈 does not exist or you may not see it."))
    area = _area(actor)
    if not interview.unit.path.startswith(area.path):
        raise NotFound(_("The 约谈 does not exist or you may not see it."))
    return interview


@transaction.atomic
def record_minutes(actor: Any, interview_id: int, minutes: str) -> Interview:
    interview = _interview(actor, interview_id)
    if interview.state == InterviewState.CLOSED:
        raise IllegalTransition(_("The 约谈 is closed."))
    interview.minutes = _text(minutes, "minutes", _("minutes"), 10000)
    interview.state = InterviewState.HELD
    interview.save(update_fields=["minutes", "state"])
    _event(actor, "interview_held", unit=interview.unit, subject="interview", subject_id=interview.pk)
    return interview


@transaction.atomic
def add_rectification(
    actor: Any, interview_id: int, *, title: str, owner: Any, due_on: Any, metric: str, target: Any
) -> RectificationItem:
    interview = _interview(actor, interview_id)
    if interview.state == InterviewState.CLOSED:
        raise IllegalTransition(_("The 约谈 is closed."))
    try:
        profile = CadreProfile.objects.get(pk=int(owner), unit__path__startswith=interview.unit.path)
    except (CadreProfile.DoesNotExist, ValueError, TypeError):
        raise InvalidInput(_("The owner must be a cadre of the unit."), on="owner") from None
    due = _date(due_on, "due_on", _("due on"))
    if due < clock.local_date(clock.now()):
        raise InvalidInput(_("The deadline lies in the past."), on="due_on")
    item = RectificationItem.objects.create(
        interview=interview,
        title=_text(title, "title", _("rectification"), 200),
        owner=profile,
        due_on=due,
        metric=_choice(metric, RectificationMetric, "metric", _("verified by")),
        target=_decimal(target, "target", _("target"), low=Decimal(0), high=Decimal(100)),
    )
    _event(actor, "rectification_added", profile=profile, subject="interview", subject_id=interview.pk, item=item.pk)
    return item


@transaction.atomic
def verify_rectifications(actor: Any = None) -> dict[str, int]:
    """Later months' published figures verify each open item: the first published month after the 约谈 whose figure
    reaches the target verifies it; past its deadline without that, it escalates (once) to the organisation
    department and the unit's Party secretary (an event on the owner's file)."""
    today = clock.local_date(clock.now())
    done = {"verified": 0, "escalated": 0}
    items = RectificationItem.objects.select_related("interview__unit", "owner").filter(
        state__in=[RectificationState.OPEN, RectificationState.ESCALATED]
    )
    for item in items:
        unit = item.interview.unit
        months = sorted(
            set(
                Snapshot.objects.filter(month__gt=item.interview.month, published_at__isnull=False).values_list(
                    "month", flat=True
                )
            )
        )
        for month in months:
            snapshot = assessment_selectors.current_snapshot(month, published_only=True)
            score = UnitScore.objects.filter(snapshot=snapshot, unit=unit).first()
            value = getattr(score, item.metric, None) if score else None
            if value is not None and Decimal(value) >= item.target:
                item.state, item.verified_month, item.verified_value = RectificationState.VERIFIED, month, value
                item.changed_at = clock.now()
                item.save(update_fields=["state", "verified_month", "verified_value", "changed_at"])
                _event(
                    actor,
                    "rectification_verified",
                    profile=item.owner,
                    subject="interview",
                    subject_id=item.interview_id,
                    item=item.pk,
                    month=f"{month:%Y-%m}",
                    value=str(value),
                )
                done["verified"] += 1
                break
        else:
            if item.state == RectificationState.OPEN and today > item.due_on:
                item.state, item.changed_at = RectificationState.ESCALATED, clock.now()
                item.save(update_fields=["state", "changed_at"])
                _event(
                    actor,
                    "rectification_escalated",
                    profile=item.owner,
                    subject="interview",
                    subject_id=item.interview_id,
                    item=item.pk,
                    due_on=item.due_on.isoformat(),
                )
                done["escalated"] += 1
    for interview in Interview.objects.filter(state=InterviewState.HELD):
        states = set(interview.items.values_list("state", flat=True))
        if states == {RectificationState.VERIFIED}:
            interview.state = InterviewState.CLOSED
            interview.save(update_fields=["state"])
            _event(actor, "interview_closed", unit=interview.unit, subject="interview", subject_id=interview.pk)
    return done
