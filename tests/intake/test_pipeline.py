"""Reading packets: text layers and OCR, splitting by patient, fields, matching, bad input."""

import pytest
from django.core.files.storage import default_storage

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.demo.faxes import make_packet
from refloop.intake import pipeline, reading
from refloop.intake.matching import match_provider
from refloop.intake.models import DocumentStatus, IntakeCandidate, IntakeDocument, IntakePage
from refloop.intake.pipeline import process_document
from refloop.intake.services import ingest
from refloop.network.npi import check_digit

from .helpers import blank_png, referral_pdf, text_pdf


def _ingest(content: bytes, name: str = "fax.pdf") -> IntakeDocument:
    return ingest(content=content, filename=name, source="upload")


def _values(candidate: IntakeCandidate) -> dict[str, str]:
    return {name: field["value"] for name, field in candidate.fields.items()}


def _stored_page_images() -> list[str]:
    try:
        return default_storage.listdir("intake/pages")[1]
    except FileNotFoundError:
        return []


@pytest.mark.django_db
def test_born_digital_packet_is_read_from_its_text_layer_and_split_by_patient():
    content, extension, labels = make_packet(11, patients=3, layout="form", scanned=False)
    assert extension == "pdf"
    document = process_document(_ingest(content).pk)

    assert document.status == DocumentStatus.REVIEW
    assert document.page_count == document.pages_done == labels[-1]["pages"][1]
    pages = list(document.pages.all())
    assert {page.method for page in pages} == {"text"}
    assert all(page.image.name.endswith(".png") and page.image.size > 0 for page in pages)
    candidates = list(document.candidates.all())
    assert [[c.first_page, c.last_page] for c in candidates] == [lab["pages"] for lab in labels]
    for candidate, label in zip(candidates, labels, strict=True):
        assert _values(candidate) == {k: v for k, v in label.items() if k != "pages"}
        assert not any(field["review"] for field in candidate.fields.values())
    assert AuditEntry.objects.filter(
        action="intake.document_processed", object_id=str(document.pk)
    ).exists()


@pytest.mark.django_db
def test_scanned_fax_is_ocrd_split_where_the_patient_changes_and_never_silently_wrong():
    content, extension, labels = make_packet(1, patients=2)
    assert extension == "tif"
    document = process_document(_ingest(content, "fax.tif").pk)

    assert document.status == DocumentStatus.REVIEW
    assert {page.method for page in document.pages.all()} == {"ocr"}
    candidates = list(document.candidates.all())
    assert [[c.first_page, c.last_page] for c in candidates] == [lab["pages"] for lab in labels]
    right = 0
    for candidate, label in zip(candidates, labels, strict=True):
        for name, field in candidate.fields.items():
            if field["value"] == label[name]:
                right += 1
            else:
                assert field["review"], f"{name} is wrong and not marked for review"
        for name in ("patient_last_name", "patient_date_of_birth"):
            assert candidate.fields[name]["value"] == label[name]
    assert right >= 0.9 * 12 * len(labels)


@pytest.mark.django_db
def test_processing_twice_creates_pages_and_candidates_once():
    document = _ingest(referral_pdf())
    process_document(document.pk)
    process_document(document.pk)
    document.refresh_from_db()
    assert document.status == DocumentStatus.REVIEW
    assert document.pages.count() == 1 and document.candidates.count() == 1


@pytest.mark.django_db
def test_unsure_values_are_marked_for_review_rather_than_guessed():
    bad_npi = referral_pdf(npi="1234567890")  # wrong check digit
    document = process_document(_ingest(bad_npi).pk)
    fields = document.candidates.get().fields
    assert fields["provider_npi"] == {
        **fields["provider_npi"],
        "value": "1234567890",
        "review": True,
    }
    # 02/29/1964 is a real date (a leap year): read and trusted.
    assert fields["patient_date_of_birth"]["value"] == "1964-02-29"
    assert fields["patient_date_of_birth"]["review"] is False

    impossible = text_pdf(["Patient name: Ada Quill", "DOB: 02/30/1964", "Urgency: routine"])
    fields = process_document(_ingest(impossible).pk).candidates.get().fields
    assert fields["patient_date_of_birth"]["review"] is True
    assert fields["insurance"] == {
        "value": "",
        "confidence": 0.0,
        "review": True,
        "page": None,
        "box": None,
    }
    # What was read shows where: the box around the date's words on its page.
    born = fields["patient_date_of_birth"]
    assert born["page"] == 1 and len(born["box"]) == 4
    x0, y0, x1, y1 = born["box"]
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    name_box = fields["patient_last_name"]["box"]
    assert name_box[3] <= y0, "the name's line is above the birth date's"


@pytest.mark.django_db
def test_corrupt_pdf_is_quarantined_with_a_reason_and_nothing_half_made():
    document = process_document(_ingest(b"%PDF-1.7\n1 0 obj << broken\n%%EOF\n").pk)
    assert document.status == DocumentStatus.QUARANTINED
    assert "The PDF is damaged" in document.status_reason
    assert document.pages.count() == 0 and document.candidates.count() == 0
    assert document.file.size > 0  # the original is kept


