"""cadres services: 揭榜挂帅."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category
from jiesu.governance import access as governance_access
from jiesu.governance.models import Hotspot, MonthlyTopic
from jiesu.lib import clock
from jiesu.lib import text as zh
from jiesu.lib.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from jiesu.orgs import access as org_access
from jiesu.orgs.models import OrgUnit

from .. import access, selectors
from ..models import Application, ChallengeMilestone, ChallengeState, ChallengeTask
from ._core import _date, _decimal, _event, _text, _unit


def _poster_area(actor: Any) -> OrgUnit:
    area = access.org_department_area(actor) or governance_access.governance_area(actor)
    if area is None:
        m = org_access.membership(actor)
        if m is not None and access.may_manage_unit(actor, m.unit):
            area = m.unit
    if area is None:
        raise Forbidden()
    return area


def hotspot_terms(label: str) -> str:
    """The key terms a task from a hotspot is scoped by. A hotspot's label reads "place：problem" (governance's
    `describe`), where the problem is its common words run together: the place, within the hotspot's category and
    area, is what the requests share; without a place, the label's words."""
    place, sep, _problem = label.partition("：")
    if sep and place.strip():
        return place.strip()
    return " ".join(w for w in zh.words(label) if len(w) >= 2)[:200] or label


@transaction.atomic
def post_challenge(
    actor: Any,
    *,
    title: str,
    goal: str,
    deadline: Any,
    target_change: Any = -30,
    resources: str = "",
    hotspot_id: int | None = None,
    topic_id: int | None = None,
    category: str = "",
    district: str = "",
    street: str = "",
    keywords: str = "",
) -> ChallengeTask:
    """One click from a hotspot or a 每月一题 topic (its scope copied), or a category × area pattern."""
    area = _poster_area(actor)
    today = clock.local_date(clock.now())
    scope: dict[str, Any] = {"category": None, "district": None, "street": None, "keywords": ""}
    hotspot = topic = None
    if hotspot_id:
        hotspot = Hotspot.objects.filter(pk=int(hotspot_id)).select_related("district", "street", "category").first()
        if hotspot is None or not governance_access.in_area(area, hotspot.district or hotspot.street):
            raise NotFound(_("The hotspot does not exist or lies outside your area."))
        scope = {
            "category": hotspot.category,
            "district": hotspot.district,
            "street": hotspot.street,
            "keywords": hotspot_terms(hotspot.label),
        }
    elif topic_id:
        topic = MonthlyTopic.objects.filter(pk=int(topic_id)).first()
        if topic is None or not governance_access.in_area(area, topic.district or topic.lead_unit):
            raise NotFound(_("The topic does not exist or lies outside your area."))
        street_first = topic.streets.first()
        scope = {
            "category": topic.category,
            "district": topic.district,
            "street": street_first,
            "keywords": topic.keywords,
        }
    else:
        if category:
            scope["category"] = Category.objects.filter(code=str(category).strip()).first()
            if scope["category"] is None:
                raise InvalidInput(_("Unknown category code."), on="category")
        if district:
            scope["district"] = _unit(district, "district")
        if street:
            scope["street"] = _unit(street, "street")
        scope["keywords"] = _text(keywords, "keywords", _("keywords"), 200, required=False)
        if not any(scope.values()):
            raise InvalidInput(_("Give the pattern: a category, an area or keywords."), on="category")
    place = scope["street"] or scope["district"]
    if place is not None and not place.path.startswith(area.path):
        raise InvalidInput(_("The pattern lies outside your area."), on="district")
    due = _date(deadline, "deadline", _("deadline"))
    if due <= today:
        raise InvalidInput(_("The deadline must lie in the future."), on="deadline")
    task = ChallengeTask.objects.create(
        title=_text(title, "title", _("task"), 120),
        goal=_text(goal, "goal", _("goal"), 5000),
        resources=_text(resources, "resources", _("resources"), 5000, required=False),
        deadline=due,
        area=place if place is not None and place.path.startswith(area.path) else area,
        hotspot=hotspot,
        topic=topic,
        baseline_from=today - dt.timedelta(days=28),
        baseline_to=today - dt.timedelta(days=1),
        starts_on=today,
        target_change=_decimal(
            target_change, "target_change", _("target: requests change (%)"), low=Decimal(-100), high=Decimal(100)
        ),
        posted_by=actor,
        posted_at=clock.now(),
        **scope,
    )
    _event(
        actor,
        "challenge_posted",
        unit=task.area,
        subject="challenge",
        subject_id=task.pk,
        hotspot=hotspot_id,
        topic=topic_id,
    )
    return task


