"""The Feedback page in Chromium: its charts are drawn for a coordinator, an analyst gets the
tables instead where a figure is small, and the page fits a phone and passes axe-core at
both sizes (the tests/browser pattern)."""

import datetime as dt

import pytest

from tests.advocacy.test_numbers import plant
from tests.browser.conftest import TARGET_SIZE, assert_accessible
from tests.browser.test_dashboard import PAST_THE_EDGE
from tests.browser.test_start_pages import DESK, PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def _page(signed_in, user, tmp_path, name):  # noqa: F811
    """The page at desk and phone size, each loaded at that size (a chart is drawn for the
    width it opens at), fitting the screen and passing axe-core."""
    page = signed_in(user)
    today = dt.date.today()
    url = (
        f"/analytics/feedback/?start={today.replace(day=1) - dt.timedelta(days=90)}"
        f"&end={today + dt.timedelta(days=1)}"
    )
    for size in (DESK, PHONE):
        page.set_viewport_size(size)
        page.goto(url, timeout=30_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg'))"
        )
        assert page.evaluate(PAST_THE_EDGE, size["width"]) == [], size
        assert_accessible(page, also=TARGET_SIZE)
        page.screenshot(path=tmp_path / f"feedback-{name}-{size['width']}.png", full_page=True)
    return page


def test_the_feedback_page_draws_its_charts_and_passes_axe(signed_in, cora, spine, tmp_path):  # noqa: F811
    now = dt.datetime.now(dt.UTC)
    plant(
        [9, 10] * 10 + [7, 8] * 4 + [0, 3, 5, 6] * 3,
        department=spine,
        at=now - dt.timedelta(days=3),
    )
    page = _page(signed_in, cora, tmp_path, "coordinator")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every(el => el.querySelector('svg path'))"
    )
    assert page.locator(".chart[data-chart]").count() == 3
    assert "NPS by month" in page.inner_text("main")


def test_the_analyst_gets_tables_not_charts_of_small_figures(signed_in, andy, spine, tmp_path):  # noqa: F811
    now = dt.datetime.now(dt.UTC)
    plant([10, 9, 2], department=spine, at=now - dt.timedelta(days=3))
    page = _page(signed_in, andy, tmp_path, "analyst")
    text = page.inner_text("main")
    assert "<11" in text
    assert "so the chart is not drawn" in text
