"""The demo city's training and care (issue 21): a trainer, a new handler in their first week, an onboarding
course and plan made from last month's lost-point tickets, one refresher course with five months of history so
its page shows measured transfer, and one overloaded handler in 建外街道 whose leader gets a care alert.

Everything is made through the services at past moments (`clock.at`), except the bulk history of the transfer
course's handlers, which is loaded like the assessment's generated history (complete closed tickets with their
events and callbacks, idempotency keys "gen:training:…" so the text models never learn from them).
All names and texts are generated here; the history is SIMULATED (its effect is planted, see PLANTED_EFFECT)."""

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from jiesu.assessment.rules import previous_month
from jiesu.cadres.models import CadreProfile
from jiesu.catalog.models import Category
from jiesu.lib import clock
from jiesu.orgs.models import Membership, OrgUnit, Role
from jiesu.sla.models import TimeLimitPolicy
from jiesu.tickets import services as tickets
from jiesu.tickets.models import Assignment, AssignmentRole, Callback, Ticket, TicketEvent
from jiesu.tickets.workflow import Action, DispatchState, PublicStatus
from jiesu.training import selectors, services
from jiesu.training.models import CaseKind, Course, CourseCase, Stage, TrainingCase, TrainingPlan

from .city import GIVEN, PASSWORD, SURNAMES

JIANWAI = "110105001"
TRAINING_LOGINS = [
    ("trainer", "林培训 training office of the city organisation department (trainer): /training/"),
    ("jw_newcomer", "何新人 handler in 建外街道, first week in the post: /training/ (上岗引导)"),
    ("jw_busy", "韩加班 overloaded handler in 建外街道 (jw_leader gets the care alert): /care/"),
]
ANALYSIS = {
    "review": "接单后未第一时间联系诉求人，现场处置后也未向诉求人确认结果，回访时诉求人表示问题仍未解决。",
    "reflection": "办结的标准是群众认可，而不是单位自认为已处理。没有联系和确认，就等于没有办结。",
    "process_fix": (
        "签收后2小时内电话联系诉求人；处置后拍照留存并再次电话确认；答复写明联系时间、核实情况、处理措施和后续安排。"
    ),
    "expert_comment": (
        "先联系、再核实、后答复：本案的失分不在处置本身，而在与群众的沟通。把“确认结果”作为答复前的固定一步。"
    ),
}
EXCELLENT = {
    "expert_comment": "接单即联系、到场即核实、办结再确认，答复讲清依据和后续安排，是一张标准的满意工单。",
}
# The refresher course's simulated effect on its trainees (percentage points), and the drift everyone shares.
PLANTED_EFFECT = {"contacted": 0.12, "on_time": 0.10, "satisfied": 0.06, "solved": 0.0}
DRIFT = 0.01


@dataclass
class Seeded:
    cases: int
    courses: int
    history: int
    alerts: int


def _user(username: str, name: str, role: str, unit: OrgUnit) -> Any:
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": name})
    if created:
        user.set_password(PASSWORD)
        user.save()
    Membership.objects.update_or_create(user=user, defaults={"unit": unit, "role": role})
    return user


