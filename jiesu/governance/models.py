"""Proactive governance (主动治理): hotspots, monthly topics (每月一题) with one plan and three lists, forecasts and
proactive proposals (未诉先办). Every change is written by `services.py` with a `GovernanceEvent`."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category
from jiesu.lib.models import AppendOnly, Milestone
from jiesu.orgs.models import OrgUnit


class HotspotState(models.TextChoices):
    EMERGING = "emerging", _("emerging")
    GROWING = "growing", _("growing")
    STEADY = "steady", _("steady")
    FADING = "fading", _("fading")
    CLOSED = "closed", _("closed")


OPEN_HOTSPOT_STATES = (HotspotState.EMERGING, HotspotState.GROWING, HotspotState.STEADY, HotspotState.FADING)


class Hotspot(models.Model):
    """A cluster of requests on one topic in one place that grows faster than its usual level (`hotspots.py`)."""

    label = models.CharField(_("key terms"), max_length=120)
    state = models.CharField(_("state"), max_length=16, choices=HotspotState.choices, default=HotspotState.EMERGING)
    district = models.ForeignKey(
        OrgUnit, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        OrgUnit, verbose_name=_("street/township"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    size = models.PositiveIntegerField(_("requests"), default=0)
    volume = models.PositiveIntegerField(_("requests in the window"), default=0)
    baseline = models.FloatField(_("usual level per window"), default=0)
    growth = models.FloatField(_("growth"), default=0)
    callers = models.PositiveIntegerField(_("distinct callers"), default=0)
    severity = models.FloatField(_("severity"), default=1)
    heat = models.FloatField(_("heat"), default=0)
    peak_heat = models.FloatField(_("peak heat"), default=0)
    opened_at = models.DateTimeField(_("opened at"))
    updated_at = models.DateTimeField(_("updated at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    first_request_at = models.DateTimeField(_("first request"))
    last_request_at = models.DateTimeField(_("last request"))
    tickets = models.ManyToManyField("tickets.Ticket", verbose_name=_("tickets"), related_name="hotspots")

    class Meta:
        verbose_name = _("hotspot")
        verbose_name_plural = _("hotspots")
        ordering = ["-heat", "-id"]

    def __str__(self) -> str:
        return self.label


class HotspotObservation(AppendOnly):
    """One detection run's view of a hotspot: its track over time (opens, grows, fades)."""

    hotspot = models.ForeignKey(Hotspot, on_delete=models.CASCADE, related_name="observations")
    at = models.DateTimeField(_("at"))
    state = models.CharField(_("state"), max_length=16, choices=HotspotState.choices)
    size = models.PositiveIntegerField(_("requests"))
    volume = models.PositiveIntegerField(_("requests in the window"))
    heat = models.FloatField(_("heat"))

    class Meta:
        verbose_name = _("hotspot observation")
        verbose_name_plural = _("hotspot observations")
        ordering = ["hotspot", "at", "id"]


class TopicState(models.TextChoices):
    DRAFT = "draft", _("draft")
    ACTIVE = "active", _("in progress")
    CLOSED = "closed", _("closed")


