"""Party members serving their home community (在职党员到居住地社区报到, domain.md §3).

The registry (`PartyMember`, `member_registration`), the service list (`ServicePost`), the demand list (`Demand`,
micro-wishes 微心愿 among them), the task list (`CommunityTask`, apart from the monthly topics' `TopicTask`) with its
shortlist (`TaskOffer`), claims and service records, residents' ratings, the points ledger (`PointEntry`, append-only)
and the community call-out (`CallOut`, 社区吹哨、党员报到). Every change is made by `services.py` and leaves a
`CommunityEvent`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.lib.models import AppendOnly
from jiesu.orgs.models import OrgUnit

# Available times: six half-day slots as bits of one integer.
SLOTS: list[tuple[int, object]] = [
    (1, _("weekday mornings")),
    (2, _("weekday afternoons")),
    (4, _("weekday evenings")),
    (8, _("weekend mornings")),
    (16, _("weekend afternoons")),
    (32, _("weekend evenings")),
]
ALL_SLOTS = 63


class Skill(models.Model):
    """What a member can do and what a demand needs (policy explaining, legal advice, repairs …)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Compound(models.Model):
    """A residential compound (小区) or grid (网格) of a community; members and demands lie in one."""

    community = models.ForeignKey(OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    is_grid = models.BooleanField(_("grid"), default=False)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("compound or grid")
        verbose_name_plural = _("compounds and grids")
        ordering = ["community", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="compound_unique_name")]

    def __str__(self) -> str:
        return self.name


class RegistrationState(models.TextChoices):
    PENDING = "pending", _("waiting for confirmation")
    CONFIRMED = "confirmed", _("confirmed")
    REJECTED = "rejected", _("rejected")