def seed_training(seed: int = 2026, now: dt.datetime | None = None) -> Seeded:
    """Idempotent: does nothing when the demo courses exist."""
    now = now or clock.now()
    if Course.objects.exists():
        return Seeded(0, 0, 0, 0)
    rng = random.Random(seed + 21)
    city = OrgUnit.objects.get(code="110000")
    jianwai = OrgUnit.objects.get(code=JIANWAI)
    trainer = _user("trainer", "林培训", Role.TRAINER, city)
    newcomer = _user("jw_newcomer", "何新人", Role.UNIT_HANDLER, jianwai)
    CadreProfile.objects.get_or_create(
        user=newcomer,
        defaults={
            "unit": jianwai,
            "post": "接诉即办专员（见习）",
            "started_on": clock.local_date(now) - dt.timedelta(days=2),
        },
    )
    month = previous_month(clock.local_date(now).replace(day=1))
    onboarding = _course(trainer, month, 3, "上岗引导：三个真实失分案例", Stage.ONBOARDING, now - dt.timedelta(days=5))
    plan = TrainingPlan.objects.create(
        name="新办理员上岗引导",
        role=Role.UNIT_HANDLER,
        stage=Stage.ONBOARDING,
        description="上岗第一周：在真实案例上练习分类、派单、时限和答复，看实际结果和专家点评。",
    )
    if onboarding is not None:
        plan.courses.add(onboarding, through_defaults={"position": 0})
    _commended(jianwai, month)
    history, _course_made = _transfer_course(trainer, rng, now)
    alerts = _overloaded(jianwai, rng, now)
    return Seeded(TrainingCase.objects.count(), Course.objects.count(), history, alerts)


COMMENDATIONS = [  # i18n: data
    ("like", "接单当天上门，协调物业当场解决，答复写清了依据和后续安排。"),
    ("case_review", "一事一评：先联系、再核实、后答复，群众当面致谢。"),
]


def _commended(jianwai: OrgUnit, month: dt.date) -> int:
    """Two of last month's solved 建外 tickets commended by the street's leader (a 点赞 and a 一事一评, through the
    cadre services, at the moment after their callback), so the trainer's excellent-case candidates show commended
    ones first. Needs the cadre profiles of `seed_cadres`."""
    from jiesu.assessment.facts import month_bounds
    from jiesu.cadres.services import recognise

    leader = get_user_model().objects.filter(username="jw_leader").first()
    profiles = {p.user_id: p for p in CadreProfile.objects.filter(unit=jianwai)}
    if leader is None or not profiles:
        return 0
    start, end = month_bounds(month)
    callbacks = (
        Callback.objects.filter(
            created_at__gte=start,
            created_at__lt=end - dt.timedelta(hours=1),
            resolution="solved",
            ticket__lead_unit=jianwai,
            ticket__handler_id__in=list(profiles),
        )
        .exclude(ticket__reply="")
        .exclude(ticket__idempotency_key__startswith="gen:")
        .select_related("ticket")
        .order_by("id")
    )
    chosen: dict[int, Callback] = {}
    for cb in callbacks:
        chosen.setdefault(cb.ticket_id, cb)
    made = 0
    for cb, (kind, note) in zip(list(chosen.values())[: len(COMMENDATIONS)], COMMENDATIONS, strict=False):
        with clock.at(cb.created_at + dt.timedelta(minutes=30)):
            recognise(leader, profiles[cb.ticket.handler_id or 0].pk, kind, note, cb.ticket.number)
        made += 1
    return made


def _course(trainer: Any, month: dt.date, n: int, title: str, stage: str, at: dt.datetime) -> Course | None:
    """A published course of `n` analysed cases made from the month's lost-point tickets (replayed ones first:
    their texts are realistic), plus one excellent case."""
    with clock.at(at):
        rows = [r for r in selectors.lost_point_tickets(trainer, month) if r.case_id is None]
        keys = dict(Ticket.objects.filter(pk__in=[r.ticket_id for r in rows]).values_list("pk", "idempotency_key"))
        rows.sort(key=lambda r: (str(keys.get(r.ticket_id) or "").startswith("gen:"), r.ticket_id))
        cases = []
        seen: set[str] = set()
        for row in rows:
            if row.category in seen:
                continue
            seen.add(row.category)
            case = services.make_case(trainer, row.ticket_id, CaseKind.LOST_POINT, month=month)
            services.edit_case(trainer, case.pk, skills=["mass_work", "communication"], **ANALYSIS)
            cases.append(services.publish_case(trainer, case.pk))
            if len(cases) == n:
                break
        for candidate in selectors.excellent_candidates(trainer, month, limit=5)[:1]:
            case = services.make_case(trainer, candidate.ticket_id, CaseKind.EXCELLENT)
            services.edit_case(trainer, case.pk, skills=["mass_work"], **EXCELLENT)
            cases.append(services.publish_case(trainer, case.pk))
        if not cases:
            return None
        course = services.make_course(
            trainer,
            title=title,
            case_ids=[c.pk for c in cases],
            stage=stage,
            summary="由真实失分工单改编（已脱敏）。先自己办，再看实际结果和专家点评。",
        )
        return services.publish_course(trainer, course.pk)


