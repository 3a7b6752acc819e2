"""The after-visit panel: the progress report, the patient's consent to share it, and the
patient's message preferences, from the referral's detail page."""

from datetime import time

import pytest
from django.urls import reverse

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.messaging.models import Preference
from refloop.referrals.models import ProgressReport, State

pytestmark = pytest.mark.django_db

REPORT = {
    "findings": "L5 radiculopathy",
    "plan": "Physical therapy for six weeks",
    "medications": "Gabapentin 300 mg at night",
    "follow_up": "Review in 6 weeks",
}


@pytest.fixture
def seen(referral, cora):
    return f.advance(referral, State.SEEN, acting_user=cora)


def detail(referral) -> str:
    return reverse("referral_detail", args=[referral.pk])


def test_the_panel_offers_the_report_form_once_the_patient_is_seen(client, cliff, seen):
    client.force_login(cliff)
    page = client.get(detail(seen)).content.decode()
    assert 'id="report-form"' in page
    assert "Not asked yet" in page
    assert "as soon as it is written and the patient agrees" in page
    # Recording consent is coordinators' work; the clinician sees the answer only.
    assert 'name="consent"' not in page


def test_a_clinician_writes_the_report_on_a_seen_referral(client, cliff, seen):
    client.force_login(cliff)
    response = client.post(reverse("referral_progress_report", args=[seen.pk]), REPORT)
    assert response.status_code == 302 and response.url == detail(seen)
    report = ProgressReport.objects.get(referral=seen)
    assert (report.findings, report.plan, report.entered_by) == (
        REPORT["findings"],
        REPORT["plan"],
        cliff,
    )
    page = client.get(detail(seen)).content.decode()
    assert 'id="progress-report"' in page and 'id="report-form"' not in page
    assert "Gabapentin 300 mg at night" in page
    assert "Waiting for the patient&#x27;s consent" in page


def test_a_report_without_findings_is_refused_with_what_to_fix(client, cliff, seen):
    client.force_login(cliff)
    response = client.post(
        reverse("referral_progress_report", args=[seen.pk]), {**REPORT, "findings": " "}
    )
    assert response.status_code == 422
    assert "findings is required" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_a_report_is_refused_before_the_patient_is_seen(client, cora, referral):
    scheduled = f.advance(referral, State.SCHEDULED, acting_user=cora)
    client.force_login(cora)
    response = client.post(reverse("referral_progress_report", args=[scheduled.pk]), REPORT)
    assert response.status_code == 409
    assert "a progress report is written once the patient is seen" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_the_report_panel_is_not_for_a_liaison(client, lia, seen):
    client.force_login(lia)
    response = client.post(reverse("referral_progress_report", args=[seen.pk]), REPORT)
    assert response.status_code == 403
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize(
    ("answer", "stored", "words"), [("agreed", True, "Agreed"), ("declined", False, "Declined")]
)
def test_the_consent_buttons_record_the_patients_answer(client, cora, seen, answer, stored, words):
    client.force_login(cora)
    response = client.post(reverse("referral_outcome_consent", args=[seen.pk]), {"consent": answer})
    assert response.status_code == 302
    seen.patient.refresh_from_db()
    assert seen.patient.outcome_sharing_consent is stored
    assert AuditEntry.objects.filter(action="patient.consent_recorded").exists()
    page = client.get(detail(seen)).content.decode()
    assert f'id="outcome-consent">{words}<' in page


def test_a_clinician_cannot_record_consent(client, cliff, seen):
    client.force_login(cliff)
    response = client.post(
        reverse("referral_outcome_consent", args=[seen.pk]), {"consent": "agreed"}
    )
    assert response.status_code == 403
    seen.patient.refresh_from_db()
    assert seen.patient.outcome_sharing_consent is None


def test_the_patients_message_preferences_are_saved(client, cora, referral):
    referral.patient.email = "zephyrine@example.org"
    referral.patient.save()
    client.force_login(cora)
    response = client.post(
        reverse("referral_message_preferences", args=[referral.pk]),
        {
            "preferred_channel": "email",
            "opted_out": ["letter"],
            "quiet_start": "21:30",
            "quiet_end": "07:00",
            "language": "es",
        },
    )
    assert response.status_code == 302 and response.url == detail(referral)
    preference = Preference.objects.get(recipient=f"patient:{referral.patient_id}")
    assert preference.preferred_channel == "email"
    assert preference.opted_out == ["letter"]
    assert (preference.quiet_start, preference.quiet_end) == (time(21, 30), time(7, 0))
    assert preference.language == "es"
    entry = AuditEntry.objects.get(action="patient.preferences_changed")
    assert entry.patient_id == referral.patient_id and entry.actor == cora


def test_sms_cannot_be_preferred_without_a_phone_number(client, cora, referral):
    referral.patient.phone = ""
    referral.patient.save()
    client.force_login(cora)
    response = client.post(
        reverse("referral_message_preferences", args=[referral.pk]),
        {"preferred_channel": "sms", "quiet_start": "20:00", "quiet_end": "08:00"},
    )
    assert response.status_code == 422
    assert "no mobile number on file, so SMS cannot be their preferred channel" in (
        response.content.decode()
    )
    assert not Preference.objects.exists()


def test_a_clinician_does_not_get_the_preferences_form(client, cliff, cora, referral):
    client.force_login(cora)
    assert 'id="preferences-form"' in client.get(detail(referral)).content.decode()
    client.force_login(cliff)
    assert 'id="preferences-form"' not in client.get(detail(referral)).content.decode()
    response = client.post(
        reverse("referral_message_preferences", args=[referral.pk]),
        {"preferred_channel": "letter", "quiet_start": "20:00", "quiet_end": "08:00"},
    )
    assert response.status_code == 403


def test_email_cannot_be_preferred_without_an_address(client, cora, referral):
    referral.patient.email = ""
    referral.patient.save()
    client.force_login(cora)
    response = client.post(
        reverse("referral_message_preferences", args=[referral.pk]),
        {"preferred_channel": "email", "quiet_start": "20:00", "quiet_end": "08:00"},
    )
    assert response.status_code == 422
    assert "no email address on file" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_closed_loop_shows_when_the_report_went(client, cora, referral):
    closed = f.advance(referral, State.LOOP_CLOSED, acting_user=cora)
    client.force_login(cora)
    page = client.get(detail(closed)).content.decode()
    assert "Sent; the loop closed on" in page
    assert 'id="report-form"' not in page and 'name="consent"' not in page
