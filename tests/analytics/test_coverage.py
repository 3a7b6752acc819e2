"""Periods the data covers only in part (issue 15, item 4): a practice with six months of
history viewed over the last twelve, on 5 December, five days into the month.

The history: one referral a month from practice A's provider, on the 3rd from June 2026
(the first on record) to November, and one on 2 December. "Up from" a previous twelve
months with no data, or a whole December bar for five days, would both mislead.
"""

import re
from datetime import date
from html import unescape

import pytest
import time_machine

from refloop.analytics import coverage
from refloop.analytics.coverage import Coverage
from refloop.analytics.metrics import Period
from tests.analytics.history import History, local
from tests.analytics.test_dashboard_pages import client_for

NOW = local("2026-12-05 10:00")
URL = "/api/v1/analytics"


def monthly_from(h: History, first: str, months: int, provider) -> None:
    """A referral on the 3rd of `months` months from `first` (YYYY-MM), then one on 2 Dec."""
    year, month = (int(part) for part in first.split("-"))
    for _ in range(months):
        h.referral(f"{year}-{month:02d}-03 09:00", ("contact", 4), provider=provider)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    h.referral("2026-12-02 09:00", ("contact", 4), provider=provider)


@pytest.fixture
def six_months(cora, spine, provider_a):
    h = History(cora, spine)
    monthly_from(h, "2026-06", 6, provider_a)
    h.rebuild()


@pytest.fixture
def eighteen_months(cora, spine, provider_a):
    h = History(cora, spine)
    monthly_from(h, "2025-06", 18, provider_a)
    h.rebuild()


@pytest.fixture
def three_years(cora, spine, provider_a):
    h = History(cora, spine)
    h.referral("2023-11-20 09:00", source="self", channel="phone")  # the first on record
    monthly_from(h, "2025-06", 18, provider_a)  # busier this year than the one before
    h.rebuild()


def page_of(user) -> tuple[str, dict]:
    with time_machine.travel(NOW, tick=False):
        response = client_for(user).get("/analytics/")
    assert response.status_code == 200
    return unescape(response.content.decode()), response.context


def api_get(api, user, path: str, **params) -> dict:
    with time_machine.travel(NOW, tick=False):
        response = api(user).get(f"{URL}/{path}", **params)
    assert response.status_code == 200
    return response.json()


# ---- the comparison -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["ada", "andy"])
def test_six_months_viewed_over_twelve_are_not_compared_with_an_empty_year(
    who, six_months, request
):
    page, context = page_of(request.getfixturevalue(who))
    received = next(t for t in context["tiles"] if t["title"] == "Referrals received")
    assert received["figures"][0]["value"] == ("<11" if who == "andy" else "7")
    assert re.search(r"before: [<\d–]", page) is None  # an analyst's "before: 0" is a comparison
    for tile in context["tiles"]:
        for figure in tile["figures"]:
            assert figure["change"] is None and figure["words"] == "", tile["title"]
    assert "up from" not in page and "down from" not in page
    assert context["comparison"]["compared"] is False
    assert "Not compared with the period before (6 Dec 2024 to 5 Dec 2025)" in page
    assert "the data starts on 3 Jun 2026, after it." in page
    assert "The data starts on 3 Jun 2026." in page  # beside the period, at the top
    assert ", against 6 Dec 2024 to 5 Dec 2025" not in page


def test_a_previous_year_the_data_half_covers_is_labelled_partial_not_compared(
    ada, eighteen_months
):
    page, context = page_of(ada)
    assert context["comparison"]["compared"] is False
    assert (
        "Not compared: the period before (6 Dec 2024 to 5 Dec 2025) is only partly covered, "
        "with data from 3 Jun 2025" in page
    )
    assert "up from" not in page and "down from" not in page
    # The referrers table leaves the previous period's volume out too, and says why.
    row = next(r for r in context["referrers"]["rows"] if r["practice_id"])
    assert row["previous_volume"] is None and row["previous_text"] == "–"
    assert "Previous period: not compared" in page


def test_when_the_data_covers_both_years_they_are_compared(ada, three_years):
    page, context = page_of(ada)
    assert context["comparison"]["compared"] is True
    received = next(t for t in context["tiles"] if t["title"] == "Referrals received")
    # 6 Dec 2025 to 5 Dec 2026: 12 from practice A; the year before: 7 (3 Jun to 3 Dec 2025).
    assert received["figures"][0]["value"] == "12"
    assert received["figures"][0]["words"] == "up from 7"
    assert "comparison-note" not in page