# --- the refresher course with measured transfer -----------------------------------------------------------
GOOD_REPLY = "已致电联系诉求人，到现场核实后安排处理完毕，后续将加强巡查并回访确认。"


def _transfer_course(
    trainer: Any, rng: random.Random, now: dt.datetime, prefix: str = "cy_handler"
) -> tuple[int, Course | None]:
    """18 handlers in 朝阳's streets; 6 of them took the refresher course about 70 days ago. Their outcomes in the
    course's categories over five months are simulated with PLANTED_EFFECT after their completion."""
    completed = now - dt.timedelta(days=70)
    month = previous_month(previous_month(previous_month(clock.local_date(now).replace(day=1))))
    course = _course(
        trainer, month, 3, "失分复训：先联系、再办理、后答复", Stage.REFRESHER, completed - dt.timedelta(days=14)
    )
    if course is None:
        return 0, None
    leaves = list(Category.objects.filter(pk__in=course.categories.values("pk"), level=3))
    streets = list(OrgUnit.objects.filter(parent__code="110105", kind="subdistrict").order_by("code")[:6])
    people = []
    for i in range(18):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        people.append(_user(f"{prefix}{i + 1:02d}", name, Role.UNIT_HANDLER, streets[i % len(streets)]))
    trainees = {p.pk: completed + dt.timedelta(days=rng.uniform(-6, 6)) for p in people[:6]}
    made = _history(people, trainees, leaves, rng, now - dt.timedelta(days=150), now - dt.timedelta(days=2))
    cases = [item.case for item in CourseCase.objects.filter(course=course).select_related("case", "case__category")]
    answers = {code: str(rng.randint(3, 5)) for code in ["a1", "a2", "a3", "m1", "m2", "m3", "e1", "e2", "e3"]}
    for person in people[:6]:
        with clock.at(trainees[person.pk] - dt.timedelta(days=3)):
            enrolment = services.enrol(person, course.pk)
        for n, case in enumerate(cases):
            with clock.at(trainees[person.pk] - dt.timedelta(hours=len(cases) - n)):
                services.submit_practice(
                    person,
                    enrolment.pk,
                    case.pk,
                    category_code=case.category.code,
                    unit_code=case.unit.code if case.unit and rng.random() < 0.8 else "D001",
                    time_limit_class=case.time_limit_class,
                    reply=GOOD_REPLY,
                )
        with clock.at(trainees[person.pk] + dt.timedelta(hours=1)):
            services.submit_survey(person, enrolment.pk, "end", answers)
        with clock.at(trainees[person.pk] + dt.timedelta(days=45)):
            services.submit_survey(person, enrolment.pk, "follow_up", answers | {"e3": str(rng.randint(2, 4))})
    return made, course


