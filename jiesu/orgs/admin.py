from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from jiesu.lib.admin import AccessAdmin

from . import access
from .models import Membership, OrgUnit, PlaceHint


def _memberships(user: Any) -> QuerySet[Membership]:
    """Who works where: the staff of the units the user sees (all of them for the city level)."""
    return Membership.objects.filter(unit__in=access.units_visible_to(user))


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin[OrgUnit]):
    list_display = ["code", "name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "short_name"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(Membership)
class MembershipAdmin(AccessAdmin):
    visible = _memberships
    editable = True
    list_display = ["user", "unit", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "unit__name"]
    raw_id_fields = ["user", "unit"]
    list_select_related = ["user", "unit"]


@admin.register(PlaceHint)
class PlaceHintAdmin(admin.ModelAdmin[PlaceHint]):
    list_display = ["text", "unit", "kind", "is_active", "note"]
    list_filter = ["kind", "is_active"]
    search_fields = ["text", "unit__name"]
    raw_id_fields = ["unit"]
    list_select_related = ["unit"]


class StaffUserAdmin(UserAdmin):  # type: ignore[type-arg]
    """Logins: a superuser sees all; other staff see the logins of the units they see (Party members' logins, whose
    usernames are phone numbers, have no unit and so are listed to superusers only)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        users = super().get_queryset(request)
        if getattr(request.user, "is_superuser", False):
            return users
        return users.filter(membership__unit__in=access.units_visible_to(request.user))


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), StaffUserAdmin)