@pytest.mark.django_db
def test_password_protected_pdf_is_quarantined_with_what_to_ask_for():
    # The upload check sets it aside as it arrives; reading never starts.
    document = process_document(_ingest(referral_pdf(password="secret")).pk)
    assert document.status == DocumentStatus.QUARANTINED
    assert document.status_reason == "The PDF is password-protected; ask for an unprotected copy."
    received = AuditEntry.objects.get(action="intake.document_received", object_id=str(document.pk))
    assert received.detail["status"] == DocumentStatus.QUARANTINED


@pytest.mark.django_db
def test_blank_scan_is_quarantined_as_unreadable():
    document = process_document(_ingest(blank_png(850, 1100), "scan.png").pk)
    assert document.status == DocumentStatus.QUARANTINED
    assert document.status_reason == pipeline.NO_TEXT
    assert document.pages.count() == 0
    assert _stored_page_images() == []


@pytest.mark.django_db
def test_without_the_ocr_engine_scans_are_quarantined_but_text_pdfs_still_read(monkeypatch):
    monkeypatch.setattr(reading, "TESSERACT", "/nonexistent/tesseract")
    scan = process_document(_ingest(blank_png(400, 500), "scan.png").pk)
    assert scan.status == DocumentStatus.QUARANTINED
    assert scan.status_reason == "OCR engine not installed: apt-get install tesseract-ocr"
    born_digital = process_document(_ingest(referral_pdf()).pk)
    assert born_digital.status == DocumentStatus.REVIEW


@pytest.mark.django_db
def test_a_failure_while_saving_leaves_no_pages_candidates_or_images(monkeypatch):
    document = _ingest(referral_pdf())

    def crash(action, *args, **kwargs):
        if action == "intake.document_processed":
            raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline.audit, "record", crash)
    with pytest.raises(RuntimeError):
        process_document(document.pk)
    document.refresh_from_db()
    assert document.status == DocumentStatus.QUARANTINED
    assert document.status_reason == pipeline.UNEXPECTED
    assert IntakePage.objects.count() == 0 and IntakeCandidate.objects.count() == 0
    assert _stored_page_images() == []


@pytest.mark.django_db
def test_the_same_fax_resent_is_recorded_as_a_duplicate_by_its_page_content():
    first = process_document(_ingest(referral_pdf(title="first transmission")).pk)
    resent_bytes = referral_pdf(title="second transmission")  # other bytes, same pages
    resent = process_document(_ingest(resent_bytes).pk)
    assert resent.status == DocumentStatus.DUPLICATE
    assert resent.duplicate_of_id == first.pk
    assert resent.candidates.count() == 0
    assert AuditEntry.objects.filter(
        action="intake.document_duplicate", object_id=str(resent.pk)
    ).exists()


# ---- the referring provider ------------------------------------------------------------


def _fields(**values) -> dict:
    return {
        name: {"value": value, "confidence": 1.0, "review": False, "page": 1}
        for name, value in values.items()
    }


@pytest.mark.django_db
def test_provider_is_matched_by_npi_exactly(provider_a):
    match = match_provider(_fields(provider_npi=provider_a.npi, provider_name="Someone Else"))
    assert match.provider == provider_a
    assert "NPI" in match.reason


@pytest.mark.django_db
def test_provider_is_matched_by_close_name_and_city_without_an_npi():
    practice = f.PracticeFactory(city="Hutchinson", fax="(620) 555-0101")
    provider = f.ProviderFactory(practice=practice, first_name="Kathleen", last_name="Kowalski")
    match = match_provider(
        _fields(provider_name="Kathleen Kowalsky", provider_npi=""), cities={"hutchinson"}
    )
    assert match.provider == provider
    assert "Hutchinson" in match.reason
    # The same name elsewhere, with nothing else in common, is not a match.
    assert (
        match_provider(_fields(provider_name="Kathleen Kowalski"), cities={"salina"}).provider
        is None
    )


@pytest.mark.django_db
def test_provider_is_matched_by_close_name_and_fax_number_when_the_npi_is_unreadable():
    practice = f.PracticeFactory(city="Salina", fax="(785) 555-0188")
    provider = f.ProviderFactory(practice=practice, first_name="Jorge", last_name="Ortega")
    match = match_provider(
        _fields(provider_name="Jorge Ortega", provider_npi="123456789", provider_fax="785.555.0188")
    )
    assert match.provider == provider
    assert "fax" in match.reason


@pytest.mark.django_db
def test_an_unknown_provider_is_proposed_for_the_directory(provider_a):
    first_nine = "198765432"
    npi = first_nine + check_digit(first_nine)
    document = process_document(
        _ingest(
            referral_pdf(provider=f"{provider_a.first_name} {provider_a.last_name}, MD", npi=npi)
        ).pk
    )
    candidate = document.candidates.get()
    assert candidate.matched_provider is None
    assert candidate.proposed_provider == {
        "name": f"{provider_a.first_name} {provider_a.last_name}",
        "npi": npi,
        "phone": "(217) 555-0177",
        "fax": "(217) 555-0199",
    }


@pytest.mark.django_db
def test_a_packet_naming_a_known_npi_is_matched_end_to_end(provider_a):
    document = process_document(_ingest(referral_pdf(npi=provider_a.npi)).pk)
    candidate = document.candidates.get()
    assert candidate.matched_provider == provider_a
    assert candidate.proposed_provider == {}
