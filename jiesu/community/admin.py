from django.contrib import admin

from .models import Compound, PartyMember, PointEntry, PointRule, ServicePost, Skill, StaffDuty


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin[Skill]):
    list_display = ["code", "name"]


@admin.register(StaffDuty)
class StaffDutyAdmin(admin.ModelAdmin[StaffDuty]):
    list_display = ["name", "community", "keywords"]


@admin.register(PointRule)
class PointRuleAdmin(admin.ModelAdmin[PointRule]):
    list_display = ["reason", "stars", "points", "community"]
    list_filter = ["reason"]


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin[Compound]):
    list_display = ["name", "community", "is_grid", "lat", "lng"]
    raw_id_fields = ["community"]


@admin.register(ServicePost)
class ServicePostAdmin(admin.ModelAdmin[ServicePost]):
    list_display = ["name", "community", "skill", "capacity", "is_active"]
    raw_id_fields = ["community", "members"]


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin[PartyMember]):
    """Read-only: registrations change through the community pages (services), which write the trail."""

    list_display = ["name", "community", "work_unit_name", "state"]
    list_filter = ["state"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(PointEntry)
class PointEntryAdmin(admin.ModelAdmin[PointEntry]):
    """The ledger is read-only; corrections are new entries from the member's page."""

    list_display = ["at", "member", "reason", "points", "corrects"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