class MonthlyTopic(models.Model):
    """每月一题: a frequent, hard problem the city takes on, with one plan (方案) and three lists (任务清单 with the
    responsibility list of each task, 政策清单). Its scope (category, places, words, since when) decides which
    requests measure its progress."""

    title = models.CharField(_("title"), max_length=120)
    month = models.DateField(_("month"), help_text=_("The first day of the topic's month."))
    state = models.CharField(_("state"), max_length=16, choices=TopicState.choices, default=TopicState.DRAFT)
    lead_unit = models.ForeignKey(OrgUnit, verbose_name=_("lead unit"), on_delete=models.PROTECT, related_name="+")
    plan = models.TextField(_("plan (方案)"), blank=True)
    hotspot = models.ForeignKey(
        Hotspot, verbose_name=_("from hotspot"), null=True, blank=True, on_delete=models.SET_NULL, related_name="topics"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        OrgUnit, verbose_name=_("district"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    streets = models.ManyToManyField(OrgUnit, verbose_name=_("streets/townships"), blank=True, related_name="+")
    keywords = models.CharField(
        _("keywords"), max_length=200, blank=True, help_text=_("Separated by spaces; a request in scope has one.")
    )
    baseline_from = models.DateField(_("baseline from"))
    baseline_to = models.DateField(_("baseline to"))
    starts_on = models.DateField(_("measured from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("monthly topic")
        verbose_name_plural = _("monthly topics")
        ordering = ["-month", "-id"]

    def __str__(self) -> str:
        return self.title


class TopicTask(models.Model):
    """A line of the task list; its lead and cooperating units are the responsibility list."""

    topic = models.ForeignKey(MonthlyTopic, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    lead_unit = models.ForeignKey(OrgUnit, verbose_name=_("lead unit"), on_delete=models.PROTECT, related_name="+")
    cooperating_units = models.ManyToManyField(
        OrgUnit, verbose_name=_("cooperating units"), blank=True, related_name="+"
    )
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("topic task")
        verbose_name_plural = _("task list")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class PolicyKind(models.TextChoices):
    EXISTING = "existing", _("existing policy to apply")
    NEW = "new", _("new policy to issue")
    REVISE = "revise", _("policy to revise")


class TopicPolicy(models.Model):
    """A line of the policy list."""

    topic = models.ForeignKey(MonthlyTopic, on_delete=models.CASCADE, related_name="policies")
    title = models.CharField(_("policy"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=PolicyKind.choices, default=PolicyKind.NEW)
    issuer = models.ForeignKey(OrgUnit, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("issued on"), null=True, blank=True)

    class Meta:
        verbose_name = _("topic policy")
        verbose_name_plural = _("policy list")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class TargetMetric(models.TextChoices):
    VOLUME_CHANGE = "volume_change", _("change of monthly requests against the baseline (%)")
    RESOLUTION_RATE = "resolution_rate", _("resolution rate (%)")
    SATISFACTION_RATE = "satisfaction_rate", _("satisfaction rate (%)")


class TopicTarget(models.Model):
    """A quantified target: e.g. requests in scope −50 % against the baseline by 2027-03-31."""

    topic = models.ForeignKey(MonthlyTopic, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("metric"), max_length=24, choices=TargetMetric.choices)
    value = models.DecimalField(_("target value"), max_digits=6, decimal_places=1)
    by_date = models.DateField(_("by"))

    class Meta:
        verbose_name = _("topic target")
        verbose_name_plural = _("topic targets")
        ordering = ["by_date", "id"]

    def __str__(self) -> str:
        return f"{self.metric} {self.value}"


class TopicMilestone(Milestone):
    topic = models.ForeignKey(MonthlyTopic, on_delete=models.CASCADE, related_name="milestones")


class ForecastPoint(models.Model):
    """The latest forecast of one day's requests for one top-level category in one district (`forecast.py`)."""

    made_at = models.DateTimeField(_("made at"))
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(OrgUnit, verbose_name=_("district"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    expected = models.FloatField(_("expected"))
    low = models.FloatField(_("interval low (P10)"))
    high = models.FloatField(_("interval high (P90)"))
    usual = models.FloatField(_("usual level"))

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        constraints = [models.UniqueConstraint(fields=["category", "district", "day"], name="forecast_one_per_day")]
        ordering = ["day", "category", "district"]

    def __str__(self) -> str:
        return f"{self.day} {self.expected:.1f}"


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    ACCEPTED = "accepted", _("accepted")
    DISMISSED = "dismissed", _("dismissed")


class ProactiveProposal(models.Model):
    """未诉先办: a forecast above its threshold becomes a proposal to the responsible unit before the calls come."""

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(OrgUnit, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="+")
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("to"))
    expected = models.FloatField(_("expected requests"))
    usual = models.FloatField(_("usual requests"))
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=16, choices=ProposalState.choices, default=ProposalState.PROPOSED)
    created_at = models.DateTimeField(_("created at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("proactive proposal")
        verbose_name_plural = _("proactive proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "district", "first_day"], name="one_proposal_per_surge")
        ]

    def __str__(self) -> str:
        return self.reason[:60]


class GovernanceEvent(AppendOnly):
    """The audit trail of this app: who did what to which hotspot, topic, proposal or knowledge entry, from → to."""

    EVENT_TIME_FIELD = "at"

    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=16)  # hotspot | topic | proposal | knowledge
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    action = models.CharField(_("action"), max_length=32)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("governance event")
        verbose_name_plural = _("governance events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["subject", "subject_id"])]
