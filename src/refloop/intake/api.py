"""Document intake over the API: upload a fax or scanned packet, then follow its reading.

Uploading and reading both need the capability to create referrals: the extracted fields
are patient data, and turning packets into referrals is that role's work. Reads are audited.
"""

from datetime import datetime

from django.conf import settings
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field

from refloop.core import audit
from refloop.core.errors import PayloadTooLarge
from refloop.core.roles import Capability, require
from refloop.core.schemas import ApiRequest, OutSchema, PathId, errors
from refloop.intake import services
from refloop.intake.models import DocumentSource, IntakeDocument, document_touch
from refloop.referrals.api import refuse_oversize_uploads

router = Router(tags=["intake"])

# Room for the multipart boundaries and part headers around the file itself.


SCAN_STATUS_DESCRIPTION = (
    "clean (a ClamAV daemon scanned it), not_scanned (none is configured), or infected "
    "(quarantined, the file not kept)"
)


class DocumentCreatedOut(OutSchema):
    id: int
    status: str = Field(description="queued, duplicate or quarantined")
    status_reason: str = Field(description="Why it was quarantined; empty otherwise")
    duplicate_of: int | None = Field(description="The earlier document with the same content")
    scan_status: str = Field(description=SCAN_STATUS_DESCRIPTION)
    scanned_by: str = Field(description="The virus scanner's version line; empty if not scanned")

    @staticmethod
    def resolve_duplicate_of(document) -> int | None:
        return document.duplicate_of_id


class FieldOut(Schema):
    value: str
    confidence: float = Field(description="0..1")
    review: bool = Field(description="True where the engine was unsure: a person checks it")
    page: int | None = Field(description="The page it was read on (1-based)")
    box: list[float] | None = Field(
        default=None,
        description="Where on that page: [x0, y0, x1, y1] as fractions of the page's width "
        "and height, or null",
    )


class CandidateOut(OutSchema):
    id: int
    first_page: int
    last_page: int
    status: str
    fields: dict[str, FieldOut] = Field(description="Field name -> what was read")
    matched_provider_id: int | None = Field(description="The referring provider in the directory")
    match_reason: str
    proposed_provider: dict = Field(description="name, npi, phone, fax when no match was found")
    referral_id: int | None


class DocumentOut(OutSchema):
    id: int
    status: str = Field(description="queued, processing, review, done, quarantined or duplicate")
    status_reason: str
    duplicate_of: int | None
    source: str
    content_type: str
    size: int
    received_at: datetime
    processed_at: datetime | None
    page_count: int
    pages_done: int = Field(description="Progress while processing")
    scan_status: str = Field(description=SCAN_STATUS_DESCRIPTION)
    scanned_by: str = Field(description="The virus scanner's version line; empty if not scanned")
    candidates: list[CandidateOut] = Field(description="One per patient found in the packet")

    @staticmethod
    def resolve_duplicate_of(document) -> int | None:
        return document.duplicate_of_id

    @staticmethod
    def resolve_candidates(document) -> list:
        return list(document.candidates.all())


@router.post("/intake/documents", response={201: DocumentCreatedOut, **errors(503)})
@decorate_view(refuse_oversize_uploads)
def upload_document(request: ApiRequest, file: File[UploadedFile]):
    """Upload a fax or scanned packet (PDF, TIFF, PNG or JPEG, judged by content).

    Every file is opened with its real decoder and, when a ClamAV daemon is configured,
    scanned. Answers 201 with the stored document: `queued` for reading, `duplicate` of an
    earlier packet with the same bytes, or `quarantined` with the reason (another file
    type, a damaged or oversized file, web page code, malware found: then nothing of the
    file is kept). `scan_status` says whether the virus scanner saw it. 503 while the
    configured scanner does not answer: nothing was stored, send it again later. Follow
    its reading with GET /intake/documents/{id}.
    """
    user = request.auth
    require(user, Capability.CREATE_REFERRALS)
    limit = settings.ATTACHMENT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(
            f"The file is {file.size / 1_048_576:.1f} MB; documents may be at most "
            f"{limit / 1_048_576:.0f} MB."
        )
    document = services.ingest(
        content=file.read(),
        filename=file.name or "",
        source=DocumentSource.API,
        uploaded_by=user,
    )
    return Status(201, document)


@router.get("/intake/documents/{document_id}", response={200: DocumentOut})
def get_document(request: ApiRequest, document_id: PathId):
    """A document's status and reading progress, and the patients and fields found in it.

    The fields are patient data: every read is recorded in the audit log.
    """
    user = request.auth
    require(user, Capability.CREATE_REFERRALS)
    document = get_object_or_404(
        IntakeDocument.objects.prefetch_related("candidates"), pk=document_id
    )
    audit.record(
        "intake.document_read",
        document_touch(document),
        actor=user,
        detail={"candidates": len(document.candidates.all())},
    )
    return document
