"""Work in progress: replaced by the full page."""

from django.shortcuts import render
from django.urls import path

from refloop.core.roles import Capability
from refloop.workspace.access import staff_view


@staff_view(Capability.CREATE_REFERRALS)
def page(request):
    return render(request, "workspace/error.html", {"title": "intake", "message": ""})


urlpatterns = [path("intake/", page, name="intake")]
