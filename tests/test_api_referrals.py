"""The referral endpoints of /api/v1/: happy paths and the role rules at the API edge."""

import datetime as dt

import pytest

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.patients.models import Patient
from refloop.referrals import selectors
from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    Attachment,
    Referral,
    ReferralChannel,
    ReferralEvent,
    State,
)
from tests import samples

pytestmark = pytest.mark.django_db

PDF = samples.pdf()


def new_referral_body(provider, department, **overrides) -> dict:
    patient = f.patient_data()
    patient["date_of_birth"] = patient["date_of_birth"].isoformat()
    return {
        "patient": patient,
        "source_type": "provider",
        "referring_provider_id": provider.pk,
        "reason": "Neck pain with numbness in the right hand",
        "icd10_codes": ["m5412"],
        "urgency": "urgent",
        "department_id": department.pk,
        **overrides,
    }


def upload(client, referral, name, content, **data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.upload(
        f"/api/v1/referrals/{referral.pk}/attachments",
        {"file": SimpleUploadedFile(name, content)},
        data,
    )


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ---- list -------------------------------------------------------------------------


def test_coordinator_lists_referrals_with_patient_rows(api, cora, referral):
    answer = api(cora).get("/api/v1/referrals")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["limit"], body["offset"]) == (1, 50, 0)
    row = body["items"][0]
    assert row["access"] == "full"
    assert row["id"] == referral.pk
    assert row["patient"]["last_name"] == referral.patient.last_name
    assert row["received_at"].endswith("Z")  # ISO 8601, UTC
    assert AuditEntry.objects.filter(action="referral.listed", referral_id=referral.pk).exists()


def test_liaison_lists_referral_summaries_without_patient_or_reason(api, lia, referral):
    row = api(lia).get("/api/v1/referrals").json()["items"][0]
    assert row["access"] == "summary"
    assert "patient" not in row and "reason" not in row and "icd10_codes" not in row
    assert referral.patient.last_name not in str(row)


def test_analyst_may_not_list_referrals(api, andy, referral):
    answer = api(andy).get("/api/v1/referrals")
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Your role may not see referrals.", "field": None}


def test_portal_users_list_only_their_own_practices_referrals(api, pam, pete, referral):
    assert [r["id"] for r in api(pam).get("/api/v1/referrals").json()["items"]] == [referral.pk]
    assert api(pete).get("/api/v1/referrals").json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }


def test_clinician_lists_only_their_departments_referrals(api, cliff, hana, referral):
    assert api(cliff).get("/api/v1/referrals").json()["total"] == 1
    assert api(hana).get("/api/v1/referrals").json()["total"] == 0


def test_list_filters_by_repeated_state_and_pages(api, cora, spine, provider_a):
    received = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
    accepted = f.advance(
        f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a),
        State.ACCEPTED,
        acting_user=cora,
    )
    f.advance(
        f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a),
        State.DECLINED,
        acting_user=cora,
    )
    client = api(cora)
    body = client.get("/api/v1/referrals", state=["received", "accepted"]).json()
    assert {r["id"] for r in body["items"]} == {received.pk, accepted.pk}
    page = client.get("/api/v1/referrals", limit=1, offset=1).json()
    assert (page["total"], len(page["items"]), page["limit"], page["offset"]) == (3, 1, 1, 1)


def test_list_filters_by_practice_local_received_dates_inclusive(api, cora, spine, provider_a):
    # 03:00 UTC on March 1st is still February 28th in Chicago, the practice's zone.
    late_evening = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        received_at=dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC),
    )
    client = api(cora)
    on_28th = client.get("/api/v1/referrals", received_from="2026-02-28", received_to="2026-02-28")
    assert [r["id"] for r in on_28th.json()["items"]] == [late_evening.pk]
    assert client.get("/api/v1/referrals", received_from="2026-03-01").json()["total"] == 0


