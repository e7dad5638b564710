"""The only writer of training and care data. Each function checks who acts (through `access`), validates all
input before writing, runs in one transaction and writes one append-only `TrainingEvent`; a refusal is a
ServiceError in the user's language and changes nothing."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jiesu.assessment import facts
from jiesu.assessment.rules import rules_for
from jiesu.cadres.models import Recognition
from jiesu.catalog.models import Category, TimeLimitClass
from jiesu.lib import clock
from jiesu.lib.errors import Forbidden, InvalidInput, NotFound
from jiesu.lib.validation import clean_text
from jiesu.orgs.access import AnyUser, membership
from jiesu.orgs.models import OrgUnit, Role
from jiesu.tickets import access as ticket_access
from jiesu.tickets.models import Ticket, TicketEvent
from jiesu.tickets.workflow import Action

from . import access, care, practice, strain
from .models import (
    AbuseMark,
    AlertState,
    CareAlert,
    CaseKind,
    Course,
    CourseCase,
    Enrolment,
    PlanCourse,
    PracticeAttempt,
    PublishState,
    ReplyRubric,
    SignalContext,
    Skill,
    Stage,
    TalkRecord,
    TrainingCase,
    TrainingEvent,
    TrainingPlan,
    TransferSurvey,
    Wave,
)
from .selectors import lost_points_of, merits_of

TEXT_LIMIT = 4000
FOLLOW_UP_FROM_DAYS = 30
FOLLOW_UP_TO_DAYS = 60


def _event(action: str, actor: Any, subject: str, subject_id: int | None, *, person: Any = None, **data: Any) -> None:
    TrainingEvent.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        person=person,
        subject=subject,
        subject_id=subject_id,
        data=data,
        created_at=clock.now(),
    )


def _require_trainer(user: AnyUser) -> None:
    if not access.is_trainer(user):
        raise Forbidden()


# --- the case library ---------------------------------------------------------------------------------------
def _lost_points(ticket: Ticket, month: dt.date) -> list[str]:
    """The ticket's lost points in the month's assessment (NotFound-like refusal when it was not docked)."""
    row = next((r for r in facts.extract(month).to_pylist() if r["ticket_id"] == ticket.pk), None)
    if row is None:
        return []
    rejected = TicketEvent.objects.filter(ticket=ticket, action=Action.REJECT_RETURN).exists()
    return lost_points_of(row, rules_for(month), rejected)


def _masked(ticket: Ticket, text: str) -> str:
    requester = ticket.requester
    return practice.mask_case_text(
        text, name=requester.name if requester else "", phone=requester.phone if requester else ""
    )


@transaction.atomic
def make_case(user: Any, ticket_id: int, kind: str, *, month: dt.date | None = None) -> TrainingCase:
    """Turn a real ticket into a draft case, masked. A lost-point case needs a ticket the month's assessment
    docked (its reasons are recorded); an excellent case a replied ticket with a merit (`selectors.merits_of`: a
    commendation naming it, the requester's rating "satisfied", an exemplary first round), recorded with the
    commendations' words, masked."""
    _require_trainer(user)
    area = access.trainer_area(user)
    if kind not in CaseKind.values:
        raise InvalidInput(_("Unknown kind of case."), on="kind")
    ticket = (
        ticket_access.all_tickets().select_related("requester", "category", "lead_unit").filter(pk=ticket_id).first()
    )
    if ticket is None or area is None or ticket.lead_unit is None or not ticket.lead_unit.path.startswith(area.path):
        raise NotFound()
    if TrainingCase.objects.filter(source_ticket=ticket).exists():
        raise InvalidInput(_("This ticket is already a case in the library."), on="ticket")
    lost: list[str] = []
    merits: list[str] = []
    outcome: dict[str, Any] = {}
    callback = ticket.callbacks.order_by("-round").first()
    if callback is not None:
        outcome = {
            "contacted": callback.contacted,
            "resolution": callback.resolution,
            "satisfaction": callback.satisfaction,
            "signed_in_time": callback.signed_in_time,
            "rounds": callback.round,
            "comment": _masked(ticket, callback.comment),
        }
    if kind == CaseKind.LOST_POINT:
        if month is None:
            raise InvalidInput(_("Choose the assessment month the ticket lost points in."), on="month")
        lost = _lost_points(ticket, month)
        if not lost:
            raise InvalidInput(_("The assessment of that month did not dock this ticket."), on="ticket")
    else:
        merits = merits_of([ticket.pk])[ticket.pk]
        if not merits or not ticket.reply.strip():
            raise InvalidInput(
                _(
                    "An excellent case needs a replied ticket that was commended (点赞, 一事一评), rated satisfied by "
                    "the requester, or solved to their satisfaction in the first round."
                )
            )
        outcome["commendations"] = [
            {"kind": kind, "note": _masked(ticket, note)}
            for kind, note in Recognition.objects.filter(ticket=ticket).values_list("kind", "note")
        ]
    now = clock.now()
    case = TrainingCase.objects.create(
        kind=kind,
        source_ticket=ticket,
        source_month=month,
        title=_masked(ticket, ticket.title),
        content=_masked(ticket, ticket.content),
        appeal_type=ticket.appeal_type,
        category=ticket.category,
        unit=callback.unit if callback is not None and callback.unit else ticket.lead_unit,
        time_limit_class=ticket.time_limit_class,
        real_reply=_masked(ticket, ticket.reply),
        outcome=outcome,
        lost_points=lost,
        merits=merits,
        roles=[Role.UNIT_HANDLER.value],
        created_by=user if user.is_authenticated else None,
        created_at=now,
        updated_at=now,
    )
    _event("case_made", user, "case", case.pk, kind=kind, lost_points=lost, merits=merits)
    return case


CASE_TEXTS = {
    "title": (_("Title"), 200),
    "content": (_("What the requester asked"), TEXT_LIMIT),
    "review": (_("Review"), TEXT_LIMIT),
    "reflection": (_("Reflection"), TEXT_LIMIT),
    "process_fix": (_("Process fix"), TEXT_LIMIT),
    "expert_comment": (_("Expert comment"), TEXT_LIMIT),
}


@transaction.atomic
def edit_case(
    user: AnyUser,
    case_id: int,
    *,
    skills: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    **texts: Any,
) -> TrainingCase:
    """The trainer's analysis: review → reflection → process fix → expert comment, tags. Texts are masked again."""
    _require_trainer(user)
    case = TrainingCase.objects.select_related("source_ticket__requester").filter(pk=case_id).first()
    if case is None:
        raise NotFound()
    changes: dict[str, Any] = {}
    for field, value in texts.items():
        if field not in CASE_TEXTS:
            raise InvalidInput(_("Unknown field."), on=field)
        label, limit = CASE_TEXTS[field]
        required = field in {"title", "content"}
        changes[field] = _masked(
            case.source_ticket, clean_text(value, on=field, label=label, limit=limit, required=required)
        )
    if skills is not None:
        if not set(skills) <= set(Skill.values):
            raise InvalidInput(_("Unknown skill."), on="skills")
        changes["skills"] = sorted(set(skills))
    if roles is not None:
        if not set(roles) <= set(Role.values):
            raise InvalidInput(_("Unknown role."), on="roles")
        changes["roles"] = sorted(set(roles))
    for field, value in changes.items():
        setattr(case, field, value)
    case.updated_at = clock.now()
    case.save()
    _event("case_edited", user, "case", case.pk, fields=sorted(changes))
    return case


@transaction.atomic
def publish_case(user: AnyUser, case_id: int) -> TrainingCase:
    _require_trainer(user)
    case = TrainingCase.objects.filter(pk=case_id).first()
    if case is None:
        raise NotFound()
    needed = ["expert_comment"] + (["review", "reflection", "process_fix"] if case.kind == CaseKind.LOST_POINT else [])
    missing = [str(CASE_TEXTS[f][0]) for f in needed if not getattr(case, f).strip()]
    if missing:
        raise InvalidInput(_("Write these before publishing: %(fields)s."), fields=", ".join(missing))
    case.state, case.published_at = PublishState.PUBLISHED, clock.now()
    case.save()
    _event("case_published", user, "case", case.pk)
    return case


# --- courses and plans --------------------------------------------------------------------------------------
@transaction.atomic
def make_course(
    user: Any,
    *,
    title: str,
    case_ids: Sequence[int],
    summary: str = "",
    stage: str = Stage.REFRESHER,
    roles: Sequence[str] = (Role.UNIT_HANDLER,),
) -> Course:
    """A course from chosen cases, in the given order; its categories (where transfer is measured) are the
    cases' categories."""
    _require_trainer(user)
    title = clean_text(title, on="title", label=_("Title"), limit=200)
    summary = clean_text(summary, on="summary", label=_("Summary"), limit=TEXT_LIMIT, required=False)
    if stage not in Stage.values:
        raise InvalidInput(_("Unknown stage."), on="stage")
    if not set(roles) <= set(Role.values) or not roles:
        raise InvalidInput(_("Choose the roles the course is for."), on="roles")
    ids = list(dict.fromkeys(int(i) for i in case_ids))
    found = {c.pk: c for c in TrainingCase.objects.filter(pk__in=ids)}
    if not ids or len(found) != len(ids):
        raise InvalidInput(_("Choose at least one case of the library."), on="cases")
    course = Course.objects.create(
        title=title, summary=summary, stage=stage, roles=sorted(set(roles)), owner=user, created_at=clock.now()
    )
    CourseCase.objects.bulk_create(CourseCase(course=course, case=found[i], position=n) for n, i in enumerate(ids))
    course.categories.set(sorted({c.category_id for c in found.values()}))
    _event("course_made", user, "course", course.pk, cases=ids)
    return course


@transaction.atomic
def publish_course(user: AnyUser, course_id: int) -> Course:
    _require_trainer(user)
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        raise NotFound()
    drafts = course.items.exclude(case__state=PublishState.PUBLISHED).count()
    if drafts:
        raise InvalidInput(_("%(n)s of the course's cases are still drafts; publish them first."), n=drafts)
    course.state, course.published_at = PublishState.PUBLISHED, clock.now()
    course.save()
    _event("course_published", user, "course", course.pk)
    return course


@transaction.atomic
def make_plan(user: AnyUser, *, name: str, role: str, stage: str, course_ids: Sequence[int]) -> TrainingPlan:
    _require_trainer(user)
    name = clean_text(name, on="name", label=_("Name"), limit=200)
    if role not in Role.values or stage not in Stage.values:
        raise InvalidInput(_("Choose a role and a stage."), on="role")
    found = {c.pk: c for c in Course.objects.filter(pk__in=course_ids)}
    if not course_ids or len(found) != len(set(course_ids)):
        raise InvalidInput(_("Choose at least one course."), on="courses")
    plan = TrainingPlan.objects.create(name=name, role=role, stage=stage)
    PlanCourse.objects.bulk_create(PlanCourse(plan=plan, course=found[i], position=n) for n, i in enumerate(course_ids))
    _event("plan_made", user, "plan", plan.pk, courses=list(course_ids))
    return plan


def _enrol(trainee: Any, course: Course, plan: TrainingPlan | None, actor: Any) -> Enrolment:
    enrolment, created = Enrolment.objects.get_or_create(
        course=course, trainee=trainee, defaults={"plan": plan, "enrolled_at": clock.now()}
    )
    if created:
        _event("enrolled", actor, "enrolment", enrolment.pk, person=trainee, course=course.pk)
    return enrolment


@transaction.atomic
def enrol(user: AnyUser, course_id: int) -> Enrolment:
    if not access.is_staff_member(user):
        raise Forbidden()
    course = Course.objects.filter(pk=course_id, state=PublishState.PUBLISHED).first()
    if course is None:
        raise NotFound()
    return _enrol(user, course, None, user)


@transaction.atomic
def join_plan(user: AnyUser, plan_id: int) -> list[Enrolment]:
    """Enrol in every published course of a plan (a new handler's 上岗引导, for example)."""
    if not access.is_staff_member(user):
        raise Forbidden()
    plan = TrainingPlan.objects.filter(pk=plan_id, is_active=True).first()
    if plan is None:
        raise NotFound()
    return [
        _enrol(user, pc.course, plan, user)
        for pc in PlanCourse.objects.filter(plan=plan, course__state=PublishState.PUBLISHED).select_related("course")
    ]


def _rubric() -> list[dict[str, Any]]:
    row = ReplyRubric.objects.filter(is_active=True).first()
    return list(row.items) if row else practice.default_rubric()


@transaction.atomic
def submit_practice(
    user: AnyUser,
    enrolment_id: int,
    case_id: int,
    *,
    category_code: str,
    unit_code: str,
    time_limit_class: str,
    reply: str,
) -> PracticeAttempt:
    """训战结合: the trainee's answer on a masked case, graded where the answer is known (category, unit, time
    limit, from the real ticket) and against the rubric for the reply. Completes the course with its last case."""
    enrolment = Enrolment.objects.select_related("course").filter(pk=enrolment_id, trainee_id=user.pk).first()
    if enrolment is None or not enrolment.course.items.filter(case_id=case_id).exists():
        raise NotFound()
    case = TrainingCase.objects.get(pk=case_id)
    if PracticeAttempt.objects.filter(enrolment=enrolment, case=case).exists():
        raise InvalidInput(_("You have already worked this case."))
    reply = clean_text(reply, on="reply", label=_("Reply"), limit=TEXT_LIMIT)
    category = Category.objects.filter(code=str(category_code or "").strip(), level=3).first()
    if category is None:
        raise InvalidInput(_("Choose a category of the third level."), on="category")
    unit = OrgUnit.objects.filter(code=str(unit_code or "").strip()).first()
    if unit is None:
        raise InvalidInput(_("Choose the unit you would dispatch to."), on="unit")
    if time_limit_class not in TimeLimitClass.values:
        raise InvalidInput(_("Choose the time limit."), on="time_limit_class")
    g = practice.grade(
        category_ok=category.code == case.category.code,
        unit_ok=case.unit_id == unit.pk,
        deadline_ok=time_limit_class == case.time_limit_class,
        reply=reply,
        items=_rubric(),
    )
    now = clock.now()
    attempt = PracticeAttempt.objects.create(
        enrolment=enrolment,
        case=case,
        category=category,
        unit=unit,
        time_limit_class=time_limit_class,
        reply=reply,
        category_ok=g.category_ok,
        unit_ok=g.unit_ok,
        deadline_ok=g.deadline_ok,
        rubric=g.rubric,
        score=g.score,
        submitted_at=now,
    )
    _event("practised", user, "attempt", attempt.pk, person=user, case=case.pk, score=g.score)
    if enrolment.completed_at is None and enrolment.attempts.count() >= enrolment.course.items.count():
        enrolment.completed_at = now
        enrolment.save(update_fields=["completed_at"])
        _event("completed", user, "enrolment", enrolment.pk, person=user, course=enrolment.course_id)
    return attempt


def survey_window(enrolment: Enrolment, wave: str) -> tuple[dt.datetime, dt.datetime | None] | None:
    """When a questionnaire wave is open: at the end from completion on; the follow-up 30–60 days later."""
    if enrolment.completed_at is None:
        return None
    if wave == Wave.END:
        return enrolment.completed_at, None
    return (
        enrolment.completed_at + dt.timedelta(days=FOLLOW_UP_FROM_DAYS),
        enrolment.completed_at + dt.timedelta(days=FOLLOW_UP_TO_DAYS),
    )


@transaction.atomic
def submit_survey(user: AnyUser, enrolment_id: int, wave: str, answers: dict[str, Any]) -> TransferSurvey:
    enrolment = Enrolment.objects.filter(pk=enrolment_id, trainee_id=user.pk).first()
    if enrolment is None or wave not in Wave.values:
        raise NotFound()
    window = survey_window(enrolment, wave)
    now = clock.now()
    if window is None:
        raise InvalidInput(_("The questionnaire opens when the course is completed."))
    opens, closes = window
    if now < opens:
        raise InvalidInput(_("The follow-up questionnaire opens on %(day)s."), day=clock.local_date(opens).isoformat())
    if closes is not None and now > closes:
        raise InvalidInput(
            _("The follow-up questionnaire closed on %(day)s."), day=clock.local_date(closes).isoformat()
        )
    if TransferSurvey.objects.filter(enrolment=enrolment, wave=wave).exists():
        raise InvalidInput(_("You have already answered this questionnaire."))
    clean: dict[str, int] = {}
    for code, _dim, _label in practice.LTSI_ITEMS:
        try:
            value = int(str(answers.get(code, "")).strip())
        except ValueError:
            value = 0
        if not 1 <= value <= 5:
            raise InvalidInput(_("Answer every statement from 1 (not at all) to 5 (fully)."), on=code)
        clean[code] = value
    scores = practice.ltsi_scores(clean)
    survey = TransferSurvey.objects.create(enrolment=enrolment, wave=wave, answers=clean, submitted_at=now, **scores)
    _event("surveyed", user, "survey", survey.pk, person=user, wave=wave)
    return survey


# --- care ---------------------------------------------------------------------------------------------------
def cared_members(unit: OrgUnit | None = None) -> list[Any]:
    from jiesu.orgs.models import Membership

    qs = Membership.objects.filter(role__in=care.CARED_ROLES, user__is_active=True).select_related("unit")
    if unit is not None:
        qs = qs.filter(unit=unit)
    return list(qs)


def scan(as_of: dt.datetime | None = None, *, unit: OrgUnit | None = None) -> list[CareAlert]:
    """Compute everyone's strain signals and raise a care alert for the leader where they cross the thresholds
    (no new alert for a person with an open one, or within the quiet days). The worker or `jiesu care` runs it."""
    as_of = as_of or clock.now()
    cs = care.settings_on(clock.local_date(as_of))
    t = care.thresholds(cs)
    members = cared_members(unit)
    measures = care.measure_all(members, as_of, cs)
    raised = []
    quiet = as_of - dt.timedelta(days=cs.quiet_days)
    for m in members:
        on = strain.signals(measures[m.user_id], t)
        if not strain.alerts(on, t):
            continue
        with transaction.atomic():
            recent = CareAlert.objects.filter(person_id=m.user_id).filter(
                state=AlertState.OPEN
            ) | CareAlert.objects.filter(person_id=m.user_id, created_at__gte=quiet)
            if recent.exists():
                continue
            alert = CareAlert.objects.create(
                person_id=m.user_id,
                unit=m.unit,
                signals=[{"code": s.code, "value": s.value, "threshold": s.threshold} for s in on],
                created_at=as_of,
            )
            _event(
                "care_alert",
                None,
                "care_alert",
                alert.pk,
                person=m.user,
                signals=[s.code for s in on],
                leaders=access.leaders_of(m.user),
            )
        raised.append(alert)
    return raised


def my_signals(person: Any, as_of: dt.datetime | None = None) -> tuple[strain.Measures, list[strain.Signal]]:
    as_of = as_of or clock.now()
    m = membership(person)
    cs = care.settings_on(clock.local_date(as_of))
    if m is None:
        return strain.Measures(), []
    measures = care.measure_all([m], as_of, cs)[person.pk]
    return measures, strain.signals(measures, care.thresholds(cs))


@transaction.atomic
def record_talk(
    user: Any,
    person_id: int,
    *,
    held_on: Any,
    topic: str,
    follow_up: str = "",
    alert_id: int | None = None,
) -> TalkRecord:
    """谈心谈话, recorded by a leader of the person's unit. Marks the alert it answers as talked."""
    person: Any = access.get_person_for_care(user, person_id)
    if not access.is_leader_of(user, person):
        raise NotFound()
    topic = clean_text(topic, on="topic", label=_("Topic"), limit=200)
    follow_up = clean_text(follow_up, on="follow_up", label=_("Follow-up"), limit=TEXT_LIMIT, required=False)
    if isinstance(held_on, str):
        try:
            held_on = dt.date.fromisoformat(held_on.strip())
        except ValueError:
            raise InvalidInput(_("Give the date as YYYY-MM-DD."), on="held_on") from None
    if not isinstance(held_on, dt.date) or held_on > clock.local_date(clock.now()):
        raise InvalidInput(_("Give the date of a talk that took place."), on="held_on")
    alert = None
    if alert_id:
        alert = CareAlert.objects.filter(pk=alert_id, person=person).first()
        if alert is None:
            raise NotFound()
    unit = access.person_unit(person)
    assert unit is not None
    talk = TalkRecord.objects.create(
        person=person,
        leader=user,
        unit=unit,
        alert=alert,
        held_on=held_on,
        topic=topic,
        follow_up=follow_up,
        created_at=clock.now(),
    )
    if alert is not None and alert.state == AlertState.OPEN:
        alert.state = AlertState.TALKED
        alert.save(update_fields=["state"])
    _event("talk_recorded", user, "talk", talk.pk, person=person, alert=alert_id)
    return talk


@transaction.atomic
def close_alert(user: AnyUser, alert_id: int) -> CareAlert:
    alert = access.visible_alerts(user).filter(pk=alert_id).first()
    if alert is None or not access.is_leader_of(user, alert.person):
        raise NotFound()
    alert.state, alert.closed_at = AlertState.CLOSED, clock.now()
    alert.save(update_fields=["state", "closed_at"])
    _event("care_alert_closed", user, "care_alert", alert.pk, person=alert.person)
    return alert


@transaction.atomic
def add_context(user: AnyUser, text: str) -> SignalContext:
    """The cadre's own words beside their signals."""
    if not user.is_authenticated or membership(user) is None:
        raise Forbidden()
    text = clean_text(text, on="text", label=_("Context"), limit=2000)
    ctx = SignalContext.objects.create(person_id=user.pk, text=text, created_at=clock.now())
    _event("context_added", user, "context", ctx.pk, person=user)
    return ctx


@transaction.atomic
def mark_abusive(user: Any, ticket_number: str, note: str = "") -> tuple[AbuseMark, bool]:
    """辱骂: the operator or handler who dealt with the call or ticket marks it abusive. It leaves their own
    quality figures. Returns the mark and whether a short break is offered (operators)."""
    m = membership(user)
    if m is None:
        raise Forbidden()
    ticket = ticket_access.get_ticket_by_number(user, str(ticket_number or "").strip())
    took_part = ticket.handler_id == user.pk or TicketEvent.objects.filter(ticket=ticket, actor_id=user.pk).exists()
    if not took_part:
        raise InvalidInput(_("Only someone who dealt with this call or ticket can mark it abusive."), on="number")
    note = clean_text(note, on="note", label=_("Note"), limit=500, required=False)
    try:
        with transaction.atomic():
            mark = AbuseMark.objects.create(ticket=ticket, person_id=user.pk, note=note, created_at=clock.now())
    except IntegrityError:
        raise InvalidInput(_("You have already marked this ticket abusive."), on="number") from None
    offer_break = m.role == Role.HOTLINE_OPERATOR
    _event("marked_abusive", user, "abuse", mark.pk, person=user, ticket=ticket.pk, break_offered=offer_break)
    return mark, offer_break


def user_by_id(pk: int) -> Any:
    return get_user_model().objects.filter(pk=pk).first()
