"""The analytics downloads: /analytics/export/<table key>.csv and /analytics/export/all.xlsx."""

from django.urls import path

from refloop.analytics import export_views

urlpatterns = [
    path("analytics/export/all.xlsx", export_views.export_xlsx, name="analytics_export_xlsx"),
    path("analytics/export/<slug:table>.csv", export_views.export_csv, name="analytics_export_csv"),
]
