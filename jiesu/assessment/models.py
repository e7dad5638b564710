"""三率 assessment: rules versioned by month, immutable published snapshots, appeals and proactive bonuses.

A ticket is assessed in the month of its hotline callback (回访), against the unit the callback judged (the lead
unit at that moment, so a ticket returned and re-dispatched counts against its final owner). With several
callbacks in one month, the month's last one counts. Everything else about the formula is a `RuleSet` row.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiesu.lib.models import AppendOnly
from jiesu.orgs.models import OrgUnit
from jiesu.tickets.models import Callback, Ticket

DEFAULT_GROUPS = {
    "streets": ["subdistrict", "area_office"],
    "townships": ["township", "town"],
    "departments": ["department"],
    "companies": ["public_service_company"],
}
# Weights in thousandths, so every sum is an exact integer.
DEFAULT_RESOLUTION_WEIGHTS = {"solved": 1000, "partly": 500, "unsolved": 0}
DEFAULT_SATISFACTION_WEIGHTS = {"satisfied": 1000, "fairly_satisfied": 800, "dissatisfied": 0}


class ResponseBasis(models.TextChoices):
    SIGNED_AND_CONTACTED = "signed_and_contacted", _("Signed in time and the requester contacted")
    SIGNED = "signed", _("Signed in time")
    CONTACTED = "contacted", _("The requester contacted")


def _default_groups() -> dict[str, list[str]]:
    return {k: list(v) for k, v in DEFAULT_GROUPS.items()}


def _default_focus_groups() -> list[str]:
    return ["streets", "townships"]


def _default_resolution() -> dict[str, int]:
    return dict(DEFAULT_RESOLUTION_WEIGHTS)


def _default_satisfaction() -> dict[str, int]:
    return dict(DEFAULT_SATISFACTION_WEIGHTS)


class RuleSet(models.Model):
    """The 三率 rules in force from `effective_from` (a month) until the next rule set.

    None of these numbers is confirmed for Beijing (domain.md §2.6); they are data. A rule set that a
    published snapshot used can no longer be edited: add a new one from a later month instead."""

    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("in force from (month)"), unique=True)
    response_basis = models.CharField(
        _("responded means"), max_length=24, choices=ResponseBasis.choices, default=ResponseBasis.SIGNED_AND_CONTACTED
    )
    resolution_weights = models.JSONField(
        _("resolution weights (‰)"),
        default=_default_resolution,
        help_text=_("Credit per callback answer, in thousandths: solved, partly, unsolved."),
    )
    satisfaction_weights = models.JSONField(
        _("satisfaction weights (‰)"),
        default=_default_satisfaction,
        help_text=_("Credit per answer in thousandths. An answer left out (e.g. not rated) is not counted at all."),
    )
    weight_response = models.DecimalField(_("weight of the response rate"), max_digits=5, decimal_places=4, default=0.3)
    weight_resolution = models.DecimalField(
        _("weight of the resolution rate"), max_digits=5, decimal_places=4, default=0.35
    )
    weight_satisfaction = models.DecimalField(
        _("weight of the satisfaction rate"), max_digits=5, decimal_places=4, default=0.35
    )
    exclude_unreasonable = models.BooleanField(_("exclude unreasonable appeals (不合理诉求)"), default=True)
    bonus_cap = models.DecimalField(
        _("proactive-governance bonus cap (points)"), max_digits=5, decimal_places=2, default=2
    )
    min_sample = models.PositiveIntegerField(
        _("minimum sample"), default=5, help_text=_("Units with fewer assessed tickets are shown but not ranked.")
    )
    groups = models.JSONField(
        _("ranking groups"), default=_default_groups, help_text=_("Group name → unit kinds ranked together.")
    )
    interview_count = models.PositiveIntegerField(_("约谈: bottom N per group"), default=3)
    recognition_count = models.PositiveIntegerField(_("recognition: top N per group"), default=3)
    focus_groups = models.JSONField(_("groups for governance-focus streets"), default=_default_focus_groups)
    focus_count = models.PositiveIntegerField(_("治理类街乡: bottom N"), default=3)
    focus_volume_quantile = models.DecimalField(
        _("治理类街乡: volume at least this quantile"),
        max_digits=3,
        decimal_places=2,
        default=0.5,
        help_text=_("Only ranked streets whose volume is at or above this quantile of their group qualify."),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("assessment rule set")
        verbose_name_plural = _("assessment rule sets")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.name} ({self.effective_from:%Y-%m})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk and Snapshot.objects.filter(rule_set_id=self.pk, published_at__isnull=False).exists():
            raise ValidationError(_("A published assessment used these rules; add a new rule set instead."))
        if self.effective_from:
            self.effective_from = self.effective_from.replace(day=1)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from .rules import validate

        validate(self)


class Snapshot(models.Model):
    """One computation of one month. Drafts are recomputed in place; a published snapshot never changes,
    and a correction is a new version with its reason."""

    month = models.DateField(_("month"))
    version = models.PositiveIntegerField(_("version"))
    rule_set = models.ForeignKey(RuleSet, verbose_name=_("rules"), on_delete=models.PROTECT, related_name="+")
    rules = models.JSONField(_("rules as applied"))
    totals = models.JSONField(_("totals"), default=dict)
    facts_file = models.CharField(_("facts file"), max_length=255)
    facts_sha256 = models.CharField(max_length=64)
    digest = models.CharField(_("digest of the results"), max_length=64)
    reason = models.TextField(_("reason for the correction"), blank=True)
    computed_at = models.DateTimeField(_("computed at"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("assessment snapshot")
        verbose_name_plural = _("assessment snapshots")
        ordering = ["-month", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["month", "version"], name="one_snapshot_version"),
            models.UniqueConstraint(fields=["month"], condition=Q(published_at__isnull=True), name="one_draft"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk and type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists():
            raise ValidationError(_("A published assessment cannot be changed; make a correction instead."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_published:
            raise ValidationError(_("A published assessment cannot be changed; make a correction instead."))
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class UnitScore(models.Model):
    """One unit's figures in one snapshot. Counts are exact; rates are percentages rounded to 0.01."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="scores")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("group"), max_length=32)
    volume = models.PositiveIntegerField(_("assessed tickets"))
    excluded = models.PositiveIntegerField(_("excluded tickets"))
    responded = models.PositiveIntegerField(_("responded"))
    judged = models.PositiveIntegerField(_("judged for resolution"))
    resolved_milli = models.PositiveBigIntegerField(_("resolution credit (‰)"))
    rated = models.PositiveIntegerField(_("rated for satisfaction"))
    satisfied_milli = models.PositiveBigIntegerField(_("satisfaction credit (‰)"))
    response_rate = models.DecimalField(_("response rate"), max_digits=6, decimal_places=2, null=True)
    resolution_rate = models.DecimalField(_("resolution rate"), max_digits=6, decimal_places=2, null=True)
    satisfaction_rate = models.DecimalField(_("satisfaction rate"), max_digits=6, decimal_places=2, null=True)
    bonus = models.DecimalField(_("bonus"), max_digits=5, decimal_places=2, default=0)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    ranked_count = models.PositiveIntegerField(_("ranked in group"), default=0)
    previous_score = models.DecimalField(_("last month's score"), max_digits=6, decimal_places=2, null=True)
    score_change = models.DecimalField(_("change"), max_digits=6, decimal_places=2, null=True)
    interview = models.BooleanField(_("约谈"), default=False)
    recognition = models.BooleanField(_("recognised"), default=False)
    focus = models.BooleanField(_("治理类街乡"), default=False)

    class Meta:
        verbose_name = _("unit score")
        verbose_name_plural = _("unit scores")
        ordering = ["group", "rank", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "unit"], name="one_score_per_unit")]

    def __str__(self) -> str:
        return f"{self.snapshot} {self.unit}: {self.score}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if Snapshot.objects.filter(pk=self.snapshot_id, published_at__isnull=False).exists():
            raise ValidationError(_("A published assessment cannot be changed; make a correction instead."))
        super().save(*args, **kwargs)


