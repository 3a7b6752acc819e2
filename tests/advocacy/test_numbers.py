"""The Feedback numbers: NPS and its margin against a hand computation, the Wilson interval,
filters, the cases' clocks, and what an analyst (andy) sees against a coordinator (cora) in
the page, its charts, the CSV and the API."""

import csv
import datetime as dt
import io
import math
import re
from itertools import count

import pytest
from django.urls import reverse

from refloop.advocacy import numbers
from refloop.advocacy.models import (
    Advocate,
    Audience,
    Case,
    CaseCategory,
    CaseSource,
    CaseState,
    FriendReferral,
    ReviewClick,
    ReviewInvitation,
    ReviewSite,
    Survey,
    Trigger,
)
from refloop.advocacy.models import Response as Answer
from refloop.analytics.metrics import Period, Scope
from refloop.core.models import AuditEntry
from refloop.demo import factories as f

NOW = dt.datetime(2026, 6, 15, 15, 0, tzinfo=dt.UTC)
SENT = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
PERIOD = {"start": "2026-01-01", "end": "2026-07-01"}
_codes = count(1)

pytestmark = pytest.mark.time_machine(NOW, tick=False)


def plant(scores, *, department=None, unanswered=0, at=SENT, answers=None, practice=None):
    """A patient survey per score (None: answered without a score), and `unanswered` more."""
    for score in [*scores, *(["unanswered"] * unanswered)]:
        n = next(_codes)
        survey = Survey.objects.create(
            audience=Audience.PATIENT,
            trigger=Trigger.SEEN,
            code=f"numbers-{n}",
            recipient=f"patient:{n}",
            dedupe_key=f"numbers:{n}",
            department=department,
            referring_practice=practice,
            source_type="provider",
            created_at=at,
            expires_at=at + dt.timedelta(days=30),
        )
        if score != "unanswered":
            Answer.objects.create(
                survey=survey,
                recommend=score,
                answers=answers or {},
                submitted_at=at + dt.timedelta(hours=2),
            )


def scope(**filters) -> Scope:
    return Scope.of(Period(dt.date(2026, 1, 1), dt.date(2026, 7, 1)), now=NOW).with_filters(
        **filters
    )


def table(found, key):
    return next(t for t in found if t.key == key)


def row(table_, label):
    return next(r for r in table_.rows if r[0] == label)


def column(table_, header):
    return table_.headers.index(header)


# ---- the statistics, by hand ---------------------------------------------------------


def test_nps_and_its_margin_match_the_definition(spine):
    # 20 promoters, 8 passives, 12 detractors, 10 who never answered.
    scores = [9, 10] * 10 + [7, 8] * 4 + [0, 3, 5, 6] * 3
    plant(scores, department=spine, unanswered=10, answers={"wait": 4, "staff": 5})
    found = table(numbers.tables(scope(), now=NOW), "satisfaction_by_department")
    spine_row = row(found, "Spine")

    n, promoters, detractors = 40, 20 / 40, 12 / 40
    by_hand = 100 * (promoters - detractors)  # 20 points
    # The variance of a difference of two shares of one sample: Var(p) + Var(d) - 2 Cov(p, d).
    variance = (
        promoters * (1 - promoters) / n + detractors * (1 - detractors) / n
    ) + 2 * promoters * detractors / n
    margin = 1.96 * math.sqrt(variance) * 100
    assert spine_row[column(found, "NPS (points)")] == pytest.approx(by_hand, abs=0.05)
    assert spine_row[column(found, "NPS margin of error (± points, 95%)")] == pytest.approx(
        margin, abs=0.1
    )
    assert spine_row[column(found, "Surveys sent")] == 50
    assert spine_row[column(found, "Answered")] == 40
    assert spine_row[column(found, "Response rate (%)")] == 80.0
    assert spine_row[column(found, "Mean wait (1-5)")] == 4.0
    assert spine_row[-1] == ""  # 40 answers: no caution


def test_wilson_interval_of_a_known_case():
    # Wilson (1927) 95% intervals as tabulated (Newcombe 1998, table I): 8/10 and 0/10.
    low, high = numbers.wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = numbers.wilson(0, 10)
    assert (low, round(high, 4)) == (0.0, 0.2775)
    assert numbers.wilson(0, 0) is None


def test_few_responses_are_said_plainly(spine):
    plant([9, 10, 3], department=spine)
    found = table(numbers.tables(scope(), now=NOW), "satisfaction_by_department")
    assert row(found, "Spine")[-1] == "few responses: read with care"
    assert numbers.CAUTION == "few responses: read with care"


# ---- filters ----------------------------------------------------------------------


def test_filters_change_the_answer(spine, hand):
    plant([9, 10] * 10 + [0] * 20, department=spine)  # NPS 0
    plant([10] * 15, department=hand)  # NPS 100
    plant([0] * 12, department=hand, at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))  # before
    everyone = row(table(numbers.tables(scope(), now=NOW), "satisfaction_by_month"), "All")
    only_hand = row(
        table(numbers.tables(scope(department=hand.pk), now=NOW), "satisfaction_by_month"), "All"
    )
    assert everyone[1] == 55 and everyone[7] == pytest.approx(100 * (35 - 20) / 55, abs=0.05)
    assert only_hand[1] == 15 and only_hand[7] == 100.0