def test_the_api_says_whether_and_why_the_periods_are_compared(api, ada, eighteen_months):
    body = api_get(api, ada, "metrics", metrics="volume")
    assert body["data_from"] == "2025-06-03"
    assert body["comparison"]["compared"] is False
    assert "only partly covered, with data from 3 Jun 2025" in body["comparison"]["note"]
    referrers = api_get(api, ada, "referrers")
    assert referrers["comparison"] == body["comparison"]
    assert {row["previous_volume"] for row in referrers["referrers"]} == {None}


# ---- partial months -----------------------------------------------------------------


def test_the_current_month_and_the_first_are_partial_in_the_api_series(api, ada, six_months):
    body = api_get(api, ada, "metrics", metrics="volume")
    months = {m["month"]: m for m in body["months"]}
    assert list(months)[0] == "2025-12" and list(months)[-1] == "2026-12"
    assert months["2026-12"] == {
        "month": "2026-12",
        "label": "Dec 2026 (to 5 Dec)",
        "partial": True,
        "counted": {"start": "2026-12-01", "end": "2026-12-06"},
    }
    assert months["2026-06"]["partial"] is True
    assert months["2026-06"]["label"] == "Jun 2026 (from 3 Jun)"
    assert months["2026-03"] == {
        "month": "2026-03",
        "label": "Mar 2026 (no data)",
        "partial": True,
        "counted": None,
    }
    assert [months[f"2026-{m:02d}"]["partial"] for m in range(7, 12)] == [False] * 5
    by_month = {m["month"]: m for m in body["metrics"]["volume"]["by_month"]}
    assert by_month["2026-12"] == {"month": "2026-12", "count": 1, "partial": True}
    assert by_month["2026-08"] == {"month": "2026-08", "count": 1, "partial": False}
    trend_months = api_get(api, ada, "referrers")["months"]
    assert [m["partial"] for m in trend_months] == [m["partial"] for m in body["months"]]


def test_the_volume_charts_mark_the_partial_months(ada, six_months):
    page, context = page_of(ada)
    assert "Partial months: " in page and "Dec 2026 (to 5 Dec)" in page
    for name in ("by_source_type", "by_channel"):
        spec = context["charts"][name]
        categories = [row[0] for row in spec["table"]["rows"]]
        assert categories[-1] == "Dec 2026 (to 5 Dec)"
        assert categories[6] == "Jun 2026 (from 3 Jun)"
        assert "Partial:" in spec["table"]["caption"] and "Partial:" in spec["aria_label"]
        area = spec["option"]["series"][0]["markArea"]["data"]
        shaded = {edge["xAxis"] for band in area for edge in band}
        assert "Dec 2026 (to 5 Dec)" in shaded and "Aug 2026" not in shaded
    bars = context["charts"]["by_source_type"]["option"]["series"][0]["data"]
    assert "decal" in bars[-1]["itemStyle"] and "itemStyle" not in bars[8]


def test_the_export_says_which_days_each_month_counts(ada, six_months):
    with time_machine.travel(NOW, tick=False):
        response = client_for(ada).get("/analytics/export/volume_by_source_type.csv")
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[0].endswith(",total,days counted")
    assert rows[-2].startswith("2026-12,") and rows[-2].endswith(",to 5 Dec")
    assert rows[-3].endswith(",whole month")


# ---- the rule itself ----------------------------------------------------------------


def test_a_month_is_partial_where_the_period_or_the_data_cuts_it():
    cover = Coverage(date(2026, 6, 3), date(2026, 12, 6))
    labels = [m["label"] for m in cover.months(Period(date(2026, 5, 15), date(2026, 8, 10)))]
    assert labels == [
        "May 2026 (no data)",
        "Jun 2026 (from 3 Jun)",
        "Jul 2026",
        "Aug 2026 (to 9 Aug)",
    ]
    december = cover.months(Period(date(2026, 12, 2), date(2027, 1, 1)))[0]
    assert (december["label"], december["partial"]) == ("Dec 2026 (2–5 Dec)", True)
    assert not cover.covers(Period(date(2026, 6, 1), date(2026, 7, 1)))
    assert cover.covers(Period(date(2026, 7, 1), date(2026, 12, 6)))


def test_nothing_on_record_is_never_compared(org):
    from refloop.analytics.metrics import Scope

    scope = Scope.of(Period(date(2026, 3, 1), date(2026, 4, 1)), now=local("2026-04-02 09:00"))
    found = coverage.comparison(scope)
    assert found["compared"] is False and found["data_from"] is None
    assert found["note"] == "No referrals are on record yet, so there is nothing to compare."
