"""(being written)"""

from django.http import Http404
from django.urls import path


def magic_link(request, token: str):
    raise Http404


urlpatterns = [path("p/<str:token>/", magic_link, name="magic_link")]
