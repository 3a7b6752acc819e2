"""The outreach pages, each module's own routes."""

urlpatterns: list = []
