"""In-app notifications, made from the ticket event outbox by `jiesu worker`."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.tickets.models import TicketEvent


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(TicketEvent, on_delete=models.PROTECT, related_name="notifications")
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_notification_per_event_user")]

    def __str__(self) -> str:
        return f"{self.user} ← {self.event}"
