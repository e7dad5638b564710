"""The admin of the cadre module. Personnel records are read-only here and every queryset goes through
`jiesu.cadres.access`: an admin user sees exactly what the pages show them, and a record outside that answers 404
(not the admin's usual redirect). Changes go through the pages (services), which write the trail. Only the
configuration (flag rules, fault-tolerance grounds) is edited here."""

from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse

from jiesu.lib.admin import AccessAdmin

from . import access
from .models import (
    AccountabilityCase,
    CadreEvent,
    CadreProfile,
    ChallengeTask,
    Correction,
    Evaluation,
    EvaluationRule,
    Flag,
    FlagRule,
    Interview,
    ItemScore,
    ResponsibilityItem,
    RewardRule,
    RubricRow,
    ToleranceCase,
    ToleranceGround,
)


class ReadOnly(AccessAdmin):
    """Read-only (AccessAdmin), scoped by `visible(user)`; the cadre scope decides who may view at all."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff and access.sees_cadre_pages(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if self.get_object(request, object_id) is None:
            raise Http404
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(CadreProfile)
class CadreProfileAdmin(ReadOnly):
    list_display = ["user", "unit", "post", "ladder", "level", "party_member", "started_on"]
    list_filter = ["ladder", "party_member"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return access.visible_profiles(user)


@admin.register(ResponsibilityItem)
class ResponsibilityItemAdmin(ReadOnly):
    list_display = ["unit", "post", "title", "dimension", "measure", "metric", "target", "weight", "effective_from"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return ResponsibilityItem.objects.filter(unit__in=access.personnel_units(user))


@admin.register(ItemScore)
class ItemScoreAdmin(ReadOnly):
    list_display = ["period", "profile", "item", "actual", "points", "weight", "frozen"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return ItemScore.objects.filter(profile__in=access.visible_profiles(user))


@admin.register(Correction)
class CorrectionAdmin(ReadOnly):
    list_display = ["at", "profile", "item_score", "old_points", "new_points", "reason"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return Correction.objects.filter(profile__in=access.flag_profiles(user))


@admin.register(Interview)
class InterviewAdmin(ReadOnly):
    list_display = ["month", "unit", "scheduled_for", "state"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return Interview.objects.filter(unit__in=access.personnel_units(user))


@admin.register(Flag)
class FlagAdmin(ReadOnly):
    list_display = ["created_at", "profile", "rule", "count", "state"]
    list_filter = ["state"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return Flag.objects.filter(profile__in=access.flag_profiles(user))


@admin.register(AccountabilityCase)
class AccountabilityCaseAdmin(ReadOnly):
    list_display = ["opened_at", "profile", "state", "retention_until"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return AccountabilityCase.objects.filter(profile__in=access.flag_profiles(user))


@admin.register(ToleranceCase)
class ToleranceCaseAdmin(ReadOnly):
    list_display = ["applied_at", "profile", "state", "tolerated"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return ToleranceCase.objects.filter(profile__in=access.flag_profiles(user))


@admin.register(ChallengeTask)
class ChallengeTaskAdmin(ReadOnly):
    list_display = ["title", "area", "deadline", "state", "leader"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        from . import selectors

        return selectors.challenges(user)


@admin.register(CadreEvent)
class CadreEventAdmin(ReadOnly):
    list_display = ["at", "action", "profile", "actor"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        profiles = access.flag_profiles(user)
        if access.is_operator(user):
            return CadreEvent.objects.all()
        return CadreEvent.objects.filter(profile__in=profiles)


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnly):
    list_display = ["profile", "starts_on", "ends_on", "state", "result"]

    @staticmethod
    def visible(user: Any) -> Any:  # type: ignore[override]
        return Evaluation.objects.filter(profile__in=access.visible_profiles(user))


@admin.register(RubricRow)
class RubricRowAdmin(admin.ModelAdmin[RubricRow]):
    """Configuration: the 担当作为 rubric, versioned by `effective_from` (add a new version, never edit a used one)."""

    list_display = ["effective_from", "dimension", "title", "weight", "scale", "metric", "target"]


@admin.register(EvaluationRule)
class EvaluationRuleAdmin(admin.ModelAdmin[EvaluationRule]):
    list_display = ["effective_from", "weight_self", "weight_leader", "weight_residents"]


@admin.register(RewardRule)
class RewardRuleAdmin(admin.ModelAdmin[RewardRule]):
    """Configuration: the reward per period from the published ranking."""

    list_display = ["name", "effective_from", "group", "top_n", "amount", "active"]


@admin.register(FlagRule)
class FlagRuleAdmin(admin.ModelAdmin[FlagRule]):
    """Configuration: the patterns discipline inspection is shown (superusers edit it)."""

    list_display = ["kind", "threshold", "window_days", "active", "note"]


@admin.register(ToleranceGround)
class ToleranceGroundAdmin(admin.ModelAdmin[ToleranceGround]):
    """Configuration: the 三个区分开来 and the 容误 lists an application may state."""

    list_display = ["key", "kind", "label", "active"]
