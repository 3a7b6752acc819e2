"""The feedback settings page (admins) and the staff list of surveys (feedback handlers):
changes are audited, reads of patients' surveys are audited, and the actions say why they
refuse."""

import pytest
from django.urls import reverse

from refloop.advocacy.models import AdvocacySettings, Audience, Question, ReviewSite
from refloop.core.models import AuditEntry
from refloop.messaging.models import Message
from tests.advocacy.surveys_helpers import see, site, survey_of

pytestmark = pytest.mark.django_db

SETTINGS = {
    "survey_after_seen": "on",
    "survey_interval_days": "120",
    "low_score": "5",
    "office_survey_after_loop": "on",
    "office_survey_sample_percent": "30",
    "office_low_score": "2",
}


def test_the_settings_page_says_why_there_is_no_happy_patients_only_switch(client, ada):
    client.force_login(ada)
    page = client.get(reverse("advocacy_settings")).content.decode()
    assert "16 CFR 465.7" in page and "October 2024" in page and "Google" in page
    assert "review gating" in page
    assert "rewards_enabled" not in page  # the rewards settings are another page's


def test_an_admin_saves_the_survey_settings_and_it_is_audited(client, ada, spine):
    client.force_login(ada)
    response = client.post(
        reverse("advocacy_settings"), {**SETTINGS, "survey_visit_departments": [spine.pk]}
    )
    assert response.status_code == 302
    found = AdvocacySettings.current()
    assert (found.survey_interval_days, found.low_score, found.survey_after_visits) == (
        120,
        5,
        False,
    )
    assert list(found.survey_visit_departments.all()) == [spine]
    entry = AuditEntry.objects.get(action="settings.advocacy_changed")
    assert entry.detail["survey_interval_days"] == [90, 120]


def test_a_number_off_its_range_is_refused_with_what_to_fix(client, ada):
    client.force_login(ada)
    response = client.post(reverse("advocacy_settings"), {**SETTINGS, "low_score": "11"})
    assert response.status_code == 422
    assert AdvocacySettings.current().low_score == 6


def test_only_admins_change_feedback_settings(client, cora):
    client.force_login(cora)
    assert client.get(reverse("advocacy_settings")).status_code == 403
    assert client.post(reverse("advocacy_questions"), {"text": "Parking?"}).status_code == 403
    assert not Question.objects.filter(text="Parking?").exists()


def test_an_admin_adds_rewords_reorders_and_switches_off_patient_questions(client, ada):
    client.force_login(ada)
    client.post(reverse("advocacy_questions"), {"text": "How easy was parking?"})
    added = Question.objects.get(text="How easy was parking?")
    assert (added.audience, added.active) == (Audience.PATIENT, True)
    client.post(reverse("advocacy_question", args=[added.pk]), {"action": "up"})
    order = list(
        Question.objects.filter(audience=Audience.PATIENT)
        .order_by("position", "pk")
        .values_list("key", flat=True)
    )
    assert order.index(added.key) == len(order) - 2
    client.post(
        reverse("advocacy_question", args=[added.pk]),
        {"action": "save", "text": "How easy was it to park?"},
    )
    added.refresh_from_db()
    assert (added.text, added.active) == ("How easy was it to park?", False)
    assert AuditEntry.objects.filter(action__startswith="settings.advocacy_question").count() == 3


def test_the_office_questions_are_fixed(client, ada):
    client.force_login(ada)
    office = Question.objects.filter(audience=Audience.OFFICE).first()
    response = client.post(
        reverse("advocacy_question", args=[office.pk]), {"action": "save", "text": "Other?"}
    )
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.text != "Other?" and office.active


def test_an_admin_adds_and_switches_off_a_review_site(client, ada):
    client.force_login(ada)
    client.post(
        reverse("advocacy_review_sites"),
        {"name": "Google", "url": "https://g.page/r/lakeside/review", "location": ""},
    )
    added = ReviewSite.objects.get()
    assert added.location is None
    client.post(
        reverse("advocacy_review_site", args=[added.pk]), {"name": "Google", "url": added.url}
    )
    added.refresh_from_db()
    assert not added.active
    assert AuditEntry.objects.filter(action__startswith="settings.review_site").count() == 2


def test_a_review_site_must_be_an_https_address(client, ada):
    client.force_login(ada)
    response = client.post(
        reverse("advocacy_review_sites"), {"name": "Odd", "url": "http://example.org/x"}
    )
    assert response.status_code == 422 and not ReviewSite.objects.exists()


# ---- the staff list


def test_feedback_handlers_see_recent_surveys_and_the_reads_are_audited(client, cora, referral):
    referral = see(referral, by=cora)
    client.force_login(cora)
    page = client.get(reverse("advocacy_surveys")).content.decode()
    assert referral.number in page and "Not yet" in page
    survey = survey_of(referral)
    assert AuditEntry.objects.filter(action="survey.listed", object_id=str(survey.pk)).exists()


def test_a_clinician_sees_only_their_departments_surveys(client, hana, cora, referral):
    see(referral, by=cora)
    client.force_login(hana)
    assert referral.number not in client.get(reverse("advocacy_surveys")).content.decode()


def test_the_liaison_and_the_analyst_do_not_see_surveys(client, lia, andy):
    for user in (lia, andy):
        client.force_login(user)
        assert client.get(reverse("advocacy_surveys")).status_code == 403


def test_sending_by_hand_from_the_list_says_why_it_will_not(client, cora, referral):
    referral = see(referral, by=cora)
    client.force_login(cora)
    response = client.post(
        reverse("advocacy_survey_send"), {"referral": referral.number}, follow=True
    )
    assert "already sent a survey in the last 90 days" in response.content.decode()
    assert Message.objects.filter(rule="patient.survey").count() == 1


def test_inviting_from_the_list_sends_the_invitation(client, cora, referral):
    site()
    referral = see(referral, by=cora)
    client.force_login(cora)
    survey = survey_of(referral)
    response = client.post(reverse("advocacy_survey_invite", args=[survey.pk]), follow=True)
    assert "review invitation is on its way" in response.content.decode()
    assert Message.objects.filter(rule="patient.review_invitation").count() == 1
