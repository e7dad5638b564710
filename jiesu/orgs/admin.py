from django.contrib import admin

from .models import Membership, OrgUnit, PlaceHint


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin[OrgUnit]):
    list_display = ["code", "name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "short_name"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
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
