"""The case pages: the list's tabs and clocks, a complaint from a phone call, a case's moves
and timeline in words, every read audited; and the portal's feedback page, for a practice's
own referrals only."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from refloop.advocacy import cases
from refloop.advocacy.models import Case, CaseSource, CaseState
from refloop.core.errors import NotAllowed, NotFound
from refloop.core.models import AuditEntry
from refloop.workspace.shell import navigation_for


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def late_case(referral, cliff):
    opened = timezone.now() - dt.timedelta(days=3)
    case = cases.open_case(
        acting_user=cliff,
        source="phone",
        category="wait",
        summary="Waited two hours",
        referral=referral,
        owner=cliff,
        now=opened,
    )
    return case


def test_the_list_shows_my_cases_with_their_clocks_and_audits_each(late_case, cliff, cora):
    page = client_for(cliff).get("/feedback/cases/")
    text = page.content.decode()
    assert page.status_code == 200 and late_case.number in text
    assert "Acknowledge: late " in text and "Zephyrine Quillfeather" in text
    assert AuditEntry.objects.filter(action="case.listed", object_id=str(late_case.pk)).exists()
    assert late_case.number not in client_for(cora).get("/feedback/cases/").content.decode()
    assert late_case.number in client_for(cora).get("/feedback/cases/?show=all").content.decode()
    assert (
        late_case.number in client_for(cora).get("/feedback/cases/?show=overdue").content.decode()
    )
    filtered = client_for(cora).get("/feedback/cases/?show=all&category=billing").content.decode()
    assert late_case.number not in filtered


def test_a_coordinator_records_a_phone_complaint_about_a_referral(referral, cora):
    client = client_for(cora)
    page = client.post(
        "/feedback/cases/new/",
        {
            "source": "phone",
            "category": "billing",
            "summary": "Charged twice",
            "referral_number": referral.number.lower(),
        },
    )
    case = Case.objects.get()
    assert page.status_code == 302 and page.url == f"/feedback/cases/{case.pk}/"
    assert (case.source, case.referral, case.patient) == ("phone", referral, referral.patient)
    refused = client.post(
        "/feedback/cases/new/",
        {
            "source": "phone",
            "category": "billing",
            "summary": "x",
            "referral_number": "R-0000-0000",
        },
    )
    assert refused.status_code == 400 and "No referral you can see" in refused.content.decode()
    empty = client.post("/feedback/cases/new/", {"source": "phone", "category": "billing"})
    assert empty.status_code == 400 and Case.objects.count() == 1


def test_a_case_is_worked_from_its_page_and_its_timeline_names_people(late_case, cliff, cora):
    client = client_for(cora)
    url = f"/feedback/cases/{late_case.pk}/"
    client.post(url, {"move": "acknowledge", "note": "Left a voicemail"})
    client.post(url, {"move": "resolve", "outcome": "resolved", "action_taken": ""})
    late_case.refresh_from_db()
    assert late_case.state == CaseState.ACKNOWLEDGED  # what was done is required
    client.post(url, {"move": "resolve", "outcome": "resolved", "action_taken": "Apologised"})
    client.post(url, {"move": "close"})
    page = client.get(url)
    text = page.content.decode()
    late_case.refresh_from_db()
    assert late_case.state == CaseState.CLOSED
    assert "opened the case" in text and "acknowledged it" in text and "Left a voicemail" in text
    assert "resolved it: resolved to the person" in text and "closed it" in text
    assert cliff.get_full_name() in text and cora.get_full_name() in text
    assert AuditEntry.objects.filter(action="case.read", object_id=str(late_case.pk)).exists()


def test_a_move_the_case_cannot_make_says_why(late_case, cora):
    client = client_for(cora)
    page = client.post(f"/feedback/cases/{late_case.pk}/", {"move": "close"}, follow=True)
    assert "only a resolved case can be closed" in page.content.decode()


def test_the_feedback_item_is_in_the_nav_for_those_who_handle_feedback(cora, cliff, lia, andy):
    def labels(user):
        return [item["label"] for item in navigation_for(user, "/feedback/cases/")]

    assert "Feedback" in labels(cora) and "Feedback" in labels(cliff)
    assert "Feedback" not in labels(lia) and "Feedback" not in labels(andy)


def test_a_portal_user_sends_feedback_about_their_own_referral(referral, pam, practice_a):
    page = client_for(pam).post(
        "/portal/feedback/",
        {
            "category": "communication",
            "summary": "Nobody told us she was seen.",
            "referral_number": referral.number,
        },
    )
    assert page.status_code == 302
    case = Case.objects.get()
    assert (case.source, case.referring_practice, case.referral) == (
        CaseSource.PORTAL,
        practice_a,
        referral,
    )
    assert case.opened_by == pam


def test_a_portal_user_cannot_name_another_practices_referral(referral, pete):
    page = client_for(pete).post(
        "/portal/feedback/",
        {
            "category": "communication",
            "summary": "About this one",
            "referral_number": referral.number,
        },
    )
    assert page.status_code == 400 and "No referral from your practice" in page.content.decode()
    assert not Case.objects.exists()
    # The service refuses it too, whatever the page does.
    with pytest.raises(NotFound, match="No referral from your practice"):
        cases.open_case(
            acting_user=pete,
            source="portal",
            category="other",
            summary="x",
            referral=referral,
            now=timezone.now(),
        )


def test_portal_feedback_without_a_referral_is_about_the_practice(pete, practice_b):
    client_for(pete).post("/portal/feedback/", {"category": "access", "summary": "Hard to fax you"})
    case = Case.objects.get()
    assert case.referring_practice == practice_b and case.patient is None


def test_staff_cannot_open_a_portal_case(cora, org):
    with pytest.raises(NotAllowed, match="referring practice"):
        cases.open_case(
            acting_user=cora, source="portal", category="other", summary="x", now=timezone.now()
        )


def test_a_case_a_survey_opened_says_so_on_its_timeline(referral, cora):
    case = cases.open_case(
        acting_user=None,
        source="low_score",
        category="other",
        summary="3 out of 10",
        referral=referral,
        now=timezone.now(),
    )
    text = client_for(cora).get(f"/feedback/cases/{case.pk}/").content.decode()
    assert "A low survey score opened the case" in text
