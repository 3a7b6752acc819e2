"""The outreach pages, each module's own routes."""

from refloop.outreach import event_pages, ledger_pages

urlpatterns: list = [*ledger_pages.urlpatterns, *event_pages.urlpatterns]
