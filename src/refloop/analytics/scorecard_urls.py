"""URL patterns of the referrer scorecards and the monthly management report's download."""

from django.urls import path, re_path

from refloop.analytics import scorecard_views as views

urlpatterns = [
    path("analytics/scorecards/", views.scorecard_index, name="analytics_scorecards"),
    path("analytics/scorecards/<int:practice_id>/", views.scorecard, name="analytics_scorecard"),
    path(
        "analytics/scorecards/<int:practice_id>.pdf",
        views.scorecard_pdf,
        name="analytics_scorecard_pdf",
    ),
    path(
        "analytics/scorecards/<int:practice_id>/send",
        views.scorecard_send,
        name="analytics_scorecard_send",
    ),
    # Any text before .pdf reaches the view, so a mistyped month gets a sentence, not a 404.
    re_path(
        r"^analytics/report/(?P<month>[^/]+)\.pdf$",
        views.report_pdf,
        name="analytics_report_pdf",
    ),
]
