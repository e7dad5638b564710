"""Trained text models, versioned on disk, and which one is active.

A model file is written once and never changed; a row here records where it is, what it was trained on and how
it scored. At most one version per kind is active. Switching is recorded as an immutable `ModelActivation`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiesu.lib.models import AppendOnly


class ModelKind(models.TextChoices):
    CATEGORY = "category", _("Category classifier")
    ROUTER = "router", _("Unit router")


class TextModelVersion(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=ModelKind.choices)
    version = models.CharField(_("version"), max_length=40)
    path = models.CharField(_("file"), max_length=500)
    source = models.CharField(_("trained on"), max_length=255)
    labelled = models.PositiveIntegerField(_("labelled rows"))
    unlabelled = models.PositiveIntegerField(_("unlabelled rows"), default=0)
    classes = models.PositiveIntegerField(_("classes"))
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=False)

    class Meta:
        verbose_name = _("text model version")
        verbose_name_plural = _("text model versions")
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="text_model_version_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_active=True), name="one_active_text_model_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"


class ModelActivation(AppendOnly):
    """Who switched which model on, when, and from which (immutable)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ModelKind.choices)
    from_version = models.ForeignKey(
        TextModelVersion, verbose_name=_("from"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_version = models.ForeignKey(TextModelVersion, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("model activation")
        verbose_name_plural = _("model activations")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.from_version} → {self.to_version}"


class Feature(models.TextChoices):
    """The assistant's features an administrator can switch off one by one."""

    CATEGORY = "category", _("Category proposal and auto-fill")
    UNIT = "unit", _("Unit proposal (learned router)")
    DUPLICATES = "duplicates", _("Duplicate and repeat-caller detection")
    TAGS = "tags", _("Affected-group tags")
    AUTO_DISPATCH = "auto_dispatch", _("Automatic dispatch")
    GROUP_WARNING = "group_warning", _("Group complaint early warning")
    RETURN_REVIEW = "return_review", _("Return review assist")


# Off until an administrator turns it on: everything that acts without a person.
OFF_BY_DEFAULT = frozenset({Feature.AUTO_DISPATCH})


class FeatureSwitch(models.Model):
    """One row per feature an administrator has set (a missing row means the default). `precision` is the
    accuracy automatic dispatch must hold on the city's closed history."""

    feature = models.CharField(_("feature"), max_length=24, choices=Feature.choices, unique=True)
    enabled = models.BooleanField(_("enabled"))
    precision = models.FloatField(_("required precision"), default=0.92)
    updated_at = models.DateTimeField(_("updated"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assistant feature switch")
        verbose_name_plural = _("assistant feature switches")
        ordering = ["feature"]

    def __str__(self) -> str:
        return f"{self.get_feature_display()}: {'on' if self.enabled else 'off'}"


class Outcome(models.TextChoices):
    PENDING = "pending", _("Not decided yet")
    ACCEPTED = "accepted", _("Accepted")
    OVERRIDDEN = "overridden", _("Overridden")
    UNDONE = "undone", _("Undone")


class ProposalRecord(models.Model):
    """What the assistant proposed for a ticket and what staff did with it. Written by `intel.services` when the
    ticket is registered (category), dispatched (unit) or dispatched automatically; the outcome is set once."""

    feature = models.CharField(_("feature"), max_length=24, choices=Feature.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="proposal_records"
    )
    proposed = models.CharField(_("proposed value"), max_length=64, blank=True)
    final = models.CharField(_("final value"), max_length=64, blank=True)
    probability = models.FloatField(_("probability"), null=True, blank=True)
    acted_alone = models.BooleanField(_("filled or acted without a person"), default=False)
    outcome = models.CharField(_("staff decision"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    created_at = models.DateTimeField(_("created"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("assistant proposal")
        verbose_name_plural = _("assistant proposals")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["feature", "created_at"], name="proposal_feature_time")]

    def __str__(self) -> str:
        return f"{self.feature} {self.proposed} → {self.final} ({self.outcome})"


class AssistQueue(models.Model):
    """An order registered by a machine interface (the REST API, Open311, the citizens' portal), waiting for the
    assistant's after-intake work (its proposal record, tags, the group-complaint check and automatic dispatch).
    The row is written in the intake's own transaction and deleted in the transaction that does the work
    (`intel.services.assist_queued`, a step of `jiesu worker`, claimed with SKIP LOCKED), so no order is skipped
    or assisted twice, and the intake request does not pay for the assistant's CPU."""

    ticket = models.OneToOneField(
        "tickets.Ticket", verbose_name=_("ticket"), primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    queued_at = models.DateTimeField(_("queued"))
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)

    class Meta:
        verbose_name = _("order waiting for the assistant")
        verbose_name_plural = _("orders waiting for the assistant")

    def __str__(self) -> str:
        return f"assist {self.ticket_id}"
