"""A referring practice's portal users get the same view through the API as on their portal
pages, and no more: no contact attempts, notes, staff names, assignee, internal clocks or
outbox, on any endpoint. Every operation of the OpenAPI document has its expected answer."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF

from refloop.demo import factories as f
from refloop.outreach.models import Task
from refloop.referrals import services, transitions
from refloop.referrals.reports import write_progress_report

from .walk import (
    advocacy_world,
    call,
    operations,
    outreach_world,
    path_for,
    valid_bodies,
    valid_query,
)

pytestmark = pytest.mark.django_db

INTERNAL_NOTE = "Zqxinternal spoke to daughter about transport"
STAFF_NOTE = "Zqxnote insurance looks shaky"

# What each operation answers a portal user asking about their own practice's referral.
# A new operation fails the test until it is given its answer here.
PORTAL_ANSWERS = {
    "list_referrals": 200,
    "get_referral": 200,
    "attachment_content": 200,
    "upload_attachment": 201,  # the records a referral needs (answering a request for info)
    "create_referral": 403,
    "create_outbound_referral": 403,
    "transition_referral": 403,
    "assign_referral": 403,
    "list_contact_attempts": 403,
    "record_contact_attempt": 403,
    "list_notes": 403,
    "add_note": 403,
    "list_appointments": 403,
    "book_appointment": 403,
    "list_attachments": 403,  # the referral itself lists its documents for them
    "list_practices": 403,
    "create_practice": 403,
    "get_practice": 403,
    "list_providers": 403,
    "create_provider": 403,
    "get_provider": 403,
    "upload_document": 403,
    "get_document": 403,
    "list_messages": 403,
    "get_message": 403,
    "analytics_metrics": 403,
    "analytics_referrers": 403,
    "analytics_funnel": 403,
    "advocacy_numbers": 403,
    "list_due_visits": 403,
    "list_activities": 403,
    "list_tasks": 403,
    "list_gifts": 403,
    "record_gift": 403,
    "ledger_report": 403,
    "create_task": 403,
    "close_task": 403,
    "referral_lift": 403,
    "log_activity": 403,
    "change_activity": 403,
    "cancel_activity": 403,
    "list_events": 403,
    "get_event": 403,
    "create_event": 403,
    "invite_to_event": 403,
    "record_attendance": 403,
    # Patient feedback is the care team's (HANDLE_FEEDBACK), never a referring practice's.
    "list_surveys": 403,
    "get_survey": 403,
    "list_responses": 403,
    "send_survey": 403,
    "invite_to_review": 403,
    "list_cases": 403,
    "get_case": 403,
    "open_case": 403,
    "move_case": 403,
    "list_advocates": 403,
    "get_advocate": 403,
    "enrol_advocate": 403,
    "opt_out_advocate": 403,
    "give_reward": 403,
    "list_reward_items": 403,
    "list_testimonials": 403,
    "list_publishable_testimonials": 403,
    "get_testimonial": 403,
    "approve_testimonial": 403,
    "decline_testimonial": 403,
    "revoke_testimonial_authorization": 403,
}

STAFF_ONLY_FIELDS = {
    "contact_attempts",
    "events",
    "assignee",
    "appointments",
    "attachments",
    "version",
    "first_contact_due_at",
    "first_contact_at",
    "sla_breached_at",
    "outreach_started_at",
    "fit",
    "fit_reasons",
    "possible_duplicate_of_id",
    "source_type",
    "channel",
    "allowed_next",
}


def pdf(name: str = "records.pdf") -> SimpleUploadedFile:
    document = FPDF()
    document.add_page()
    return SimpleUploadedFile(name, bytes(document.output()), "application/pdf")


@pytest.fixture
def worked(frozen_clock, cora, cliff, referral):
    """Practice A's referral, scheduled, with everything the practice's staff did on it."""
    services.assign_referral(referral.pk, acting_user=cora, assignee=cora)
    services.add_note(referral.pk, acting_user=cora, text=STAFF_NOTE)
    scheduled = f.advance(referral, "accepted", acting_user=cora)
    transitions.start_contacting(scheduled.pk, acting_user=cora)
    services.record_contact_attempt(
        scheduled.pk, acting_user=cora, channel="phone", outcome="reached", note=INTERNAL_NOTE
    )
    transitions.schedule_referral(
        scheduled.pk,
        acting_user=cora,
        appointment=transitions.AppointmentInput(
            starts_at=dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC), clinician_id=cliff.pk
        ),
    )
    services.add_attachment(
        scheduled.pk, acting_user=cora, upload=pdf("Quillfeather MRI.pdf"), filename="x.pdf"
    )
    scheduled.refresh_from_db()
    return scheduled


def test_every_operation_answers_a_portal_user_as_the_table_says(
    api, pam, ada, cora, cliff, spine, practice_a, provider_a, worked, openapi
):
    client = api(pam).client
    attachment = worked.attachments.get()
    w = {
        **dict.fromkeys(("received", "accepted", "scheduled", "seen"), worked),
        "spine": spine,
        "location": f.LocationFactory(),
        "cliff": cliff,
        "cora": cora,
        "practice_a": practice_a,
        "provider_a": provider_a,
        "starts_at": "2026-03-16T15:00:00+00:00",
        "now": "2026-03-02T15:00:00+00:00",
        "task": Task.objects.create(title="Visit the office", practice=practice_a),
        **outreach_world(ada, practice_a, provider_a),
        **advocacy_world(cora, worked),
    }
    seen = set()
    for path, method, operation in operations(openapi):
        name = operation["operationId"]
        seen.add(name)
        assert name in PORTAL_ANSWERS, f"say what {name} answers a portal user"
        target = path_for(path, w, attachment_id=attachment.pk)
        body = valid_bodies(name, w)[0][1] if method != "get" else None
        multipart = "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
        if multipart:
            body = {**body, "file": pdf()}
        answer = call(
            client, method, target, query=valid_query(name), body=body, multipart=multipart
        )
        assert answer.status_code == PORTAL_ANSWERS[name], (name, answer.content)
    assert seen == set(PORTAL_ANSWERS)


def test_a_portal_users_referral_carries_none_of_the_practices_internal_work(api, pam, worked):
    answer = api(pam).get(f"/api/v1/referrals/{worked.pk}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["access"] == "referrer"
    assert STAFF_ONLY_FIELDS.isdisjoint(body)
    text = answer.content.decode()
    for internal in (INTERNAL_NOTE, STAFF_NOTE, '"cora"', '"cliff"', "Quillfeather MRI"):
        assert internal not in text


def test_a_portal_users_referral_shows_what_the_portal_page_shows(api, pam, worked):
    body = api(pam).get(f"/api/v1/referrals/{worked.pk}").json()
    assert body["status"] == {
        "label": "Appointment booked",
        "meaning": "The patient has an appointment with us.",
    }
    assert body["appointment"]["starts_at"] == "2026-03-09T15:00:00Z"
    assert body["appointment"]["department"]["code"] == "spine"
    assert body["patient"] == {
        "first_name": "Zephyrine",
        "last_name": "Quillfeather",
        "date_of_birth": worked.patient.date_of_birth.isoformat(),
    }
    assert [step["label"] for step in body["history"]] == [
        "Received",
        "Accepted",
        "Contacting the patient",
        "Appointment booked",
    ]
    (document,) = body["documents"]
    assert set(document) == {"id", "kind", "content_type", "uploaded_at", "content_url"}
    assert body["report_summary"] == body["end_reason"] == body["missing_info"] == ""


def test_a_declined_referral_shows_the_portal_user_the_reason_and_the_alternative(
    api, cora, pam, referral
):
    f.advance(referral, "declined", acting_user=cora)
    body = api(pam).get(f"/api/v1/referrals/{referral.pk}").json()
    assert (body["state"], body["status"]["label"]) == ("declined", "Declined")
    assert (body["end_reason"], body["suggested_alternative"]) == (
        "outside_scope",
        "Pain management",
    )
    assert body["appointment"] is None


def test_the_consult_report_reaches_the_portal_user_once_the_loop_is_closed(
    api, cora, pam, referral
):
    seen = f.advance(referral, "seen", acting_user=cora)
    assert api(pam).get(f"/api/v1/referrals/{seen.pk}").json()["report_summary"] == ""
    write_progress_report(seen.pk, acting_user=cora, findings="Sciatica.", plan="Therapy.")
    transitions.close_loop(
        seen.pk, acting_user=cora, report_summary="Plan: physical therapy, review in 6 weeks."
    )
    body = api(pam).get(f"/api/v1/referrals/{seen.pk}").json()
    assert body["status"]["label"] == "Complete"
    assert body["report_summary"] == "Plan: physical therapy, review in 6 weeks."


def test_a_portal_users_list_rows_carry_only_what_the_portal_list_shows(api, pam, worked):
    (row,) = api(pam).get("/api/v1/referrals").json()["items"]
    assert row["access"] == "referrer"
    assert set(row) == {
        "access",
        "id",
        "number",
        "state",
        "status",
        "urgency",
        "department",
        "patient",
        "received_at",
        "state_changed_at",
        "appointment_at",
    }
    assert row["appointment_at"] == "2026-03-09T15:00:00Z"


def test_staff_still_read_the_internal_work(api, cora, worked):
    client = api(cora)
    body = client.get(f"/api/v1/referrals/{worked.pk}").json()
    assert body["access"] == "full"
    assert body["assignee"]["username"] == "cora"
    notes = client.get(f"/api/v1/referrals/{worked.pk}/contact-attempts").json()
    assert [attempt["note"] for attempt in notes] == [INTERNAL_NOTE]


def test_another_practices_portal_user_is_refused_the_staff_endpoints_too(api, pete, worked):
    for tail in ("contact-attempts", "notes", "appointments", "attachments"):
        answer = api(pete).get(f"/api/v1/referrals/{worked.pk}/{tail}")
        assert answer.status_code == 403, tail
