"""The analytics dashboard in a real browser: every chart is drawn, a click on a bar opens
the referrals behind it, the pages pass axe-core, and nothing is logged as an error."""

from urllib.parse import parse_qs, urlsplit

import pytest

from refloop.analytics.charts import PALETTE
from tests.analytics.test_dashboard_pages import march_history
from tests.browser.charts import click_mark_to_navigate
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

DASHBOARD = "/analytics/?start=2026-03-01&end=2026-04-01"
CHARTS = 16


@pytest.fixture
def march(cora, spine, hand, provider_a, provider_b):
    return march_history(cora, spine, hand, provider_a, provider_b)


def watched(page):
    """Collect console errors and uncaught exceptions (the browser's own favicon request,
    which the workspace does not serve, aside)."""
    page.errors = []

    def on_console(message):
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            page.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


@pytest.fixture
def dashboard(signed_in, ada, march):
    page = watched(signed_in(ada))
    page.goto(DASHBOARD, timeout=30_000)  # every figure is read: give a loaded machine time
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg path'))"
    )
    return page


def largest(locator):
    boxes = [(i, locator.nth(i).bounding_box()) for i in range(locator.count())]
    i, _ = max(boxes, key=lambda item: item[1]["width"] * item[1]["height"])
    return locator.nth(i)


def test_every_chart_is_drawn_with_its_marks(dashboard):
    page = dashboard
    charts = page.locator(".chart[data-chart]")
    assert charts.count() == CHARTS
    for i in range(CHARTS):
        assert charts.nth(i).locator("svg path").count() > 0, charts.nth(i).get_attribute(
            "aria-label"
        )
    # Volume by source: one month of four sources, stacked (bars plus their legend keys).
    assert page.locator(f'#chart-volume-source svg path[fill="{PALETTE[0]}"]').count() >= 2
    # Pareto: a bar per referring provider (two) and the cumulative line with its 80 % mark.
    assert page.locator(f'#chart-concentration svg path[fill="{PALETTE[0]}"]').count() == 2 + 1
    assert page.locator("#chart-concentration svg text", has_text="80%").count() >= 1
    # Sankey: a flow per practice or source to a department.
    flows = page.locator('#chart-flows svg path[fill^="url("]')
    assert flows.count() == 4
    labels = page.locator("#chart-flows svg text").all_text_contents()
    assert "Prairie Family Medicine" in labels and "Spine" in labels
    # The funnel and the segments donut.
    assert page.locator("#chart-funnel svg text", has_text="Received").count() == 1
    assert page.locator("#chart-segments svg path").count() >= 2
    assert page.errors == []


def test_clicking_a_bar_of_the_volume_chart_lists_its_referrals(dashboard):
    page = dashboard
    names = page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('#chart-volume-source .chart'))"
        ".getOption().series.map(s => s.name)"
    )
    provider = PALETTE[names.index("Provider")]  # a series takes the palette's colours in order
    click_mark_to_navigate(
        page, largest(page.locator(f'#chart-volume-source svg path[fill="{provider}"]'))
    )
    # The drill-down runs the analytics queries: give a loaded machine time to answer.
    page.wait_for_url("**/analytics/referrals/?**", timeout=30_000)
    params = parse_qs(urlsplit(page.url).query)
    assert params == {
        "start": ["2026-03-01"],
        "end": ["2026-04-01"],
        "month": ["202603"],
        "source_type": ["provider"],
    }
    assert page.get_by_role("heading", level=1, name="Referrals behind the chart").is_visible()
    assert page.locator("table.drilldown tbody tr").count() == 11
    assert page.locator("table.drilldown a.row-link").count() == 11
    assert_accessible(page)
    assert page.errors == []


def test_clicking_a_sankey_flow_lists_that_practices_referrals_to_the_department(
    dashboard, practice_a, spine
):
    page = dashboard
    # A flow is a curved band: click on it (not at its bounding box's centre), once drawn.
    click_mark_to_navigate(page, largest(page.locator('#chart-flows svg path[fill^="url("]')))
    # The drill-down runs the analytics queries: give a loaded machine time to answer.
    page.wait_for_url("**/analytics/referrals/?**", timeout=30_000)
    params = parse_qs(urlsplit(page.url).query)
    assert params["practice"] == [str(practice_a.pk)] and params["department"] == [str(spine.pk)]
    assert page.locator("table.drilldown tbody tr").count() == 9
    assert page.errors == []


def test_the_dashboard_is_accessible_with_its_tables_open(dashboard):
    page = dashboard
    for summary in page.locator("summary", has_text="Show as table").all():
        summary.click()
    for details in page.locator(".segment-lists summary").all():
        details.click()
    assert_accessible(page)
    assert page.errors == []


