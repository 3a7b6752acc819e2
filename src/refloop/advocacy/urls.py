"""The advocacy pages: each part's routes, composed here.

The survey link's own route (/s/<code>/) comes last: any fixed page under /s/ (the survey, its
thank-you, becoming an advocate, offering a testimonial) must be matched before it.
"""

from django.urls import include, path

from refloop.advocacy import feedback_views, survey_views

urlpatterns: list = [
    *survey_views.urlpatterns,
    *feedback_views.urlpatterns,
    path("", include("refloop.advocacy.case_views")),  # and the portal's feedback page
    path("", include("refloop.advocacy.numbers_views")),
    path("", include("refloop.advocacy.testimonial_views")),
    path("", include("refloop.advocacy.advocate_urls")),
    # Keep last: s/<code>/ would swallow any fixed page under /s/ listed after it.
    *survey_views.link_urlpatterns,
]
