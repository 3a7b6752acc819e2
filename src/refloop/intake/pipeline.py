"""Processing one stored packet: read its pages, split it by patient, extract and match.

`process_document` is synchronous and safe to run twice: the pages and candidates are
written in one transaction at the end, only while the document is still being processed.
Reading (the slow part) happens before it, with progress saved page by page. Whatever
goes wrong, the document ends quarantined with a reason and without pages or candidates.
"""

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.intake import extraction, matching, reading, splitting
from refloop.intake.models import (
    DocumentStatus,
    IntakeCandidate,
    IntakeDocument,
    IntakePage,
    document_touch,
)

logger = logging.getLogger(__name__)

NO_TEXT = "No text could be read from any page (blank or unreadable scan)."
UNEXPECTED = (
    "Reading this document failed unexpectedly; an administrator can find the error in the "
    "server log. Ask the sender to send it again if it keeps failing."
)
# A readable document has at least this many words the engine is fairly sure of.
MIN_READABLE_WORDS = 5
# Resent faxes: pages this similar (text after OCR) to an earlier packet's are the same.
DUPLICATE_SIMILARITY = 0.95
DUPLICATE_LOOKBACK = dt.timedelta(days=30)


@dataclass
class Candidate:
    first_page: int
    last_page: int
    fields: dict
    match: matching.Match


def process_document(document_id: int) -> IntakeDocument:
    """Read, split and extract a queued document; returns it in its new status."""
    from refloop.intake.services import quarantine

    with transaction.atomic():
        document = IntakeDocument.objects.select_for_update().get(pk=document_id)
        if document.status not in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING):
            return document
        document.status = DocumentStatus.PROCESSING
        document.pages_done = 0
        document.processing_started_at = timezone.now()
        document.save(update_fields=["status", "pages_done", "processing_started_at"])
    try:
        pages = _read(document)
        readings = [extraction.read_page(page, today=timezone.localdate()) for page in pages]
        candidates = [_candidate(group) for group in splitting.split(readings)]
        return _save(document.pk, pages, candidates)
    except reading.ReadError as exc:
        return quarantine(document, reason=exc.reason)
    except Exception:
        logger.exception("intake: processing document %s failed", document.pk)
        quarantine(document, reason=UNEXPECTED)
        raise


def _read(document: IntakeDocument) -> list[reading.PageText]:
    try:
        with document.file.open("rb") as handle:
            content = handle.read()
    except OSError:
        raise reading.ReadError(
            "The stored file is missing; ask the sender to send the document again."
        ) from None
    count = reading.count_pages(content, document.content_type)
    IntakeDocument.objects.filter(pk=document.pk).update(page_count=count)
    pages = []
    for page in reading.read_pages(content, document.content_type):
        pages.append(page)
        IntakeDocument.objects.filter(pk=document.pk).update(pages_done=len(pages))
    readable = sum(
        1
        for page in pages
        for word in page.words
        if word.conf >= 0.5 and sum(ch.isalnum() for ch in word.text) >= 2
    )
    if readable < MIN_READABLE_WORDS:
        raise reading.ReadError(NO_TEXT)
    return pages


def _candidate(group: list[extraction.PageReading]) -> Candidate:
    fields = extraction.merge(group)
    cities = set().union(*(r.cities for r in group))
    return Candidate(
        first_page=group[0].number,
        last_page=group[-1].number,
        fields=fields,
        match=matching.match_provider(fields, cities=cities),
    )


def content_hash(pages: list[reading.PageText]) -> str:
    """Of the pages' words, without the fax banner (a resent fax has a new time on it)."""
    digest = hashlib.sha256()
    for page in pages:
        digest.update(_comparable(page).encode())
        digest.update(b"\f")
    return digest.hexdigest()


def _comparable(page: reading.PageText) -> str:
    lines = [
        " ".join(w.text for w in line)
        for index, line in enumerate(page.lines)
        if not extraction.is_banner(" ".join(w.text for w in line), index)
    ]
    return re.sub(r"[^a-z0-9]+", " ", "\n".join(lines).lower()).strip()


def _earlier_same_content(
    document: IntakeDocument, digest: str, pages: list[reading.PageText]
) -> IntakeDocument | None:
    earlier = IntakeDocument.objects.exclude(pk=document.pk).filter(
        received_at__lte=document.received_at,
        status__in=[DocumentStatus.REVIEW, DocumentStatus.DONE],
    )
    exact = earlier.filter(content_hash=digest).order_by("received_at", "pk").first()
    if exact is not None:
        return exact
    # A fax sent again is scanned again: its OCR differs by a few characters.
    texts = [_comparable(page) for page in pages]
    recent = earlier.filter(
        page_count=len(pages), received_at__gte=document.received_at - DUPLICATE_LOOKBACK
    ).order_by("-received_at")[:20]
    for other in recent:
        other_texts = [
            re.sub(r"[^a-z0-9]+", " ", page.text.lower()).strip()
            for page in other.pages.order_by("number")
        ]
        if len(other_texts) != len(texts):
            continue
        if all(_similar(a, b) for a, b in zip(texts, other_texts, strict=True)):
            return other
    return None


def _similar(a: str, b: str) -> bool:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= DUPLICATE_SIMILARITY
        and matcher.quick_ratio() >= DUPLICATE_SIMILARITY
        and matcher.ratio() >= DUPLICATE_SIMILARITY
    )


def _save(
    document_id: int, pages: list[reading.PageText], candidates: list[Candidate]
) -> IntakeDocument:
    stored: list[str] = []
    try:
        with transaction.atomic():
            document = IntakeDocument.objects.select_for_update().get(pk=document_id)
            if document.status != DocumentStatus.PROCESSING:
                return document  # another run finished it meanwhile
            now = timezone.now()
            document.pages.all().delete()
            document.candidates.all().delete()
            digest = content_hash(pages)
            document.content_hash = digest
            document.page_count = document.pages_done = len(pages)
            document.processed_at = now
            original = _earlier_same_content(document, digest, pages)
            if original is not None:
                document.status = DocumentStatus.DUPLICATE
                document.duplicate_of = original.duplicate_of or original
                document.save()
                audit.record(
                    "intake.document_duplicate",
                    document_touch(document),
                    actor=None,
                    detail={"duplicate_of": document.duplicate_of_id, "by": "page content"},
                    now=now,
                )
                return document
            for page in pages:
                row = IntakePage(
                    document=document,
                    number=page.number,
                    text=page.text,
                    method=page.method,
                    confidence=page.confidence,
                )
                row.image.save("page.png", ContentFile(page.image_png), save=False)
                stored.append(row.image.name)
                row.save()
            for candidate in candidates:
                IntakeCandidate.objects.create(
                    document=document,
                    first_page=candidate.first_page,
                    last_page=candidate.last_page,
                    fields=candidate.fields,
                    matched_provider=candidate.match.provider,
                    match_reason=candidate.match.reason[:200],
                    proposed_provider=candidate.match.proposed,
                )
            document.status = DocumentStatus.REVIEW
            document.status_reason = ""
            document.save()
            audit.record(
                "intake.document_processed",
                document_touch(document),
                actor=None,
                detail={
                    "pages": len(pages),
                    "ocr_pages": sum(p.method == "ocr" for p in pages),
                    "candidates": len(candidates),
                    "fields_for_review": sum(
                        f["review"] for c in candidates for f in c.fields.values()
                    ),
                },
                now=now,
            )
            return document
    except BaseException:
        # The rows rolled back; their page images must not outlive them.
        for name in stored:
            IntakePage.image.field.storage.delete(name)
        raise
