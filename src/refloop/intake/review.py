"""A coordinator's decisions on what was read from a packet: create the referral, discard
a candidate, or add the referring provider it names to the directory.

Each runs in one transaction with the candidate row locked, so a double click or two
coordinators on the same candidate make one referral; a failure leaves nothing behind
(no patient, referral, attachment file or directory entry).
"""

import re
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict, DomainError, InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.core.uploads import CheckedFile
from refloop.core.validation import required_text
from refloop.intake.models import (
    FIELD_NAMES,
    CandidateStatus,
    DocumentStatus,
    IntakeCandidate,
    IntakeDocument,
    candidate_touch,
)
from refloop.network import services as directory
from refloop.network.models import Practice, Provider
from refloop.referrals import services as referrals
from refloop.referrals.models import AttachmentKind, Referral, ReferralChannel, SourceType, Urgency

# What create_inbound_referral calls a field, and the review form's name for it.
SERVICE_FIELDS = {
    "patient.first_name": "patient_first_name",
    "patient.last_name": "patient_last_name",
    "patient.date_of_birth": "patient_date_of_birth",
    "patient.phone": "patient_phone",
    "patient.insurance_payer": "insurance",
    "referring_provider_id": "provider",
    "referring_practice_id": "provider",
    "npi": "provider_npi",
    "first_name": "provider_name",
    "last_name": "provider_name",
    "phone": "provider_phone",
    "fax": "provider_fax",
    "name": "practice_name",
    "city": "practice_city",
}

EXTENSIONS = {
    "application/pdf": "pdf",
    "image/tiff": "tif",
    "image/png": "png",
    "image/jpeg": "jpg",
}
US_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
TITLES = {"dr", "dr.", "doctor"}
CREDENTIALS = re.compile(r"^(md|do|np|pa|pa-c|dpm|dc|fnp|aprn|rn|mbbs|phd|fnp-c)\.?$", re.I)


def _lock_candidate(candidate: IntakeCandidate | int) -> IntakeCandidate:
    pk = candidate.pk if isinstance(candidate, IntakeCandidate) else candidate
    # Related rows are loaded after the lock, not joined into it: on PostgreSQL a waiter
    # re-reads only the locked row, so a referral joined in would come back empty.
    return IntakeCandidate.objects.select_for_update().get(pk=pk)


def extracted_values(candidate: IntakeCandidate) -> dict[str, str]:
    """The value read for each field, as the review form starts from it."""
    return {
        name: str((candidate.fields.get(name) or {}).get("value") or "") for name in FIELD_NAMES
    }


def parse_date(value: str, field: str) -> date:
    """A date typed as YYYY-MM-DD or MM/DD/YYYY (how US faxes write it)."""
    text = required_text(value, field, "Enter the date of birth.")
    try:
        match = US_DATE.match(text)
        if match:
            month, day, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "This is not a date; write it as YYYY-MM-DD or MM/DD/YYYY.", field=field
        ) from None


def split_codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", text or "") if code]


def split_provider_name(name: str) -> tuple[str, str, str]:
    """(first, last, credentials) of a name as a fax writes it: "Dr. Ann B. Lee, MD"."""
    head, _, tail = (name or "").partition(",")
    words = [w for w in head.split() if w.lower() not in TITLES]
    credentials = [w for w in re.split(r"[\s,]+", tail) if w]
    while len(words) > 2 and CREDENTIALS.match(words[-1]):
        credentials.insert(0, words.pop())
    if len(words) < 2:
        raise InvalidInput(
            "Write the provider's first and last name to add them to the directory.",
            field="provider_name",
        )
    return words[0], words[-1], " ".join(c.rstrip(".") for c in credentials)[:40]


def _renamed(error: DomainError) -> DomainError:
    """A service's error with the review form's name for its field."""
    field = SERVICE_FIELDS.get(error.field or "", error.field)
    renamed = type(error)(error.message, field=field)
    return renamed


def _check_values(values: dict) -> dict:
    """The review's values, checked the way a coordinator can fix them (one field named)."""
    text = {name: str(values.get(name) or "").strip() for name in FIELD_NAMES}
    for name, words in (
        ("patient_first_name", "Enter the patient's first name."),
        ("patient_last_name", "Enter the patient's last name."),
        ("reason", "Say why the patient is referred."),
    ):
        if not text[name]:
            raise InvalidInput(words, field=name)
    urgency = text["urgency"].lower() or Urgency.ROUTINE
    if urgency not in Urgency.values:
        raise InvalidInput("Choose routine, urgent or stat.", field="urgency")
    try:
        codes = referrals.normalize_icd10(split_codes(text["icd10_codes"]))
    except InvalidInput as error:
        raise InvalidInput(error.message, field="icd10_codes") from None
    return {
        "patient": {
            "first_name": text["patient_first_name"],
            "last_name": text["patient_last_name"],
            "date_of_birth": parse_date(text["patient_date_of_birth"], "patient_date_of_birth"),
            **({"phone": text["patient_phone"]} if text["patient_phone"] else {}),
            **({"insurance_payer": text["insurance"]} if text["insurance"] else {}),
        },
        "reason": text["reason"],
        "icd10_codes": codes,
        "urgency": urgency,
    }


