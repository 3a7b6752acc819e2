"""The analytics pages: the dashboard, its referrers table (htmx) and the drill-down."""

from django.urls import path

from refloop.analytics import drilldown, views

urlpatterns = [
    path("analytics/", views.dashboard_page, name="analytics_dashboard"),
    path("analytics/referrers/", views.referrers_fragment, name="analytics_referrers"),
    path("analytics/referrals/", drilldown.drilldown_page, name="analytics_drilldown"),
]
