"""History import and export pages (admins): include with path("", include(...))."""

from refloop.history import views

urlpatterns = [*views.urlpatterns]
