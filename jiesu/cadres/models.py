"""Cadres (担当作为, issue 20): the people inside the units, their posts, responsibility, records and cases.

Everything here is read through `jiesu.cadres.access` and changed through `jiesu.cadres.services`; every change
writes one append-only `CadreEvent`.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiesu.lib.models import AppendOnly
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
