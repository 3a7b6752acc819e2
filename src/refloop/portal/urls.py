"""Pages of the portal app (being built)."""

urlpatterns: list = []
