"""Reads of the document intake queue shared by its pages: what waits, what is stuck, and
the audit of every look at a packet's pages or what was read from them (both are PHI)."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from refloop.core import audit
from refloop.core.errors import NotFound
from refloop.core.roles import Capability, require
from refloop.intake.models import (
    CandidateStatus,
    DocumentStatus,
    IntakeCandidate,
    IntakeDocument,
    IntakePage,
    candidate_touch,
    document_touch,
)


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    statuses: tuple[str, ...]


TABS = (
    Tab("review", "To review", (DocumentStatus.REVIEW,)),
    Tab("processing", "Processing", (DocumentStatus.QUEUED, DocumentStatus.PROCESSING)),
    Tab("quarantined", "Quarantined", (DocumentStatus.QUARANTINED,)),
    Tab("duplicates", "Duplicates", (DocumentStatus.DUPLICATE,)),
    Tab("done", "Done", (DocumentStatus.DONE,)),
)
TAB_BY_KEY = {tab.key: tab for tab in TABS}
LIST_LIMIT = 100


def queue_counts(user) -> dict[str, int]:
    """How many documents each tab holds."""
    require(user, Capability.CREATE_REFERRALS)
    by_status = dict(
        IntakeDocument.objects.values_list("status").annotate(n=Count("pk")).order_by()
    )
    counts = {tab.key: sum(by_status.get(s, 0) for s in tab.statuses) for tab in TABS}
    # The review tab lists patients (candidates), not packets.
    counts["review"] = IntakeCandidate.objects.filter(
        status=CandidateStatus.PENDING, document__status=DocumentStatus.REVIEW
    ).count()
    return counts


def documents_in(user, tab: Tab, *, limit: int = LIST_LIMIT) -> list[IntakeDocument]:
    """A tab's documents: oldest first where work waits, newest first otherwise.

    Each carries `pending` (candidates still to review); the listing is audited, since
    a received file name can hold a patient's name.
    """
    require(user, Capability.CREATE_REFERRALS)
    waiting = tab.key in ("review", "processing")
    documents: list[IntakeDocument] = list(
        IntakeDocument.objects.filter(status__in=tab.statuses)
        .select_related("duplicate_of", "uploaded_by")
        .annotate(
            pending=Count("candidates", filter=Q(candidates__status=CandidateStatus.PENDING)),
            candidate_count=Count("candidates"),
        )
        .order_by(*(("received_at", "pk") if waiting else ("-received_at", "-pk")))[:limit]
    )
    if documents:
        audit.record_many(
            "intake.document_listed", [document_touch(d) for d in documents], actor=user
        )
    return documents


def in_progress(user) -> list[IntakeDocument]:
    """Documents waiting for or being read by the worker, for the progress list (no PHI)."""
    require(user, Capability.CREATE_REFERRALS)
    return list(
        IntakeDocument.objects.filter(
            status__in=(DocumentStatus.QUEUED, DocumentStatus.PROCESSING)
        ).order_by("received_at", "pk")[:LIST_LIMIT]
    )


def pending_candidates(user, *, limit: int = LIST_LIMIT) -> list[IntakeCandidate]:
    """Candidates waiting for review, oldest packet first; audited (they show names)."""
    require(user, Capability.CREATE_REFERRALS)
    candidates = list(
        IntakeCandidate.objects.filter(
            status=CandidateStatus.PENDING, document__status=DocumentStatus.REVIEW
        )
        .select_related("document", "matched_provider")
        .order_by("document__received_at", "document_id", "first_page", "pk")[:limit]
    )
    if candidates:
        audit.record_many(
            "intake.candidate_listed", [candidate_touch(c) for c in candidates], actor=user
        )
    return candidates


def next_pending_candidate(user, *, after: IntakeCandidate | None = None) -> IntakeCandidate | None:
    """The candidate a coordinator working the pile opens next (no audit: only its id is used)."""
    require(user, Capability.CREATE_REFERRALS)
    queryset = IntakeCandidate.objects.filter(
        status=CandidateStatus.PENDING, document__status=DocumentStatus.REVIEW
    ).order_by("document__received_at", "document_id", "first_page", "pk")
    if after is not None:
        # The rest of the same packet first, then the packets after it.
        same = queryset.filter(document_id=after.document_id).exclude(pk=after.pk).first()
        if same is not None:
            return same
        queryset = queryset.exclude(document_id=after.document_id)
    return queryset.first()


def get_document(user, document_id: int) -> IntakeDocument:
    """A document with its pages and candidates, audited as intake.document_read."""
    require(user, Capability.CREATE_REFERRALS)
    document = (
        IntakeDocument.objects.select_related("duplicate_of", "uploaded_by")
        .prefetch_related("pages", "candidates__matched_provider", "candidates__referral")
        .filter(pk=document_id)
        .first()
    )
    if document is None:
        raise NotFound("No document with this id.")
    audit.record("intake.document_read", document_touch(document), actor=user)
    return document


def get_document_file(user, document_id: int) -> IntakeDocument:
    """The received file itself, audited as intake.document_file_read."""
    require(user, Capability.CREATE_REFERRALS)
    require(user, Capability.VIEW_REFERRALS)
    document = IntakeDocument.objects.filter(pk=document_id).first()
    if document is None or not document.file:
        raise NotFound("No document with this id.")
    audit.record("intake.document_file_read", document_touch(document), actor=user)
    return document


def get_page(user, document_id: int, number: int) -> IntakePage:
    """One page's image, audited as intake.page_read (a page of a referral packet is PHI)."""
    require(user, Capability.CREATE_REFERRALS)
    require(user, Capability.VIEW_REFERRALS)
    page = (
        IntakePage.objects.select_related("document")
        .filter(document_id=document_id, number=number)
        .first()
    )
    if page is None or not page.image:
        raise NotFound("No page image with this number.")
    audit.record(
        "intake.page_read",
        document_touch(document_id),
        actor=user,
        detail={"page": number},
    )
    return page


def get_candidate(user, candidate_id: int, *, audited: bool = True) -> IntakeCandidate:
    """A candidate with its document and pages, audited as intake.candidate_read."""
    require(user, Capability.CREATE_REFERRALS)
    candidate = (
        IntakeCandidate.objects.select_related(
            "document", "matched_provider__practice", "referral", "reviewed_by"
        )
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        raise NotFound("No candidate with this id.")
    if audited:
        audit.record("intake.candidate_read", candidate_touch(candidate), actor=user)
    return candidate


def candidate_pages(candidate: IntakeCandidate) -> QuerySet[IntakePage]:
    return candidate.document.pages.filter(
        number__gte=candidate.first_page, number__lte=candidate.last_page
    ).order_by("number")
