"""Receiving documents for intake: store, check, record, and queue them for reading.

Every packet that arrives is kept, whatever it is: readable ones are queued, the same
file twice is recorded as a duplicate, and anything unreadable is quarantined with a
reason a coordinator can act on. Nothing is dropped silently.
"""

import hashlib
import logging
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import InvalidInput, PayloadTooLarge
from refloop.core.models import User
from refloop.intake.models import (
    DocumentSource,
    DocumentStatus,
    IntakeDocument,
    IntakePage,
    document_touch,
)
from refloop.referrals import effects
from refloop.referrals.documents import ACCEPTED_DESCRIPTION, sniff_content_type

logger = logging.getLogger(__name__)

# What a refused file looks like, to say so in the quarantine reason.
KNOWN_OTHER_TYPES: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"RIFF", "a WebP image or other RIFF file"),
    (b"%!PS", "a PostScript file"),
    (b"<", "an HTML or XML file"),
]


def describe_content(head: bytes) -> str:
    for signature, description in KNOWN_OTHER_TYPES:
        if head.startswith(signature):
            return description
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "an unrecognized binary file"
    return "plain text"


def ingest(
    *,
    content: bytes,
    filename: str,
    source: str,
    uploaded_by: User | None = None,
    now: datetime | None = None,
) -> IntakeDocument:
    """Store a received packet and queue it for reading; returns the document.

    Status after: `queued` (reading starts after commit), `duplicate` (the same bytes as an
    earlier packet: recorded, `duplicate_of` set, nothing extracted), or `quarantined`
    (not PDF, TIFF, PNG or JPEG by content, or empty). Files over ATTACHMENT_MAX_BYTES are
    refused (PayloadTooLarge) before anything is stored.
    """
    from refloop.intake.tasks import process_document_task

    now = now or timezone.now()
    if source not in DocumentSource.values:
        raise InvalidInput(
            f"source must be one of {', '.join(DocumentSource.values)}.", field="source"
        )
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise PayloadTooLarge(
            f"The file is {len(content) / 1_048_576:.1f} MB; documents may be at most "
            f"{limit / 1_048_576:.0f} MB. Ask the sender to split it."
        )
    content_type = sniff_content_type(content[:16]) or ""
    sha256 = hashlib.sha256(content).hexdigest()
    # The received name is kept for the coordinator's eyes only, never in a storage path.
    name = os.path.basename(filename.replace("\\", "/")).strip()[:255] or "document"
    document = IntakeDocument(
        original_name=name,
        content_type=content_type,
        size=len(content),
        sha256=sha256,
        source=source,
        received_at=now,
        uploaded_by=uploaded_by,
    )
    if not content:
        document.status = DocumentStatus.QUARANTINED
        document.status_reason = "The file is empty; ask the sender to send it again."
    elif not content_type:
        document.status = DocumentStatus.QUARANTINED
        document.status_reason = (
            f"Unsupported file type ({describe_content(content[:16])}, judged by its content); "
            f"send {ACCEPTED_DESCRIPTION}."
        )
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
            document.file.save("received", ContentFile(content), save=False)
            document.save()
            audit.record(
                "intake.document_received",
                document_touch(document),
                actor=uploaded_by,
                detail={
                    "source": source,
                    "status": document.status,
                    "content_type": content_type,
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
