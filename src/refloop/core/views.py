"""The landing page: where to go until the coordinator workspace exists."""

from django.shortcuts import render

from refloop.practice.models import Organization


def home(request):
    organization = Organization.objects.filter(pk=1).first()
    return render(request, "core/home.html", {"organization": organization})
