"""The advocacy pages: each part's routes, composed here."""

urlpatterns: list = []
