from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from jiesu.assessment import views as assessment_views
from jiesu.integrations import telephony
from jiesu.integrations.api import api
from jiesu.integrations.urls import open311_urls
from jiesu.notify import views as notify_views
from jiesu.tickets import views as ticket_views
from jiesu.workbench import views as workbench_views

handler400 = "jiesu.operations.views.bad_request"
handler500 = "jiesu.operations.views.server_error"

urlpatterns = [
    # The machine interfaces first: they carry the volume, and Django tries the patterns in order.
    path("api/v1/", api.urls),
    path("open311/", include(open311_urls)),
    path("telephony/calls/", telephony.calls_endpoint, name="telephony-calls"),
    path("", include("jiesu.operations.urls")),
    path("", workbench_views.home, name="home"),
    path("", include("jiesu.workbench.urls")),
    path("", include("jiesu.governance.urls")),
    path("", include("jiesu.community.urls")),
    path("", include("jiesu.cadres.urls")),
    path("", include("jiesu.training.urls")),
    path("portal/", include("jiesu.portal.urls")),
    path("assessment/", include("jiesu.assessment.urls")),
    path("public/assessment/", assessment_views.public_page, name="assessment-public"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("notifications/", notify_views.notification_list, name="notifications"),
    path("notifications/read/", notify_views.mark_read, name="notifications-read"),
    path("notifications/<int:pk>/", notify_views.open_notification, name="notification-open"),
    path("tickets/", ticket_views.ticket_list, name="ticket-list"),
    path("tickets/new/", RedirectView.as_view(pattern_name="intake-console"), name="ticket-intake"),
    path("tickets/<int:pk>/", ticket_views.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/act/<str:action>/", ticket_views.ticket_action, name="ticket-action"),
]