def test_the_page_reads_the_filters_from_the_query(client, cora, spine, hand):
    plant([10] * 15, department=hand)
    plant([0] * 15, department=spine)
    client.force_login(cora)
    url = reverse("advocacy_numbers")
    both = client.get(url, {**PERIOD}).content.decode()
    hand_only = client.get(url, {**PERIOD, "department": hand.pk}).content.decode()
    assert "Spine" in both
    assert "Spine" not in _table_html(hand_only, "satisfaction_by_department")
    bad = client.get(url, {**PERIOD, "department": "nine"})
    assert bad.status_code == 400
    assert "department must be a whole number" in bad.content.decode()


# ---- reviews, cases, advocates, offices ---------------------------------------------


def test_review_invitations_clicks_and_click_through(org):
    google = ReviewSite.objects.create(name="Google", url="https://example.com/review")
    invitations = [
        ReviewInvitation.objects.create(
            code=f"inv-{n}",
            via=ReviewInvitation.Via.MESSAGE,
            patient=f.PatientFactory(),
            dedupe_key=f"inv-{n}",
            created_at=SENT,
        )
        for n in range(4)
    ]
    for _ in range(2):
        ReviewClick.objects.create(invitation=invitations[0], site=google, at=SENT)
    found = numbers.tables(scope(), now=NOW)
    march = row(table(found, "reviews_by_month"), "2026-03")
    assert march[1:5] == (4, 1, 2, 25.0)
    google_row = row(table(found, "reviews_by_site"), "Google")
    assert google_row[1:4] == (2, 1, 25.0)


def _case(n, *, opened, acknowledged=None, resolved=None, state=CaseState.OPEN, **fields):
    return Case.objects.create(
        number=f"C-{n}",
        source=fields.pop("source", CaseSource.LOW_SCORE),
        category=fields.pop("category", CaseCategory.WAIT),
        state=state,
        summary="Waited long",
        opened_at=opened,
        acknowledge_by=opened + dt.timedelta(days=1),
        acknowledged_at=acknowledged,
        resolve_by=opened + dt.timedelta(days=7),
        resolved_at=resolved,
        **fields,
    )


def plant_cases():
    opened = NOW - dt.timedelta(days=20)
    _case(
        1,
        opened=opened,
        acknowledged=opened + dt.timedelta(hours=2),
        resolved=opened + dt.timedelta(days=3),
        state=CaseState.RESOLVED,
    )
    _case(
        2,
        opened=opened,
        acknowledged=opened + dt.timedelta(hours=30),
        resolved=opened + dt.timedelta(days=10),
        state=CaseState.CLOSED,
    )
    _case(3, opened=NOW - dt.timedelta(days=2))  # its acknowledgement is late, resolve not due


def test_cases_against_their_clocks(org):
    plant_cases()
    found = table(numbers.tables(scope(), now=NOW), "cases_by_category")
    wait = row(found, "Wait time")
    # Medians of 2 and 30 hours, and of 72 and 240; 1 of 3 acknowledged on time (the third's
    # clock has run out), 1 of the 2 resolved or due on time; 1 open and late.
    assert wait[1:] == (3, 16.0, 156.0, 33.3, 50.0, 1, 1)
    assert row(found, "Billing")[1] == 0


def test_advocates_and_the_referrals_they_brought(referral):
    advocate = Advocate.objects.create(
        patient=f.PatientFactory(), code="adv-1", opted_in_at=NOW - dt.timedelta(days=5)
    )
    FriendReferral.objects.create(referral=referral, advocate=advocate)
    start = referral.received_at.date() - dt.timedelta(days=1)
    wide = Scope.of(Period(start, start + dt.timedelta(days=30)), now=NOW)
    found = table(numbers.tables(wide, now=NOW), "advocates")
    assert [r[1] for r in found.rows[2:5]] == [1, 1, 0]


def test_office_scores_by_practice_and_quarter(practice_a):
    survey = Survey.objects.create(
        audience=Audience.OFFICE,
        trigger=Trigger.QUARTERLY,
        code="office-1",
        recipient="staff_contact:1",
        dedupe_key="office:1:2026Q1",
        referring_practice=practice_a,
        created_at=SENT,
        expires_at=SENT + dt.timedelta(days=30),
    )
    Answer.objects.create(
        survey=survey, answers={"ease": 4, "speed": 2, "informed": 5}, submitted_at=SENT
    )
    found = table(numbers.tables(scope(), now=NOW), "office_scores")
    assert found.rows[0][:6] == ("Prairie Family Medicine", "2026Q1", 1, 4.0, 2.0, 5.0)


# ---- what an analyst sees -----------------------------------------------------------


def _table_html(page: str, key: str) -> str:
    found = re.search(rf'<table class="striped dense" id="table-{key}">.*?</table>', page, re.S)
    assert found, key
    return found.group(0)


