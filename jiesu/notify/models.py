"""In-app notifications, made from the event outboxes by `jiesu worker`.

A notification hangs either on a `tickets.TicketEvent` (the hot path: a foreign key, joined for the list) or on a
generic source: the name another app registered with `notify.outbox.register_source` ("community", "care", …), the
id of its record and when it happened. That app says how the line reads and where it leads (its `describe`), so
`notify` never imports the apps above it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.tickets.models import TicketEvent


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(
        TicketEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    source = models.CharField(_("source"), max_length=40, blank=True, default="")
    source_id = models.PositiveBigIntegerField(_("source record"), null=True, blank=True)
    source_at = models.DateTimeField(_("happened"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="one_notification_per_event_user"),
            models.UniqueConstraint(fields=["source", "source_id", "user"], name="one_notification_per_source_user"),
            models.CheckConstraint(
                condition=(models.Q(event__isnull=False, source="", source_id__isnull=True))
                | (models.Q(event__isnull=True, source_id__isnull=False) & ~models.Q(source="")),
                name="notification_has_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ← {self.event or f'{self.source}:{self.source_id}'}"
