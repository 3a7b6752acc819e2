"""Receiving documents for intake: store, check, record, and queue them for reading.

Every packet that arrives is kept, whatever it is: readable ones are queued, the same
file twice is recorded as a duplicate, and anything unreadable is quarantined with a
reason a coordinator can act on. Nothing is dropped silently.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from refloop.core import audit, uploads
from refloop.core.errors import InvalidInput, UnsupportedMediaType
from refloop.core.models import User
from refloop.core.uploads import ScanStatus
from refloop.intake.models import (
    Arrival,
    DocumentSource,
    DocumentStatus,
    IntakeDocument,
    IntakePage,
    document_touch,
)
from refloop.referrals import effects

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailOrigin:
    """The email a packet came in: sender and subject for the coordinator's eyes (stored
    encrypted, never logged or audited), and the message's key (`IntakeDocument.email_key`)."""

    sender: str
    subject: str
    key: str
    arrived_by: str = Arrival.EMAIL  # Arrival.FAX for an e-fax service's mailbox


def ingest(
    *,
    content: bytes,
    filename: str,
    source: str,
    uploaded_by: User | None = None,
    email: EmailOrigin | None = None,
    refused: str = "",
    now: datetime | None = None,
) -> IntakeDocument:
    """Store a received packet and queue it for reading; returns the document.

    Every file passes the upload check (core.uploads) first. Status after: `queued`
    (reading starts after commit), `duplicate` (the same bytes as an earlier packet:
    recorded, `duplicate_of` set, nothing extracted), or `quarantined` with the check's
    reason (not a PDF, TIFF, PNG or JPEG that decodes within the limits, or empty). A file
    the virus scanner flags is quarantined without its bytes: the record says what was
    found, nothing infected is kept. Refused before anything is stored: files over
    ATTACHMENT_MAX_BYTES (PayloadTooLarge), and every file while a configured scanner does
    not answer (ScannerUnavailable), so the sender or the watched folder tries again.

    `refused` is a reason the channel found before the check (an email attachment whose
    encoding is broken): the document is quarantined with it, its bytes kept as received.
    """
    from refloop.intake.tasks import process_document_task

    now = now or timezone.now()
    _check_source(source)
    document = IntakeDocument(
        # The received name is kept for the coordinator's eyes only, never in a storage path.
        original_name=uploads.display_name(filename),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        source=source,
        received_at=now,
        uploaded_by=uploaded_by,
        **_email_fields(email),
    )
    kept: bytes | None = content
    try:
        if refused:
            if len(content) > settings.ATTACHMENT_MAX_BYTES:
                uploads.check(content)  # refuses it as too large, as for any file
            raise uploads.Refused(refused)
        checked = uploads.check(content)
    except uploads.Infected as refusal:
        document.status = DocumentStatus.QUARANTINED
        document.status_reason = refusal.message
        document.scan_status = ScanStatus.INFECTED
        document.scanned_by = refusal.scanner
        kept = None
    except (UnsupportedMediaType, uploads.Refused) as refusal:
        document.status = DocumentStatus.QUARANTINED
        document.status_reason = refusal.message
    else:
        document.content_type = checked.content_type
        document.scan_status = checked.scan_status
        document.scanned_by = checked.scanned_by
    sha256 = document.sha256
    try:
        with transaction.atomic():
            if document.status == DocumentStatus.QUEUED:
                original = (
                    IntakeDocument.objects.filter(sha256=sha256)
                    .exclude(status=DocumentStatus.QUARANTINED)
                    .order_by("received_at", "pk")
                    .first()
                )
                if original is not None:
                    document.status = DocumentStatus.DUPLICATE
                    document.duplicate_of = original.duplicate_of or original
            if kept is not None:
                document.file.save("received", ContentFile(kept), save=False)
            document.save()
            audit.record(
                "intake.document_received",
                document_touch(document),
                actor=uploaded_by,
                detail={
                    "source": source,
                    "status": document.status,
                    "content_type": document.content_type,
                    "scan_status": document.scan_status,
                    "size": len(content),
                    "duplicate_of": document.duplicate_of_id,
                },
                now=now,
            )
            if document.status == DocumentStatus.QUEUED:
                pk = document.pk
                effects.after_commit(lambda: process_document_task.enqueue(pk))
    except BaseException:
        # The row rolled back; the stored file must not outlive it.
        if document.file.name:
            document.file.storage.delete(document.file.name)
        raise
    return document


