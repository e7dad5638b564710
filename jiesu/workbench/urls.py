from django.urls import path

from . import views

urlpatterns = [
    path("intake/", views.intake_console, name="intake-console"),
    path("intake/assist/", views.intake_assist, name="intake-assist"),
    path("intake/calls/", views.intake_calls, name="intake-calls"),
    path("intake/missed/", views.missed_calls, name="missed-calls"),
    path("intake/ratings/", views.call_ratings, name="call-ratings"),
    path("dispatch/", views.dispatch_desk, name="dispatch-desk"),
    path("dispatch/batch/", views.dispatch_batch, name="dispatch-batch"),
    path("inbox/", views.unit_inbox, name="unit-inbox"),
    path("callbacks/", views.callback_worklist, name="callback-worklist"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/overview/", views.overview, name="overview"),
    path("units/picker/", views.unit_picker, name="unit-picker"),
    path("assistant/", views.assistant_settings, name="assistant-settings"),
    path("export/<str:name>.<str:fmt>", views.export_list, name="export-list"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
