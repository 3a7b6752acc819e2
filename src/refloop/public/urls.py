"""Pages of the public app (being built)."""

urlpatterns: list = []
