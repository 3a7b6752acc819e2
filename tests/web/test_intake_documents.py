"""The document intake pages: the queue and its tabs, a packet's pages, and the review of a
candidate into a referral (test client; documents made by hand, see tests/intake/test_review)."""

import re

import pytest
from django.urls import reverse

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.intake.models import CandidateStatus, DocumentStatus, IntakeCandidate
from refloop.network.models import Provider
from refloop.referrals.models import Referral
from tests.intake.test_review import fields_for, make_document, read

QUEUE = "/intake/documents/"


@pytest.fixture
def as_cora(client, cora):
    client.force_login(cora)
    return client


@pytest.fixture
def packet(provider_a):
    return make_document(
        pages=3,
        candidates=[
            {
                "first_page": 1,
                "last_page": 2,
                "fields": fields_for(
                    provider_a,
                    patient_phone=read("(217) 555-O142", 0.38, review_=True, page=2),
                ),
                "matched_provider": provider_a,
                "match_reason": "NPI matches the directory",
            },
            {
                "first_page": 3,
                "last_page": 3,
                "fields": fields_for(
                    None,
                    patient_first_name=read("Rosa", page=3),
                    patient_last_name=read("Okafor", page=3),
                ),
                "proposed_provider": {
                    "name": "Dr. Alan Abbott, MD",
                    "npi": f.npi_from(4242),
                    "phone": "(217) 555-0100",
                    "fax": "(217) 555-0101",
                },
            },
        ],
    )


def review_url(candidate) -> str:
    return reverse("intake_candidate", kwargs={"pk": candidate.pk})


def form_data(candidate, **changes) -> dict:
    values = {name: (spec or {}).get("value", "") for name, spec in candidate.fields.items()}
    data = {
        **values,
        "referring_search": "",
        "referring_provider": candidate.matched_provider_id or "",
        "referring_practice": "",
        "practice_name": "",
        "practice_city": "",
        "action": "create",
    }
    data.update(changes)
    return data


def urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|hx-get|hx-post|src|data-src)="([^"]*)"', html)


def test_the_navigation_offers_documents_to_coordinators(as_cora, org):
    html = as_cora.get("/referrals/").content.decode()
    assert f'href="{QUEUE}"' in html
    assert "<span>Documents</span>" in html


def test_the_review_tab_lists_each_patient_read_from_the_packets(as_cora, cora, packet):
    response = as_cora.get(QUEUE)
    html = response.content.decode()

    assert response.status_code == 200
    assert "Mara Lindqvist" in html
    assert "Rosa Okafor" in html
    assert "not in directory" in html
    for candidate in packet.candidates.all():
        assert review_url(candidate) in html
    listed = AuditEntry.objects.filter(action="intake.candidate_listed", actor=cora)
    assert listed.count() == 2


def test_quarantined_documents_show_why_and_are_kept(as_cora, cora):
    broken = make_document(
        pages=0,
        status=DocumentStatus.QUARANTINED,
        reason="The PDF is password-protected; ask the sender for an unlocked copy.",
    )
    html = as_cora.get(QUEUE, {"tab": "quarantined"}).content.decode()

    assert "The PDF is password-protected; ask the sender for an unlocked copy." in html
    assert reverse("intake_document", kwargs={"pk": broken.pk}) in html
    detail = as_cora.get(reverse("intake_document", kwargs={"pk": broken.pk}))
    assert "password-protected" in detail.content.decode()
    original = as_cora.get(reverse("intake_document_file", kwargs={"pk": broken.pk}))
    assert original.status_code == 200
    assert original["Content-Security-Policy"] == "sandbox"
    assert original["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(
        action="intake.document_file_read", object_id=str(broken.pk), actor=cora
    ).exists()


def test_duplicates_link_to_the_original(as_cora, packet):
    again = make_document(status=DocumentStatus.DUPLICATE, duplicate_of=packet)
    html = as_cora.get(QUEUE, {"tab": "duplicates"}).content.decode()
    assert reverse("intake_document", kwargs={"pk": again.pk}) in html
    assert f"Document #{packet.pk}" in html


