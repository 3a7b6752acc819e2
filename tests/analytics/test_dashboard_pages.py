"""The analytics dashboard and its drill-down, through Django's test client.

The history (March 2026, the practice's time zone):

- eight routine referrals from practice A's provider, 2-9 Mar, contacted after 4 h and
  accepted; the first five booked (+24 h, visit at +240 h) and seen (not yet closed);
- an urgent one from practice A, 10 Mar, first contacted after 30 h (SLA 24 h);
- a self-referral to Hand by phone, 11 Mar, never contacted (patient Zephyrine Quillfeather);
- one from practice B, 12 Mar, declined in review; a marketing one cancelled on arrival;
- a stat one from practice B, 14 Mar, contacted after 1 h;
- and one from practice A in February (the previous period);
- and a self-referral in January, the first on record, so the data covers the previous
  period (February) entirely and the two are compared.
"""

import re
from html import unescape

import pytest
import time_machine
from django.test import Client

from refloop.analytics import bottlenecks, drilldown
from refloop.analytics.metrics import parse_scope
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.referrals.models import Referral
from tests.analytics.history import History, local

MARCH = {"start": "2026-03-01", "end": "2026-04-01"}
PATIENT = {"first_name": "Zephyrine", "last_name": "Quillfeather"}


def sched(hours, visit):
    return ("scheduled", hours, {"appointment_hours": visit})


def march_history(user, spine, hand, provider_a, provider_b) -> list[Referral]:
    h = History(user, spine)
    made = []
    for day in range(2, 10):
        steps = [("contact", 4), ("accepted", 5)]
        if day <= 6:
            steps += [sched(24, 240), ("seen", 240, {"visit_value": "200.00"})]
        made.append(h.referral(f"2026-03-0{day} 09:00", *steps, provider=provider_a))
    made.append(
        h.referral("2026-03-10 09:00", ("contact", 30), provider=provider_a, urgency="urgent")
    )
    made.append(
        h.referral(
            "2026-03-11 09:00",
            source="self",
            channel="phone",
            department=hand,
            patient=f.patient_data(**PATIENT),
        )
    )
    made.append(
        h.referral("2026-03-12 09:00", ("in_review", 3), ("declined", 5), provider=provider_b)
    )
    made.append(h.referral("2026-03-13 09:00", ("cancelled", 6), source="marketing"))
    made.append(h.referral("2026-03-14 09:00", ("contact", 1), provider=provider_b, urgency="stat"))
    made.append(h.referral("2026-02-10 09:00", ("contact", 8), provider=provider_a))
    made.append(h.referral("2026-01-20 09:00", source="self", channel="phone"))
    h.rebuild()
    return made


@pytest.fixture
def march(cora, spine, hand, provider_a, provider_b):
    return march_history(cora, spine, hand, provider_a, provider_b)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dashboard(user, **params):
    return client_for(user).get("/analytics/", {**MARCH, **params})


def drill(user, **params):
    return client_for(user).get("/analytics/referrals/", {**MARCH, **params})


def text(response) -> str:
    return unescape(response.content.decode())


def table_of(response) -> str:
    found = re.search(
        r"<table class=\"dense striped drilldown\">.*?</table>", response.content.decode(), re.S
    )
    return unescape(found.group(0)) if found else ""


# ---- the dashboard ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["ada", "cora", "cliff", "lia", "andy"])
def test_every_analytics_role_sees_the_dashboard_with_the_periods_figures(who, march, request):
    response = dashboard(request.getfixturevalue(who))
    assert response.status_code == 200
    page = text(response)
    tile = page[page.index("Referrals received</h3>") :][:400]
    if who == "andy":  # the analyst's figures are suppressed as their export is
        assert "<strong>13</strong>" in tile and "before: <11" in tile
        tile = page[page.index("Lost referrals</h3>") :][:400]
        assert "<strong><11</strong>" in tile
        return
    assert "<strong>13</strong>" in tile and "up from 1" in tile
    tile = page[page.index("Lost referrals</h3>") :][:400]
    assert "<strong>2</strong>" in tile
    assert 'href="/analytics/" aria-current="page"' in page  # the navigation item
    for chart in (
        "Referrals per month by source",
        "Referral flows",
        "Referrals per referring provider",
    ):
        assert chart in page


