"""Work in progress: replaced by the full page."""

from django.shortcuts import render
from django.urls import path

from refloop.core.roles import Capability
from refloop.workspace.access import staff_view


@staff_view(Capability.VIEW_REFERRALS)
def page(request):
    return render(request, "workspace/error.html", {"title": "outbound", "message": ""})


urlpatterns = [path("outbound/", page, name="outbound")]
