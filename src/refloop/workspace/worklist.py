"""Work in progress: replaced by the full page."""

from django.shortcuts import render
from django.urls import path

from refloop.core.roles import Capability
from refloop.workspace.access import staff_view


@staff_view(Capability.VIEW_REFERRAL_SUMMARIES)
def page(request):
    return render(request, "workspace/error.html", {"title": "worklist", "message": ""})


urlpatterns = [path("referrals/", page, name="worklist")]
