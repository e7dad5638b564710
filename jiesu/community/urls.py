from django.urls import path

from . import views

urlpatterns = [
    path("community/", views.home, name="community-home"),
    path("community/<str:code>/members/", views.registry, name="community-registry"),
    path("community/<str:code>/members/<str:op>/", views.registry_action, name="community-registry-action"),
    path("community/<str:code>/posts/", views.posts, name="community-posts"),
    path("community/<str:code>/demands/", views.demands, name="community-demands"),
    path("community/<str:code>/tasks/", views.task_list, name="community-tasks"),
    path("community/<str:code>/callouts/", views.callouts, name="community-callouts"),
    path("community/<str:code>/report/", views.report, name="community-report"),
    path("community/demand/<int:pk>/<str:op>/", views.demand_action, name="community-demand-action"),
    path("community/task/<int:pk>/", views.task_detail, name="community-task"),
    path("community/task/<int:pk>/<str:op>/", views.task_action, name="community-task-action"),
    path("community/callout/<int:pk>/", views.callout_detail, name="community-callout"),
    path("community/callout/<int:pk>/<str:op>/", views.callout_action, name="community-callout-action"),
    path("community/member/<int:pk>/", views.member_detail, name="community-member"),
    path("work-unit/community-report/", views.work_unit_report, name="work-unit-report"),
    path("m/", views.member_home, name="member-home"),
    path("m/task/<int:pk>/", views.member_task, name="member-task"),
    path("m/points/", views.member_points, name="member-points"),
    path("m/callouts/", views.member_callouts, name="member-callouts"),
    path("m/register/", views.member_register, name="member-register"),
    path("wish/", views.wish_new, name="wish-new"),
    path("wish/track/", views.wish_track, name="wish-track"),
]
