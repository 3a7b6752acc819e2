"""Receiving packets: stored by content, recorded, queued, or kept aside with a reason."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refloop.core.errors import PayloadTooLarge
from refloop.core.models import AuditEntry
from refloop.intake.models import DocumentStatus, IntakeDocument
from refloop.intake.services import documents_waiting, ingest, quarantine, resume_stalled
from refloop.intake.tasks import process_document_task
from refloop.ops.worker import drain_queue, enqueue_due_jobs
from refloop.referrals import effects

from .helpers import REFERRAL_LINES, blank_png, referral_pdf, text_pdf

PATIENT_FILE_NAME = "Quillfeather_Zephyrine_referral.pdf"


@pytest.mark.django_db
def test_a_packet_is_stored_under_a_neutral_name_audited_and_queued_after_commit(
    cora, django_capture_on_commit_callbacks
):
    before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document = ingest(
            content=referral_pdf(), filename=PATIENT_FILE_NAME, source="upload", uploaded_by=cora
        )
        assert DBTaskResult.objects.count() == before
    assert document.status == DocumentStatus.QUEUED
    assert document.content_type == "application/pdf"
    assert document.original_name == PATIENT_FILE_NAME
    assert "Quillfeather" not in document.file.name and document.file.name.startswith("intake/")
    assert document.file.read()[:5] == b"%PDF-"
    entry = AuditEntry.objects.get(action="intake.document_received")
    assert entry.object_id == str(document.pk) and entry.actor == cora
    assert "Quillfeather" not in str(entry.detail)
    assert len(callbacks) == 1
    callbacks[0]()
    assert DBTaskResult.objects.count() == before + 1
    assert documents_waiting() == [document.pk]


@pytest.mark.django_db
def test_the_processing_task_reads_the_document():
    document = ingest(content=referral_pdf(), filename="x.pdf", source="api")
    assert process_document_task.call(document.pk) == DocumentStatus.REVIEW
    assert documents_waiting() == []


@pytest.mark.django_db
def test_an_unsupported_file_is_quarantined_with_what_to_send_instead(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document = ingest(content=b"PK\x03\x04 a word file", filename="a.pdf", source="upload")
    assert callbacks == []  # nothing to read
    assert document.status == DocumentStatus.QUARANTINED
    assert document.status_reason == (
        "This file is a ZIP archive or Office document (judged by its content, not its name), "
        "not a PDF, TIFF, PNG or JPEG. Scan or save it in one of those formats."
    )
    assert document.file.size > 0  # kept for the coordinator
    assert IntakeDocument.objects.filter(status=DocumentStatus.QUARANTINED).count() == 1


@pytest.mark.django_db
def test_an_empty_file_is_quarantined():
    document = ingest(content=b"", filename="empty.tif", source="watched_folder")
    assert document.status == DocumentStatus.QUARANTINED
    assert "empty" in document.status_reason


@pytest.mark.django_db
def test_the_same_file_twice_is_recorded_as_a_duplicate_and_not_read():
    content = referral_pdf()
    first = ingest(content=content, filename="a.pdf", source="upload")
    second = ingest(content=content, filename="b.pdf", source="upload")
    third = ingest(content=content, filename="c.pdf", source="upload")
    assert second.status == third.status == DocumentStatus.DUPLICATE
    assert second.duplicate_of == first and third.duplicate_of == first
    assert documents_waiting() == [first.pk]
    assert AuditEntry.objects.filter(action="intake.document_received").count() == 3


@pytest.mark.django_db
def test_an_oversize_file_is_refused_before_anything_is_stored(settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(PayloadTooLarge):
        ingest(content=b"%PDF-" + b"0" * 2000, filename="big.pdf", source="upload")
    assert IntakeDocument.objects.count() == 0
    assert not (settings.MEDIA_ROOT / "intake").exists()


@pytest.mark.django_db
def test_a_failed_ingest_leaves_no_file_behind(settings, monkeypatch):
    from refloop.intake import services

    def crash(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.audit, "record", crash)
    with pytest.raises(RuntimeError):
        ingest(content=referral_pdf(), filename="a.pdf", source="upload")
    assert IntakeDocument.objects.count() == 0
    stored = [p for p in (settings.MEDIA_ROOT / "intake").rglob("*") if p.is_file()]
    assert stored == []


@pytest.mark.django_db
def test_quarantine_leaves_a_reviewed_document_alone(cora):
    from refloop.intake.pipeline import process_document

    document = process_document(
        ingest(content=referral_pdf(), filename="a.pdf", source="upload").pk
    )
    assert quarantine(document, reason="whatever", actor=cora).status == DocumentStatus.REVIEW
    assert document.candidates.count() == 1


def other_referral_pdf() -> bytes:
    """A second, different referral (not a resent copy of referral_pdf)."""
    lines = [
        line.replace("Zephyrine Quillfeather", "Bartholomew Vantongeren")
        .replace("02/29/1964", "11/03/1958")
        .replace(
            "Low back pain with left leg radiculopathy", "Knee osteoarthritis, failed injections"
        )
        .replace("M54.16, M51.16", "M17.11")
        .format(provider="Mara Lindqvist, DO", npi="1245319599", fax="(309) 555-0123")
        for line in REFERRAL_LINES
    ]
    return text_pdf(lines)


@pytest.mark.django_db(transaction=True)
def test_packets_a_crash_left_unread_are_queued_again_and_read(org):
    now = timezone.now()
    with effects.suppressed():  # as if the process died before queueing the reading
        lost = ingest(content=referral_pdf(), filename="a.pdf", source="upload")
        abandoned = ingest(content=other_referral_pdf(), filename="b.pdf", source="upload")
        busy = ingest(content=blank_png(), filename="c.png", source="upload")
    IntakeDocument.objects.filter(pk=lost.pk).update(received_at=now - timedelta(minutes=20))
    IntakeDocument.objects.filter(pk=abandoned.pk).update(
        status=DocumentStatus.PROCESSING, processing_started_at=now - timedelta(minutes=20)
    )
    IntakeDocument.objects.filter(pk=busy.pk).update(
        status=DocumentStatus.PROCESSING, processing_started_at=now - timedelta(minutes=2)
    )
    assert DBTaskResult.objects.count() == 0

    assert resume_stalled(now=now) == [lost.pk, abandoned.pk]
    drain_queue()
    statuses = dict(IntakeDocument.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == statuses[abandoned.pk] == DocumentStatus.REVIEW
    assert statuses[busy.pk] == DocumentStatus.PROCESSING  # someone may still be reading it
    for document in (lost, abandoned):
        assert IntakeDocument.objects.get(pk=document.pk).candidates.count() == 1
    # The worker runs the sweep on its own schedule.
    assert "intake_resume" in enqueue_due_jobs(now=now)
