"""refloop's URLs plus /bench/bare."""

from django.urls import path

from benchsite.views import bare_insert
from refloop.urls import urlpatterns as refloop_urlpatterns

urlpatterns = [*refloop_urlpatterns, path("bench/bare", bare_insert)]