def _history(
    people: Sequence[Any],
    trainees: dict[int, dt.datetime],
    leaves: Sequence[Category],
    rng: random.Random,
    start: dt.datetime,
    end: dt.datetime,
) -> int:
    """Closed tickets handled by these people: intake → dispatch → accept → reply (by the person) → callback →
    close, and for a dissatisfied first round a reopen, a second reply and a second callback."""
    policies = {p.time_limit_class: p for p in TimeLimitPolicy.objects.filter(category__isnull=True)}
    agent = Membership.objects.filter(role=Role.CALLBACK_AGENT).select_related("user").first()
    agent_user = agent.user if agent else people[0]
    tickets_: list[Ticket] = []
    meta: list[tuple[Any, OrgUnit, dict[str, bool], dt.datetime]] = []
    for person in people:
        unit = person.membership.unit
        quality = rng.uniform(0.78, 0.9)
        t = start + dt.timedelta(hours=rng.uniform(0, 30))
        while t < end:
            after = person.pk in trainees and t >= trainees[person.pk]
            drift = DRIFT if t >= start + (end - start) / 2 else 0.0

            def p(metric: str, q: float = quality, after: bool = after, drift: float = drift) -> float:
                return min(0.99, q + drift + (PLANTED_EFFECT[metric] if after else 0.0))

            outcome = {
                "contacted": rng.random() < p("contacted"),
                "on_time": rng.random() < p("on_time"),
                "solved": rng.random() < p("solved") + 0.05,
                "satisfied": rng.random() < p("satisfied"),
            }
            leaf = rng.choice(leaves)
            # office hours on working days: the simulated history itself must not look like strain
            day = clock.local_date(t)
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            intake_at = clock.start_of_day(day) + dt.timedelta(hours=rng.uniform(9, 15))
            back_day = _workday(day + dt.timedelta(days=2))
            callback_at = clock.start_of_day(back_day) + dt.timedelta(hours=rng.uniform(12, 16))
            tickets_.append(
                Ticket(
                    number="",
                    idempotency_key=f"gen:training:{person.username}:{len(tickets_)}",
                    channel="phone",
                    appeal_type="complaint",
                    title=f"{leaf.name}问题",
                    content=f"{unit.name}居民反映{leaf.name}问题，希望尽快处理。",
                    district=unit.parent,
                    street=unit,
                    category=leaf,
                    time_limit_class=leaf.time_limit_class,
                    time_limit_policy=policies.get(leaf.time_limit_class) or next(iter(policies.values())),
                    lead_unit=unit,
                    handler=person,
                    dispatch_state=DispatchState.CLOSED,
                    public_status=PublicStatus.CLOSED,
                    intake_at=intake_at,
                    dispatched_at=intake_at + dt.timedelta(minutes=20),
                    accepted_at=intake_at + dt.timedelta(minutes=50),
                    replied_at=callback_at - dt.timedelta(hours=3),
                    closed_at=callback_at,
                    reply=GOOD_REPLY,
                    reopen_count=0 if outcome["satisfied"] else 1,
                    updated_at=callback_at,
                )
            )
            meta.append((person, unit, outcome, callback_at))
            t = intake_at + dt.timedelta(hours=rng.uniform(12, 40))
    days: dict[dt.date, list[Ticket]] = {}
    for ticket in tickets_:
        days.setdefault(clock.local_date(ticket.intake_at), []).append(ticket)
    for day, same_day in days.items():
        for ticket, number in zip(same_day, tickets.reserve_history_numbers(day, len(same_day)), strict=True):
            ticket.number = number

    def build(saved: Sequence[Ticket]) -> tuple[list[Assignment], list[TicketEvent], list[Callback]]:
        assignments, events, callbacks = [], [], []
        for ticket, (person, unit, o, cb_at) in zip(saved, meta, strict=True):
            assignments.append(
                Assignment(ticket=ticket, unit=unit, role=AssignmentRole.LEAD, assigned_at=ticket.intake_at)
            )
            first = {
                "contacted": o["contacted"],
                "resolution": "solved" if o["solved"] else "unsolved",
                "satisfaction": "satisfied" if o["satisfied"] else "dissatisfied",
            }
            steps: list[tuple[str, str, str, dt.datetime, Any, dict[str, Any]]] = [
                (Action.INTAKE, "", "new", ticket.intake_at, None, {"source": "generator"}),
                (Action.DISPATCH, "new", "dispatched", ticket.dispatched_at, None, {"lead": unit.code}),  # type: ignore[list-item]
                (Action.ACCEPT, "dispatched", "accepted", ticket.accepted_at, person, {"late": not o["on_time"]}),  # type: ignore[list-item]
                (Action.REPLY, "accepted", "replied", cb_at - dt.timedelta(hours=3), person, {}),
                (Action.CALLBACK, "replied", "called_back", cb_at, None, first | {"round": 1}),
            ]
            callbacks.append(
                Callback(
                    ticket=ticket,
                    round=1,
                    unit=unit,
                    agent=agent_user,
                    signed_in_time=o["on_time"],
                    created_at=cb_at,
                    **first,
                )
            )
            end_at = cb_at
            if not o["satisfied"]:
                second = clock.start_of_day(_workday(clock.local_date(cb_at) + dt.timedelta(days=1))) + (
                    cb_at - clock.start_of_day(clock.local_date(cb_at))
                )
                steps += [
                    (Action.REOPEN, "called_back", "dispatched", cb_at, None, {}),
                    (Action.ACCEPT, "dispatched", "accepted", cb_at + dt.timedelta(minutes=30), person, {}),
                    (Action.REPLY, "accepted", "replied", second - dt.timedelta(hours=3), person, {}),
                    (Action.CALLBACK, "replied", "called_back", second, None, {"round": 2}),
                ]
                callbacks.append(
                    Callback(
                        ticket=ticket,
                        round=2,
                        unit=unit,
                        agent=agent_user,
                        signed_in_time=True,
                        contacted=True,
                        resolution="solved",
                        satisfaction="satisfied",
                        created_at=second,
                    )
                )
                end_at = second
            steps.append((Action.CLOSE, "called_back", "closed", end_at, None, {}))
            for action, a, b, at, actor, data in steps:
                events.append(
                    TicketEvent(
                        ticket=ticket,
                        action=action,
                        from_state=a,
                        to_state=b,
                        created_at=at,
                        actor=actor,
                        actor_unit=unit if actor else None,
                        data=data,
                        notified_at=at,
                    )
                )
        return assignments, events, callbacks

    with transaction.atomic():
        tickets.load_history(tickets_, build)
    return len(tickets_)