def test_the_bottleneck_sentences_come_first_then_the_declining_referrers(march, ada):
    response = dashboard(ada)
    scope = parse_scope(MARCH, now=local("2026-05-01 12:00"))
    sentences = bottlenecks.find(scope)["sentences"]
    assert sentences
    page = text(response)
    positions = [page.index(sentence) for sentence in sentences]
    assert max(positions) < page.index("Declining referrers") < page.index("Headline figures")


def test_the_previous_period_is_compared_in_each_tile(march, ada):
    tiles = {tile["title"]: tile for tile in dashboard(ada).context["tiles"]}
    received = tiles["Referrals received"]["figures"][0]
    assert (received["value"], received["previous"], received["change"], received["tone"]) == (
        "13",
        "1",
        "up",
        "good",
    )
    lost = tiles["Lost referrals"]["figures"][0]
    assert (lost["value"], lost["previous"], lost["tone"]) == ("2", "0", "bad")


def test_a_bad_start_shows_the_sentence_beside_the_field(march, ada):
    response = dashboard(ada, start="2026-13-01")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="f-start-error"' in page
    assert "start is not a date: write it as YYYY-MM-DD" in page
    assert 'aria-invalid="true"' in page and 'value="2026-13-01"' in page
    assert "Headline figures" not in page


def test_an_unknown_department_is_named_beside_its_field(march, ada):
    response = dashboard(ada, department="99999")
    assert response.status_code == 400
    assert 'id="f-department-error"' in response.content.decode()
    assert "department 99999 does not exist." in text(response)


