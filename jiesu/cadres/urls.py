from django.urls import path

from . import views

urlpatterns = [
    path("cadres/", views.home, name="cadre-home"),
    path("cadres/<int:pk>/", views.profile, name="cadre-profile"),
    path("cadres/<int:pk>/record/<str:figure>/", views.record_figure, name="cadre-figure"),
    path("cadres/<int:pk>/scores/<int:score_pk>/", views.item_score_tickets, name="cadre-score-tickets"),
    path("cadres/units/<str:code>/", views.unit_page, name="cadre-unit"),
    path("cadres/units/<str:code>/chain/", views.duty_chain, name="cadre-chain"),
    path("cadres/periods/<int:pk>/", views.period_page, name="cadre-period"),
    path("cadres/interviews/", views.interviews, name="cadre-interviews"),
    path("cadres/interviews/<int:pk>/", views.interview_page, name="cadre-interview"),
    path("cadres/flags/", views.flags, name="cadre-flags"),
    path("cadres/cases/", views.cases, name="cadre-cases"),
    path("cadres/cases/<int:pk>/", views.case_page, name="cadre-case"),
    path("cadres/tolerance/<int:pk>/", views.tolerance_page, name="cadre-tolerance"),
    path("cadres/challenges/", views.challenges, name="cadre-challenges"),
    path("cadres/challenges/<int:pk>/", views.challenge_page, name="cadre-challenge"),
    path("cadres/evaluations/<int:pk>/", views.evaluation_page, name="cadre-evaluation"),
    path("cadres/evaluations/<int:pk>/tickets/", views.evaluation_tickets, name="cadre-evaluation-tickets"),
    path("cadres/evaluations/<int:pk>/download.<str:fmt>", views.evaluation_download, name="cadre-evaluation-download"),
    path("cadres/honours/", views.honours, name="cadre-honours"),
    path("cadres/rewards/", views.rewards, name="cadre-rewards"),
    path("cadres/act/<str:op>/", views.act, name="cadre-act"),
]
