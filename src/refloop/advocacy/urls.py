"""The advocacy pages: each part's routes, composed here.

The survey link's own route (/s/<code>/) comes last: any fixed page under /s/ must be matched
before it.
"""

from refloop.advocacy import feedback_views, survey_views

urlpatterns: list = [
    *survey_views.urlpatterns,
    *feedback_views.urlpatterns,
    # Keep last: s/<code>/ would swallow any fixed page under /s/ listed after it.
    *survey_views.link_urlpatterns,
]
