"""The outreach pages, each module's own routes."""

from refloop.outreach import relationship_views, settings_views, territory_views

urlpatterns: list = [
    *relationship_views.urlpatterns,
    *territory_views.urlpatterns,
    *settings_views.urlpatterns,
]
