"""The outreach pages, each module's own routes."""

from refloop.outreach import analytics_views, event_pages, ledger_pages, tasks_views

urlpatterns: list = [
    *ledger_pages.urlpatterns,
    *event_pages.urlpatterns,
    *tasks_views.urlpatterns,
    *analytics_views.urlpatterns,
]
