"""Reviewing what was read from a packet: one referral per candidate, the packet attached,
nothing half-created, and the directory offered the providers it lacks.

Documents, pages and candidates are made here by hand (small generated page images),
so these tests do not depend on the reading pipeline.
"""

import hashlib
import io
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from refloop.core.errors import Conflict, InvalidInput, NotAllowed
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.intake import review
from refloop.intake.models import (
    FIELD_NAMES,
    CandidateStatus,
    DocumentSource,
    DocumentStatus,
    IntakeCandidate,
    IntakeDocument,
    IntakePage,
)
from refloop.network.models import Practice, Provider
from refloop.patients.models import Patient
from refloop.referrals.models import Attachment, Referral
from tests import samples

PDF = samples.pdf()


def page_png(number: int) -> bytes:
    image = Image.new("L", (170, 220), 255)
    ImageDraw.Draw(image).text((10, 10), f"Referral page {number}", fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def read(value: str, confidence: float = 0.95, *, review_: bool = False, page: int = 1) -> dict:
    return {"value": value, "confidence": confidence, "review": review_, "page": page}


def fields_for(provider: Provider | None = None, **overrides) -> dict:
    values = {
        "patient_first_name": "Mara",
        "patient_last_name": "Lindqvist",
        "patient_date_of_birth": "1961-04-02",
        "patient_phone": "(217) 555-0142",
        "provider_name": f"Dr. {provider.first_name} {provider.last_name}, MD"
        if provider
        else "Dr. Alan Abbott, MD",
        "provider_npi": provider.npi if provider else f.npi_from(4242),
        "provider_phone": "(217) 555-0100",
        "provider_fax": "(217) 555-0101",
        "reason": "Low back pain radiating to the left leg for six weeks",
        "icd10_codes": "M54.16, M51.26",
        "urgency": "urgent",
        "insurance": "Blue Cross Blue Shield",
    }
    fields = {name: read(values[name]) for name in FIELD_NAMES}
    fields.update(overrides)
    return fields


def make_document(
    *,
    pages: int = 2,
    status: str = DocumentStatus.REVIEW,
    candidates: list[dict] | None = None,
    content: bytes = PDF,
    reason: str = "",
    name: str = "fax-0001.pdf",
    duplicate_of: IntakeDocument | None = None,
) -> IntakeDocument:
    """A document as the pipeline leaves it: pages with images, candidates with fields.

    `candidates` are dicts of IntakeCandidate fields (first_page, last_page, fields, ...).
    """
    document = IntakeDocument(
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        source=DocumentSource.UPLOAD,
        received_at=timezone.now(),
        status=status,
        status_reason=reason,
        duplicate_of=duplicate_of,
        page_count=pages,
        pages_done=pages if status != DocumentStatus.PROCESSING else 1,
    )
    document.file.save("upload", ContentFile(content), save=False)
    document.save()
    for number in range(1, pages + 1):
        page = IntakePage(document=document, number=number, text="", method="ocr", confidence=0.9)
        page.image.save("page.png", ContentFile(page_png(number)), save=False)
        page.save()
    for spec in candidates or []:
        IntakeCandidate.objects.create(document=document, **spec)
    return document


@pytest.fixture
def packet(provider_a):
    """Two patients: pages 1–2 matched to provider A, page 3 naming a provider not on file."""
    return make_document(
        pages=3,
        candidates=[
            {
                "first_page": 1,
                "last_page": 2,
                "fields": fields_for(provider_a),
                "matched_provider": provider_a,
                "match_reason": "NPI",
            },
            {
                "first_page": 3,
                "last_page": 3,
                "fields": fields_for(
                    None,
                    patient_first_name=read("Rosa", page=3),
                    patient_last_name=read("Okafor", page=3),
                    patient_date_of_birth=read("03/14/1950", 0.41, review_=True, page=3),
                ),
                "proposed_provider": {
                    "name": "Dr. Alan Abbott, MD",
                    "npi": f.npi_from(4242),
                    "phone": "(217) 555-0100",
                    "fax": "(217) 555-0101",
                    "city": "Springfield",
                },
            },
        ],
    )


def values_of(candidate: IntakeCandidate, **changes) -> dict:
    values = review.extracted_values(candidate)
    values.update(changes)
    return values


def test_a_reviewed_candidate_becomes_a_fax_referral_with_the_packet_attached(
    cora, spine, provider_a, packet
):
    candidate = packet.candidates.get(first_page=1)
    referral = review.create_referral_from_candidate(
        candidate,
        acting_user=cora,
        values=values_of(candidate, patient_phone="(217) 555-0199", icd10_codes="m5416"),
    )

    assert referral.channel == "fax"
    assert referral.source_type == "provider"
    assert referral.referring_provider == provider_a
    assert referral.referring_practice == provider_a.practice
    assert referral.patient.first_name == "Mara"
    assert referral.patient.last_name == "Lindqvist"
    assert referral.patient.date_of_birth.isoformat() == "1961-04-02"
    assert referral.patient.phone == "(217) 555-0199"
    assert referral.patient.insurance_payer == "Blue Cross Blue Shield"
    assert referral.icd10_codes == ["M54.16"]
    assert referral.urgency == "urgent"
    assert referral.received_at == packet.received_at
    attachment = referral.attachments.get()
    assert attachment.sha256 == packet.sha256
    assert attachment.kind == "referral_letter"
    assert "fax-0001" not in attachment.original_name  # received names can hold a patient's

    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.CREATED
    assert candidate.referral == referral
    assert candidate.reviewed_by == cora
    assert candidate.reviewed_at is not None
    packet.refresh_from_db()
    assert packet.status == DocumentStatus.REVIEW  # the second patient still waits

    entry = AuditEntry.objects.get(action="intake.candidate_created")
    assert entry.referral_id == referral.pk
    assert entry.patient_id == referral.patient_id
    assert entry.detail["corrected"] == ["patient_phone", "icd10_codes"]


@pytest.mark.parametrize("arrived_by", ["email", "fax"])
def test_a_packet_from_a_mailbox_keeps_how_it_arrived_as_the_referral_channel(
    cora, spine, provider_a, packet, arrived_by
):
    # A referral address's mail is the email channel; an e-fax inbox's mail is a fax.
    IntakeDocument.objects.filter(pk=packet.pk).update(
        source=DocumentSource.EMAIL, arrived_by=arrived_by
    )
    candidate = packet.candidates.get(first_page=1)
    referral = review.create_referral_from_candidate(
        candidate, acting_user=cora, values=values_of(candidate)
    )
    assert referral.channel == arrived_by


def test_the_document_is_done_when_no_candidate_waits(cora, spine, packet):
    first, second = packet.candidates.order_by("first_page")
    review.create_referral_from_candidate(first, acting_user=cora, values=values_of(first))
    review.discard_candidate(second, acting_user=cora)

    packet.refresh_from_db()
    assert packet.status == DocumentStatus.DONE
    second.refresh_from_db()
    assert second.status == CandidateStatus.DISCARDED
    assert AuditEntry.objects.filter(action="intake.candidate_discarded").count() == 1


def test_a_second_submit_returns_the_same_referral(cora, spine, packet):
    candidate = packet.candidates.get(first_page=1)
    first = review.create_referral_from_candidate(
        candidate, acting_user=cora, values=values_of(candidate)
    )
    again = review.create_referral_from_candidate(
        candidate.pk, acting_user=cora, values=values_of(candidate, reason="Something else")
    )

    assert again == first
    assert Referral.objects.count() == 1
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("patient_last_name", "", "last name"),
        ("patient_date_of_birth", "14th of March", "not a date"),
        ("patient_date_of_birth", "2999-01-01", "future"),
        ("icd10_codes", "M54.16, back pain", "not an ICD-10 code"),
        ("urgency", "asap", "routine, urgent or stat"),
        ("reason", "  ", "why the patient is referred"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_created(
    cora, spine, packet, field, value, words
):
    candidate = packet.candidates.get(first_page=1)
    with pytest.raises(InvalidInput) as refused:
        review.create_referral_from_candidate(
            candidate, acting_user=cora, values=values_of(candidate, **{field: value})
        )

    assert refused.value.field == field
    assert words in refused.value.message
    assert not Referral.objects.exists()
    assert not Patient.objects.exists()
    assert not Attachment.objects.exists()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.PENDING


def test_a_failure_after_the_attachment_leaves_no_rows_and_no_stored_file(
    cora, spine, packet, settings, monkeypatch
):
    candidate = packet.candidates.get(first_page=1)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(review, "_finish_document_if_reviewed", broken)
    with pytest.raises(RuntimeError):
        review.create_referral_from_candidate(
            candidate, acting_user=cora, values=values_of(candidate)
        )

    assert not Referral.objects.exists()
    assert not Attachment.objects.exists()
    stored = settings.MEDIA_ROOT / "attachments"
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


def test_a_us_style_birth_date_is_read(cora, spine, packet):
    candidate = packet.candidates.get(first_page=3)
    referral = review.create_referral_from_candidate(
        candidate, acting_user=cora, values=values_of(candidate), propose_provider=True
    )
    assert referral.patient.date_of_birth.isoformat() == "1950-03-14"


def test_without_a_provider_the_review_asks_for_one(cora, spine, packet):
    candidate = packet.candidates.get(first_page=3)
    with pytest.raises(InvalidInput) as refused:
        review.create_referral_from_candidate(
            candidate, acting_user=cora, values=values_of(candidate)
        )
    assert refused.value.field == "provider"
    assert not Referral.objects.exists()


def test_the_proposed_provider_is_added_with_the_referral_in_one_go(cora, spine, packet):
    candidate = packet.candidates.get(first_page=3)
    referral = review.create_referral_from_candidate(
        candidate,
        acting_user=cora,
        values=values_of(candidate),
        propose_provider=True,
        practice_name="Springfield Family Care",
        practice_city="Springfield",
    )

    provider = Provider.objects.get(npi=f.npi_from(4242))
    assert (provider.first_name, provider.last_name, provider.credentials) == (
        "Alan",
        "Abbott",
        "MD",
    )
    assert provider.fax == "(217) 555-0101"
    assert provider.practice.name == "Springfield Family Care"
    assert referral.referring_provider == provider
    assert referral.referring_practice == provider.practice
    candidate.refresh_from_db()
    assert candidate.matched_provider == provider
    assert AuditEntry.objects.filter(action="provider.created").count() == 1


def test_a_bad_npi_refuses_the_whole_creation(cora, spine, packet):
    candidate = packet.candidates.get(first_page=3)
    with pytest.raises(InvalidInput) as refused:
        review.create_referral_from_candidate(
            candidate,
            acting_user=cora,
            values=values_of(candidate, provider_npi="1234567890"),
            propose_provider=True,
            practice_name="Springfield Family Care",
        )
    assert refused.value.field == "provider_npi"
    assert not Referral.objects.exists()
    assert not Practice.objects.filter(name="Springfield Family Care").exists()
    assert not Provider.objects.filter(npi="1234567890").exists()


def test_adding_the_proposal_needs_directory_rights_and_matches_it(cora, cliff, packet):
    candidate = packet.candidates.get(first_page=3)
    with pytest.raises(NotAllowed):
        review.add_proposed_provider_to_directory(candidate, acting_user=cliff)

    provider = review.add_proposed_provider_to_directory(candidate, acting_user=cora)

    assert provider.npi == f.npi_from(4242)
    assert provider.practice is None  # the fax named no practice
    candidate.refresh_from_db()
    assert candidate.matched_provider == provider
    assert candidate.match_reason == "Added to the directory from this fax"


def test_a_proposal_already_in_the_directory_is_matched_not_added_again(cora, packet):
    known = f.ProviderFactory(npi=f.npi_from(4242))
    candidate = packet.candidates.get(first_page=3)

    provider = review.add_proposed_provider_to_directory(candidate, acting_user=cora)

    assert provider == known
    assert Provider.objects.filter(npi=f.npi_from(4242)).count() == 1


def test_a_discarded_candidate_cannot_become_a_referral(cora, spine, packet):
    candidate = packet.candidates.get(first_page=1)
    review.discard_candidate(candidate, acting_user=cora)
    with pytest.raises(Conflict):
        review.create_referral_from_candidate(
            candidate, acting_user=cora, values=values_of(candidate)
        )


def test_only_staff_who_create_referrals_may_review(cliff, lia, packet):
    candidate = packet.candidates.get(first_page=1)
    for user in (cliff, lia):
        with pytest.raises(NotAllowed):
            review.create_referral_from_candidate(
                candidate, acting_user=user, values=values_of(candidate)
            )
        with pytest.raises(NotAllowed):
            review.discard_candidate(candidate, acting_user=user)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Dr. Ann B. Lee, MD", ("Ann", "Lee", "MD")),
        ("Jorge Ortega PA-C", ("Jorge", "Ortega", "PA-C")),
        ("Grace Holloway, M.D.", ("Grace", "Holloway", "M.D")),
    ],
)
def test_provider_names_are_split_as_faxes_write_them(written, expected):
    assert review.split_provider_name(written) == expected


