"""Cadres (担当作为, issue 20): the people inside the units, their posts, responsibility, records and cases.

Everything here is read through `jiesu.cadres.access` and changed through `jiesu.cadres.services`; every change
writes one append-only `CadreEvent`.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiesu.lib.models import AppendOnly, Milestone
from jiesu.orgs.models import OrgUnit


class Ladder(models.TextChoices):
    """双职业通道: a cadre climbs either the management ladder (职务) or the specialist ladder (职级/专业技术)."""

    MANAGEMENT = "management", pgettext_lazy("career ladder", "Management")
    SPECIALIST = "specialist", pgettext_lazy("career ladder", "Specialist")


class CadreProfile(models.Model):
    """A staff member as a cadre: unit, post (岗位), career ladder and level, Party membership, start date."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="cadre_profile"
    )
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="cadres")
    post = models.CharField(_("post"), max_length=100)
    ladder = models.CharField(_("career ladder"), max_length=16, choices=Ladder.choices, default=Ladder.MANAGEMENT)
    level = models.CharField(_("level"), max_length=50, blank=True)
    party_member = models.BooleanField(_("Party member"), default=False)
    started_on = models.DateField(_("started on"))

    class Meta:
        verbose_name = _("cadre profile")
        verbose_name_plural = _("cadre profiles")
        ordering = ["unit__path", "post", "id"]
        indexes = [models.Index(fields=["unit", "post"])]

    def __str__(self) -> str:
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name} · {self.post} · {self.unit}"

    @property
    def display_name(self) -> str:
        return str(self.user.get_full_name() or self.user.get_username())


