"""Cadres II (issue 21), psychological empowerment (心理赋能): the case library, courses and plans, practice,
learning-transfer questionnaires, and care (人文关怀): strain alerts, one-to-one talks, abusive-caller marks.

Changed only through `jiesu.training.services` (each change writes one append-only `TrainingEvent`), read through
`jiesu.training.access` and `selectors`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category, TimeLimitClass
from jiesu.lib.models import AppendOnly
from jiesu.orgs.models import OrgUnit
from jiesu.tickets.models import Ticket


class CaseKind(models.TextChoices):
    LOST_POINT = "lost_point", _("Lost-point case (失分案例)")
    EXCELLENT = "excellent", _("Excellent case (优秀案例)")


class PublishState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class LostPoint(models.TextChoices):
    """Why a ticket lost credit in the monthly assessment (the drill-down's reasons, per ticket)."""

    LATE = "late", _("Not signed in time")
    NOT_CONTACTED = "not_contacted", _("Requester not contacted")
    UNSOLVED = "unsolved", _("Not solved")
    DISSATISFIED = "dissatisfied", _("Requester dissatisfied")
    REOPENED = "reopened", _("Reopened for rehandling")
    RETURNED = "returned", _("Returned without cause")


class Merit(models.TextChoices):
    """Why a ticket is a candidate excellent case: a commendation naming it (the recognitions of `cadres`, by their
    kind), the requester's own top rating (一事一评 on the portal or the call), or a first round done right."""

    LIKE = "like", _("Leader's 点赞")
    CASE_REVIEW = "case_review", _("一事一评 commendation")
    RESIDENT_PRAISE = "resident_praise", _("Residents' praise")
    HONOURS = "honours", _("On the monthly honours list")
    RATED = "rated", _("Requester rated it satisfied (一事一评)")
    EXEMPLARY = "exemplary", _("First round: signed in time, contacted, solved, satisfied")


class Skill(models.TextChoices):
    MASS_WORK = "mass_work", _("Working with the masses (群众工作方法)")
    POLICY = "policy", _("Policy knowledge")
    COMMUNICATION = "communication", _("Communication")
    COORDINATION = "coordination", _("Coordination across units")
    PROCESS = "process", _("Process and time limits")


class TrainingCase(models.Model):
    """A case made from a real ticket, masked: nothing in it identifies the caller. The answers a trainee is graded
    against (category, unit, time-limit class) are the real ticket's; the trainee never sees its number."""

    kind = models.CharField(_("kind"), max_length=16, choices=CaseKind.choices)
    state = models.CharField(_("state"), max_length=12, choices=PublishState.choices, default=PublishState.DRAFT)
    source_ticket = models.OneToOneField(
        Ticket, verbose_name=_("source ticket"), on_delete=models.PROTECT, related_name="training_case"
    )
    source_month = models.DateField(_("assessment month"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("what the requester asked (masked)"))
    appeal_type = models.CharField(_("appeal type"), max_length=16)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("handling unit"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    time_limit_class = models.CharField(_("time-limit class"), max_length=16, choices=TimeLimitClass.choices)
    real_reply = models.TextField(_("the unit's real reply (masked)"), blank=True)
    outcome = models.JSONField(_("real outcome"), default=dict, blank=True)
    lost_points = models.JSONField(_("lost points"), default=list, blank=True)
    merits = models.JSONField(_("merits"), default=list, blank=True)  # an excellent case's `Merit` codes
    review = models.TextField(_("review (复盘)"), blank=True)
    reflection = models.TextField(_("reflection (反思)"), blank=True)
    process_fix = models.TextField(_("process fix (流程改进)"), blank=True)
    expert_comment = models.TextField(_("expert comment (专家点评)"), blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    roles = models.JSONField(_("roles"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("training case")
        verbose_name_plural = _("training cases")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "kind"])]

    def __str__(self) -> str:
        return self.title


class Stage(models.TextChoices):
    ONBOARDING = "onboarding", _("First weeks in the post (上岗引导)")
    IN_SERVICE = "in_service", _("In service")
    LEADER = "leader", _("Leaders")
    REFRESHER = "refresher", _("Refresher after lost points")


class Course(models.Model):
    """A course: an ordered list of cases for some roles and a stage. Its categories are where transfer is
    measured (a ticket counts when its category is one of them or lies below one)."""

    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.IN_SERVICE)
    roles = models.JSONField(_("roles"), default=list, blank=True)
    categories = models.ManyToManyField(Category, verbose_name=_("categories"), blank=True, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("state"), max_length=12, choices=PublishState.choices, default=PublishState.DRAFT)
    created_at = models.DateTimeField(_("created"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CourseCase(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(TrainingCase, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["course", "case"], name="course_case_once")]

    def __str__(self) -> str:
        return f"{self.course_id}/{self.position}"


class TrainingPlan(models.Model):
    """A differentiated plan (差异化): the courses for one role at one stage, in order."""

    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=32)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    description = models.TextField(_("description"), blank=True)
    courses: "models.ManyToManyField[Course, PlanCourse]" = models.ManyToManyField(
        Course, through="PlanCourse", related_name="plans"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("training plan")
        verbose_name_plural = _("training plans")
        ordering = ["role", "stage", "id"]

    def __str__(self) -> str:
        return self.name


class PlanCourse(models.Model):
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE)
    course = models.ForeignKey(Course, on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "course"], name="plan_course_once")]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.position}"


