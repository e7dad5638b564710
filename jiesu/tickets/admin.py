"""Tickets in the admin are read-only: every state change goes through the service layer (the order pages).
Ticket lists here are restricted by `access.visible_tickets` like everywhere else."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jiesu.orgs import access

from .models import Assignment, Callback, ExtensionRequest, ReturnRequest, Ticket, TicketEvent


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["unit", "role", "is_current", "assigned_at", "report_in_due_at", "reported_in_at", "ended_at"]


class EventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ["created_at", "action", "actor", "actor_unit", "from_state", "to_state", "note", "data"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = [
        "number",
        "title",
        "category",
        "lead_unit",
        "dispatch_state",
        "public_status",
        "due_at",
        "overdue_at",
        "supervised",
    ]
    list_filter = ["dispatch_state", "public_status", "time_limit_class", "channel", "appeal_type", "supervised"]
    search_fields = ["number", "title"]
    list_select_related = ["category", "lead_unit"]
    exclude = ["requester", "idempotency_key"]
    inlines = [AssignmentInline, EventInline]
    date_hierarchy = "intake_at"

    def get_queryset(self, request: HttpRequest) -> Any:
        return access.visible_tickets(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin[TicketEvent]):
    list_display = ["created_at", "ticket", "action", "actor", "actor_unit", "from_state", "to_state"]
    list_filter = ["action"]
    list_select_related = ["ticket", "actor", "actor_unit"]
    raw_id_fields = ["ticket"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(ticket__in=access.visible_tickets(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


for model in (ReturnRequest, ExtensionRequest, Callback):
    admin.site.register(model, list_display=["ticket", "__str__"], raw_id_fields=["ticket"])