def test_a_future_received_time_is_not_used(cora, spine, packet):
    candidate = packet.candidates.get(first_page=1)
    now = datetime(2020, 1, 1, tzinfo=UTC)  # before the packet arrived (a clock skew)
    referral = review.create_referral_from_candidate(
        candidate,
        acting_user=cora,
        values=values_of(candidate, patient_date_of_birth="1961-04-02"),
        now=now,
    )
    assert referral.received_at == now


def test_a_fax_from_a_practice_without_a_named_provider_refers_from_the_practice(
    cora, spine, packet, practice_b
):
    candidate = packet.candidates.get(first_page=3)
    referral = review.create_referral_from_candidate(
        candidate, acting_user=cora, values=values_of(candidate), practice=practice_b
    )
    assert referral.referring_practice == practice_b
    assert referral.referring_provider is None


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_creating_at_once_make_one_referral(cora, ada, spine, provider_a):
    from tests.test_concurrency import run_together

    document = make_document(
        candidates=[
            {
                "first_page": 1,
                "last_page": 2,
                "fields": fields_for(provider_a),
                "matched_provider": provider_a,
            }
        ]
    )
    candidate = document.candidates.get()
    users = [cora, ada, cora, ada]

    def create(i):
        return review.create_referral_from_candidate(
            candidate.pk, acting_user=users[i], values=values_of(candidate)
        ).pk

    results = run_together(4, create)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert Referral.objects.count() == 1
    assert Attachment.objects.count() == 1
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE
