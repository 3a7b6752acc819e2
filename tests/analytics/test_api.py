"""GET /api/v1/analytics/{metrics,referrers,funnel}: the figures, the roles, the 422s."""

import pytest
from django.utils import timezone

from refloop.analytics import metrics, periods
from refloop.analytics.metrics import Filters, Period, Scope
from tests.analytics.history import History, local

URL = "/api/v1/analytics/metrics"
MARCH = {"start": "2026-03-01", "end": "2026-04-01"}


@pytest.fixture
def history(cora, spine, provider_a):
    h = History(cora, spine)
    h.referral("2026-03-03 09:00", ("contact", 3), ("accepted", 4), provider=provider_a)
    h.referral("2026-03-04 09:00", ("contact", 5), ("declined", 6), provider=provider_a)
    h.referral("2026-03-05 09:00", source="self", channel="phone")
    h.rebuild()
    return h


def test_metrics_answer_every_design_metric_for_the_period(api, ada, history):
    response = api(ada).get(URL, **MARCH)
    assert response.status_code == 200
    body = response.json()
    assert body["start"] == "2026-03-01" and body["end"] == "2026-04-01"
    assert set(body["metrics"]) == set(metrics.METRICS)
    # The data starts on 3 March, so March counts only part of its days, and says so.
    assert body["metrics"]["volume"] == {
        "count": 3,
        "by_month": [{"month": "2026-03", "count": 3, "partial": True}],
    }
    assert body["metrics"]["time_to_first_contact"]["median_hours"] == pytest.approx(4)
    assert body["metrics"]["lost"]["by_outcome"]["declined"] == 1


def test_metrics_can_be_named_and_filtered(api, lia, history):
    response = api(lia).get(URL, metrics="volume,conversion", source_type="self", **MARCH)
    assert response.status_code == 200
    assert response.json()["metrics"] == {
        "volume": {"count": 1, "by_month": [{"month": "2026-03", "count": 1, "partial": True}]},
        "conversion": {"referrals": 1, "seen": 0, "rate": 0.0},
    }
    assert response.json()["filters"] == {"source_type": "self"}


def test_an_analysts_metrics_are_suppressed_as_their_export_is(api, andy, history):
    response = api(andy).get(URL, metrics="volume,conversion", source_type="self", **MARCH)
    assert response.status_code == 200
    assert response.json()["metrics"] == {
        "volume": {
            "count": "<11",
            "by_month": [{"month": "2026-03", "count": "<11", "partial": True}],
        },
        "conversion": {"referrals": "<11", "seen": 0, "rate": "suppressed"},
    }


@pytest.fixture(params=["andy", "lia"])
def analyst_or_liaison(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-01"}, "end"),
        ({"start": "March", "end": "2026-04-01"}, "start"),
        ({"start": "2026-04-01", "end": "2026-03-01"}, "end"),
        ({**MARCH, "department": "999999"}, "department"),
        ({**MARCH, "department": "spine"}, "department"),
        ({**MARCH, "source_type": "billboard"}, "source_type"),
        ({**MARCH, "channel": "pigeon"}, "channel"),
        ({**MARCH, "urgency": "soon"}, "urgency"),
        ({**MARCH, "metrics": "volume,happiness"}, "metrics"),
        ({**MARCH, "departmnt": "1"}, "departmnt"),
        ({"start": "2010-01-01", "end": "2026-01-01"}, "end"),
    ],
)
def test_a_bad_parameter_answers_422_naming_it(api, ada, org, params, field):
    response = api(ada).get(URL, **params)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert response.json()["detail"]


def test_referrers_and_funnel_share_the_scope_rules(api, ada, history, practice_a):
    referrers = api(ada).get("/api/v1/analytics/referrers", **MARCH)
    assert referrers.status_code == 200
    row = next(r for r in referrers.json()["referrers"] if r["practice_id"] == practice_a.pk)
    assert row["volume"] == 2 and row["median_hours_to_first_contact"] == pytest.approx(4)
    assert {"segment", "declining", "trend", "conversion"} <= set(row)

    funnel = api(ada).get("/api/v1/analytics/funnel", **MARCH)
    states = {s["state"]: s for s in funnel.json()["states"]}
    assert states["received"]["reached"] == 3
    assert states["declined"]["reached"] == 1
    # The funnel proper: milestones whose counts only go down, and the detours beside them.
    body = funnel.json()
    assert [(m["state"], m["reached"]) for m in body["milestones"]] == [
        ("received", 3),
        ("accepted", 1),
        ("scheduled", 0),
        ("seen", 0),
        ("loop_closed", 0),
    ]
    assert [(d["state"], d["after"]) for d in body["detours"]][:1] == [("in_review", "received")]
    assert api(ada).get("/api/v1/analytics/funnel", start="x", end="y").status_code == 422


def test_portal_users_get_no_analytics(api, pam, history):
    response = api(pam).get(URL, **MARCH)
    assert response.status_code == 403


def test_the_api_answers_what_the_module_computes(api, cora, history, spine):
    response = api(cora).get(URL, department=str(spine.pk), **MARCH)
    scope = Scope.of(
        Period(*(metrics._parse_date(MARCH[k], k) for k in ("start", "end"))),
        Filters(department=spine.pk),
        now=local("2026-05-01 00:00"),
    )
    volume = response.json()["metrics"]["volume"]
    assert volume["count"] == metrics.compute(scope)["volume"]["count"]
    assert sum(month["count"] for month in volume["by_month"]) == volume["count"]


@pytest.mark.parametrize("path", ["metrics", "referrers", "funnel"])
def test_without_dates_the_api_answers_for_the_dashboards_default_period(api, ada, org, path):
    response = api(ada).get(f"/api/v1/analytics/{path}")
    assert response.status_code == 200
    today = periods.local_today(timezone.now())
    default = next(c for c in periods.quick_choices(today) if c["key"] == periods.DEFAULT_CHOICE)
    assert response.json()["start"] == default["start"].isoformat()
    assert response.json()["end"] == default["end"].isoformat()