def test_list_filters_by_urgency_channel_source_department_and_practice(
    api, cora, referral, spine, hand, provider_a, practice_b
):
    client = api(cora)
    matching = {
        "urgency": "routine",
        "channel": "fax",
        "source_type": "provider",
        "department": spine.pk,
        "referring_practice": provider_a.practice_id,
        "direction": "inbound",
    }
    assert client.get("/api/v1/referrals", **matching).json()["total"] == 1
    for name, other in [
        ("urgency", "stat"),
        ("channel", "email"),
        ("source_type", "self"),
        ("department", hand.pk),
        ("referring_practice", practice_b.pk),
        ("direction", "outbound"),
        ("assignee", cora.pk),
    ]:
        assert client.get("/api/v1/referrals", **{name: other}).json()["total"] == 0, name


def test_list_refuses_a_page_larger_than_200(api, cora):
    answer = api(cora).get("/api/v1/referrals", limit=500)
    assert answer.status_code == 422
    assert answer.json()["field"] == "limit"


# ---- create -----------------------------------------------------------------------


def test_coordinator_creates_an_inbound_referral(api, cora, provider_a, spine):
    answer = api(cora).post("/api/v1/referrals", new_referral_body(provider_a, spine))
    assert answer.status_code == 201
    body = answer.json()
    referral = Referral.objects.get(pk=body["id"])
    assert body["state"] == "received"
    assert body["channel"] == ReferralChannel.API
    assert body["icd10_codes"] == ["M54.12"]
    assert body["referring_practice"]["id"] == provider_a.practice_id
    assert body["allowed_next"] == [
        "in_review",
        "pending_info",
        "accepted",
        "declined",
        "cancelled",
    ]
    assert answer["Location"] == f"/api/v1/referrals/{referral.pk}"
    assert referral.created_by == cora


@pytest.mark.parametrize("user", ["lia", "andy", "cliff", "pam"])
def test_roles_without_create_capability_may_not_create_referrals(
    api, request, user, provider_a, spine
):
    answer = api(request.getfixturevalue(user)).post(
        "/api/v1/referrals", new_referral_body(provider_a, spine)
    )
    assert answer.status_code == 403
    assert not Referral.objects.exists()


