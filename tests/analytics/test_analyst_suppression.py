"""One suppression rule for every way an analyst sees a figure: the dashboard page, its
referrers table, the API and the exports hide the same cells ("<11" for a count of 1 to
10, "suppressed" for what could give one back, 0 stays 0), on a practice planted to
decline with a handful of referrals."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.test import Client

from refloop.core.models import ApiToken
from refloop.demo import factories as f
from tests.analytics.history import History
from tests.analytics.test_dashboard_pages import march_history

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 4, 1)
MARCH = {"start": "2026-03-01", "end": "2026-04-01"}
PRACTICE = "Dropping Family Practice"
# The referrers table's columns in the export, by the key of a referrer row.
FIGURES = {
    "volume": "volume",
    "previous_volume": "previous volume",
    "recent_90_days": "referrals in the last 90 days",
    "prior_365_days": "referrals in the 365 days before",
}


@pytest.fixture
def dropping(cora, spine):
    """24 referrals in the 365 days before the last 90, then one: declining."""
    h = History(cora, spine)
    provider = f.ProviderFactory(practice=f.PracticeFactory(name=PRACTICE))
    for days in [100 + 15 * i for i in range(24)] + [5]:
        h.referral(f"{(AS_OF - timedelta(days=days)).isoformat()} 10:00", provider=provider)
    h.rebuild()
    return provider.practice


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def exported_referrers(user) -> dict[str, dict[str, str]]:
    response = signed_in(user).get("/analytics/export/referrers.csv", MARCH)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    return {row["practice"]: row for row in rows}


def test_the_analysts_declining_referrers_are_suppressed_as_their_export_is(andy, dropping):
    response = signed_in(andy).get("/analytics/", MARCH)
    assert response.status_code == 200
    (row,) = [r for r in response.context["declining"] if r["practice"] == PRACTICE]
    exported = exported_referrers(andy)[PRACTICE]
    for key, column in FIGURES.items():
        assert str(row[key]) == exported[column], key
    assert row["recent_90_days"] == "<11"
    assert row["prior_365_days"] == 24
    # Computed from the hidden count: the p-value would give it back.
    assert row["p_text"] == "suppressed"


def test_other_roles_see_the_exact_small_counts(lia, dropping):
    response = signed_in(lia).get("/analytics/", MARCH)
    (row,) = [r for r in response.context["declining"] if r["practice"] == PRACTICE]
    assert (row["recent_90_days"], row["prior_365_days"]) == (1, 24)


def test_the_analysts_referrers_table_and_its_fragment_hide_small_counts(andy, dropping):
    exported = exported_referrers(andy)
    page = signed_in(andy).get("/analytics/", {**MARCH, "rall": "1"})
    fragment = signed_in(andy).get(
        "/analytics/referrers/", {**MARCH, "rsort": "-volume"}, headers={"HX-Request": "true"}
    )
    for response in (page, fragment):
        rows = response.context["referrers"]["rows"]
        assert {r["practice"] for r in rows} == set(exported)
        for r in rows:
            for key, column in FIGURES.items():
                assert str(r[key]) == exported[r["practice"]][column], (r["practice"], key)
            assert r["spark"] == ""  # the monthly trend is not in the export
    assert "<11" in fragment.content.decode().replace("&lt;", "<")


def test_the_analysts_api_answers_what_their_export_holds(andy, dropping):
    _, token = ApiToken.issue(andy)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    exported = exported_referrers(andy)
    answer = client.get("/api/v1/analytics/referrers", MARCH).json()["referrers"]
    assert {r["practice"] for r in answer} == set(exported)
    for r in answer:
        for key, column in FIGURES.items():
            assert str(r[key]) == exported[r["practice"]][column], (r["practice"], key)
        assert r["trend"] == [] and "contacted" not in r
    funnel = client.get("/api/v1/analytics/funnel", MARCH).json()["states"]
    received = next(s for s in funnel if s["state"] == "received")
    assert received["reached"] == "<11"
    assert {s["lost_here"] for s in funnel} <= {0, "<11", "suppressed"}
    staged = client.get("/api/v1/analytics/funnel", MARCH).json()
    assert staged["milestones"][0]["state"] == "received"
    assert staged["milestones"][0]["reached"] == "<11"
    assert {d["state"] for d in staged["detours"]} == {
        "in_review",
        "pending_info",
        "contacting",
        "no_show",
    }


def test_bottleneck_sentences_on_few_referrals_are_withheld_from_an_analyst(
    andy, ada, cora, spine, hand, provider_a, provider_b
):
    march_history(cora, spine, hand, provider_a, provider_b)
    everyone = signed_in(ada).get("/analytics/", MARCH)
    sentences = everyone.context["sentences"]
    assert sentences
    analyst = signed_in(andy).get("/analytics/", MARCH)
    page = analyst.content.decode()
    for sentence in sentences:
        assert sentence not in page
    assert analyst.context["withheld_sentences"] == len(sentences)
    assert "on fewer than 11 referrals: suppressed" in page


def test_charts_with_a_hidden_figure_reach_an_analyst_as_their_table(
    andy, ada, cora, spine, hand, provider_a, provider_b
):
    march_history(cora, spine, hand, provider_a, provider_b)
    analyst = signed_in(andy).get("/analytics/", MARCH)
    funnel = analyst.context["charts"]["funnel"]
    assert funnel["kind"] == "withheld"
    assert any("<11" in row for row in funnel["table"].rows)
    # Drawn for the others.
    assert signed_in(ada).get("/analytics/", MARCH).context["charts"]["funnel"]["kind"] == "funnel"