def _workday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


# --- the overloaded handler ---------------------------------------------------------------------------------
def _overloaded(jianwai: OrgUnit, rng: random.Random, now: dt.datetime) -> int:
    """韩加班 signs for a ticket every evening (and on the weekend) for the last 12 days and holds 16 of them:
    load against the unit's median, after-hours work and days without rest. The scan raises the care alert."""
    busy = _user("jw_busy", "韩加班", Role.UNIT_HANDLER, jianwai)
    operator = Membership.objects.filter(role=Role.HOTLINE_OPERATOR).select_related("user").first()
    dispatcher = Membership.objects.filter(role=Role.DISPATCHER).select_related("user").first()
    if operator is None or dispatcher is None:
        return 0
    leaf = Category.objects.filter(code="010201", level=3).first() or Category.objects.filter(level=3).first()
    assert leaf is not None
    today = clock.local_date(now)
    for back in range(12, 0, -1):
        for n in range(2 if back % 3 else 1):
            signed = clock.start_of_day(today - dt.timedelta(days=back)) + dt.timedelta(
                hours=20 + n, minutes=rng.randint(0, 50)
            )
            with clock.at(signed - dt.timedelta(hours=2)):
                t = tickets.intake(
                    operator.user,
                    channel="phone",
                    appeal_type="complaint",
                    title=f"{leaf.name}问题",
                    content=f"光华路小区{leaf.name}问题，多次反映未解决，希望尽快处理。",
                    category_code=leaf.code,
                    requester_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    requester_phone="139" + "".join(rng.choice("0123456789") for _ in range(8)),
                    address="朝阳区建外街道光华路",
                    street_code=JIANWAI,
                )
            with clock.at(signed - dt.timedelta(hours=1)):
                tickets.dispatch(dispatcher.user, t.pk)
            with clock.at(signed):
                tickets.accept(busy, t.pk)
    return len(services.scan(now, unit=jianwai))
