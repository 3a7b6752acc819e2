from django.contrib import admin
from django.urls import include, path

from refloop.api import api
from refloop.web import edges
from refloop.workspace.mfa.views import admin_login

urlpatterns = [
    # Before the admin's own: its password-only form would be a second way in.
    path("favicon.ico", edges.favicon, name="favicon"),
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("refloop.workspace.urls")),
    path("", include("refloop.intake.urls")),
    path("", include("refloop.portal.urls")),
    path("", include("refloop.public.urls")),
    path("", include("refloop.messaging.urls")),
    path("", include("refloop.messaging.outbox_views")),
    path("", include("refloop.messaging.settings_views")),
    path("", include("refloop.messaging.patient_views")),
    path("", include("refloop.history.urls")),
    path("", include("refloop.outreach.urls")),
    path("", include("refloop.advocacy.urls")),
    path("", include("refloop.analytics.export_urls")),
    path("", include("refloop.analytics.urls")),
    path("", include("refloop.analytics.scorecard_urls")),
]

# Browser routes get these pages in the shell's look; /api/ gets its JSON error shape.
handler403 = edges.permission_denied
handler404 = edges.page_not_found
handler500 = edges.server_error
