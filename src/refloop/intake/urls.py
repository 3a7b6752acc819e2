"""Document intake pages: the queue, review and quarantine."""

from refloop.intake import views

urlpatterns = [*views.urlpatterns]
