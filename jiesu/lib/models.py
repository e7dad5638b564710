"""Model bases shared by the apps."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnly(models.Model):
    """A record that is written once and never changed or deleted: the event trails (tickets, assessment) and the
    model-activation log. Corrections are new rows. (Bulk `QuerySet.update` is left to the one service allowed
    to do bookkeeping, e.g. the outbox's `notified_at`.)"""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError(f"{type(self)._meta.verbose_name} is immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError(f"{type(self)._meta.verbose_name} is immutable")


class Throttle(models.Model):
    """How often one client (an address and action, or an API client) did one thing in one hour: the rate limits of
    the portal, the community's public pages and the API (`jiesu.lib.throttle`). Old rows are pruned."""

    key = models.CharField(_("key"), max_length=100)
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")
        constraints = [models.UniqueConstraint(fields=["key", "hour"], name="throttle_key_hour")]

    def __str__(self) -> str:
        return f"{self.key} {self.hour:%Y-%m-%d %H}: {self.count}"


class Milestone(models.Model):
    """A dated step of a plan (a monthly topic's, a 揭榜 task's): what, by when, and when it was reached."""

    title = models.CharField(_("milestone"), max_length=200)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("reached on"), null=True, blank=True)

    class Meta:
        abstract = True
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title
