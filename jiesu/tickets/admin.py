"""Tickets in the admin are read-only: every state change goes through the service layer (the order pages).
Every list here is restricted by `access.visible_tickets` like everywhere else, and free text is masked."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet

from jiesu.lib.admin import AccessAdmin, ReadOnlyInline, masked_text
from jiesu.tickets import access

from .models import Assignment, Callback, DeclineReason, ExtensionRequest, ReturnRequest, Ticket, TicketEvent


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["unit", "role", "is_current", "assigned_at", "report_in_due_at", "reported_in_at", "ended_at"]


class EventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ["created_at", "action", "actor", "actor_unit", "from_state", "to_state", "note"]
    masked = {"note": masked_text, "data": masked_text}


@admin.register(Ticket)
class TicketAdmin(AccessAdmin):
    visible = access.visible_tickets
    masked = {"title": masked_text, "content": masked_text, "address": masked_text, "reply": masked_text}
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
    search_fields = ["number"]
    list_select_related = ["category", "lead_unit"]
    exclude = ["requester", "idempotency_key"]
    inlines = [AssignmentInline, EventInline]
    date_hierarchy = "intake_at"


@admin.register(TicketEvent)
class TicketEventAdmin(AccessAdmin):
    visible = access.visible_events
    masked = {"note": masked_text, "data": masked_text}
    list_display = ["created_at", "ticket", "action", "actor", "actor_unit", "from_state", "to_state"]
    list_filter = ["action"]
    list_select_related = ["ticket", "actor", "actor_unit"]
    raw_id_fields = ["ticket"]


def _of_visible_tickets(model: Any) -> Any:
    def visible(user: Any) -> QuerySet[Any]:
        found: QuerySet[Any] = model.objects.filter(
            ticket__in=access.visible_tickets(user).values("pk")
        ).select_related("ticket")
        return found

    return visible


@admin.register(ReturnRequest)
class ReturnRequestAdmin(AccessAdmin):
    visible = _of_visible_tickets(ReturnRequest)
    list_display = ["ticket", "__str__"]
    raw_id_fields = ["ticket"]
    masked = {"reason": masked_text, "decision_note": masked_text}


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(AccessAdmin):
    visible = _of_visible_tickets(ExtensionRequest)
    list_display = ["ticket", "__str__"]
    raw_id_fields = ["ticket"]
    masked = {"reason": masked_text, "decision_note": masked_text}


@admin.register(Callback)
class CallbackAdmin(AccessAdmin):
    visible = _of_visible_tickets(Callback)
    list_display = ["ticket", "__str__"]
    raw_id_fields = ["ticket"]
    masked = {"comment": masked_text}


@admin.register(DeclineReason)
class DeclineReasonAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The published list of 不予受理 reasons (reference data, edited by administrators)."""

    list_display = ("code", "title", "ordering", "is_active")
    list_editable = ("ordering", "is_active")
