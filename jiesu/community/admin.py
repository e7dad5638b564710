"""Community records in the admin: limited to the communities the user runs or reads (`access`), read-only where
the services own the changes, members' phone numbers masked."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet

from jiesu.lib.admin import AccessAdmin
from jiesu.lib.masking import mask_phone

from . import access
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


def _in_area(model: Any, path: str = "community") -> Any:
    def visible(user: Any) -> QuerySet[Any]:
        found: QuerySet[Any] = model.objects.filter(**{f"{path}__in": access.community_report_area(user)})
        return found

    return visible


@admin.register(Compound)
class CompoundAdmin(AccessAdmin):
    visible = _in_area(Compound)
    editable = True
    list_display = ["name", "community", "is_grid", "lat", "lng"]
    raw_id_fields = ["community"]


@admin.register(ServicePost)
class ServicePostAdmin(AccessAdmin):
    visible = _in_area(ServicePost)
    editable = True
    list_display = ["name", "community", "skill", "capacity", "is_active"]
    raw_id_fields = ["community", "members"]


@admin.register(PartyMember)
class PartyMemberAdmin(AccessAdmin):
    """Read-only: registrations change through the community pages (services), which write the trail."""

    visible = _in_area(PartyMember)
    masked = {"phone": mask_phone}
    list_display = ["name", "phone", "community", "work_unit_name", "state"]
    list_filter = ["state"]


@admin.register(PointEntry)
class PointEntryAdmin(AccessAdmin):
    """The ledger is read-only; corrections are new entries from the member's page."""

    visible = _in_area(PointEntry, "member__community")
    list_display = ["at", "member", "reason", "points", "corrects"]
