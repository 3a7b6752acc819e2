"""The outreach pages, each module's own routes."""

from django.urls import path

from refloop.outreach import calendar, home, log_views

urlpatterns: list = [
    path("outreach/", home.home, name="outreach_home"),
    *log_views.urlpatterns,
    *calendar.urlpatterns,
]