def _corrected(candidate: IntakeCandidate, values: dict) -> list[str]:
    """Names (never values) of the fields the coordinator changed, for extraction quality."""
    read = extracted_values(candidate)
    return [n for n in FIELD_NAMES if str(values.get(n) or "").strip() != read[n].strip()]


def _finish_document_if_reviewed(document: IntakeDocument) -> None:
    document = IntakeDocument.objects.select_for_update().get(pk=document.pk)
    pending = document.candidates.filter(status=CandidateStatus.PENDING).exists()
    if document.status == DocumentStatus.REVIEW and not pending:
        document.status = DocumentStatus.DONE
        document.save(update_fields=["status"])


def _attach_packet(referral: Referral, document: IntakeDocument, *, acting_user, now):
    with document.file.open("rb") as handle:
        content = handle.read()
    # The packet passed the upload check when it was received; the same bytes carry its
    # result (and its scan) to the referral, rather than being scanned a second time.
    packet = CheckedFile(
        content,
        content_type=document.content_type,
        pages=document.page_count,
        scan_status=document.scan_status,
        scanned_by=document.scanned_by,
    )
    # Named after the document, not as received: fax servers put patients' names there.
    filename = f"intake-document-{document.pk}.{EXTENSIONS.get(document.content_type, 'bin')}"
    return referrals.add_attachment(
        referral,
        acting_user=acting_user,
        upload=packet,
        filename=filename,
        kind=AttachmentKind.REFERRAL_LETTER,
        now=now,
    )


def create_referral_from_candidate(
    candidate: IntakeCandidate | int,
    *,
    acting_user: User,
    values: dict,
    provider: Provider | None = None,
    practice: Practice | None = None,
    propose_provider: bool = False,
    practice_name: str = "",
    practice_city: str = "",
    now: datetime | None = None,
) -> Referral:
    """Create the inbound fax referral a reviewed candidate describes, with the packet attached.

    `values` maps FIELD_NAMES to what the coordinator confirmed (strings). The referrer is
    `provider`, else `practice` (a fax from a practice whose provider is not named), else
    the candidate's match; with `propose_provider` the provider in `values` is first added
    to the directory. A candidate that already made
    its referral returns that referral (a double submit makes one).
    """
    require(acting_user, Capability.CREATE_REFERRALS)
    now = now or timezone.now()
    attachment = None
    try:
        with transaction.atomic():
            locked = _lock_candidate(candidate)
            if locked.status == CandidateStatus.CREATED:
                return locked.referral
            if locked.status == CandidateStatus.DISCARDED:
                raise Conflict("This candidate was discarded; it cannot become a referral.")
            checked = _check_values(values)
            if propose_provider and provider is None and practice is None:
                provider = _add_provider(
                    locked,
                    acting_user=acting_user,
                    values=values,
                    practice_name=practice_name,
                    practice_city=practice_city,
                )
            if provider is None and practice is None:
                provider = locked.matched_provider
            if provider is None and practice is None:
                raise InvalidInput(
                    "Choose the referring provider from the directory, or add the one "
                    "read from the fax.",
                    field="provider",
                )
            try:
                referral, _ = referrals.create_inbound_referral(
                    acting_user=acting_user,
                    patient=checked["patient"],
                    source_type=SourceType.PROVIDER,
                    # A fax, whichever way it reached us, unless the document came
                    # to a mailbox set up as a referral address (IntakeDocument.arrived_by).
                    channel=ReferralChannel(locked.document.arrived_by),
                    referring_provider=provider,
                    referring_practice=provider.practice if provider else practice,
                    reason=checked["reason"],
                    icd10_codes=checked["icd10_codes"],
                    urgency=checked["urgency"],
                    received_at=min(locked.document.received_at, now),
                    now=now,
                )
            except DomainError as error:
                raise _renamed(error) from None
            attachment = _attach_packet(referral, locked.document, acting_user=acting_user, now=now)
            locked.status = CandidateStatus.CREATED
            locked.referral = referral
            locked.reviewed_by = acting_user
            locked.reviewed_at = now
            locked.save(update_fields=["status", "referral", "reviewed_by", "reviewed_at"])
            _finish_document_if_reviewed(locked.document)
            audit.record(
                "intake.candidate_created",
                candidate_touch(locked),
                actor=acting_user,
                detail={"document_id": locked.document_id, "corrected": _corrected(locked, values)},
                now=now,
            )
            return referral
    except BaseException:
        # The rows rolled back; the stored copy of the packet must not outlive them.
        if attachment is not None and attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise


