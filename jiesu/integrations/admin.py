from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiesu.lib.admin import AccessAdmin
from jiesu.orgs.access import sees_everything
from jiesu.tickets import access as ticket_access

from .models import ApiClient, RequesterUpdate, ServiceAttribute, WebhookDelivery, WebhookSubscription


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin[ApiClient]):
    """A key is made when the client is added (and by "issue a new key"); it is shown once, then only its hash is
    kept."""

    list_display = ["name", "key_prefix", "user", "rate_limit_per_hour", "is_active", "created_at", "revoked_at"]
    list_filter = ["is_active"]
    readonly_fields = ["key_prefix", "created_at", "revoked_at"]
    autocomplete_fields = ["user"]
    actions = ["revoke", "issue_new_key"]

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        key = obj.issue_key() if not change else None
        super().save_model(request, obj, form, change)
        if key:
            messages.warning(request, _("The key of %(name)s, shown only now: %(key)s") % {"name": obj, "key": key})

    @admin.action(description=_("Revoke the selected clients' keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        queryset.filter(is_active=True).update(is_active=False, revoked_at=timezone.now())

    @admin.action(description=_("Issue a new key (the old one stops working)"))
    def issue_new_key(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            key = client.issue_key()
            client.save(update_fields=["key_prefix", "key_hash"])
            messages.warning(request, _("The key of %(name)s, shown only now: %(key)s") % {"name": client, "key": key})


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin[ServiceAttribute]):
    list_display = ["category_code", "order", "code", "datatype", "required", "description"]
    search_fields = ["category_code", "code", "description"]


class DeliveryInline(admin.TabularInline[WebhookDelivery, WebhookSubscription]):
    model = WebhookDelivery
    fields = ["attempted_at", "event", "attempt", "ok", "status_code", "error", "duration_ms"]
    readonly_fields = ["attempted_at", "event", "attempt", "ok", "status_code", "error", "duration_ms"]
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("event")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin[WebhookSubscription]):
    list_display = ["client", "url", "is_active", "cursor", "failures", "next_attempt_at"]
    readonly_fields = ["failures", "next_attempt_at", "last_error", "created_at"]
    inlines = [DeliveryInline]


def _deliveries(user: Any) -> QuerySet[WebhookDelivery]:
    """Delivery attempts carry events of every ticket: the city level only."""
    deliveries = WebhookDelivery.objects.all()
    return deliveries if sees_everything(user) else deliveries.none()


def _requester_updates(user: Any) -> QuerySet[RequesterUpdate]:
    return RequesterUpdate.objects.filter(ticket__in=ticket_access.visible_tickets(user).values("pk"))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AccessAdmin):
    visible = _deliveries
    list_display = ["attempted_at", "subscription", "event", "attempt", "ok", "status_code", "error", "duration_ms"]
    list_filter = ["ok", "subscription"]


@admin.register(RequesterUpdate)
class RequesterUpdateAdmin(AccessAdmin):
    visible = _requester_updates
    list_display = ["created_at", "client", "ticket", "update_id"]