def test_processing_shows_progress_and_polls_until_nothing_is_being_read(as_cora):
    reading = make_document(pages=8, status=DocumentStatus.PROCESSING)
    reading.pages_done = 3
    reading.save(update_fields=["pages_done"])

    html = as_cora.get(QUEUE, {"tab": "processing"}).content.decode()
    assert "Page 3 of 8" in html
    assert '<progress value="3" max="8"' in html
    assert 'hx-trigger="every 2s"' in html

    reading.status = DocumentStatus.REVIEW
    reading.save(update_fields=["status"])
    fragment = as_cora.get(reverse("intake_progress"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "hx-trigger" not in fragment.content.decode()
    assert "Nothing is being read right now" in fragment.content.decode()


def test_the_document_page_shows_its_pages_and_patients_and_is_audited(as_cora, cora, packet):
    response = as_cora.get(reverse("intake_document", kwargs={"pk": packet.pk}))
    html = response.content.decode()

    assert response.status_code == 200
    for number in (1, 2, 3):
        assert reverse("intake_page_image", kwargs={"pk": packet.pk, "number": number}) in html
    assert "Mara Lindqvist" in html
    assert AuditEntry.objects.filter(
        action="intake.document_read", object_id=str(packet.pk), actor=cora
    ).exists()


def test_a_page_image_is_served_sandboxed_never_cached_and_audited(as_cora, cora, packet):
    response = as_cora.get(reverse("intake_page_image", kwargs={"pk": packet.pk, "number": 2}))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    entry = AuditEntry.objects.get(action="intake.page_read", actor=cora)
    assert entry.object_id == str(packet.pk)
    assert entry.detail == {"page": 2}
    missing = as_cora.get(reverse("intake_page_image", kwargs={"pk": packet.pk, "number": 9}))
    assert missing.status_code == 404


def test_the_review_page_shows_the_fields_with_confidence_and_flags_doubtful_ones(
    as_cora, cora, packet, provider_a
):
    candidate = packet.candidates.get(first_page=1)
    response = as_cora.get(review_url(candidate))
    html = response.content.decode()

    assert response.status_code == 200
    assert 'value="Mara"' in html
    assert 'value="1961-04-02"' in html
    assert 'value="M54.16, M51.26"' in html
    assert '<option value="urgent" selected>' in html
    assert "95 %" in html
    # The phone was read with a letter O for a zero: flagged, and its page offered.
    phone = re.search(
        r'<div class="read-field needs-check" data-field="patient_phone">.*?</div>\s*</div>',
        html,
        re.S,
    )
    assert phone, "the doubtful phone is highlighted"
    assert "Check this" in phone.group(0)
    assert "38 %" in phone.group(0)
    assert 'data-page="2"' in phone.group(0)
    assert 'data-field="patient_first_name"' in html
    assert '<div class="read-field needs-check" data-field="patient_first_name">' not in html
    assert str(provider_a) in html
    assert "NPI matches the directory" in html
    assert reverse("intake_page_image", kwargs={"pk": packet.pk, "number": 1}) in html
    assert reverse("intake_page_image", kwargs={"pk": packet.pk, "number": 2}) in html
    assert reverse("intake_page_image", kwargs={"pk": packet.pk, "number": 3}) not in html
    assert "Create referral" in html
    assert AuditEntry.objects.filter(
        action="intake.candidate_read", object_id=str(candidate.pk), actor=cora
    ).exists()


def test_creating_with_corrections_records_the_referral_and_opens_the_next_candidate(
    as_cora, cora, spine, packet, provider_a
):
    first, second = packet.candidates.order_by("first_page")
    response = as_cora.post(
        review_url(first), form_data(first, patient_phone="(217) 555-0142", urgency="stat")
    )

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == review_url(second)
    assert referral.patient.phone == "(217) 555-0142"
    assert referral.patient.first_name == "Mara"
    assert referral.urgency == "stat"
    assert referral.icd10_codes == ["M54.16", "M51.26"]
    assert referral.channel == "fax"
    assert referral.referring_provider == provider_a
    assert referral.attachments.get().sha256 == packet.sha256
    first.refresh_from_db()
    assert (first.status, first.referral, first.reviewed_by) == (
        CandidateStatus.CREATED,
        referral,
        cora,
    )
    following = as_cora.get(response["Location"]).content.decode()
    assert referral.number in following  # the flash links the new referral
    assert reverse("referral_detail", kwargs={"pk": referral.pk}) in following


def test_the_last_candidate_finishes_the_document(as_cora, spine, packet):
    first, second = packet.candidates.order_by("first_page")
    as_cora.post(review_url(first), {"action": "discard"})
    response = as_cora.post(review_url(second), form_data(second, add_provider="on"))

    assert response.status_code == 302
    assert response["Location"] == QUEUE + "?tab=review"
    packet.refresh_from_db()
    assert packet.status == DocumentStatus.DONE
    referral = Referral.objects.get()
    assert referral.referring_provider.npi == f.npi_from(4242)


def test_a_misread_phone_number_is_refused_until_corrected(as_cora, spine, packet):
    candidate = packet.candidates.get(first_page=1)
    response = as_cora.post(review_url(candidate), form_data(candidate))
    assert response.status_code == 422
    assert "full phone number" in response.content.decode()
    assert not Referral.objects.exists()


def test_a_double_submit_records_one_referral(as_cora, spine, packet):
    candidate = packet.candidates.get(first_page=1)
    fixed = form_data(candidate, patient_phone="(217) 555-0142")
    first = as_cora.post(review_url(candidate), fixed)
    second = as_cora.post(review_url(candidate), fixed)

    referral = Referral.objects.get()
    assert first.status_code == 302
    assert second.status_code == 302
    assert second["Location"] == reverse("referral_detail", kwargs={"pk": referral.pk})
    assert referral.attachments.count() == 1


def test_a_field_error_comes_back_beside_the_field_with_everything_typed_kept(
    as_cora, spine, packet
):
    candidate = packet.candidates.get(first_page=1)
    response = as_cora.post(
        review_url(candidate),
        form_data(candidate, icd10_codes="M54.16, back pain", patient_first_name="Marah"),
    )
    html = response.content.decode()

    assert response.status_code == 422
    assert re.search(
        r'id="id_icd10_codes"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="id_icd10_codes"',
        html,
    )
    assert "is not an ICD-10 code" in html
    assert 'id="id_icd10_codes_error"' in html
    assert 'value="Marah"' in html
    assert 'value="M54.16, back pain"' in html
    assert not Referral.objects.exists()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.PENDING


def test_a_missing_provider_is_asked_for_beside_the_provider_search(as_cora, spine, packet):
    candidate = packet.candidates.get(first_page=3)
    response = as_cora.post(review_url(candidate), form_data(candidate))

    assert response.status_code == 422
    assert "Choose the referring provider from the directory" in response.content.decode()
    assert 'id="id_referring_search_error"' in response.content.decode()
    assert not Referral.objects.exists()


def test_the_proposed_provider_can_be_added_to_the_directory_and_is_then_chosen(
    as_cora, spine, packet
):
    candidate = packet.candidates.get(first_page=3)
    page = as_cora.get(review_url(candidate)).content.decode()
    assert "Not in the directory." in page
    assert "Add to directory now" in page

    response = as_cora.post(
        review_url(candidate),
        form_data(candidate, action="add_provider", practice_name="Springfield Family Care"),
    )
    provider = Provider.objects.get(npi=f.npi_from(4242))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="referring_provider" value="{provider.pk}"' in html
    assert "was added to the directory" in html
    assert provider.practice.name == "Springfield Family Care"


def test_another_provider_can_be_chosen_without_javascript(as_cora, spine, packet, provider_b):
    candidate = packet.candidates.get(first_page=3)
    found = as_cora.post(
        review_url(candidate),
        form_data(candidate, action="find_source", referring_search=provider_b.last_name),
    )
    assert f'value="provider:{provider_b.pk}"' in found.content.decode()

    chosen = as_cora.post(
        review_url(candidate), form_data(candidate, choose_source=f"provider:{provider_b.pk}")
    )
    assert f'name="referring_provider" value="{provider_b.pk}"' in chosen.content.decode()

    as_cora.post(review_url(candidate), form_data(candidate, referring_provider=provider_b.pk))
    assert Referral.objects.get().referring_provider == provider_b


def test_urls_carry_ids_only_never_patient_data(as_cora, spine, packet):
    pages = [
        as_cora.get(QUEUE).content.decode(),
        as_cora.get(reverse("intake_document", kwargs={"pk": packet.pk})).content.decode(),
        *(as_cora.get(review_url(c)).content.decode() for c in packet.candidates.all()),
    ]
    for html in pages:
        for url in urls_in(html):
            for phi in ("Mara", "Lindqvist", "Rosa", "Okafor", "1961", "555", "fax-0001"):
                assert phi not in url, url


@pytest.mark.parametrize("who", ["pam", "lia", "cliff", "andy"])
def test_the_pages_are_refused_to_portal_users_liaisons_clinicians_and_analysts(
    client, request, packet, who
):
    user = request.getfixturevalue(who)
    client.force_login(user)
    candidate = packet.candidates.first()
    for url in (
        QUEUE,
        reverse("intake_progress"),
        reverse("intake_document", kwargs={"pk": packet.pk}),
        reverse("intake_document_file", kwargs={"pk": packet.pk}),
        reverse("intake_page_image", kwargs={"pk": packet.pk, "number": 1}),
        review_url(candidate),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(review_url(candidate), form_data(candidate)).status_code == 403
    assert not Referral.objects.exists()
    assert not AuditEntry.objects.filter(actor=user, action__startswith="intake.").exists()
    assert not IntakeCandidate.objects.exclude(status=CandidateStatus.PENDING).exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, packet):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_start_reviewing_opens_the_oldest_waiting_candidate(as_cora, packet):
    response = as_cora.post(reverse("intake_next_candidate"))
    assert response["Location"] == review_url(packet.candidates.get(first_page=1))


def test_uploads_report_each_file(as_cora, cora):
    pytest.importorskip("refloop.intake.services", reason="the pipeline's ingest is not here yet")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.intake.test_review import page_png

    response = as_cora.post(
        QUEUE,
        {
            "files": [
                SimpleUploadedFile("scan.png", page_png(1), content_type="image/png"),
                SimpleUploadedFile("notes.txt", b"just some words", content_type="text/plain"),
            ]
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "scan.png" in html
    assert "notes.txt" in html
    assert "quarantined" in html or "not accepted" in html


def test_an_upload_without_files_says_so(as_cora, org):
    response = as_cora.post(QUEUE, {})
    assert response.status_code == 422
    assert "Choose at least one file." in response.content.decode()
