from django.urls import path

from . import views

urlpatterns = [
    path("governance/hotspots/", views.hotspot_list, name="hotspot-list"),
    path("governance/hotspots/<int:pk>/", views.hotspot_detail, name="hotspot-detail"),
    path("governance/hotspots/<int:pk>/topic/", views.hotspot_to_topic, name="hotspot-to-topic"),
    path("governance/topics/", views.topic_list, name="topic-list"),
    path("governance/topics/<int:pk>/", views.topic_detail, name="topic-detail"),
    path("governance/topics/<int:pk>/<str:op>/", views.topic_change, name="topic-change"),
    path("governance/proposals/", views.proposal_list, name="proposal-list"),
    path("governance/proposals/<int:pk>/<str:decision>/", views.proposal_decide, name="proposal-decide"),
    path("knowledge/", views.knowledge, name="knowledge"),
    path("knowledge/from-ticket/<int:pk>/", views.knowledge_from_ticket, name="knowledge-from-ticket"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/data.json", views.dashboard_data, name="dashboard-data"),
]
