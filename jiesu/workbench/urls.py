from django.urls import path

from . import views

urlpatterns = [
    path("intake/", views.intake_console, name="intake-console"),
    path("intake/assist/", views.intake_assist, name="intake-assist"),
    path("dispatch/", views.dispatch_desk, name="dispatch-desk"),
    path("inbox/", views.unit_inbox, name="unit-inbox"),
    path("callbacks/", views.callback_worklist, name="callback-worklist"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/overview/", views.overview, name="overview"),
    path("assistant/", views.assistant_settings, name="assistant-settings"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
