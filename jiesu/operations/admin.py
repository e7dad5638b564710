from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from jiesu.lib.admin import AccessAdmin

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


# django-axes' logs of login attempts hold user names and client addresses: superusers only, read-only.
def _security_logs(model: Any) -> Any:
    def visible(user: Any) -> QuerySet[Any]:
        rows: QuerySet[Any] = model.objects.all()
        return rows if getattr(user, "is_superuser", False) else rows.none()

    return visible


for _model in (AccessAttempt, AccessFailureLog, AccessLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, type(f"{_model.__name__}Admin", (AccessAdmin,), {"visible": _security_logs(_model)}))
