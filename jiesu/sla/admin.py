from django.contrib import admin

from .models import TimeLimitPolicy, WorkCalendarDay


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin[WorkCalendarDay]):
    list_display = ["date", "is_workday", "name", "source"]
    list_filter = ["is_workday", "source"]
    date_hierarchy = "date"


@admin.register(TimeLimitPolicy)
class TimeLimitPolicyAdmin(admin.ModelAdmin[TimeLimitPolicy]):
    list_display = [
        "time_limit_class",
        "category",
        "amount",
        "unit",
        "accept_within_hours",
        "return_within_hours",
        "report_in_minutes",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["time_limit_class", "unit"]
    raw_id_fields = ["category"]
