"""Notifications in the admin: each user's own only (a superuser's: all but other people's private ones), read-only."""

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet

from jiesu.lib.admin import AccessAdmin

from . import outbox
from .models import Notification


def _own(user: Any) -> QuerySet[Notification]:
    """A user's own; a superuser's: all, except other people's lines from private sources (care alerts)."""
    notifications = Notification.objects.all()
    if not getattr(user, "is_superuser", False):
        return notifications.filter(user_id=user.pk)
    return notifications.exclude(Q(source__in=outbox.private_sources()) & ~Q(user_id=user.pk))


@admin.register(Notification)
class NotificationAdmin(AccessAdmin):
    visible = _own
    list_display = ["user", "event", "source", "source_id", "created_at", "read_at"]
    raw_id_fields = ["user", "event"]
    list_select_related = ["user", "event"]
