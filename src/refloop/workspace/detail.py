"""Work in progress: replaced by the full page."""

from django.shortcuts import render
from django.urls import path

from refloop.core.roles import Capability
from refloop.referrals.selectors import get_referral
from refloop.workspace.access import staff_view


@staff_view(Capability.VIEW_REFERRAL_SUMMARIES)
def page(request, pk: int):
    referral = get_referral(request.user, pk)
    return render(request, "workspace/error.html", {"title": referral.number, "message": ""})


urlpatterns = [path("referrals/<int:pk>/", page, name="referral_detail")]