def discard_candidate(
    candidate: IntakeCandidate | int, *, acting_user: User, now: datetime | None = None
) -> IntakeCandidate:
    """Set aside a candidate that is no referral (a cover sheet, a resent page…)."""
    require(acting_user, Capability.CREATE_REFERRALS)
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_candidate(candidate)
        if locked.status == CandidateStatus.DISCARDED:
            return locked
        if locked.status == CandidateStatus.CREATED:
            raise Conflict("This candidate already became a referral; it cannot be discarded.")
        locked.status = CandidateStatus.DISCARDED
        locked.reviewed_by = acting_user
        locked.reviewed_at = now
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        _finish_document_if_reviewed(locked.document)
        audit.record(
            "intake.candidate_discarded",
            candidate_touch(locked),
            actor=acting_user,
            detail={"document_id": locked.document_id},
            now=now,
        )
    return locked


def _practice_for(*, acting_user: User, name: str, city: str, phone: str, fax: str):
    name, city = name.strip(), city.strip()
    if not name:
        return None
    existing = Practice.objects.filter(name__iexact=name, city__iexact=city).first()
    if existing is not None:
        return existing
    fields = {"city": city, "phone": phone, "fax": fax}
    return directory.create_practice(
        acting_user=acting_user, name=name, **{k: v for k, v in fields.items() if v}
    )


def _add_provider(
    locked: IntakeCandidate,
    *,
    acting_user: User,
    values: dict,
    practice_name: str,
    practice_city: str,
) -> Provider:
    """The provider `values` name, added to the directory (or found by NPI) and matched."""
    require(acting_user, Capability.EDIT_DIRECTORY)
    proposal = locked.proposed_provider or {}

    def value(field: str, key: str) -> str:
        typed = values.get(field)
        return str(typed if typed is not None else proposal.get(key) or "").strip()

    npi = value("provider_npi", "npi")
    known = Provider.objects.select_related("practice").filter(npi=npi).first() if npi else None
    if known is not None:
        provider, reason = known, "NPI already in the directory"
    else:
        first, last, credentials = split_provider_name(value("provider_name", "name"))
        phone, fax = value("provider_phone", "phone"), value("provider_fax", "fax")
        try:
            practice = _practice_for(
                acting_user=acting_user,
                name=practice_name or str(proposal.get("practice") or ""),
                city=practice_city or str(proposal.get("city") or ""),
                phone=phone,
                fax=fax,
            )
            extra = {"credentials": credentials, "phone": phone, "fax": fax}
            provider = directory.create_provider(
                acting_user=acting_user,
                npi=npi,
                first_name=first,
                last_name=last,
                practice=practice,
                **{k: v for k, v in extra.items() if v},
            )
        except DomainError as error:
            raise _renamed(error) from None
        reason = "Added to the directory from this fax"
    locked.matched_provider = provider
    locked.match_reason = reason
    locked.save(update_fields=["matched_provider", "match_reason"])
    audit.record(
        "intake.provider_matched",
        candidate_touch(locked),
        actor=acting_user,
        detail={"provider_id": provider.pk, "added": known is None},
    )
    return provider


def add_proposed_provider_to_directory(
    candidate: IntakeCandidate | int,
    *,
    acting_user: User,
    values: dict | None = None,
    practice_name: str = "",
    practice_city: str = "",
) -> Provider:
    """Add the referring provider read from the fax (as corrected in `values`, else as
    proposed) to the directory, with their practice when one is named, and match it."""
    require(acting_user, Capability.CREATE_REFERRALS)
    with transaction.atomic():
        locked = _lock_candidate(candidate)
        if locked.status != CandidateStatus.PENDING:
            raise Conflict("This candidate was already reviewed.")
        return _add_provider(
            locked,
            acting_user=acting_user,
            values=values or {},
            practice_name=practice_name,
            practice_city=practice_city,
        )


def choose_provider(
    candidate: IntakeCandidate | int, *, acting_user: User, provider: Provider
) -> IntakeCandidate:
    """Match the candidate to a directory provider the coordinator picked."""
    require(acting_user, Capability.CREATE_REFERRALS)
    with transaction.atomic():
        locked = _lock_candidate(candidate)
        if locked.status != CandidateStatus.PENDING:
            raise Conflict("This candidate was already reviewed.")
        locked.matched_provider = provider
        locked.match_reason = "Chosen by a coordinator"
        locked.save(update_fields=["matched_provider", "match_reason"])
        audit.record(
            "intake.provider_matched",
            candidate_touch(locked),
            actor=acting_user,
            detail={"provider_id": provider.pk, "added": False},
        )
    return locked
