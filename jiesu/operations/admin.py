from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ScheduledJob


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin[ScheduledJob]):
    """Read only: the worker owns the schedule. The runs themselves are under Task Results (django-tasks-db)."""

    list_display = ["name", "last_enqueued_at", "last_result_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