class AppealKind(models.TextChoices):
    CALLBACK_RESULT = "callback_result", _("The callback result is wrong")
    UNREASONABLE = "unreasonable", _("The appeal is unreasonable (不合理诉求)")


class AppealState(models.TextChoices):
    PENDING = "pending", _("Pending")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", _("Rejected")


class Appeal(models.Model):
    """A unit's dispute (申诉) of one assessed ticket, filed before the month is published.

    Upheld, a callback-result appeal takes the ticket out of the resolution and satisfaction rates (and counts
    the requester as contacted); an unreasonable-appeal judgement takes it out of the assessment entirely."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="+")
    callback = models.ForeignKey(Callback, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=AppealKind.choices)
    reason = models.TextField(_("reason"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("filed at"))
    state = models.CharField(_("state"), max_length=12, choices=AppealState.choices, default=AppealState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("assessment appeal")
        verbose_name_plural = _("assessment appeals")
        ordering = ["-filed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["callback", "kind"], condition=~Q(state="rejected"), name="one_live_appeal_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_kind_display()} {self.get_state_display()}"


class ProactiveBonus(models.Model):
    """Bonus points for proactive governance (主动治理), capped per month by the rule set. Not confirmed for
    Beijing; entered by supervisors with the reason."""

    month = models.DateField(_("month"))
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=2)
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("proactive-governance bonus")
        verbose_name_plural = _("proactive-governance bonuses")
        ordering = ["-month", "unit"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.unit}: {self.points}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.month:
            self.month = self.month.replace(day=1)
        super().save(*args, **kwargs)


class SnapshotAction(models.TextChoices):
    COMPUTE = "compute", _("Computed")
    RECOMPUTE = "recompute", _("Recomputed")
    CORRECT = "correct", _("Correction started")
    PUBLISH = "publish", _("Published")


class SnapshotEvent(AppendOnly):
    """The immutable trail of a month's assessment: who computed, corrected and published which version."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=16, choices=SnapshotAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("assessment event")
        verbose_name_plural = _("assessment events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.snapshot} {self.get_action_display()}"
