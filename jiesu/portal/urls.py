from django.urls import path

from . import views

urlpatterns = [
    path("", views.submit, name="portal-submit"),
    path("submitted/", views.submitted, name="portal-submitted"),
    path("track/", views.track, name="portal-track"),
    path("rate/", views.rate, name="portal-rate"),
    path("appeal/", views.appeal_decline, name="portal-appeal-decline"),
    path("declined/", views.declined_digest, name="portal-declined"),
]
