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
