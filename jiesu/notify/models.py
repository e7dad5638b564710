"""In-app notifications, made from the event outboxes (tickets, community service) by `jiesu worker`."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiesu.tickets.models import TicketEvent


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(
        TicketEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    community_event = models.ForeignKey(
        "community.CommunityEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="one_notification_per_event_user"),
            models.UniqueConstraint(fields=["community_event", "user"], name="one_notification_per_cevent_user"),
            models.CheckConstraint(
                condition=models.Q(event__isnull=True) ^ models.Q(community_event__isnull=True),
                name="notification_has_one_event",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ← {self.event}"