def _task(user: Any, pk: int) -> ChallengeTask:
    task = selectors.challenges(user).filter(pk=pk).first()
    if task is None:
        raise NotFound(_("The task does not exist or you may not see it."))
    return task


def _task_manager(actor: Any, task: ChallengeTask) -> None:
    if task.posted_by_id == actor.pk or access.may_manage_unit(actor, task.area):
        return
    area = access.org_department_area(actor) or governance_access.governance_area(actor)
    if area is None or not governance_access.in_area(area, task.area):
        raise Forbidden()


@transaction.atomic
def apply_challenge(user: Any, task_id: int, plan: str) -> Application:
    task = _task(user, task_id)
    profile = access.own_profile(user)
    if profile is None or not profile.unit.path.startswith(task.area.path):
        raise Forbidden(_("Only a cadre of the task's area may apply."))
    if task.state != ChallengeState.OPEN:
        raise IllegalTransition(_("The task is no longer open for applications."))
    text = _text(plan, "plan", _("plan"), 5000)
    try:
        with transaction.atomic():
            app = Application.objects.create(task=task, profile=profile, plan=text, applied_at=clock.now())
    except IntegrityError:
        raise InvalidInput(_("You have already applied for this task."), on="plan") from None
    _event(user, "challenge_applied", profile=profile, subject="challenge", subject_id=task.pk)
    return app


@transaction.atomic
def appoint(actor: Any, task_id: int, application_id: int) -> ChallengeTask:
    task = _task(actor, task_id)
    _task_manager(actor, task)
    if task.state != ChallengeState.OPEN:
        raise IllegalTransition(_("The task is no longer open for applications."))
    app = Application.objects.filter(pk=application_id, task=task).select_related("profile").first()
    if app is None:
        raise InvalidInput(_("Choose one of the task's applicants."), on="application")
    task.leader, task.state = app.profile, ChallengeState.APPOINTED
    task.save(update_fields=["leader", "state"])
    _event(actor, "challenge_appointed", profile=app.profile, subject="challenge", subject_id=task.pk)
    return task


@transaction.atomic
def add_challenge_milestone(actor: Any, task_id: int, title: str, due_on: Any) -> ChallengeMilestone:
    task = _task(actor, task_id)
    if not (task.leader and task.leader.user_id == actor.pk):
        _task_manager(actor, task)
    if task.state != ChallengeState.APPOINTED:
        raise IllegalTransition(_("Milestones follow the appointment and end with the delivery."))
    m = ChallengeMilestone.objects.create(
        task=task, title=_text(title, "title", _("milestone"), 200), due_on=_date(due_on, "due_on", _("due on"))
    )
    _event(
        actor, "challenge_milestone", profile=task.leader, subject="challenge", subject_id=task.pk, milestone=m.title
    )
    return m


@transaction.atomic
def reach_milestone(actor: Any, milestone_id: int) -> ChallengeMilestone:
    m = ChallengeMilestone.objects.select_related("task").filter(pk=milestone_id).first()
    if m is None:
        raise NotFound()
    task = _task(actor, m.task_id)
    if not (task.leader and task.leader.user_id == actor.pk):
        _task_manager(actor, task)
    if m.done_on is not None:
        raise IllegalTransition(_("The milestone has already been reached."))
    m.done_on = clock.local_date(clock.now())
    m.save(update_fields=["done_on"])
    _event(
        actor,
        "challenge_milestone_reached",
        profile=task.leader,
        subject="challenge",
        subject_id=task.pk,
        milestone=m.title,
    )
    return m


@transaction.atomic
def deliver(actor: Any, task_id: int) -> ChallengeTask:
    """The leader reports delivery; the result is measured from the requests in scope and kept with the task."""
    task = _task(actor, task_id)
    _task_manager(actor, task)
    if task.state != ChallengeState.APPOINTED:
        raise IllegalTransition(_("Only an appointed task can be delivered."))
    measured = selectors.measure(task)
    task.state, task.delivered_at = ChallengeState.DELIVERED, clock.now()
    task.result = {
        "baseline_per_30": measured.baseline_per_30,
        "last_30": measured.last_30,
        "change": measured.change,
        "resolution_rate": measured.resolution_rate,
        "met": measured.met,
        "milestones": f"{measured.milestones_done}/{measured.milestones}",
    }
    task.save(update_fields=["state", "delivered_at", "result"])
    _event(actor, "challenge_delivered", profile=task.leader, subject="challenge", subject_id=task.pk, **task.result)
    return task
