"""Time limits: the working-day calendar (holidays and 调休) and the versioned time-limit policies."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiesu.catalog.models import Category, Effective, TimeLimitClass


class WorkCalendarDay(models.Model):
    """An exception to the Monday–Friday rule: a holiday on a weekday, or a weekend made a workday (调休).

    Seeded from `chinese-calendar` (which ends with 2026); administrators add each new State Council notice.
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("is a workday"))
    name = models.CharField(_("name"), max_length=50, blank=True)
    source = models.CharField(_("source"), max_length=32, default="admin", editable=False)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("make-up workday") if self.is_workday else _("holiday")
        return f"{self.date} {kind} {self.name}"


class LimitUnit(models.TextChoices):
    HOURS = "hours", _("calendar hours")
    WORKDAYS = "workdays", _("working days")


class TimeLimitPolicy(Effective):
    """How long a ticket of a class (or, overriding it, of one category) may take, and its other clocks."""

    time_limit_class = models.CharField(_("time-limit class"), max_length=16, choices=TimeLimitClass.choices)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category override"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Set only for a per-category override (e.g. heating)."),
    )
    amount = models.PositiveIntegerField(_("time limit"))
    unit = models.CharField(_("counted in"), max_length=16, choices=LimitUnit.choices)
    accept_within_hours = models.PositiveIntegerField(_("sign within (hours)"), default=2)
    return_within_hours = models.PositiveIntegerField(_("return request allowed within (hours)"), default=24)
    report_in_minutes = models.PositiveIntegerField(_("whistle report-in within (minutes)"), default=30)

    class Meta:
        verbose_name = _("time-limit policy")
        verbose_name_plural = _("time-limit policies")
        ordering = ["time_limit_class", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["time_limit_class", "effective_from"],
                condition=Q(category__isnull=True),
                name="policy_class_version",
            ),
        ]

    def __str__(self) -> str:
        target = self.category.name if self.category else self.get_time_limit_class_display()
        return f"{target}: {self.amount} {self.get_unit_display()} ({self.effective_from}–)"


class Heartbeat(models.Model):
    """The last sign of life of a long-running process (`jiesu worker`), read by /readyz and /metrics."""

    name = models.CharField(_("process"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last beat"))
    host = models.CharField(_("host"), max_length=100, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, name: str) -> None:
        """Record that `name` is alive now (one row per process name, overwritten)."""
        import os
        import socket

        from django.utils import timezone

        cls.objects.update_or_create(
            name=name, defaults={"beat_at": timezone.now(), "host": socket.gethostname()[:100], "pid": os.getpid()}
        )
