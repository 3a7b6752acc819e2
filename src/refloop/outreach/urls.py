"""The outreach pages, each module's own routes."""

from refloop.outreach import analytics_views, tasks_views

urlpatterns: list = [
    *tasks_views.urlpatterns,
    *analytics_views.urlpatterns,
]