class Enrolment(models.Model):
    """One trainee in one course: the training record (培训档案) of the cadre."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrolments")
    trainee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrolments")
    plan = models.ForeignKey(TrainingPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField(_("enrolled"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-enrolled_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["course", "trainee"], name="enrol_once")]

    def __str__(self) -> str:
        return f"{self.trainee} → {self.course}"


class PracticeAttempt(models.Model):
    """训战结合: the trainee worked a masked case (category, unit, time limit, reply) and was graded."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="attempts")
    case = models.ForeignKey(TrainingCase, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, null=True, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(OrgUnit, null=True, on_delete=models.PROTECT, related_name="+")
    time_limit_class = models.CharField(max_length=16, choices=TimeLimitClass.choices, blank=True)
    reply = models.TextField()
    category_ok = models.BooleanField()
    unit_ok = models.BooleanField()
    deadline_ok = models.BooleanField()
    rubric = models.JSONField(default=dict)
    score = models.PositiveSmallIntegerField(_("score"))
    submitted_at = models.DateTimeField(_("submitted"))

    class Meta:
        verbose_name = _("practice attempt")
        verbose_name_plural = _("practice attempts")
        ordering = ["submitted_at", "id"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "case"], name="one_attempt_per_case")]

    def __str__(self) -> str:
        return f"{self.enrolment_id}/{self.case_id}: {self.score}"


