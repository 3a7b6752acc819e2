"""The portal's pages through Django's test client: a practice sees its own referrals only,
sends referrals with documents, follows their status, and answers requests for records."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.portal.models import PortalPreference
from refloop.referrals import transitions
from refloop.referrals.models import Attachment, Referral, State
from refloop.referrals.reports import write_progress_report
from tests import samples

PDF = samples.pdf()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf(name="letter.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def referral_b(cora, spine, provider_b):
    patient = f.patient_data(first_name="Ottoline", last_name="Brambleworth")
    return f.make_referral(
        acting_user=cora, department=spine, referring_provider=provider_b, patient=patient
    )


@pytest.fixture
def document(referral, cora):
    from django.core.files.base import ContentFile

    from refloop.referrals import services

    return services.add_attachment(
        referral, acting_user=cora, upload=ContentFile(PDF), filename="Quillfeather letter.pdf"
    )


def form_data(provider, department, **overrides) -> dict:
    return {
        "idempotency_key": "key-1",
        "referring_provider": provider.pk,
        "first_name": "Marisol",
        "last_name": "Vantongeren",
        "date_of_birth": "1961-04-12",
        "sex": "female",
        "phone": "(217) 555-0199",
        "preferred_language": "English",
        "contact_consent": "on",
        "department": department.pk,
        "urgency": "urgent",
        "reason": "Lumbar radiculopathy, six weeks, failed physical therapy",
        "icd10_codes": "M54.16",
        "document_kind": "referral_letter",
        **overrides,
    }


# ---- who may open the portal ------------------------------------------------


def test_signing_in_takes_a_portal_user_to_the_portal(pam):
    answer = client_for(pam).get("/")
    assert answer.status_code == 302 and answer["Location"] == "/portal/"


def test_anonymous_visitors_are_sent_to_sign_in(referral):
    for url in ("/portal/", f"/portal/referrals/{referral.pk}/", "/portal/referrals/new/"):
        answer = Client().get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/login/"), url


@pytest.mark.parametrize("who", ["cora", "ada", "lia", "cliff"])
def test_practice_staff_are_refused_the_portal_with_a_clear_403(who, request, referral):
    client = client_for(request.getfixturevalue(who))
    for url in (
        "/portal/",
        f"/portal/referrals/{referral.pk}/",
        "/portal/referrals/new/",
        f"/portal/referrals/{referral.pk}/messages",
    ):
        answer = client.get(url)
        assert answer.status_code == 403, url
        assert "for staff of referring practices" in answer.content.decode()


def test_a_portal_account_without_a_practice_is_refused(org):
    orphan = f.UserFactory(username="orphan", role="portal", partner_practice=None)
    answer = client_for(orphan).get("/portal/")
    assert answer.status_code == 403 and "belongs to no practice" in answer.content.decode()


def test_portal_users_are_refused_the_workspace(pam, referral):
    client = client_for(pam)
    assert client.get("/referrals/").status_code == 403
    assert client.get(f"/referrals/{referral.pk}/").status_code == 403
    assert client.get(f"/referrals/{referral.pk}/messages/").status_code == 403
    assert client.get("/portal-invites/").status_code == 403


# ---- the practice's referrals ----------------------------------------------------


def test_each_practice_lists_its_own_referrals_only(pam, pete, referral, referral_b):
    page_a = client_for(pam).get("/portal/").content.decode()
    assert referral.number in page_a and "Quillfeather" in page_a
    assert referral_b.number not in page_a and "Brambleworth" not in page_a
    page_b = client_for(pete).get("/portal/").content.decode()
    assert referral_b.number in page_b and referral.number not in page_b


def test_the_list_is_audited_row_by_row(pam, referral):
    client_for(pam).get("/portal/")
    entry = AuditEntry.objects.get(action="referral.listed", actor=pam)
    assert entry.referral_id == referral.pk and entry.patient_id == referral.patient_id


def test_the_detail_shows_status_in_plain_words_and_is_audited(pam, referral):
    answer = client_for(pam).get(f"/portal/referrals/{referral.pk}/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Received" in page and "Zephyrine Quillfeather" in page
    assert AuditEntry.objects.filter(action="referral.read", actor=pam).count() == 1


def test_another_practices_referral_is_not_found_by_any_url(pete, referral, document):
    client = client_for(pete)
    urls = [
        f"/portal/referrals/{referral.pk}/",
        f"/portal/referrals/{referral.pk}/documents/{document.pk}",
        f"/portal/referrals/{referral.pk}/messages",
        f"/portal/referrals/{referral.pk}/answer",
        "/portal/referrals/999999/",
    ]
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert "Quillfeather" not in answer.content.decode()
    for url in urls[2:4]:
        assert client.post(url, {"body": "hello"}).status_code == 404, url
    assert AuditEntry.objects.filter(action="referral.read_denied", actor=pete).exists()
    assert AuditEntry.objects.filter(action="attachment.read_denied", actor=pete).exists()


def test_outbound_referrals_are_not_in_the_portal(pam, cora, practice_a, referral):
    from refloop.referrals import services

    sent = services.create_outbound_referral(
        acting_user=cora, patient=referral.patient, receiving_practice=practice_a, reason="Sleep"
    )
    assert client_for(pam).get(f"/portal/referrals/{sent.pk}/").status_code == 404


def test_a_document_of_their_own_referral_is_served_sandboxed(pam, referral, document):
    answer = client_for(pam).get(f"/portal/referrals/{referral.pk}/documents/{document.pk}")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == PDF
    assert answer["Content-Security-Policy"] == "sandbox"
    assert answer["Cache-Control"] == "no-store"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert "Quillfeather" not in answer["Content-Disposition"]
    assert AuditEntry.objects.filter(action="attachment.read", actor=pam).count() == 1


def test_a_document_under_another_referral_id_is_not_found(pam, referral, document, cora):
    other = f.make_referral(acting_user=cora, referring_provider=referral.referring_provider)
    url = f"/portal/referrals/{other.pk}/documents/{document.pk}"
    assert client_for(pam).get(url).status_code == 404


def test_the_status_changes_when_the_coordinator_accepts(pam, cora, referral):
    client = client_for(pam)
    transitions.accept_referral(referral, acting_user=cora)
    page = client.get(f"/portal/referrals/{referral.pk}/").content.decode()
    assert 'data-state="accepted"' in page and "Accepted" in page


def test_a_declined_referral_shows_the_reason_and_the_alternative(pam, cora, referral):
    transitions.decline_referral(
        referral,
        acting_user=cora,
        reason="outside_scope",
        suggested_alternative="Riverside Pain Management",
    )
    page = client_for(pam).get(f"/portal/referrals/{referral.pk}/").content.decode()
    assert "Outside scope" in page and "Riverside Pain Management" in page


def test_the_appointment_date_shows_once_scheduled(pam, cora, referral):
    f.advance(referral, State.SCHEDULED, acting_user=cora)
    page = client_for(pam).get(f"/portal/referrals/{referral.pk}/").content.decode()
    assert "Appointment booked" in page and 'id="appointment-date"' in page
    listing = client_for(pam).get("/portal/").content.decode()
    assert "Appointment booked" in listing


def test_the_consult_report_shows_once_the_loop_is_closed(pam, cora, referral):
    from django.core.files.base import ContentFile

    from refloop.referrals import services

    f.advance(referral, State.SEEN, acting_user=cora)
    report = services.add_attachment(
        referral,
        acting_user=cora,
        upload=ContentFile(PDF),
        filename="report.pdf",
        kind="consult_report",
    )
    page = client_for(pam).get(f"/portal/referrals/{referral.pk}/").content.decode()
    assert "Consult report" not in page.split("The referral")[0]
    write_progress_report(referral.pk, acting_user=cora, findings="L5.", plan="PT.")
    transitions.close_loop(
        referral.pk,
        acting_user=cora,
        report_summary="Seen in clinic; plan: physical therapy, review in 6 weeks.",
    )
    page = client_for(pam).get(f"/portal/referrals/{referral.pk}/").content.decode()
    assert "physical therapy, review in 6 weeks" in page
    assert f"/portal/referrals/{referral.pk}/documents/{report.pk}" in page


# ---- sending a referral ------------------------------------------------------------


def test_the_form_offers_the_practices_providers_and_each_departments_criteria(
    pam, provider_a, provider_b, spine
):
    spine.description = "Back and neck conditions"
    spine.accepted_insurances = ["Blue Cross"]
    spine.required_documents = ["imaging"]
    spine.min_age = 18
    spine.save()
    page = client_for(pam).get("/portal/referrals/new/").content.decode()
    assert provider_a.npi in page and provider_b.npi not in page
    assert "Back and neck conditions" in page and "ICD-10 M54, M51" in page
    assert "Blue Cross" in page and "Imaging" in page and "18 years and older" in page


def test_a_referral_with_documents_is_sent_for_the_practice(pam, provider_a, spine, practice_a):
    answer = client_for(pam).post(
        "/portal/referrals/new/",
        {**form_data(provider_a, spine), "documents": [pdf(), pdf("notes.pdf")]},
    )
    referral = Referral.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/portal/referrals/{referral.pk}/"
    assert (referral.channel, referral.referring_practice, referral.referring_provider) == (
        "portal",
        practice_a,
        provider_a,
    )
    assert (referral.urgency, referral.icd10_codes) == ("urgent", ["M54.16"])
    assert referral.patient.last_name == "Vantongeren"
    assert Attachment.objects.filter(referral=referral, kind="referral_letter").count() == 2


def test_the_last_choices_are_remembered(pam, provider_a, spine, practice_a):
    second = f.ProviderFactory(practice=practice_a)
    client = client_for(pam)
    client.post("/portal/referrals/new/", form_data(second, spine))
    preference = PortalPreference.objects.get(user=pam)
    assert (preference.referring_provider, preference.department, preference.urgency) == (
        second,
        spine,
        "urgent",
    )
    form = client.get("/portal/referrals/new/").context["form"]
    assert form.initial["referring_provider"] == second.pk
    assert form.initial["department"] == spine.pk
    assert form.initial["urgency"] == "urgent"


def test_a_double_submit_records_one_referral(pam, provider_a, spine):
    client = client_for(pam)
    first = client.post(
        "/portal/referrals/new/", {**form_data(provider_a, spine), "documents": pdf()}
    )
    again = client.post(
        "/portal/referrals/new/", {**form_data(provider_a, spine), "documents": pdf()}
    )
    assert first["Location"] == again["Location"]
    assert Referral.objects.count() == 1 and Attachment.objects.count() == 1


def test_errors_keep_what_was_typed_and_name_each_field(pam, provider_a, spine):
    answer = client_for(pam).post(
        "/portal/referrals/new/",
        form_data(provider_a, spine, last_name="", date_of_birth="12/31/abc", icd10_codes="Q"),
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    assert 'value="Marisol"' in page and "Lumbar radiculopathy, six weeks" in page
    for field in ("last_name", "date_of_birth", "icd10_codes"):
        assert f'id="id_{field}_error"' in page, field
        assert f'href="#id_{field}"' in page, field
    assert not Referral.objects.exists()


def test_another_practices_provider_is_refused_beside_the_field(pam, provider_b, spine):
    answer = client_for(pam).post("/portal/referrals/new/", form_data(provider_b, spine))
    assert answer.status_code == 422
    assert 'id="id_referring_provider_error"' in answer.content.decode()
    assert not Referral.objects.exists()


def test_a_file_that_is_not_a_document_is_refused_and_nothing_is_sent(pam, provider_a, spine):
    bad = SimpleUploadedFile("letter.docx", b"PK\x03\x04 not a pdf")
    answer = client_for(pam).post(
        "/portal/referrals/new/", {**form_data(provider_a, spine), "documents": [pdf(), bad]}
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    # Numbered, not named: file names often carry the patient's.
    assert "File 2 of 2: This file is a ZIP archive" in page and "letter.docx" not in page
    assert 'id="id_documents_error"' in page
    assert "choose the documents again" in page
    assert not Referral.objects.exists()


# ---- answering a request for information ---------------------------------------------


@pytest.fixture
def pending(referral, cora):
    transitions.request_info(referral, acting_user=cora, missing_info="The lumbar MRI report")
    return Referral.objects.get(pk=referral.pk)


def test_the_request_shows_what_is_missing_with_an_upload_form(pam, pending):
    page = client_for(pam).get(f"/portal/referrals/{pending.pk}/").content.decode()
    assert "The lumbar MRI report" in page
    assert f'action="/portal/referrals/{pending.pk}/answer"' in page


def test_answering_attaches_the_records_and_moves_back_to_review(pam, pending):
    answer = client_for(pam).post(
        f"/portal/referrals/{pending.pk}/answer",
        {
            "expected_version": pending.version,
            "documents": pdf("mri.pdf"),
            "document_kind": "imaging",
            "note": "MRI from March",
        },
    )
    assert answer.status_code == 302
    referral = Referral.objects.get(pk=pending.pk)
    assert referral.state == State.IN_REVIEW
    assert referral.attachments.filter(kind="imaging", uploaded_by=pam).count() == 1
    event = referral.events.get(kind="referral.in_review")
    assert event.actor == pam and event.data["note"] == "MRI from March"


def test_an_answer_needs_a_document(pam, pending):
    answer = client_for(pam).post(
        f"/portal/referrals/{pending.pk}/answer", {"expected_version": pending.version}
    )
    assert answer.status_code == 422
    assert "Attach the records that were asked for" in answer.content.decode()
    assert Referral.objects.get(pk=pending.pk).state == State.PENDING_INFO


def test_only_a_pending_referral_can_be_answered(pam, referral):
    answer = client_for(pam).post(
        f"/portal/referrals/{referral.pk}/answer",
        {"expected_version": referral.version, "documents": pdf(), "document_kind": "records"},
    )
    assert answer.status_code == 409
    assert Referral.objects.get(pk=referral.pk).state == State.RECEIVED
    assert not Attachment.objects.exists()


def test_a_stale_answer_changes_nothing(pam, pending):
    answer = client_for(pam).post(
        f"/portal/referrals/{pending.pk}/answer",
        {"expected_version": pending.version - 1, "documents": pdf(), "document_kind": "records"},
    )
    assert answer.status_code == 409
    assert Referral.objects.get(pk=pending.pk).state == State.PENDING_INFO
    assert not Attachment.objects.exists()
