from django.urls import path

from . import views

urlpatterns = [
    path("training/", views.home, name="training-home"),
    path("training/cases/", views.case_list, name="training-cases"),
    path("training/cases/lost-points/", views.lost_points, name="training-lost-points"),
    path("training/cases/make/", views.make_cases, name="training-make-cases"),
    path("training/cases/<int:pk>/", views.case_detail, name="training-case"),
    path("training/cases/<int:pk>/edit/", views.case_edit, name="training-case-edit"),
    path("training/courses/", views.course_overview, name="training-courses"),
    path("training/courses/<int:pk>/", views.course_detail, name="training-course"),
    path("training/courses/<int:pk>/<str:op>/", views.course_action, name="training-course-action"),
    path("training/courses/<int:pk>/cases/<int:case_pk>/", views.practice_case, name="training-practice"),
    path("training/plans/<int:pk>/join/", views.plan_join, name="training-plan-join"),
    path("training/enrolments/<int:pk>/survey/<str:wave>/", views.survey, name="training-survey"),
    path("training/people/<int:pk>/", views.record, name="training-record"),
    path("care/", views.care_home, name="care-home"),
    path("care/people/<int:pk>/", views.care_person, name="care-person"),
    path("care/people/<int:pk>/talk/", views.care_talk, name="care-talk-new"),
    path("care/talks/<int:pk>/", views.talk_detail, name="care-talk"),
    path("care/alerts/<int:pk>/close/", views.care_alert_close, name="care-alert-close"),
    path("care/context/", views.care_context, name="care-context"),
    path("care/abusive/", views.abusive, name="care-abusive"),
]