def test_sorting_the_referrers_swaps_the_table_in_place(dashboard, practice_a, practice_b):
    page = dashboard
    table = page.locator("#referrers")
    table.get_by_role("link", name="Practice", exact=True).click()
    page.wait_for_url("**rsort=practice**")
    names = table.locator("tbody th a").all_text_contents()
    assert names.index(practice_a.name) < names.index(practice_b.name)
    table.get_by_role("link", name="Practice", exact=True).click()
    page.wait_for_url("**rsort=-practice**")
    assert page.locator("#referrers th[aria-sort='descending']").count() == 1
    names = page.locator("#referrers tbody th a").all_text_contents()
    assert names.index(practice_b.name) < names.index(practice_a.name)
    assert page.locator(".chart svg").count() == CHARTS  # the charts were not redrawn away
    assert page.errors == []


def test_an_analyst_sees_the_dashboard_and_de_identified_rows(signed_in, andy, march):
    page = watched(signed_in(andy))
    page.goto(DASHBOARD)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg path'))"
    )
    # A few referrals per provider: the analyst gets the export's table, by rank, not a chart.
    concentration = page.locator("#chart-concentration")
    assert concentration.locator(".chart").count() == 0
    assert concentration.get_by_text("<11").count() > 0
    assert_accessible(page)
    page.goto("/analytics/referrals/?start=2026-03-01&end=2026-04-01")
    rows = page.locator("table.drilldown tbody tr")
    assert rows.count() == 13
    assert set(rows.locator("td:first-child").all_text_contents()) == {"2026"}
    assert_accessible(page)
    page.goto("/analytics/referrals/?start=2026-03-01&end=2026-04-01&lost=1")
    assert page.get_by_text("Fewer than 11 referrals — not shown to protect privacy").is_visible()
    assert_accessible(page)
    assert page.errors == []


SCREENS = {"desktop": (1440, 900), "phone": (390, 844)}

# Elements whose content scrolls sideways but that a keyboard cannot reach (no tabindex
# and nothing focusable inside): axe's scrollable-region-focusable, checked at every size.
UNREACHABLE_SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(el => {
  const style = getComputedStyle(el);
  const scrolls = ['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
  return scrolls && el.tabIndex < 0 && el.checkVisibility();  // a closed menu scrolls nothing
}).map(el => el.outerHTML.slice(0, 120))"""

# What of the page's own content (the shell's navigation is the shell's) reaches past the
# screen's right edge, making the page scroll sideways; tables scroll in their own region.
PAST_THE_EDGE = """(width) => [...document.querySelectorAll('main *')].filter(el =>
  !el.closest('.table-scroll') && el.getBoundingClientRect().right > width + 1
).map(el => el.outerHTML.slice(0, 120))"""


def analytics_pages(practice) -> list[str]:
    return [
        DASHBOARD,
        "/analytics/scorecards/",
        f"/analytics/scorecards/{practice.pk}/?start=2026-03-01&end=2026-04-01",
    ]


@pytest.mark.parametrize("screen", SCREENS)
def test_the_analytics_pages_fit_the_screen_and_pass_axe(signed_in, ada, march, practice_a, screen):
    width, height = SCREENS[screen]
    page = watched(signed_in(ada))
    page.set_viewport_size({"width": width, "height": height})
    for url in analytics_pages(practice_a):
        page.goto(url, timeout=30_000)  # the dashboard reads every figure: a loaded machine
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg'))"
        )
        for summary in page.locator("summary", has_text="Show as table").all():
            box = summary.bounding_box()
            assert box["height"] >= 24 and box["width"] >= 24, (url, box)
            summary.click()
        assert_accessible(page)
        assert page.evaluate(PAST_THE_EDGE, width) == [], url
        assert page.evaluate("() => document.querySelector('main').scrollWidth") <= width, url
        assert page.evaluate(UNREACHABLE_SCROLLERS) == [], url
    assert page.errors == []


def test_a_partial_month_is_drawn_hatched_and_named(signed_in, ada, march):
    """The data starts on 20 January 2026 (march_history's first referral): January counts
    only from then, February and March are whole."""
    page = watched(signed_in(ada))
    page.goto("/analytics/?start=2026-02-01&end=2026-04-01", timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg path'))"
    )
    assert page.locator("#partial-months").count() == 0
    page.goto("/analytics/?start=2026-01-01&end=2026-04-01", timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg path'))"
    )
    note = page.locator("#partial-months")
    assert "Jan 2026 (from 20 Jan)" in note.inner_text()
    chart = page.locator("#chart-volume-source")
    assert chart.locator("svg text", has_text="partial").count() >= 1
    assert "Jan 2026 (from 20 Jan)" in chart.locator(".chart").get_attribute("aria-label")
    assert page.errors == []