class CadreEvent(AppendOnly):
    """The trail of every change in the cadre module: who, what, about whom, when. Never updated or deleted."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    profile = models.ForeignKey(
        CadreProfile,
        verbose_name=_("cadre"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=40)
    subject = models.CharField(_("subject"), max_length=40, blank=True)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    at = models.DateTimeField(_("at"))
    # the notification outbox's bookkeeping (as on the ticket trail): events that notify somebody are written with
    # it empty and the worker fills it; every other event is written already processed
    notified_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("cadre event")
        verbose_name_plural = _("cadre events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["profile", "at"], name="cadre_event_profile"),
            models.Index(fields=["subject", "subject_id"], name="cadre_event_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class Frozen(models.Model):
    """A row that becomes immutable once `frozen` is set (a closed period's scores, a determined case's record)."""

    frozen = models.BooleanField(default=False, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and type(self)._default_manager.filter(pk=self.pk, frozen=True).exists():
            raise ValidationError(f"{type(self)._meta.verbose_name} is closed and immutable")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if self.frozen:
            raise ValidationError(f"{type(self)._meta.verbose_name} is closed and immutable")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]


# --- responsibility broken down per post (责任分解 → 目标责任书) -----------------------------------------------
class Dimension(models.TextChoices):
    """德能勤绩廉: the five rows every responsibility item is filed under."""

    DE = "de", pgettext_lazy("cadre dimension", "Integrity (德)")
    NENG = "neng", pgettext_lazy("cadre dimension", "Ability (能)")
    QIN = "qin", pgettext_lazy("cadre dimension", "Diligence (勤)")
    JI = "ji", pgettext_lazy("cadre dimension", "Results (绩)")
    LIAN = "lian", pgettext_lazy("cadre dimension", "Probity (廉)")


class GoalSource(models.TextChoices):
    THREE_RATES = "three_rates", _("Three-rate target")
    TOPIC = "topic", _("Monthly-topic task (每月一题)")
    PROACTIVE = "proactive", _("Proactive target")
    TYPED = "typed", _("Typed in")


class Metric(models.TextChoices):
    """What a computed measure reads from the performance record (the person's own trail)."""

    SIGNED_ON_TIME_RATE = "signed_on_time_rate", _("Signed on time (%)")
    SOLVED_RATE = "solved_rate", _("Callbacks confirming solved (%)")
    SATISFIED_RATE = "satisfied_rate", _("Callbacks satisfied (%)")
    HANDLED = "handled", _("Orders replied")
    REOPENS = "reopens", _("Reopens")
    FAKE_CLOSURES = "fake_closures", _("Fake-closure signals")
    WHISTLES = "whistles", _("Whistles led")
    CHALLENGES_DONE = "challenges_done", _("Challenge-board tasks delivered (揭榜)")


# Metrics where fewer is better: the item is met when the figure stays at or below the target.
AT_MOST_METRICS = frozenset({Metric.REOPENS, Metric.FAKE_CLOSURES})


class MeasureKind(models.TextChoices):
    COMPUTED = "computed", _("Computed from the trail")
    JUDGED = "judged", _("Judged by a reviewer")


class ResponsibilityItem(models.Model):
    """One line of a post's 目标责任书: a goal of the unit broken down to a post, with its weight and measure.

    Versioned: an item is in force from `effective_from` until `effective_to` (exclusive). Changing a rule ends the
    old row and starts a new one (`services.revise_item`); a row a closed period was scored by never changes."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    post = models.CharField(_("post"), max_length=100)
    title = models.CharField(_("item"), max_length=200)
    dimension = models.CharField(_("dimension"), max_length=8, choices=Dimension.choices, default=Dimension.JI)
    source = models.CharField(_("goal"), max_length=16, choices=GoalSource.choices, default=GoalSource.TYPED)
    measure = models.CharField(_("measure"), max_length=16, choices=MeasureKind.choices)
    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices, blank=True)
    target = models.DecimalField(_("target"), max_digits=8, decimal_places=2)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(_("in force until (exclusive)"), null=True, blank=True)
    previous = models.ForeignKey(
        "self", verbose_name=_("previous version"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("responsibility item")
        verbose_name_plural = _("responsibility items")
        ordering = ["unit__path", "post", "dimension", "id"]
        indexes = [models.Index(fields=["unit", "post", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.post}: {self.title}"


class Charter(models.Model):
    """目标责任书: a cadre's items for a year, acknowledged by the cadre (an event)."""

    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField(_("year"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("responsibility charter (目标责任书)")
        verbose_name_plural = _("responsibility charters (目标责任书)")
        constraints = [models.UniqueConstraint(fields=["profile", "year"], name="one_charter_per_year")]

    def __str__(self) -> str:
        return f"{self.profile} {self.year}"


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class ScoringPeriod(models.Model):
    """A month or quarter of a unit whose items are scored; once closed, its scores never change."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=PeriodKind.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (exclusive)"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("scoring period")
        verbose_name_plural = _("scoring periods")
        ordering = ["-starts_on", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["unit", "kind", "starts_on"], name="one_period")]

    def __str__(self) -> str:
        return f"{self.unit} {self.starts_on:%Y-%m-%d}–{self.ends_on:%Y-%m-%d}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Judgement(models.Model):
    """A reviewer's judgement of a judged item for one cadre and period, with evidence (0–100)."""

    period = models.ForeignKey(ScoringPeriod, on_delete=models.PROTECT, related_name="judgements")
    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ResponsibilityItem, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("judged value"), max_digits=6, decimal_places=2)
    evidence = models.TextField(_("evidence"))
    judged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    judged_at = models.DateTimeField(_("judged at"))

    class Meta:
        verbose_name = _("judgement")
        verbose_name_plural = _("judgements")
        constraints = [models.UniqueConstraint(fields=["period", "profile", "item"], name="one_judgement")]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.item_id} {self.value}"


class ItemScore(Frozen):
    """One item's score for one cadre in one period, with the rule it was scored by copied in."""

    period = models.ForeignKey(ScoringPeriod, on_delete=models.PROTECT, related_name="scores")
    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ResponsibilityItem, on_delete=models.PROTECT, related_name="+")
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    target = models.DecimalField(_("target"), max_digits=8, decimal_places=2)
    actual = models.DecimalField(_("actual"), max_digits=10, decimal_places=2, null=True)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2)
    tickets = models.JSONField(_("tickets behind the figure"), default=list)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        ordering = ["item__dimension", "item_id"]
        constraints = [models.UniqueConstraint(fields=["period", "profile", "item"], name="one_item_score")]

    def __str__(self) -> str:
        return f"{self.profile_id} {self.item_id} {self.points}"


