from django.contrib import admin

from .models import Category, DispatchRule, KnowledgeEntry


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = [
        "code",
        "name",
        "level",
        "parent",
        "time_limit_class",
        "owner_kind",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["level", "time_limit_class", "owner_kind"]
    search_fields = ["code", "name", "keywords"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin[DispatchRule]):
    list_display = [
        "category",
        "area",
        "lead_unit",
        "lead_is_area_street",
        "street_assists",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["lead_is_area_street"]
    search_fields = ["category__name", "category__code", "lead_unit__name"]
    raw_id_fields = ["category", "area", "lead_unit"]
    filter_horizontal = ["assist_units"]
    list_select_related = ["category", "area", "lead_unit"]


@admin.register(KnowledgeEntry)
class KnowledgeEntryAdmin(admin.ModelAdmin[KnowledgeEntry]):
    list_display = ["title", "category", "owner_unit", "valid_until", "source_ticket", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["title", "answer", "keywords", "policy_basis", "source_ticket"]
    raw_id_fields = ["category", "owner_unit"]
