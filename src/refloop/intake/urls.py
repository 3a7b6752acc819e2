"""Pages of the intake app (being built)."""

urlpatterns: list = []