@pytest.fixture
def small_hand(spine, hand):
    """Spine with 40 answers; Hand with 5, a small cell."""
    plant([9, 10] * 10 + [7, 8] * 4 + [0, 3, 5, 6] * 3, department=spine)
    plant([10, 10, 9, 2, 8], department=hand)


def test_the_analyst_page_hides_the_small_cell_the_coordinator_sees(client, andy, cora, small_hand):
    url = reverse("advocacy_numbers")
    client.force_login(cora)
    cora_page = client.get(url, PERIOD)
    cora_table = _table_html(cora_page.content.decode(), "satisfaction_by_department")
    cora_row = re.search(r"<th scope=\"row\">Hand[^<]*</th>(.*?)</tr>", cora_table)
    assert "<td>5</td>" in cora_row.group(1)
    assert cora_page.context["charts"]["nps_by_department"]["kind"] == "bar"

    client.force_login(andy)
    andy_page = client.get(url, PERIOD)
    html = andy_page.content.decode()
    andy_table = _table_html(html, "satisfaction_by_department")
    hand_row = re.search(r"<th scope=\"row\">Hand[^<]*</th>(.*?)</tr>", andy_table).group(1)
    assert "&lt;11" in hand_row and "suppressed" in hand_row and "<td>5</td>" not in hand_row
    # Spine's 40 would give Hand's 5 back from the total of 45: it is hidden too.
    spine_row = re.search(r"<th scope=\"row\">Spine</th><td>([^<]*)</td>", andy_table).group(1)
    assert spine_row == "suppressed"
    # The department chart would show Hand's NPS: an analyst gets no chart of it.
    charts = andy_page.context["charts"]
    assert charts["nps_by_department"]["kind"] == "withheld"
    assert "60" not in str(charts["nps_by_department"].get("option", ""))
    # Nothing on the page links to the cases behind a count.
    assert reverse("advocacy_numbers_cases") not in html


def test_the_analyst_csv_and_api_hide_what_the_page_hides(client, api, andy, cora, small_hand):
    url = reverse("advocacy_numbers_csv", args=["satisfaction_by_department"])
    client.force_login(andy)
    andy_csv = client.get(url, PERIOD)
    hand_row = next(
        r
        for r in csv.reader(io.StringIO(andy_csv.content.decode("utf-8-sig")))
        if r[0] == "Hand & Upper Extremity"
    )
    assert hand_row[1:4] == ["<11", "<11", "suppressed"]
    entry = AuditEntry.objects.get(action="analytics.exported", actor=andy)
    assert entry.detail["suppressed"] is True
    assert entry.detail["table"] == "feedback:satisfaction_by_department"

    client.force_login(cora)
    cora_csv = client.get(url, PERIOD).content.decode("utf-8-sig")
    cora_hand = next(
        r for r in csv.reader(io.StringIO(cora_csv)) if r[0] == "Hand & Upper Extremity"
    )
    assert cora_hand[1:3] == ["5", "5"]

    answer = api(andy).get("/api/v1/advocacy/numbers", **PERIOD, table="satisfaction_by_department")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["suppressed"] is True
    hand = next(r for r in body["tables"][0]["rows"] if r[0] == "Hand & Upper Extremity")
    assert hand[1:4] == ["<11", "<11", "suppressed"]
    cora_body = api(cora).get("/api/v1/advocacy/numbers", **PERIOD).json()
    assert cora_body["suppressed"] is False
    assert len(cora_body["tables"]) == len(numbers.TABLES)


def test_the_api_names_a_bad_parameter(api, cora, org):
    answer = api(cora).get("/api/v1/advocacy/numbers", channel="fax")
    assert answer.status_code == 422
    assert "channel" in answer.json()["detail"]


# ---- drill-down -----------------------------------------------------------------------


def test_a_feedback_handler_drills_into_the_cases_an_analyst_cannot(client, cora, andy, org):
    plant_cases()
    client.force_login(cora)
    page = client.get(reverse("advocacy_numbers"), PERIOD).content.decode()
    link = re.search(r'<a href="(/analytics/feedback/cases/\?[^"]*category=wait[^"]*)">3</a>', page)
    assert link, "the case count links to its cases"
    listed = client.get(link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200
    assert {"C-1", "C-2", "C-3"} <= set(re.findall(r"C-\d", listed.content.decode()))
    assert AuditEntry.objects.filter(action="case.listed", actor=cora).count() == 3

    client.force_login(andy)
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 403


def test_the_page_opens_on_the_last_twelve_months(client, cora, spine):
    plant([10] * 3, department=spine, at=NOW - dt.timedelta(days=400))
    client.force_login(cora)
    page = client.get(reverse("advocacy_numbers"))
    assert page.status_code == 200
    assert page.context["scope"].period.start == dt.date(2025, 6, 16)
    assert (
        row(
            next(
                t
                for t in numbers.tables(page.context["scope"], now=NOW)
                if t.key == "satisfaction_by_month"
            ),
            "All",
        )[1]
        == 0
    )
