"""The worker's schedule: when each periodic task was last enqueued (one row per registered task)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.Model):
    """Claimed with a compare-and-set on `last_enqueued_at`, so two workers never enqueue the same job twice."""

    name = models.CharField(_("job"), max_length=50, unique=True)
    last_enqueued_at = models.DateTimeField(_("last enqueued at"), null=True, blank=True)
    last_result_id = models.CharField(_("last task result"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