def test_idempotent_replay_returns_the_same_referral(api, cora, provider_a, spine):
    client = api(cora)
    body = new_referral_body(provider_a, spine)
    first = client.post("/api/v1/referrals", body, **{"Idempotency-Key": "fax-0042"})
    again = client.post("/api/v1/referrals", body, **{"Idempotency-Key": "fax-0042"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Referral.objects.count() == 1


def test_a_replay_rolls_back_all_it_wrote_before_finding_the_key_taken(
    api, cora, provider_a, spine
):
    # The key is claimed by the intake's last write, so a replay has by then written a
    # patient, a referral, its events and their audit records, and moved the round-robin.
    for _ in range(2):  # two, so a second routing would move the pointer
        f.UserFactory(role="coordinator", departments=[spine])
    client = api(cora)
    body = new_referral_body(provider_a, spine)
    first = client.post("/api/v1/referrals", body, **{"Idempotency-Key": "fax-0043"})

    def written():
        spine.refresh_from_db()
        return (
            Patient.objects.count(),
            Referral.objects.count(),
            ReferralEvent.objects.count(),
            AuditEntry.objects.exclude(action="referral.read").count(),
            spine.last_routed_to_id,
        )

    before = written()
    again = client.post("/api/v1/referrals", body, **{"Idempotency-Key": "fax-0043"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert before[4] is not None
    assert written() == before


@pytest.mark.parametrize("user", ["ada", "cora", "cliff", "hana", "lia", "andy", "pam", "pete"])
def test_visibility_answered_from_the_row_agrees_with_the_query(request, user, referral):
    who = request.getfixturevalue(user)
    fresh = Referral.objects.get(pk=referral.pk)  # not marked as read for anyone
    expected = selectors.visible_referrals(who).filter(pk=referral.pk).exists()
    assert selectors.is_visible(who, fresh) is expected


def test_idempotency_key_reused_for_a_different_body_is_refused(api, cora, provider_a, spine):
    client = api(cora)
    first = new_referral_body(provider_a, spine)
    client.post("/api/v1/referrals", first, **{"Idempotency-Key": "k"})
    other = client.post(
        "/api/v1/referrals", new_referral_body(provider_a, spine), **{"Idempotency-Key": "k"}
    )
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    assert Referral.objects.count() == 1


def test_referral_for_a_patient_already_on_record(api, cora, referral, provider_a, spine):
    body = new_referral_body(provider_a, spine, patient=None, patient_id=referral.patient_id)
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 201
    assert answer.json()["patient"]["id"] == referral.patient_id


def test_patient_id_of_a_patient_not_visible_is_refused(api, cora, provider_a, spine):
    stranger = f.PatientFactory()  # on no referral at all
    body = new_referral_body(provider_a, spine, patient=None, patient_id=stranger.pk)
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 422
    assert answer.json()["field"] == "patient_id"
    assert stranger.last_name not in answer.content.decode()


def test_new_referral_needs_exactly_one_of_patient_and_patient_id(
    api, cora, referral, provider_a, spine
):
    both = new_referral_body(provider_a, spine, patient_id=referral.patient_id)
    neither = new_referral_body(provider_a, spine, patient=None)
    for body in (both, neither):
        answer = api(cora).post("/api/v1/referrals", body)
        assert answer.status_code == 422
        assert answer.json()["field"] == "patient"


def test_naive_received_at_is_read_in_the_practice_time_zone(api, cora, provider_a, spine):
    body = new_referral_body(provider_a, spine, received_at="2026-02-28T21:00:00")
    answer = api(cora).post("/api/v1/referrals", body)
    assert answer.status_code == 201
    assert answer.json()["received_at"] == "2026-03-01T03:00:00Z"


def test_coordinator_drafts_an_outbound_referral(api, cora, referral, practice_b, provider_b):
    answer = api(cora).post(
        "/api/v1/outbound-referrals",
        {
            "patient_id": referral.patient_id,
            "receiving_practice_id": practice_b.pk,
            "receiving_provider_id": provider_b.pk,
            "reason": "Cardiology opinion before surgery",
        },
    )
    assert answer.status_code == 201
    body = answer.json()
    assert (body["direction"], body["state"]) == ("outbound", "draft")
    assert body["receiving_practice"]["id"] == practice_b.pk
    assert body["allowed_next"] == ["sent", "cancelled"]


def test_outbound_referral_needs_a_receiving_practice(api, cora, referral):
    answer = api(cora).post(
        "/api/v1/outbound-referrals", {"patient_id": referral.patient_id, "reason": "Cardiology"}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "receiving_practice_id"


def test_liaison_may_not_draft_outbound_referrals(api, lia, referral, practice_b):
    answer = api(lia).post(
        "/api/v1/outbound-referrals",
        {
            "patient_id": referral.patient_id,
            "receiving_practice_id": practice_b.pk,
            "reason": "Cardiology",
        },
    )
    assert answer.status_code == 403


# ---- detail -----------------------------------------------------------------------


def test_coordinator_reads_full_detail_and_the_read_is_audited(api, cora, referral):
    answer = api(cora).get(f"/api/v1/referrals/{referral.pk}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["access"] == "full"
    assert body["patient"]["date_of_birth"] == referral.patient.date_of_birth.isoformat()
    assert body["reason"] == referral.reason
    assert body["referring_provider"]["npi"] == referral.referring_provider.npi
    assert [e["kind"] for e in body["events"]] == ["referral.received", "referral.triaged"]
    assert body["version"] == referral.version
    assert AuditEntry.objects.filter(
        action="referral.read",
        actor=cora,
        referral_id=referral.pk,
        patient_id=referral.patient_id,
    ).exists()


def test_liaison_detail_is_a_summary_without_patient_or_clinical_data(api, lia, referral, cora):
    api(cora).post(f"/api/v1/referrals/{referral.pk}/notes", {"text": "Prefers mornings"})
    body = api(lia).get(f"/api/v1/referrals/{referral.pk}").json()
    assert body["access"] == "summary"
    for hidden in (
        "patient",
        "reason",
        "icd10_codes",
        "events",
        "attachments",
        "appointments",
        "contact_attempts",
        "report_summary",
    ):
        assert hidden not in body
    assert referral.patient.last_name not in str(body)
    assert "Prefers mornings" not in str(body)
    assert body["state"] == "received"
    assert AuditEntry.objects.filter(action="referral.read_summary", actor=lia).exists()


def test_clinician_reads_own_department_referral_but_not_another(api, cliff, hana, referral):
    assert api(cliff).get(f"/api/v1/referrals/{referral.pk}").status_code == 200
    answer = api(hana).get(f"/api/v1/referrals/{referral.pk}")
    assert answer.status_code == 404
    assert answer.json()["detail"] == "No referral with this id is visible to you."


def test_portal_user_reads_own_practices_referral_and_not_another_practices(
    api, pam, pete, referral
):
    assert api(pam).get(f"/api/v1/referrals/{referral.pk}").status_code == 200
    assert api(pete).get(f"/api/v1/referrals/{referral.pk}").status_code == 404
    assert AuditEntry.objects.filter(action="referral.read_denied", actor=pete).exists()


def test_unknown_referral_is_404(api, cora):
    assert api(cora).get("/api/v1/referrals/999999").status_code == 404


# ---- transitions and assignment -----------------------------------------------------


def test_accepting_a_referral_moves_it_and_bumps_the_version(api, cora, referral):
    answer = api(cora).post(
        f"/api/v1/referrals/{referral.pk}/transitions",
        {"to": "accepted", "expected_version": referral.version, "note": "Good fit"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["state"], body["version"]) == ("accepted", referral.version + 1)
    assert body["allowed_next"] == ["contacting", "scheduled", "cancelled"]


def test_illegal_transition_is_409_naming_current_and_allowed_states(api, cora, referral):
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/transitions", {"to": "seen"})
    assert answer.status_code == 409
    detail = answer.json()["detail"]
    assert "This referral is received" in detail
    for allowed in ("in_review", "pending_info", "accepted", "declined", "cancelled"):
        assert allowed in detail
    referral.refresh_from_db()
    assert referral.state == State.RECEIVED


def test_stale_expected_version_is_409(api, cora, referral):
    answer = api(cora).post(
        f"/api/v1/referrals/{referral.pk}/transitions",
        {"to": "in_review", "expected_version": referral.version - 1},
    )
    assert answer.status_code == 409
    assert "changed since you loaded it" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("to", "field"),
    [("pending_info", "missing_info"), ("declined", "reason"), ("cancelled", "reason")],
)
def test_transition_missing_a_required_field_is_422_naming_it(api, cora, referral, to, field):
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/transitions", {"to": to})
    assert answer.status_code == 422
    assert answer.json()["field"] == field


def test_scheduling_by_transition_books_the_appointment(api, cora, referral):
    f.advance(referral, State.ACCEPTED, acting_user=cora)
    answer = api(cora).post(
        f"/api/v1/referrals/{referral.pk}/transitions",
        {"to": "scheduled", "appointment": {"starts_at": "2030-01-15T09:30:00-06:00"}},
    )
    assert answer.status_code == 200
    assert answer.json()["state"] == "scheduled"
    appointment = Appointment.objects.get(referral=referral)
    assert appointment.starts_at == dt.datetime(2030, 1, 15, 15, 30, tzinfo=dt.UTC)


def test_liaison_may_not_move_referrals(api, lia, referral):
    answer = api(lia).post(f"/api/v1/referrals/{referral.pk}/transitions", {"to": "in_review"})
    assert answer.status_code == 403


def test_clinician_of_another_department_gets_404_on_transition(api, hana, referral):
    answer = api(hana).post(f"/api/v1/referrals/{referral.pk}/transitions", {"to": "in_review"})
    assert answer.status_code == 404


def test_coordinator_assigns_and_unassigns_a_referral(api, cora, cliff, referral):
    client = api(cora)
    assigned = client.post(f"/api/v1/referrals/{referral.pk}/assignment", {"assignee_id": cliff.pk})
    assert assigned.status_code == 200
    assert assigned.json()["assignee"]["username"] == "cliff"
    cleared = client.post(f"/api/v1/referrals/{referral.pk}/assignment", {"assignee_id": None})
    assert cleared.json()["assignee"] is None


def test_assignment_to_a_liaison_is_refused(api, cora, lia, referral):
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/assignment", {"assignee_id": lia.pk})
    assert answer.status_code == 422


def test_assignment_needs_the_assignee_key(api, cora, referral):
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/assignment", {})
    assert (answer.status_code, answer.json()["field"]) == (422, "assignee_id")


def test_clinician_may_not_assign_referrals(api, cliff, cora, referral):
    answer = api(cliff).post(
        f"/api/v1/referrals/{referral.pk}/assignment", {"assignee_id": cora.pk}
    )
    assert answer.status_code == 403


# ---- contact attempts, notes, appointments ------------------------------------------


def test_contact_attempts_are_recorded_and_listed(api, cora, referral):
    client = api(cora)
    answer = client.post(
        f"/api/v1/referrals/{referral.pk}/contact-attempts",
        {"channel": "phone", "outcome": "left_voicemail", "note": "Called mobile"},
    )
    assert answer.status_code == 201
    assert answer.json()["recorded_by"] == "cora"
    listed = client.get(f"/api/v1/referrals/{referral.pk}/contact-attempts").json()
    assert [(a["channel"], a["outcome"]) for a in listed] == [("phone", "left_voicemail")]
    referral.refresh_from_db()
    assert referral.first_contact_at is not None


def test_contact_attempt_outcome_must_be_a_known_one(api, cora, referral):
    answer = api(cora).post(
        f"/api/v1/referrals/{referral.pk}/contact-attempts",
        {"channel": "phone", "outcome": "gave up"},
    )
    assert (answer.status_code, answer.json()["field"]) == (422, "outcome")


def test_liaison_may_not_read_contact_attempts(api, lia, referral):
    assert api(lia).get(f"/api/v1/referrals/{referral.pk}/contact-attempts").status_code == 403


def test_notes_are_added_and_their_reading_is_audited(api, cora, cliff, referral):
    added = api(cora).post(f"/api/v1/referrals/{referral.pk}/notes", {"text": "MRI on the way"})
    assert added.status_code == 201
    assert (added.json()["text"], added.json()["author"]) == ("MRI on the way", "cora")
    notes = api(cliff).get(f"/api/v1/referrals/{referral.pk}/notes")
    assert [n["text"] for n in notes.json()] == ["MRI on the way"]
    assert AuditEntry.objects.filter(
        action="referral.read", actor=cliff, referral_id=referral.pk
    ).exists()


def test_liaison_and_other_department_may_not_read_notes(api, lia, hana, referral):
    assert api(lia).get(f"/api/v1/referrals/{referral.pk}/notes").status_code == 403
    assert api(hana).get(f"/api/v1/referrals/{referral.pk}/notes").status_code == 404


def test_empty_note_is_refused(api, cora, referral):
    answer = api(cora).post(f"/api/v1/referrals/{referral.pk}/notes", {"text": "  "})
    assert (answer.status_code, answer.json()["field"]) == (422, "text")


def test_booking_schedules_then_reschedules(api, cora, referral, spine):
    f.advance(referral, State.ACCEPTED, acting_user=cora)
    client = api(cora)
    first = client.post(
        f"/api/v1/referrals/{referral.pk}/appointments", {"starts_at": "2030-01-15T09:30:00"}
    )
    assert first.status_code == 201
    assert first.json()["referral"]["state"] == "scheduled"
    assert first.json()["appointment"]["department"]["id"] == spine.pk
    moved = client.post(
        f"/api/v1/referrals/{referral.pk}/appointments", {"starts_at": "2030-01-22T09:30:00"}
    )
    assert moved.status_code == 201
    assert moved.json()["referral"]["state"] == "scheduled"
    listed = client.get(f"/api/v1/referrals/{referral.pk}/appointments").json()
    assert [a["outcome"] for a in listed] == [AppointmentOutcome.RESCHEDULED, ""]
    # Naive times are the practice's (Chicago, UTC-6 in January).
    assert listed[1]["starts_at"] == "2030-01-22T15:30:00Z"


def test_booking_a_received_referral_is_409(api, cora, referral):
    answer = api(cora).post(
        f"/api/v1/referrals/{referral.pk}/appointments", {"starts_at": "2030-01-15T09:30:00"}
    )
    assert answer.status_code == 409


# ---- attachments ----------------------------------------------------------------------


def test_pdf_is_attached_listed_and_downloaded_under_a_neutral_name(api, cora, referral):
    client = api(cora)
    answer = upload(client, referral, "Jane Doe MRI.pdf", PDF, kind="imaging")
    assert answer.status_code == 201
    body = answer.json()
    assert (body["content_type"], body["kind"]) == ("application/pdf", "imaging")
    assert body["size"] == len(PDF)
    listed = client.get(f"/api/v1/referrals/{referral.pk}/attachments").json()
    assert [a["id"] for a in listed] == [body["id"]]

    download = client.get(body["content_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"{referral.number}-{body['id']}.pdf" in disposition
    assert "Jane" not in disposition
    assert AuditEntry.objects.filter(
        action="attachment.read",
        actor=cora,
        object_id=str(body["id"]),
        patient_id=referral.patient_id,
    ).exists()


def test_other_practices_portal_user_cannot_download_a_document(api, cora, pete, pam, referral):
    attachment_id = upload(api(cora), referral, "letter.pdf", PDF).json()["id"]
    path = f"/api/v1/referrals/{referral.pk}/attachments/{attachment_id}/content"
    assert api(pete).get(path).status_code == 404
    assert api(pam).get(path).status_code == 200
    assert AuditEntry.objects.filter(action="attachment.read_denied", actor=pete).exists()


def test_liaison_cannot_list_or_download_documents(api, cora, lia, referral):
    attachment_id = upload(api(cora), referral, "letter.pdf", PDF).json()["id"]
    client = api(lia)
    assert client.get(f"/api/v1/referrals/{referral.pk}/attachments").status_code == 403
    path = f"/api/v1/referrals/{referral.pk}/attachments/{attachment_id}/content"
    assert client.get(path).status_code == 403


def test_text_file_renamed_pdf_is_415_and_nothing_is_stored(api, cora, referral, settings):
    answer = upload(api(cora), referral, "records.pdf", b"Patient: Jane Doe, DOB 1970-01-01\n")
    assert answer.status_code == 415
    assert "judged by its content" in answer.json()["detail"]
    assert "Jane" not in answer.content.decode()
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_oversize_file_is_413_and_nothing_is_stored(api, cora, referral, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    answer = upload(api(cora), referral, "big.pdf", PDF + b"0" * 2048)
    assert answer.status_code == 413
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []


def test_oversize_upload_is_refused_from_content_length_before_the_body_is_read(
    api, cora, referral, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    client = api(cora)
    # The declared length is far beyond the limit; the small body is never parsed.
    answer = client.client.post(
        f"/api/v1/referrals/{referral.pk}/attachments",
        b"x" * 10,
        content_type="multipart/form-data; boundary=zzz",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert answer.status_code == 413
    assert answer.json()["detail"].startswith("The upload is 50.0 MB")
    assert not Attachment.objects.exists()


def test_upload_without_a_file_is_422_naming_it(api, cora, referral):
    path = f"/api/v1/referrals/{referral.pk}/attachments"
    answer = api(cora).upload(path, {}, {"kind": "records"})
    assert (answer.status_code, answer.json()["field"]) == (422, "file")


def test_analyst_may_not_attach_documents(api, andy, referral):
    answer = upload(api(andy), referral, "letter.pdf", PDF)
    assert answer.status_code == 403
    assert not Attachment.objects.exists()


def test_contact_consent_is_never_assumed_by_the_api(api, cora, spine, provider_a):
    body = new_referral_body(provider_a, spine)
    del body["patient"]["contact_consent"]

    answer = api(cora).post("/api/v1/referrals", body)

    assert answer.status_code == 422
    assert answer.json()["field"] == "patient.contact_consent"
    assert not Referral.objects.exists()
