"""Notifications in the admin: each user's own only (a superuser's: all), read-only."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet

from jiesu.lib.admin import AccessAdmin

from .models import Notification


def _own(user: Any) -> QuerySet[Notification]:
    notifications = Notification.objects.all()
    return notifications if getattr(user, "is_superuser", False) else notifications.filter(user_id=user.pk)


@admin.register(Notification)
class NotificationAdmin(AccessAdmin):
    visible = _own
    list_display = ["user", "event", "source", "source_id", "created_at", "read_at"]
    raw_id_fields = ["user", "event"]
    list_select_related = ["user", "event"]
