"""A page with one chart of each kind, served only to the chart browser tests.

The page is rendered by its own template engine, so the test does not depend on
refloop.analytics being in INSTALLED_APPS; the test adds its static folder to the finders.
"""

from pathlib import Path

from django.http import HttpResponse
from django.template import Context, Engine
from django.urls import path

from refloop.analytics import charts

ANALYTICS_DIR = Path(charts.__file__).resolve().parent
ENGINE = Engine(
    dirs=[str(ANALYTICS_DIR / "templates")],
    libraries={
        "static": "django.templatetags.static",
        "analytics_charts": "refloop.analytics.templatetags.analytics_charts",
    },
)

PAGE = """{% load static analytics_charts %}<!doctype html>
<html lang="en" data-theme="light">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false}'>
  <title>Charts</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{% static 'vendor/pico.min.css' %}">
  <script src="{% static 'vendor/htmx.min.js' %}" defer></script>
  <script src="{% static 'vendor/echarts.min.js' %}" defer></script>
  <script src="{% static 'analytics/charts.js' %}" defer></script>
</head>
<body>
  <main class="container">
    <h1>Charts</h1>
    {% for spec in specs %}<section id="{{ spec.kind }}">{% chart spec height="300px" %}</section>{% endfor %}
    <button type="button" hx-get="/charts/more/" hx-target="#more">More</button>
    <div id="more"></div>
  </main>
</body>
</html>
"""

DRILLED = """<!doctype html><html lang="en"><head><title>Drilled</title><link rel="icon" href="data:,"></head>
<body><main><h1>Drilled</h1></main></body></html>"""

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def drill(**filters: str | int) -> str:
    return "/charts/drilled/?" + "&".join(f"{key}={value}" for key, value in filters.items())


def specs() -> list[dict]:
    """One spec of each kind, with known sizes the test counts on the page."""
    return [
        charts.line(
            "Referrals per month by source",
            MONTHS,
            {"Fax": [40, 42, None, 38, 45, 50], "Portal": [10, 14, 18, 22, 25, 31]},
            y_name="Referrals",
            drill={"Fax": [drill(source="fax", month=m) for m in MONTHS]},
            mark_line=45,
            mark_label="Capacity",
        ),
        charts.bar(
            "First contact within SLA by department",
            ["Spine", "Hand & Upper Extremity", "Joint Replacement"],
            {"Within SLA": [92.5, 81, 77.25]},
            y_name="% of referrals",
            percent=True,
            drill={"Within SLA": [drill(department=1), drill(department=2), drill(department=3)]},
            mark_line=90,
            mark_label="SLA target 90%",
        ),
        charts.funnel(
            "From receipt to a closed loop",
            ["Received", "Accepted", "Scheduled", "Seen", "Loop closed"],
            [400, 320, 280, 250, 210],
            [0, 80, 40, 30, 40],
            drill={"lost": [None, *[drill(stage=s) for s in range(1, 5)]]},
        ),
        charts.pareto(
            "Why referrals were declined",
            ["Out of network", "Missing records", "Wrong department", "Other"],
            [15, 50, 30, 5],
            drill=[drill(reason=r) for r in ("network", "records", "department", "other")],
        ),
        charts.sankey(
            "Transfers between departments",
            ["Spine", "Hand", "Pain"],
            [("Spine", "Hand", 12), ("Hand", "Spine", 7), ("Spine", "Pain", 20)],
            drill={("Spine", "Pain"): drill(origin=1, target=3)},
        ),
        charts.histogram(
            "Hours to first contact",
            ["0–4 h", "4–8 h", "8–24 h", "24–48 h", "48 h +"],
            [120, 80, 60, 25, 10],
            mark_line_at="8–24 h",
            mark_label="SLA",
        ),
        charts.donut(
            "Referrals by channel",
            ["Fax", "Portal", "Phone", "Email"],
            [120, 60, 30, 10],
            drill=[drill(channel=c) for c in ("fax", "portal", "phone", "email")],
        ),
    ]


def page(request):
    return HttpResponse(ENGINE.from_string(PAGE).render(Context({"specs": specs()})))


def more(request):
    spec = charts.bar("Swapped in", ["A", "B"], {"Count": [3, 4]}, y_name="Referrals")
    fragment = '{% load analytics_charts %}<section id="swapped">{% chart spec %}</section>'
    return HttpResponse(ENGINE.from_string(fragment).render(Context({"spec": spec})))


def drilled(request):
    return HttpResponse(DRILLED)


urlpatterns = [
    path("charts/", page),
    path("charts/more/", more),
    path("charts/drilled/", drilled),
]
