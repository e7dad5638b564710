"""Admin: the thresholds, the rubric and the plans are data an administrator sets. Care alerts, talks and the
cadres' context are deliberately not in the admin: only the people concerned read them (see access.py)."""

from django.contrib import admin

from .models import CareSettings, ReplyRubric, TrainingPlan


@admin.register(CareSettings)
class CareSettingsAdmin(admin.ModelAdmin[CareSettings]):
    list_display = ("effective_from", "window_days", "load_ratio", "days_without_rest", "min_signals")


@admin.register(ReplyRubric)
class ReplyRubricAdmin(admin.ModelAdmin[ReplyRubric]):
    list_display = ("name", "is_active", "created_at")


@admin.register(TrainingPlan)
class TrainingPlanAdmin(admin.ModelAdmin[TrainingPlan]):
    list_display = ("name", "role", "stage", "is_active")