def set_aside(
    *,
    name: str,
    size: int,
    reason: str,
    source: str,
    email: EmailOrigin | None = None,
    now: datetime | None = None,
) -> IntakeDocument:
    """Record a packet that arrived but was not taken in (an email too large to fetch): a
    quarantined document without a file, so the coordinator sees that it came, from whom,
    and why it is not here."""
    now = now or timezone.now()
    _check_source(source)
    with transaction.atomic():
        document = IntakeDocument.objects.create(
            original_name=uploads.display_name(name),
            size=size,
            sha256="",
            source=source,
            received_at=now,
            status=DocumentStatus.QUARANTINED,
            status_reason=reason,
            **_email_fields(email),
        )
        audit.record(
            "intake.document_received",
            document_touch(document),
            actor=None,
            detail={"source": source, "status": document.status, "size": size, "kept": False},
            now=now,
        )
    return document


def _check_source(source: str) -> None:
    if source not in DocumentSource.values:
        raise InvalidInput(
            f"source must be one of {', '.join(DocumentSource.values)}.", field="source"
        )


def _email_fields(email: EmailOrigin | None) -> dict:
    if email is None:
        return {}
    return {
        "email_sender": email.sender,
        "email_subject": email.subject,
        "email_key": email.key,
        "arrived_by": email.arrived_by,
    }


def quarantine(
    document: IntakeDocument | int,
    *,
    reason: str,
    actor: User | None = None,
    now: datetime | None = None,
) -> IntakeDocument:
    """Set a document aside as unreadable, with `reason`, keeping its file.

    Whatever reading had created (pages, their images, candidates) is removed, so nothing
    half-made stays behind. A document a coordinator already worked on is left alone.
    """
    now = now or timezone.now()
    pk = document.pk if isinstance(document, IntakeDocument) else document
    images: list[str] = []
    with transaction.atomic():
        locked = IntakeDocument.objects.select_for_update().get(pk=pk)
        if locked.status not in (
            DocumentStatus.QUEUED,
            DocumentStatus.PROCESSING,
            DocumentStatus.QUARANTINED,
        ):
            return locked
        images = [name for name in locked.pages.values_list("image", flat=True) if name]
        locked.candidates.all().delete()
        locked.pages.all().delete()
        locked.status = DocumentStatus.QUARANTINED
        locked.status_reason = reason
        locked.pages_done = 0
        locked.processed_at = now
        locked.save(update_fields=["status", "status_reason", "pages_done", "processed_at"])
        audit.record(
            "intake.document_quarantined",
            document_touch(locked),
            actor=actor,
            detail={"reason": reason},
            now=now,
        )
        transaction.on_commit(lambda: _delete_files(images))
    return locked


def _delete_files(names: list[str]) -> None:
    storage = IntakePage.image.field.storage
    for name in names:
        storage.delete(name)


def documents_waiting() -> list[int]:
    """Ids of documents stored but not yet read, oldest first."""
    return list(
        IntakeDocument.objects.filter(status__in=[DocumentStatus.QUEUED, DocumentStatus.PROCESSING])
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )


def resume_stalled(*, now: datetime) -> list[int]:
    """Queue again the documents nobody is reading: still `queued` long after arrival (the
    process died between storing and queueing) or `processing` long after the reading
    began (the worker died mid-read). Reading twice is harmless: only the first run to
    finish writes pages and candidates. Returns the ids queued."""
    from refloop.intake.tasks import process_document_task

    stale = now - timedelta(minutes=settings.INTAKE_STALE_MINUTES)
    stalled = list(
        IntakeDocument.objects.filter(
            Q(status=DocumentStatus.QUEUED, received_at__lt=stale)
            | Q(status=DocumentStatus.PROCESSING, processing_started_at__lt=stale)
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
    for pk in stalled:
        process_document_task.enqueue(pk)
    if stalled:
        logger.info("intake: queued %d stalled document(s) again", len(stalled))
    return stalled
