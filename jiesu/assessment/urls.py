from django.urls import path

from . import views

urlpatterns = [
    path("", views.report_page, name="assessment-report"),
    path("act/", views.act, name="assessment-act"),
    path("appeals/", views.appeals_page, name="assessment-appeals"),
    path("appeals/<int:pk>/decide/", views.decide_appeal, name="assessment-decide"),
    path("appeal/<int:ticket_id>/", views.file_appeal, name="assessment-file-appeal"),
    path("<int:pk>/download.<str:fmt>", views.download, name="assessment-download"),
    path("<int:pk>/units/<str:code>/", views.unit_page, name="assessment-unit"),
]
