"""The advocacy pages: each part's routes, composed here.

The survey link's own route (/s/<code>/) comes last: any fixed page under /s/ must be matched
before it.
"""

from django.urls import include, path

urlpatterns: list = [
    path("", include("refloop.advocacy.case_views")),  # and the portal's feedback page
    path("", include("refloop.advocacy.numbers_views")),
    path("", include("refloop.advocacy.testimonial_views")),
    path("", include("refloop.advocacy.advocate_urls")),
]