class PartyMember(models.Model):
    """An in-service Party member registered with the community they live in (`member_registration`)."""

    community = models.ForeignKey(OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_member",
    )
    name = models.CharField(_("name"), max_length=40)
    phone = models.CharField(_("phone"), max_length=20)
    work_unit_name = models.CharField(_("work unit"), max_length=100)
    work_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("work unit in the platform"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_leading_cadre = models.BooleanField(_("leading cadre"), default=False)
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound or grid"), null=True, blank=True, on_delete=models.PROTECT
    )
    profession = models.CharField(_("profession"), max_length=60, blank=True)
    skills = models.ManyToManyField(Skill, verbose_name=_("skills"), related_name="+", blank=True)
    interests = models.CharField(_("interests"), max_length=200, blank=True)
    slots = models.PositiveSmallIntegerField(_("available times"), default=0)
    intentions = models.CharField(_("service intentions"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=RegistrationState.choices, default=RegistrationState.PENDING
    )
    registered_at = models.DateTimeField(_("registered at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("registered Party member")
        verbose_name_plural = _("registered Party members")
        ordering = ["community", "registered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["community", "phone"], name="member_once_per_community")]
        indexes = [models.Index(fields=["community", "state"])]

    def __str__(self) -> str:
        return self.name


class GroupKind(models.TextChoices):
    BRANCH = "branch", _("compound temporary branch")
    INTEREST = "interest", _("interest group")


class MemberGroup(models.Model):
    """A compound-level temporary Party branch (小区临时党支部) or an interest group of registered members."""

    community = models.ForeignKey(OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=GroupKind.choices)
    name = models.CharField(_("name"), max_length=60)
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound or grid"), null=True, blank=True, on_delete=models.PROTECT
    )
    members = models.ManyToManyField(PartyMember, verbose_name=_("members"), related_name="groups", blank=True)

    class Meta:
        verbose_name = _("member group")
        verbose_name_plural = _("member groups")
        ordering = ["community", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="group_unique_name")]

    def __str__(self) -> str:
        return self.name


class ServicePost(models.Model):
    """An entry of the service list (服务清单): a post the community sets up from its members' skills."""

    community = models.ForeignKey(OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    skill = models.ForeignKey(Skill, verbose_name=_("skill"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    members = models.ManyToManyField(PartyMember, verbose_name=_("members"), related_name="posts", blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service post")
        verbose_name_plural = _("service list")
        ordering = ["community", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="post_unique_name")]

    def __str__(self) -> str:
        return self.name


class StaffDuty(models.Model):
    """The demand boundary: a kind of need that is the community staff's own duty (certificates, subsidies …) and
    is never passed to volunteers. A demand whose text holds one of the keywords is refused with the reason."""

    community = models.ForeignKey(
        OrgUnit, verbose_name=_("community"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("duty"), max_length=60)
    keywords = models.CharField(_("keywords (separated by spaces)"), max_length=300)

    class Meta:
        verbose_name = _("staff duty (demand boundary)")
        verbose_name_plural = _("staff duties (demand boundary)")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DemandSource(models.TextChoices):
    VISIT = "visit", _("home visit")
    WISH_BOX = "wish_box", _("wish box")
    QUESTIONNAIRE = "questionnaire", _("questionnaire")
    RESIDENT = "resident", _("resident on the phone page")
    HOTLINE = "hotline", _("12345 hotline")


class DemandKind(models.TextChoices):
    MICRO_WISH = "micro_wish", _("micro-wish")
    NEED = "need", _("need")


class DemandState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    PUBLISHED = "published", _("published as a task")
    REFUSED = "refused", _("refused")
    DONE = "done", _("done")


class Demand(models.Model):
    """An entry of the demand list (需求清单): a resident's micro-wish or need."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    community = models.ForeignKey(OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound or grid"), null=True, blank=True, on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DemandKind.choices, default=DemandKind.MICRO_WISH)
    source = models.CharField(_("source"), max_length=16, choices=DemandSource.choices)
    title = models.CharField(_("title"), max_length=60)
    text = models.TextField(_("text"), max_length=1000)
    skill = models.ForeignKey(
        Skill, verbose_name=_("skill needed"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    slots = models.PositiveSmallIntegerField(_("wanted times"), default=0)
    resident_name = models.CharField(_("resident"), max_length=40)
    resident_phone = models.CharField(_("resident's phone"), max_length=20)
    source_ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("hotline ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=16, choices=DemandState.choices, default=DemandState.SUBMITTED)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demand list")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "state"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class TaskState(models.TextChoices):
    OPEN = "open", _("open for claiming")
    ESCALATED = "escalated", _("unclaimed, back with the community")
    CLAIMED = "claimed", _("claimed")
    DONE = "done", _("served")
    RATED = "rated", _("rated")
    CANCELLED = "cancelled", _("cancelled")


CLAIMABLE_STATES = (TaskState.OPEN, TaskState.ESCALATED)


class CommunityTask(models.Model):
    """An entry of the community's task list (任务清单): a published demand for members to claim (居民点单、社区下单、
    党员接单). Not the monthly topics' `TopicTask`."""

    demand = models.OneToOneField(Demand, verbose_name=_("demand"), on_delete=models.PROTECT, related_name="task")
    community = models.ForeignKey(OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    skill = models.ForeignKey(Skill, verbose_name=_("skill needed"), on_delete=models.PROTECT, related_name="+")
    needed = models.PositiveSmallIntegerField(_("members needed"), default=1)
    state = models.CharField(_("state"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN)
    published_at = models.DateTimeField(_("published at"))
    claim_by = models.DateTimeField(_("to be claimed by"))
    done_at = models.DateTimeField(_("served at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("community task")
        verbose_name_plural = _("task list")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["community", "state"]), models.Index(fields=["state", "claim_by"])]

    def __str__(self) -> str:
        return self.demand.title


class TaskOffer(models.Model):
    """A task pushed to a member on its shortlist, with the matching score and its parts."""

    task = models.ForeignKey(CommunityTask, on_delete=models.CASCADE, related_name="offers")
    member = models.ForeignKey(PartyMember, on_delete=models.CASCADE, related_name="offers")
    rank = models.PositiveSmallIntegerField(_("rank"))
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("why"), default=dict)
    offered_at = models.DateTimeField(_("offered at"))

    class Meta:
        ordering = ["task", "rank"]
        constraints = [models.UniqueConstraint(fields=["task", "member"], name="one_offer_per_member")]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.member_id} #{self.rank}"


class TaskClaim(models.Model):
    """A member's claim of a task (`claim`), with the service record once served (`service_record`)."""

    task = models.ForeignKey(CommunityTask, on_delete=models.PROTECT, related_name="claims")
    member = models.ForeignKey(PartyMember, on_delete=models.PROTECT, related_name="claims")
    claimed_at = models.DateTimeField(_("claimed at"))
    served_at = models.DateTimeField(_("served at"), null=True, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, null=True, blank=True)
    note = models.TextField(_("service note"), max_length=1000, blank=True)
    photo = models.FileField(_("photo"), upload_to="community/%Y/%m/", blank=True)

    class Meta:
        ordering = ["task", "claimed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["task", "member"], name="one_claim_per_member")]

    def __str__(self) -> str:
        return f"{self.member_id} claims {self.task_id}"


class ResidentRating(models.Model):
    """The resident's rating of a served task (`resident_rating`), 1–5 stars."""

    task = models.OneToOneField(CommunityTask, on_delete=models.PROTECT, related_name="rating")
    stars = models.PositiveSmallIntegerField(_("stars"))
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    rated_at = models.DateTimeField(_("rated at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.task_id}: {self.stars}"


class PointReason(models.TextChoices):
    SERVICE = "service", _("service done")
    HOURS = "hours", _("per hour served")
    RATING = "rating", _("resident's rating")
    ATTENDANCE = "attendance", _("call-out attended")
    NO_SHOW = "no_show", _("call-out missed")
    CORRECTION = "correction", _("correction")


class PointRule(models.Model):
    """How many points a reason earns. A community's own rule overrides the city-wide one (community empty).
    For `rating`, `stars` says which rating the rule is for."""

    community = models.ForeignKey(
        OrgUnit, verbose_name=_("community"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=PointReason.choices)
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    points = models.IntegerField(_("points"))

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["community", "reason", "stars"]
        constraints = [
            models.UniqueConstraint(fields=["community", "reason", "stars"], name="point_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.points:+d}"


class PointEntry(AppendOnly):
    """One line of the points ledger (积分制). Never edited: a correction is a new entry that names the one it
    corrects."""

    member = models.ForeignKey(PartyMember, on_delete=models.PROTECT, related_name="points")
    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=PointReason.choices)
    points = models.IntegerField(_("points"))
    task = models.ForeignKey(CommunityTask, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    shift = models.ForeignKey("CallOutShift", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["member", "at"]), models.Index(fields=["community", "at"])]


class CallOutState(models.TextChoices):
    OPEN = "open", _("calling")
    CLOSED = "closed", _("closed")


class CallOut(models.Model):
    """社区吹哨、党员报到: an emergency call to the community's registered members, with shifts to fill."""

    community = models.ForeignKey(OrgUnit, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=60)
    reason = models.CharField(_("situation"), max_length=300)
    state = models.CharField(_("state"), max_length=16, choices=CallOutState.choices, default=CallOutState.OPEN)
    created_at = models.DateTimeField(_("called at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("call-out")
        verbose_name_plural = _("call-outs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CallOutShift(models.Model):
    """One role at one place for one time span, needing a number of members."""

    callout = models.ForeignKey(CallOut, on_delete=models.CASCADE, related_name="shifts")
    role = models.CharField(_("role"), max_length=40)
    place = models.CharField(_("place"), max_length=60)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    needed = models.PositiveSmallIntegerField(_("members needed"))

    class Meta:
        ordering = ["callout", "starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.role} @ {self.place}"


class Attendance(models.TextChoices):
    SIGNED_UP = "signed_up", _("signed up")
    PRESENT = "present", _("present")
    ABSENT = "absent", _("absent")


class ShiftSignUp(models.Model):
    shift = models.ForeignKey(CallOutShift, on_delete=models.PROTECT, related_name="signups")
    member = models.ForeignKey(PartyMember, on_delete=models.PROTECT, related_name="signups")
    signed_at = models.DateTimeField(_("signed up at"))
    attendance = models.CharField(
        _("attendance"), max_length=16, choices=Attendance.choices, default=Attendance.SIGNED_UP
    )

    class Meta:
        ordering = ["shift", "signed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["shift", "member"], name="one_signup_per_shift")]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.shift_id}"


class CommunityEvent(AppendOnly):
    """The trail of every change in this module: who, what, when, from → to."""

    EVENT_TIME_FIELD = "at"

    community = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=32)
    subject = models.CharField(_("subject"), max_length=32)
    subject_id = models.PositiveBigIntegerField()
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("community event")
        verbose_name_plural = _("community events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["subject", "subject_id"]), models.Index(fields=["notified_at"])]
