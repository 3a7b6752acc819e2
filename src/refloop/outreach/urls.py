"""The outreach pages, each module's own routes."""

from django.urls import path

from refloop.outreach import (
    analytics_views,
    calendar,
    event_pages,
    home,
    ledger_pages,
    log_views,
    relationship_views,
    settings_views,
    tasks_views,
    territory_views,
)

urlpatterns: list = [
    path("outreach/", home.home, name="outreach_home"),
    *log_views.urlpatterns,
    *calendar.urlpatterns,
    *ledger_pages.urlpatterns,
    *event_pages.urlpatterns,
    *tasks_views.urlpatterns,
    *analytics_views.urlpatterns,
    *relationship_views.urlpatterns,
    *territory_views.urlpatterns,
    *settings_views.urlpatterns,
]
