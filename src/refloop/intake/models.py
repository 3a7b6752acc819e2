"""Packets that arrive as documents (fax, upload, watched folder, email) and what was read from them.

A packet becomes one IntakeDocument. Each page is read (text layer or OCR) into an
IntakePage; the pages are split where the patient changes into IntakeCandidates, each
with the fields extracted from it. A coordinator reviews a candidate, corrects it and
creates the referral; the packet stays attached to it.

`IntakeCandidate.fields` maps a field name (see FIELD_NAMES) to
``{"value": str, "confidence": float 0..1, "review": bool, "page": int | None,
"box": [x0, y0, x1, y1] | None}``; `review` is True where the engine was unsure, and the
review page highlights it; `box` is where on its page the value was read (fractions of the
page), outlined on the page image while the field is focused.
Values are strings as a person would type them (dates as YYYY-MM-DD, ICD-10 codes
comma-separated, urgency one of routine/urgent/stat).
"""

import secrets

from django.db import models

from refloop.core import audit
from refloop.core.encryption import EncryptedTextField
from refloop.core.storage import documents_storage
from refloop.core.uploads import ScanStatus

# The fields extraction reads, in the order the review page shows them.
FIELD_NAMES = (
    "patient_first_name",
    "patient_last_name",
    "patient_date_of_birth",
    "patient_phone",
    "provider_name",
    "provider_npi",
    "provider_phone",
    "provider_fax",
    "reason",
    "icd10_codes",
    "urgency",
    "insurance",
)


class DocumentSource(models.TextChoices):
    UPLOAD = "upload"  # the browser
    API = "api"
    WATCHED_FOLDER = "watched_folder", "Watched folder"
    EMAIL = "email"  # an IMAP mailbox (refloop.intake.mailbox): attachments, or the text


class Arrival(models.TextChoices):
    """How the referring office sent the packet, which becomes its referral's channel: a fax
    (the fax server's folder, an e-fax service's mailbox, an upload of what a fax machine
    printed) or an email written to the practice (a mailbox set up as a referral address)."""

    FAX = "fax"
    EMAIL = "email"


class DocumentStatus(models.TextChoices):
    QUEUED = "queued"  # stored, waiting for the worker
    PROCESSING = "processing"
    REVIEW = "review"  # candidates wait for a coordinator
    DONE = "done"  # every candidate became a referral or was discarded
    QUARANTINED = "quarantined"  # unreadable: kept, with the reason
    DUPLICATE = "duplicate"  # same page content as an earlier packet: recorded, suppressed


def document_path(instance: "IntakeDocument", filename: str) -> str:
    # Never the received name: fax servers often put the patient's name in it.
    return f"intake/{instance.received_at:%Y/%m}/{secrets.token_hex(16)}"


def page_image_path(instance: "IntakePage", filename: str) -> str:
    return f"intake/pages/{secrets.token_hex(16)}.png"


class IntakeDocument(models.Model):
    file = models.FileField(upload_to=document_path, max_length=200, storage=documents_storage)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=60, blank=True)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True, help_text="Of the file's bytes")
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="Of the pages' content (text, or downscaled images), so a resent fax matches",
    )
    source = models.CharField(max_length=16, choices=DocumentSource.choices)
    received_at = models.DateTimeField(db_index=True)
    uploaded_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED
    )
    status_reason = models.TextField(
        blank=True, help_text="Why it was quarantined, in words a coordinator can act on"
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    page_count = models.PositiveIntegerField(default=0)
    pages_done = models.PositiveIntegerField(default=0, help_text="Progress while processing")
    processing_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last reading began (to find abandoned ones)"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    scan_status = models.CharField(
        max_length=12, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED
    )
    scanned_by = models.CharField(
        max_length=200, blank=True, help_text="The virus scanner's version line, when scanned"
    )
    # An emailed packet: who sent it and the subject line (often a patient's name), for the
    # coordinator's eyes only; and the message it came in, so a redelivery is known.
    email_sender = EncryptedTextField(blank=True)
    email_subject = EncryptedTextField(blank=True)
    email_key = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="SHA-256 of the email's Message-ID (or of the message, without one)",
    )
    arrived_by = models.CharField(max_length=8, choices=Arrival.choices, default=Arrival.FAX)

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"Document #{self.pk}"


class PageMethod(models.TextChoices):
    TEXT = "text"  # a born-digital PDF's text layer
    OCR = "ocr"


class IntakePage(models.Model):
    document = models.ForeignKey(IntakeDocument, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField(help_text="1-based")
    image = models.FileField(
        upload_to=page_image_path, max_length=200, blank=True, storage=documents_storage
    )
    text = EncryptedTextField(blank=True)
    method = models.CharField(max_length=4, choices=PageMethod.choices)
    confidence = models.FloatField(null=True, blank=True, help_text="Mean OCR word confidence 0..1")

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="intake_page_once")
        ]


class CandidateStatus(models.TextChoices):
    PENDING = "pending"
    CREATED = "created"
    DISCARDED = "discarded"


class IntakeCandidate(models.Model):
    """One patient's pages within a packet, and the referral fields read from them."""

    document = models.ForeignKey(
        IntakeDocument, on_delete=models.CASCADE, related_name="candidates"
    )
    first_page = models.PositiveIntegerField()
    last_page = models.PositiveIntegerField()
    fields = models.JSONField(default=dict)
    # The referring provider: matched in the directory, or proposed for it.
    matched_provider = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    match_reason = models.CharField(max_length=200, blank=True)
    proposed_provider = models.JSONField(
        default=dict, blank=True, help_text="name, npi, phone, fax when no directory match"
    )
    status = models.CharField(
        max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.PENDING
    )
    referral = models.OneToOneField(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="intake_candidate",
    )
    reviewed_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document", "first_page"]


def document_touch(document: IntakeDocument | int) -> audit.Touch:
    """The audit log's handle on a packet (its pages are patient data)."""
    return audit.Touch("intake_document", getattr(document, "pk", document))


def candidate_touch(candidate: IntakeCandidate) -> audit.Touch:
    """The audit log's handle on one patient's pages, tied to the referral once created."""
    return audit.touch_on_referral("intake_candidate", candidate)