def test_without_dates_the_page_shows_the_last_twelve_months(march, ada):
    with time_machine.travel(local("2026-05-01 12:00"), tick=False):
        response = client_for(ada).get("/analytics/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="start" value="2025-05-02"' in page and 'name="end" value="2026-05-02"' in page
    assert re.search(r'<a href="[^"]*"[^>]* aria-current="true">Last 12 months</a>', page)


def test_analysts_see_providers_by_rank_and_others_by_name(march, andy, cora, provider_a):
    name = f"{provider_a.first_name} {provider_a.last_name}"
    analyst = text(dashboard(andy))
    assert name not in analyst and provider_a.npi not in analyst
    # A few referrals per provider: the analyst gets the concentration table, by rank.
    assert "Concentration" in analyst
    assert name in text(dashboard(cora))


def test_the_funnel_goes_down_the_milestones_with_the_detours_beside_it(march, ada):
    response = dashboard(ada)
    spec = response.context["charts"]["funnel"]
    stages = [row[0] for row in spec["table"]["rows"]]
    assert stages == ["Received", "Accepted", "Scheduled", "Seen", "Loop closed"]
    reached = [int(row[1].replace(",", "")) for row in spec["table"]["rows"]]
    assert reached == sorted(reached, reverse=True) and reached[0] > 0
    detours = [row[:2] for row in spec["detours"]["rows"]]
    assert detours == [
        ["In review", "Received"],
        ["Pending info", "Received"],
        ["Contacting", "Accepted"],
        ["No-show", "Scheduled"],
    ]
    page = text(response)
    assert "Optional stages on the way, with their own counts and waits" in page
    assert "/analytics/export/funnel_milestones.csv?" in page


def test_the_downloads_carry_the_dashboards_period_and_filters(march, ada, spine):
    page = text(dashboard(ada, department=str(spine.pk)))
    query = f"start=2026-03-01&end=2026-04-01&department={spine.pk}"
    assert f"/analytics/export/funnel.csv?{query}" in page
    assert f"/analytics/export/referrers.csv?{query}" in page
    assert f"/analytics/export/all.xlsx?{query}" in page


def test_the_referrers_table_sorts_and_swaps_in_alone(march, ada, practice_a, practice_b):
    client = client_for(ada)
    response = client.get(
        "/analytics/referrers/", {**MARCH, "rsort": "practice"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = text(response)
    assert page.lstrip().startswith('<section id="referrers"')
    assert page.index(practice_a.name) < page.index(practice_b.name)  # Prairie < Riverside
    descending = text(client.get("/analytics/referrers/", {**MARCH, "rsort": "-practice"}))
    assert descending.index(practice_b.name) < descending.index(practice_a.name)
    assert 'aria-sort="descending"' in descending


# Charts whose values count referrals (or appointments, one each here): each point's
# drill-down lists exactly that many.
COUNTED = (
    "by_source_type",
    "by_channel",
    "funnel",
    "lost",
    "within_sla",
    "show_rate",
    "loop_closure",
    "concentration",
    "flows",
)


def drill_points(spec: dict):
    for series in spec["option"]["series"]:
        for item in [*series.get("data", []), *series.get("links", [])]:
            if isinstance(item, dict) and item.get("drill"):
                yield item["value"], item["drill"]
    # The funnel's detours: the referrals column links to those that took each.
    detours = spec.get("detours", {"rows": [], "links": []})
    for row, links in zip(detours["rows"], detours["links"], strict=True):
        if links[2]:
            yield int(row[2].replace(",", "")), links[2]


def test_every_chart_point_opens_a_drill_down_listing_what_it_counted(march, ada):
    charts = dashboard(ada).context["charts"]
    client = client_for(ada)
    checked = 0
    for name, specs in charts.items():
        for spec in specs if isinstance(specs, list) else [specs]:
            for value, url in drill_points(spec):
                assert "Quillfeather" not in url
                response = client.get(url)
                assert response.status_code == 200, (name, url, text(response))
                if name in COUNTED:
                    assert response.context["total"] == value, (name, url)
                    checked += 1
    assert checked > 30


# ---- the drill-down -------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, 13),
        ({"month": "202603", "source_type": "provider"}, 11),
        ({"reached": "seen"}, 5),
        ({"reached": "accepted"}, 8),
        ({"lost": "1"}, 2),
        ({"lost": "1", "stage": "in_review"}, 1),
        ({"lost": "1", "lost_reason": "patient_request"}, 1),
        ({"urgency": "urgent", "over_sla": "1"}, 1),
        ({"over_sla": "0"}, 9),
        ({"contacted": "0"}, 3),
        ({"booked": "1"}, 5),
        ({"appointments": "referred", "outcome": "attended"}, 5),
        ({"appointments": "non_referred"}, 0),
        ({"closure": "not_closed"}, 5),
        ({"closure": "closed"}, 0),
        ({"provider_rank": "1"}, 9),
        ({"new_patient": "1"}, 13),
        ({"no_practice": "1"}, 2),
        ({"outbound": "1", "in_network": "0"}, 0),
        ({"state": "accepted"}, 3),
    ],
)
def test_each_drill_parameter_selects_the_referrals_it_names(march, ada, params, expected):
    response = drill(ada, **params)
    assert response.status_code == 200, text(response)
    assert response.context["total"] == expected


def test_npi_and_department_select_too(march, ada, provider_a, hand):
    assert drill(ada, npi=provider_a.npi).context["total"] == 9
    assert drill(ada, department=str(hand.pk)).context["total"] == 1


def test_a_coordinator_sees_numbers_linking_to_the_referral_but_no_patient(march, cora):
    response = drill(cora)
    page = text(response)
    for referral in march[:13]:
        assert f'<a href="/referrals/{referral.pk}/" class="row-link">{referral.number}</a>' in page
    assert march[13].number not in page  # February is outside the period
    assert "Quillfeather" not in page and "Zephyrine" not in page
    assert "2026-03-11" in table_of(response)


def test_a_liaison_sees_the_numbers_without_links(march, lia):
    response = drill(lia)
    page = text(response)
    assert all(referral.number in page for referral in march[:13])
    assert not re.search(r'href="/referrals/\d+/"', page) and 'class="row-link"' not in page
    assert "Quillfeather" not in page
    assert "Summaries: no patient and no clinical detail." in page


def test_an_analyst_sees_de_identified_rows_without_numbers_or_dates(march, andy):
    response = drill(andy)
    assert response.status_code == 200
    page = text(response)
    assert not any(referral.number in page for referral in march)
    assert "Quillfeather" not in page
    table = table_of(response)
    assert table.count("<tr>") == 1 + 13
    assert table.count("<td>2026</td>") == 13
    assert not re.search(r"\d{4}-\d{2}-\d{2}", table)
    assert not re.search(r"/referrals/\d+/", page)
    assert "30</td>" in table  # the urgent referral's 30 hours, whole


def test_an_analysts_rows_come_in_a_stable_order_that_is_not_the_order_received(march, andy):
    first, again = table_of(drill(andy)), table_of(drill(andy))
    assert first == again
    ids = sorted(referral.pk for referral in march[:13])
    assert drilldown.shuffled(ids) == drilldown.shuffled(list(reversed(ids))) != ids


def test_an_analyst_is_not_shown_a_selection_of_fewer_than_eleven(march, andy, cora):
    response = drill(andy, lost="1")
    page = text(response)
    assert "Fewer than 11 referrals — not shown to protect privacy" in page
    assert table_of(response) == ""
    assert "<td>" not in page
    assert drill(cora, lost="1").context["total"] == 2


def test_a_clinician_is_listed_only_their_departments_referrals(march, hana):
    response = drill(hana)
    assert response.context["total"] == 1
    assert response.context["total_selected"] == 13
    assert "only the referrals of your departments are listed" in text(response)


@pytest.mark.parametrize(
    "params, named",
    [
        ({"foo": "1"}, "Unknown parameter foo"),
        ({"patient": "Quillfeather"}, "Unknown parameter patient"),
        ({"month": "202613"}, "month must be a month written yyyymm"),
        ({"month": "202605"}, "month 202605 is not in the period"),
        ({"stage": "in_review"}, "stage selects lost referrals: add lost=1."),
        ({"reached": "everywhere"}, "reached must be one of"),
        ({"outcome": "attended"}, "outcome goes with appointments"),
        ({"closure": "closed", "outbound": "1"}, "outbound cannot be combined with closure"),
        ({"outbound": "1", "month": "202603"}, "month selects among referrals received"),
        ({"provider_rank": "9"}, "provider_rank must be between 1 and 2"),
        ({"over_sla": "yes"}, "over_sla must be 0 or 1"),
        ({"page": "0"}, "page must be a whole number from 1."),
        ({"sort": "patient"}, "sort must be one of"),
        ({"start": "March"}, "start is not a date"),
    ],
)
def test_a_parameter_the_drill_down_does_not_know_is_refused_by_name(march, ada, params, named):
    response = drill(ada, **params)
    assert response.status_code == 400
    assert named in text(response)
    assert "Traceback" not in text(response)


def test_each_drill_down_view_is_audited_without_patient_data(march, cora, andy):
    drill(cora, lost="1", stage="in_review")
    drill(andy, lost="1")
    entries = list(AuditEntry.objects.filter(action="analytics.drilldown").order_by("pk"))
    assert [e.actor_label for e in entries] == ["cora", "andy"]
    coordinator, analyst = entries
    assert coordinator.detail["selection"] == {
        **MARCH,
        "lost": "1",
        "stage": "in_review",
        "page": "1",
    }
    assert (
        coordinator.detail["view"],
        coordinator.detail["rows"],
        coordinator.detail["total"],
    ) == (
        "identified",
        1,
        1,
    )
    assert (analyst.detail["view"], analyst.detail["rows"]) == ("deidentified", 0)
    assert all(e.patient_id is None and e.referral_id is None for e in entries)
    assert "Quillfeather" not in str([e.detail for e in entries])


# ---- who may open them ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/analytics/", "/analytics/referrals/", "/analytics/referrers/"])
def test_portal_users_are_refused_and_anonymous_visitors_sent_to_sign_in(path, pam, org):
    refused = client_for(pam).get(path)
    assert refused.status_code == 403
    assert "Referring practices use the referral portal." in text(refused)
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_the_analytics_item_is_in_the_navigation_of_analytics_roles(march, andy, lia):
    for user in (andy, lia):
        page = text(client_for(user).get("/notifications/"))
        assert 'href="/analytics/"' in page
