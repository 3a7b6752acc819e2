"""Charts in a real browser: ECharts draws every kind, a click drills down, htmx swaps redraw.

The page (tests/browser/chart_urls.py) holds one chart of each kind built by
refloop.analytics.charts; the counts below are of the SVG shapes ECharts draws for that data,
so they fail if charts.js or ECharts did not run.
"""

from pathlib import Path

import pytest

import refloop.analytics
from refloop.analytics.charts import LOST_COLOR, PALETTE, REACHED_COLOR
from tests.browser.charts import click_mark
from tests.browser.conftest import assert_accessible

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.browser.chart_urls"),
]

BLUE, ORANGE = PALETTE[0], PALETTE[1]


@pytest.fixture(autouse=True)
def _analytics_static(settings):
    # Until refloop.analytics is an installed app its static folder is not found by the
    # app finder; the live server's static handler uses the finders.
    if "refloop.analytics" not in settings.INSTALLED_APPS:
        settings.STATICFILES_DIRS = [Path(refloop.analytics.__file__).parent / "static"]


@pytest.fixture
def chart_page(page):
    """The chart page, loaded, with every console error and uncaught exception collected."""
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto("/charts/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg'))"
    )
    return page


def count(page, selector: str) -> int:
    return page.locator(selector).count()


def paths(section: str, fill: str, stroke: str | None = None) -> str:
    selector = f'#{section} .chart svg path[fill="{fill}"]'
    return selector + (f'[stroke="{stroke}"]' if stroke else ":not([stroke])")


def test_every_kind_of_chart_is_drawn_as_svg(chart_page):
    page = chart_page
    assert count(page, ".chart svg") == 7
    # Line: Fax has 5 points and a gap, Portal 6 points; one more circle each in the legend.
    assert count(page, paths("line", "#fff", BLUE)) == 5 + 1
    assert count(page, paths("line", "#fff", ORANGE)) == 6 + 1
    assert page.locator("#line svg text", has_text="Capacity").count() == 1
    # Bar: three departments, one series, no legend.
    assert count(page, paths("bar", BLUE)) == 3
    assert page.locator("#bar svg text", has_text="SLA target 90%").count() == 1
    # Funnel: five stages of reached and of lost (one of them empty), plus their legend keys.
    assert count(page, paths("funnel", REACHED_COLOR)) == 5 + 1
    assert count(page, paths("funnel", LOST_COLOR)) == 5 + 1
    # Pareto: four bars and four points of the cumulative line, plus legend keys.
    assert count(page, paths("pareto", BLUE)) == 4 + 1
    assert count(page, paths("pareto", "#fff", LOST_COLOR)) == 4 + 1
    bars = page.locator("#pareto svg text").all_text_contents()
    assert bars.index("Missing records") < bars.index("Wrong department") < bars.index("Other")
    # Sankey: five nodes (Spine and Hand on both sides, labelled plainly) and three flows.
    labels = page.locator("#sankey svg text").all_text_contents()
    assert sorted(labels) == ["Hand", "Hand", "Pain", "Spine", "Spine"]
    assert count(page, '#sankey svg path[fill^="url("]') == 3
    # Histogram: five bins and the SLA line's label.
    assert count(page, paths("histogram", BLUE)) == 5
    assert page.locator("#histogram svg text", has_text="SLA").count() == 1
    # Donut: four sectors, labelled with the table's shares.
    assert count(page, "#donut .chart svg path:not([stroke])") == 4
    assert "Email: 4.6%" in page.locator("#donut svg text").all_text_contents()
    assert page.locator("#donut td", has_text="4.6%").count() == 1

    # The browser context asks for reduced motion.
    assert (
        page.evaluate(
            "() => echarts.getInstanceByDom(document.querySelector('#bar .chart'))"
            ".getOption().animation"
        )
        is False
    )
    assert page.errors == []


def test_the_chart_page_is_accessible_with_its_tables_open(chart_page):
    page = chart_page
    for summary in page.locator("summary", has_text="Show as table").all():
        summary.click()
    assert page.get_by_role(
        "img", name="Referrals by channel. Donut chart of 220 in all"
    ).is_visible()
    assert page.get_by_role("link", name="120").first.is_visible()
    assert_accessible(page)
    assert page.errors == []


def test_clicking_a_bar_opens_its_drill_url(chart_page):
    page = chart_page
    click_mark(page, page.locator(paths("bar", BLUE)).nth(1))
    page.wait_for_url("**/charts/drilled/?department=2")
    assert page.errors == []


def test_clicking_a_sankey_flow_opens_its_drill_url(chart_page):
    page = chart_page
    flows = page.locator('#sankey svg path[fill^="url("]')
    # Only Spine → Pain, the widest flow, has a drill URL.
    widest = max(range(flows.count()), key=lambda i: flows.nth(i).bounding_box()["height"])
    click_mark(page, flows.nth(widest))  # on the curved band, not its box's centre
    page.wait_for_url("**/charts/drilled/?origin=1&target=3")
    assert page.errors == []


def test_a_point_without_a_drill_url_stays_on_the_page(chart_page):
    page = chart_page
    # Every navigation the page starts, recorded when it starts (the Navigation API), and
    # every click ECharts hands to its listeners: charts.js's own listener came first.
    page.evaluate(
        """() => {
          window.navigations = [];
          navigation.addEventListener("navigate", (event) => navigations.push(event.destination.url));
          window.chartClicks = [];
          echarts.getInstanceByDom(document.querySelector("#histogram .chart"))
            .on("click", (params) => chartClicks.push(params.name));
        }"""
    )
    click_mark(page, page.locator(paths("histogram", BLUE)).first)
    page.wait_for_function("() => chartClicks.length === 1")
    assert page.evaluate("() => navigations") == []
    assert page.url.endswith("/charts/")
    assert page.errors == []


def test_a_chart_swapped_in_by_htmx_is_drawn(chart_page):
    page = chart_page
    page.get_by_role("button", name="More").click()
    page.locator("#swapped .chart svg").wait_for()
    assert count(page, '#swapped .chart svg path[fill="#0072B2"]') == 2
    assert page.errors == []
