from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["user", "event", "created_at", "read_at"]
    raw_id_fields = ["user", "event"]
    list_select_related = ["user", "event"]

    def has_add_permission(self, request: object) -> bool:
        return False