# --- pressure: 约谈 → 整改清单 → verification -------------------------------------------------------------
class InterviewState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CLOSED = "closed", _("Closed")


class Interview(models.Model):
    """约谈 of a unit from the monthly assessment's bottom list, scheduled by the organisation department."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("assessment month"))
    snapshot = models.ForeignKey(
        "assessment.Snapshot", verbose_name=_("snapshot"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    scheduled_for = models.DateTimeField(_("when"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    attendees = models.TextField(_("attendees"))
    state = models.CharField(_("state"), max_length=12, choices=InterviewState.choices, default="scheduled")
    minutes = models.TextField(_("minutes"), blank=True)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("约谈 (interview)")
        verbose_name_plural = _("约谈 (interviews)")
        ordering = ["-month", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="one_interview_per_unit_month")]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m}"


class RectificationMetric(models.TextChoices):
    SCORE = "score", _("Composite score")
    RESPONSE_RATE = "response_rate", _("Response rate")
    RESOLUTION_RATE = "resolution_rate", _("Resolution rate")
    SATISFACTION_RATE = "satisfaction_rate", _("Satisfaction rate")


class RectificationState(models.TextChoices):
    OPEN = "open", _("Open")
    VERIFIED = "verified", _("Verified")
    ESCALATED = "escalated", _("Overdue, escalated")


class RectificationItem(models.Model):
    """One line of the 整改清单: owner, deadline and the figure of a later month that verifies it."""

    interview = models.ForeignKey(Interview, on_delete=models.PROTECT, related_name="items")
    title = models.CharField(_("rectification"), max_length=200)
    owner = models.ForeignKey(CadreProfile, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("due on"))
    metric = models.CharField(_("verified by"), max_length=20, choices=RectificationMetric.choices)
    target = models.DecimalField(_("target"), max_digits=6, decimal_places=2)
    state = models.CharField(_("state"), max_length=12, choices=RectificationState.choices, default="open")
    verified_month = models.DateField(_("verified by month"), null=True, blank=True)
    verified_value = models.DecimalField(_("value"), max_digits=6, decimal_places=2, null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


# --- supervision flags (监察监督) ----------------------------------------------------------------------------
class FlagKind(models.TextChoices):
    LATE_SIGNING = "late_signing", _("Repeated late signing (慢作为)")
    FAKE_CLOSURE = "fake_closure", _("Fake-closure signals (乱作为)")
    REOPEN_STREAK = "reopen_streak", _("Reopen streak (不作为)")
    UNJUSTIFIED_RETURNS = "unjustified_returns", _("Returns judged unjustified (不作为)")


class FlagRule(models.Model):
    """A configurable pattern: `kind` at least `threshold` times within `window_days`. Rules are data."""

    kind = models.CharField(_("pattern"), max_length=20, choices=FlagKind.choices)
    threshold = models.PositiveIntegerField(_("at least"))
    window_days = models.PositiveIntegerField(_("within days"))
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("flag rule")
        verbose_name_plural = _("flag rules")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ≥ {self.threshold} / {self.window_days}d"


class FlagState(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    REMINDED = "reminded", _("Reminded")
    CASE_OPENED = "case_opened", _("Accountability case opened")


class Flag(models.Model):
    """A pattern found in a cadre's trail, queued for discipline inspection. Never changes a score by itself."""

    rule = models.ForeignKey(FlagRule, on_delete=models.PROTECT, related_name="flags")
    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    window_from = models.DateField(_("from"))
    window_to = models.DateField(_("until"))
    count = models.PositiveIntegerField(_("count"))
    tickets = models.JSONField(_("evidence: tickets"), default=list)
    state = models.CharField(_("state"), max_length=12, choices=FlagState.choices, default="open")
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("found at"))

    class Meta:
        verbose_name = _("supervision flag")
        verbose_name_plural = _("supervision flags")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "profile", "window_to"], name="one_flag_per_window")]

    def __str__(self) -> str:
        return f"{self.rule} · {self.profile_id} · {self.count}"