class ReplyRubric(models.Model):
    """The rubric a practice reply is graded against: items with keywords (data, editable in the admin). The
    newest active row applies; without one, the default shipped in `rubric.json`."""

    name = models.CharField(_("name"), max_length=100)
    items = models.JSONField(_("items"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("reply rubric")
        verbose_name_plural = _("reply rubrics")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class Wave(models.TextChoices):
    END = "end", _("At the end of the course")
    FOLLOW_UP = "follow_up", _("30–60 days later")


class TransferSurvey(models.Model):
    """The LTSI transfer self-diagnosis (马正立 2020): ability, motivation, work environment, 1–5 each item."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="surveys")
    wave = models.CharField(_("wave"), max_length=12, choices=Wave.choices)
    answers = models.JSONField(_("answers"))
    ability = models.FloatField(_("ability to transfer"))
    motivation = models.FloatField(_("motivation to transfer"))
    environment = models.FloatField(_("work environment"))
    submitted_at = models.DateTimeField(_("submitted"))

    class Meta:
        verbose_name = _("transfer questionnaire")
        verbose_name_plural = _("transfer questionnaires")
        ordering = ["submitted_at", "id"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "wave"], name="one_survey_per_wave")]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.wave}"


# --- care (人文关怀) ----------------------------------------------------------------------------------------
class CareSettings(models.Model):
    """Thresholds of the strain signals, in force from a day until the next row (not confirmed anywhere: data).
    A care alert is never a score: it enters no assessment and no ranking."""

    effective_from = models.DateField(_("in force from"), unique=True)
    window_days = models.PositiveSmallIntegerField(_("look-back window (days)"), default=14)
    workday_start_hour = models.PositiveSmallIntegerField(_("working hours start"), default=8)
    workday_end_hour = models.PositiveSmallIntegerField(_("working hours end"), default=19)
    load_ratio = models.FloatField(_("orders in hand ≥ this × the unit's median"), default=1.8)
    load_min = models.PositiveSmallIntegerField(_("and at least this many in hand"), default=8)
    after_hours_share = models.FloatField(_("share of actions after hours or on rest days"), default=0.3)
    after_hours_min = models.PositiveSmallIntegerField(_("and at least this many such actions"), default=6)
    days_without_rest = models.PositiveSmallIntegerField(_("consecutive days without rest"), default=10)
    dissatisfied_streak = models.PositiveSmallIntegerField(_("dissatisfied/unsolved callbacks in a row"), default=3)
    reopens = models.PositiveSmallIntegerField(_("reopens in the window"), default=3)
    abusive = models.PositiveSmallIntegerField(_("abusive callers in the window"), default=2)
    calls_per_day = models.FloatField(_("operators: calls per working day"), default=90)
    min_signals = models.PositiveSmallIntegerField(_("signals needed for an alert"), default=2)
    strong_signals = models.JSONField(
        _("signals that alert on their own"), default=list, blank=True, help_text=_('e.g. ["days_without_rest"]')
    )
    quiet_days = models.PositiveSmallIntegerField(_("no new alert for the same person within (days)"), default=7)
    min_group = models.PositiveSmallIntegerField(_("organisation department: smallest group shown"), default=5)

    class Meta:
        verbose_name = _("care thresholds")
        verbose_name_plural = _("care thresholds")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from}"


class AlertState(models.TextChoices):
    OPEN = "open", _("Open")
    TALKED = "talked", _("Talk recorded")
    CLOSED = "closed", _("Closed")


class CareAlert(models.Model):
    """A care alert for the person's leader: which signals crossed which thresholds. Never a score."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_alerts")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    signals = models.JSONField(_("signals"))
    state = models.CharField(_("state"), max_length=12, choices=AlertState.choices, default=AlertState.OPEN)
    created_at = models.DateTimeField(_("raised"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)  # the notification outbox's bookkeeping

    class Meta:
        verbose_name = _("care alert")
        verbose_name_plural = _("care alerts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["unit", "state"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.created_at:%Y-%m-%d}"


class TalkRecord(models.Model):
    """谈心谈话: a one-to-one talk. Read only by the cadre, the leader who held it and the unit's Party secretary."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(CareAlert, null=True, blank=True, on_delete=models.PROTECT, related_name="talks")
    held_on = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    follow_up = models.TextField(_("follow-up"), blank=True)
    created_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("one-to-one talk")
        verbose_name_plural = _("one-to-one talks")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.held_on}"


class SignalContext(models.Model):
    """The cadre's own words beside their signals ("I covered for a colleague on leave")."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("context"))
    created_at = models.DateTimeField(_("added"))

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.created_at:%Y-%m-%d}"


class AbuseMark(models.Model):
    """辱骂: the person marked a call or ticket as abusive. It leaves their own quality figures."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("marked"))

    class Meta:
        verbose_name = _("abusive-caller mark")
        verbose_name_plural = _("abusive-caller marks")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["ticket", "person"], name="abuse_mark_once")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.person_id}"


class TrainingEvent(AppendOnly):
    """The trail of every change in training and care: who, what, about whom, when. Talks' and contexts' words
    are not copied here (the trail is read more widely than they are)."""

    action = models.CharField(_("action"), max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=40)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("training event")
        verbose_name_plural = _("training events")
        ordering = ["id"]
        indexes = [models.Index(fields=["subject", "subject_id"], name="training_event_subject")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"