# --- 揭榜挂帅 -------------------------------------------------------------------------------------------
class ChallengeState(models.TextChoices):
    OPEN = "open", _("Open for applications")
    APPOINTED = "appointed", _("Appointed (挂帅)")
    DELIVERED = "delivered", _("Delivered")


class ChallengeTask(models.Model):
    """A task on the 揭榜挂帅 board, posted from a hotspot, a 每月一题 topic or a category × area pattern; its result
    is measured from the requests in its scope, as topics are."""

    title = models.CharField(_("task"), max_length=120)
    goal = models.TextField(_("goal"))
    resources = models.TextField(_("resources"), blank=True)
    deadline = models.DateField(_("deadline"))
    area = models.ForeignKey(OrgUnit, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    hotspot = models.ForeignKey("governance.Hotspot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(
        "governance.MonthlyTopic", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        OrgUnit, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        OrgUnit, verbose_name=_("street/township"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    baseline_from = models.DateField(_("baseline from"))
    baseline_to = models.DateField(_("baseline to"))
    starts_on = models.DateField(_("measured from"))
    target_change = models.DecimalField(_("target: requests change (%)"), max_digits=6, decimal_places=1)
    state = models.CharField(_("state"), max_length=12, choices=ChallengeState.choices, default="open")
    leader = models.ForeignKey(
        CadreProfile, verbose_name=_("leader (挂帅)"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    result = models.JSONField(_("measured result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("揭榜挂帅 task")
        verbose_name_plural = _("揭榜挂帅 tasks")
        ordering = ["-posted_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Application(models.Model):
    """揭榜: a cadre volunteers for a task with a plan."""

    task = models.ForeignKey(ChallengeTask, on_delete=models.PROTECT, related_name="applications")
    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    plan = models.TextField(_("plan"))
    applied_at = models.DateTimeField(_("applied at"))

    class Meta:
        verbose_name = _("application (揭榜)")
        verbose_name_plural = _("applications (揭榜)")
        constraints = [models.UniqueConstraint(fields=["task", "profile"], name="one_application")]

    def __str__(self) -> str:
        return f"{self.task_id} ← {self.profile_id}"


class ChallengeMilestone(Milestone):
    task = models.ForeignKey(ChallengeTask, on_delete=models.PROTECT, related_name="milestones")


# --- 容错纠错 and 追责问责 --------------------------------------------------------------------------------------
class GroundKind(models.TextChoices):
    DISTINCTION = "distinction", _("三个区分开来")
    LIST = "list", _("容误 list")


class ToleranceGround(models.Model):
    """A ground a fault-tolerance application may state: one of the 三个区分开来, or a 容误 list (佛山's three by
    default). Configurable data."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=GroundKind.choices)
    label = models.CharField(_("label"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("fault-tolerance ground")
        verbose_name_plural = _("fault-tolerance grounds")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        return self.label


class CaseState(models.TextChoices):
    # fault tolerance: application → investigation → consultation → determination → feedback
    APPLIED = "applied", _("Applied")
    INVESTIGATION = "investigation", _("Investigation")
    CONSULTATION = "consultation", _("Consultation")
    DETERMINED = "determined", _("Determined")
    FED_BACK = "fed_back", _("Fed back")
    # accountability: opened → statement → decided → (appealed → appeal decided)
    OPENED = "opened", _("Opened")
    STATEMENT = "statement", _("Statement made (申辩)")
    DECIDED = "decided", _("Decided")
    APPEALED = "appealed", _("Appealed")
    CLOSED = "closed", _("Closed")


class AccountabilityCase(models.Model):
    """问责, opened from a supervision flag or a 约谈: the cadre's statement (申辩), the decision, an appeal and the
    retention period of the record."""

    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    interview = models.ForeignKey(Interview, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    allegation = models.TextField(_("allegation"))
    tickets = models.JSONField(_("tickets concerned"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices, default=CaseState.OPENED)
    statement = models.TextField(_("statement (申辩)"), blank=True)
    decision = models.TextField(_("decision"), blank=True)
    appeal = models.TextField(_("appeal"), blank=True)
    appeal_decision = models.TextField(_("appeal decision"), blank=True)
    retention_until = models.DateField(_("kept on file until"), null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"))

    class Meta:
        verbose_name = _("accountability case (问责)")
        verbose_name_plural = _("accountability cases (问责)")
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.profile} #{self.pk}"


class ToleranceCase(models.Model):
    """容错: an application by the cadre or their unit, linked to the tickets and decisions concerned, decided by
    whoever holds the accountability (谁追责问责谁负责容错)."""

    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        AccountabilityCase,
        verbose_name=_("accountability case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tolerance",
    )
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_unit = models.BooleanField(_("applied by the unit"), default=False)
    facts = models.TextField(_("facts"))
    tickets = models.JSONField(_("tickets concerned"), default=list, blank=True)
    grounds = models.ManyToManyField(ToleranceGround, verbose_name=_("grounds"), related_name="+")
    state = models.CharField(_("state"), max_length=16, choices=CaseState.choices, default=CaseState.APPLIED)
    notes = models.JSONField(_("procedure notes"), default=dict, blank=True)
    tolerated = models.BooleanField(_("tolerated"), null=True)
    applied_at = models.DateTimeField(_("applied at"))

    class Meta:
        verbose_name = _("fault-tolerance case (容错)")
        verbose_name_plural = _("fault-tolerance cases (容错)")
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"{self.profile} #{self.pk}"


class Correction(AppendOnly):
    """The only way a decision changes a figure: an explicit, visible record with its reason. The published score
    (a closed period's item score) stays as it was; pages show it beside its corrections."""

    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    item_score = models.ForeignKey(ItemScore, on_delete=models.PROTECT, related_name="corrections")
    old_points = models.DecimalField(_("points as published"), max_digits=8, decimal_places=2)
    new_points = models.DecimalField(_("points after correction"), max_digits=8, decimal_places=2)
    reason = models.TextField(_("reason"))
    tolerance = models.ForeignKey(ToleranceCase, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(AccountabilityCase, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("score correction")
        verbose_name_plural = _("score corrections")
        ordering = ["at", "id"]


# --- recognition ---------------------------------------------------------------------------------------
class RecognitionKind(models.TextChoices):
    LIKE = "like", _("Leader's 点赞")
    CASE_REVIEW = "case_review", _("一事一评 on an excellent case")
    RESIDENT_PRAISE = "resident_praise", _("Residents' praise")
    HONOURS = "honours", _("Monthly honours list")


class Recognition(AppendOnly):
    """A commendation that lands on the cadre's profile."""

    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=RecognitionKind.choices)
    note = models.TextField(_("note"))
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")
        ordering = ["-at", "-id"]


# --- the four-dimension rubric and 评议 ---------------------------------------------------------------------
class RubricDimension(models.TextChoices):
    """担当作为 (辛自强 2023)."""

    POLITICAL = "political_commitment", _("Political commitment (政治担当)")
    WORK = "work_commitment", _("Work commitment (工作担当)")
    EFFECTIVE = "effective_action", _("Effective action (善于作为)")
    OUTSTANDING = "outstanding_achievement", _("Outstanding achievement (大有作为)")


class RubricRow(models.Model):
    """One row of the 担当作为 rubric. Rows sharing an `effective_from` form one version; an evaluation copies the
    version in force on its first day. Measured rows read a metric of the performance record; the others are
    judged (self and leader)."""

    effective_from = models.DateField(_("in force from"))
    dimension = models.CharField(_("dimension"), max_length=32, choices=RubricDimension.choices)
    title = models.CharField(_("row"), max_length=200)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    scale = models.PositiveIntegerField(_("scale (points)"), default=10)
    metric = models.CharField(_("measured by"), max_length=32, choices=Metric.choices, blank=True)
    target = models.DecimalField(_("target"), max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("rubric row")
        verbose_name_plural = _("rubric rows (担当作为)")
        ordering = ["-effective_from", "dimension", "id"]

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m-%d} {self.title}"


class EvaluationRule(models.Model):
    """How the 评议 combines its three voices, in force from a date."""

    effective_from = models.DateField(_("in force from"), unique=True)
    weight_self = models.DecimalField(_("weight of the self-assessment"), max_digits=4, decimal_places=2)
    weight_leader = models.DecimalField(_("weight of the leader's assessment"), max_digits=4, decimal_places=2)
    weight_residents = models.DecimalField(_("weight of the residents' voice"), max_digits=4, decimal_places=2)

    class Meta:
        verbose_name = _("evaluation rule")
        verbose_name_plural = _("evaluation rules")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m-%d} {self.weight_self}/{self.weight_leader}/{self.weight_residents}"


class EvaluationState(models.TextChoices):
    OPEN = "open", _("Open")
    RECORDED = "recorded", _("Recorded")


class Evaluation(Frozen):
    """评议 of a cadre for a period: self-assessment, leader's assessment and the residents' voice (callback
    satisfaction on the cadre's tickets), combined by the rule's weights. Immutable once recorded."""

    profile = models.ForeignKey(CadreProfile, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (exclusive)"))
    rows = models.JSONField(_("rubric as applied"), default=list)
    weights = models.JSONField(_("weights as applied"), default=dict)
    self_score = models.DecimalField(_("self-assessment"), max_digits=6, decimal_places=2, null=True)
    leader_score = models.DecimalField(_("leader's assessment"), max_digits=6, decimal_places=2, null=True)
    residents_score = models.DecimalField(_("residents' voice"), max_digits=6, decimal_places=2, null=True)
    residents_tickets = models.JSONField(_("tickets behind the residents' voice"), default=list)
    result = models.DecimalField(_("result"), max_digits=6, decimal_places=2, null=True)
    leader_note = models.TextField(_("leader's evidence"), blank=True)
    state = models.CharField(_("state"), max_length=12, choices=EvaluationState.choices, default="open")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation (评议)")
        verbose_name_plural = _("evaluations (评议)")
        ordering = ["-starts_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["profile", "starts_on"], name="one_evaluation_per_period")]

    def __str__(self) -> str:
        return f"{self.profile} {self.starts_on:%Y-%m-%d}"


# --- rewards and the spending ledger -------------------------------------------------------------------------
class RewardRule(models.Model):
    """A reward per period from the published ranking, e.g. each unit of a group in the top N gets an amount
    (怀柔: 100万元 to each town in the city's top 10). Configurable data, in force from a month."""

    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("in force from"))
    group = models.CharField(_("ranking group"), max_length=32)
    top_n = models.PositiveIntegerField(_("top N"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward rule")
        verbose_name_plural = _("reward rules")
        ordering = ["-effective_from", "id"]

    def __str__(self) -> str:
        return self.name


class Reward(models.Model):
    """An amount a unit earned by its rank in a published month."""

    rule = models.ForeignKey(RewardRule, on_delete=models.PROTECT, related_name="rewards")
    snapshot = models.ForeignKey("assessment.Snapshot", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveIntegerField(_("rank"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["-snapshot__month", "rank"]
        constraints = [models.UniqueConstraint(fields=["rule", "snapshot", "unit"], name="one_reward")]

    def __str__(self) -> str:
        return f"{self.unit} {self.amount}"


class Spending(AppendOnly):
    """A line of the spending ledger: every amount names the residents' problems it went to (tickets, topic)."""

    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="spendings")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    purpose = models.TextField(_("purpose"))
    tickets = models.JSONField(_("tickets solved"), default=list, blank=True)
    topic = models.ForeignKey(
        "governance.MonthlyTopic", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("spending")
        verbose_name_plural = _("spending ledger")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.reward_id} {self.amount}"
