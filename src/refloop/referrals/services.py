"""Writes to referrals other than state transitions: creation, assignment, contact
attempts, notes and documents. Transitions live in transitions.py."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from refloop.core import uploads
from refloop.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
)
from refloop.core.models import User
from refloop.core.roles import Capability, can, require
from refloop.core.validation import validated
from refloop.network.models import Practice, Provider
from refloop.patients.models import Patient
from refloop.practice.models import Department, Organization
from refloop.referrals import clocks, lifecycle, reactions, transitions, triage
from refloop.referrals.models import (
    Attachment,
    AttachmentKind,
    CancelReason,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    Direction,
    IdempotencyKey,
    Referral,
    ReferralChannel,
    ReferralEvent,
    SourceType,
    State,
    Urgency,
)
from refloop.referrals.timeline import NewEvent, record_event, record_events
from refloop.referrals.writing import (
    aware,
    check_version,
    choice,
    lock,
    save_changes,
    unsuccessful_attempts,
)

ICD10 = re.compile(r"^([A-TV-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?$")

# No referral is older than this: a date before it is a typing slip (and one in year 1 would
# fall off the calendar in the practice's zone).
EARLIEST_RECEIVED = datetime(1900, 1, 1, tzinfo=UTC)


def normalize_icd10(codes: Iterable[str]) -> list[str]:
    """Upper-case, dotted ICD-10-CM codes ('m5416' -> 'M54.16'); refuses malformed ones."""
    normalized = []
    for position, raw in enumerate(codes, start=1):
        match = ICD10.match(raw.strip().upper())
        if not match:
            # By position, not by value: what was typed may be anything, a name included.
            raise InvalidInput(
                f"Code {position} is not an ICD-10 code (expected a letter, two characters, "
                "and up to four more after a dot, e.g. M54.16).",
                field="icd10_codes",
            )
        category, suffix = match.groups()
        code = f"{category}.{suffix}" if suffix else category
        if code not in normalized:
            normalized.append(code)
    return normalized


PATIENT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "city",
    "state",
    "postal_code",
    "insurance_payer",
    "insurance_member_id",
    "preferred_language",
    "contact_consent",
)


def _unsaved_patient(data: dict, *, now: datetime, org: Organization) -> Patient:
    """A validated, not yet saved patient from a request's fields."""
    unknown = set(data) - set(PATIENT_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(f"patient.{field} is not a patient field.", field=f"patient.{field}")
    for required in ("first_name", "last_name", "date_of_birth"):
        if not data.get(required):
            raise InvalidInput(f"patient.{required} is required.", field=f"patient.{required}")
    patient = Patient(**data)
    validated(patient, prefix="patient.", exclude=["name_key"])
    if patient.date_of_birth > timezone.localdate(now, org.zone):
        raise InvalidInput("patient.date_of_birth is in the future.", field="patient.date_of_birth")
    return patient


def _staff_assignee(user: User | None) -> User | None:
    if user is None:
        return None
    if not can(user, Capability.HOLD_REFERRALS):
        raise InvalidInput(
            "A referral can be assigned only to an active coordinator, clinician or admin.",
            field="assignee_id",
        )
    return user


def create_inbound_referral(
    *,
    acting_user: User | None,
    patient: Patient | dict,
    source_type: str,
    channel: str,
    reason: str,
    urgency: str = Urgency.ROUTINE,
    source_other: str = "",
    referring_practice: Practice | None = None,
    referring_provider: Provider | None = None,
    advocate_patient: Patient | None = None,
    campaign: str = "",
    icd10_codes: Iterable[str] = (),
    department: Department | None = None,
    assignee: User | None = None,
    received_at: datetime | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    now: datetime | None = None,
) -> tuple[Referral, bool]:
    """Record a referral that reached us; returns (referral, created).

    `acting_user` is staff who may create referrals; or a portal user, who sends on
    the portal channel for their own practice only; or None for the public web form.
    Every new referral is triaged (referrals/triage.py): department, assignee, fit
    assessment, possible duplicate.

    With an idempotency key, a replay of the same request (even a concurrent one)
    returns the first referral and `created` is False.
    """
    referring_practice, assignee = _check_submitter(
        acting_user, channel, referring_practice, referring_provider, assignee
    )
    now = now or timezone.now()

    choice(source_type, SourceType, "source_type")
    choice(channel, ReferralChannel, "channel")
    choice(urgency, Urgency, "urgency")
    if source_type == SourceType.OTHER and not source_other.strip():
        raise InvalidInput(
            "source_other is required when the source type is 'other'.", field="source_other"
        )
    if not reason or not reason.strip():
        raise InvalidInput("reason is required: say why the patient is referred.", field="reason")
    if referring_provider is not None and referring_practice is None:
        referring_practice = referring_provider.practice
    # A provider without an account who uses the public form may not be in the
    # directory yet; the form keeps who they are, and staff add them from there.
    if (
        source_type == SourceType.PROVIDER
        and referring_practice is None
        and referring_provider is None
        and channel != ReferralChannel.WEB_FORM
    ):
        raise InvalidInput(
            "A provider referral needs referring_provider_id or referring_practice_id.",
            field="referring_provider_id",
        )
    received_at = aware(received_at, "received_at") if received_at is not None else now
    if received_at > now:
        raise InvalidInput("received_at is in the future.", field="received_at")
    if received_at < EARLIEST_RECEIVED:
        raise InvalidInput("received_at must be in 1900 or later.", field="received_at")

    _check_idempotency_key(idempotency_key)
    if idempotency_key and acting_user is None:
        raise ValueError("An idempotency key belongs to a user; the public form has none.")
    # Everything that needs no write is checked before the transaction, so the
    # write lock (all of SQLite's) is held only for the inserts.
    org = Organization.current()
    patient_row = (
        _unsaved_patient(patient, now=now, org=org) if isinstance(patient, dict) else patient
    )
    codes = normalize_icd10(icd10_codes)
    assignee = _staff_assignee(assignee)

    # The key is claimed by the transaction's last write, with the referral it names: a
    # replay (or a concurrent request, which waits on the unique key) rolls back all it
    # wrote and answers the first request's referral.
    try:
        with transaction.atomic():
            if patient_row.pk is None:
                patient_row.save()
            # Triaged before it is written, so the referral is one INSERT with its department,
            # owner and fit, and its first events and their audit records one INSERT each.
            referral = Referral(
                direction=Direction.INBOUND,
                state=State.RECEIVED,
                patient=patient_row,
                source_type=source_type,
                source_other=source_other.strip() if source_type == SourceType.OTHER else "",
                referring_practice=referring_practice,
                referring_provider=referring_provider,
                advocate_patient=advocate_patient,
                campaign=campaign,
                channel=channel,
                urgency=urgency,
                reason=reason.strip(),
                icd10_codes=codes,
                department=department,
                assignee=assignee,
                received_at=received_at,
                state_changed_at=received_at,
                first_contact_due_at=clocks.first_contact_due(org, urgency, received_at),
                created_by=acting_user,
            )
            events = [
                NewEvent(
                    "referral.received",
                    acting_user,
                    received_at,
                    to_state=State.RECEIVED,
                    data={"channel": channel, "source_type": source_type},
                )
            ]
            if assignee is not None:
                events.append(
                    NewEvent(
                        "referral.assigned",
                        acting_user,
                        received_at,
                        data={"assignee": assignee.get_username()},
                    )
                )
            events += _triage(referral, at=received_at)
            referral.save()
            reactions.referral_created(referral, record_events(referral, events))
            _claim_idempotency_key(acting_user, idempotency_key, fingerprint, referral)
    except _KeyTaken as taken:
        return taken.replay(), False
    return referral, True


def _check_submitter(
    acting_user: User | None,
    channel: str,
    referring_practice: Practice | None,
    referring_provider: Provider | None,
    assignee: User | None,
) -> tuple[Practice | None, User | None]:
    """Who may record an inbound referral, and on whose behalf; returns the practice and
    assignee to use."""
    if acting_user is None:
        # The public web form: no account, no say over routing.
        if channel != ReferralChannel.WEB_FORM:
            raise NotAllowed("Only the public web form records referrals without an account.")
        return referring_practice, None
    if not can(acting_user, Capability.SUBMIT_REFERRALS):
        require(acting_user, Capability.CREATE_REFERRALS)
    if can(acting_user, Capability.CREATE_REFERRALS):
        return referring_practice, assignee
    own = acting_user.partner_practice
    if own is None:
        raise NotAllowed("Your portal account belongs to no practice; ask the practice to fix it.")
    if channel != ReferralChannel.PORTAL:
        raise NotAllowed("Portal accounts send referrals through the portal.")
    if referring_practice is not None and referring_practice.pk != own.pk:
        raise NotAllowed("You can send referrals only from your own practice.")
    if referring_provider is not None and referring_provider.practice_id != own.pk:
        raise InvalidInput(
            "That provider is not one of your practice's providers.",
            field="referring_provider_id",
        )
    return own, None


def _triage(referral: Referral, *, at: datetime) -> list[NewEvent]:
    """Route, assess and flag a new inbound referral before it is written; returns each
    step's event for its timeline."""
    routing, result, duplicate = triage.triage_new_referral(referral, now=at)
    events = []
    if "assignee" in routing:
        events.append(
            NewEvent(
                "referral.assigned",
                None,
                at,
                data={"assignee": routing["assignee"], "routed": True},
            )
        )
    events.append(
        NewEvent(
            "referral.triaged",
            None,
            at,
            data={
                "fit": result.fit,
                "missing_documents": result.missing_documents,
                **{k: routing[k] for k in ("department", "department_reason") if k in routing},
            },
        )
    )
    if duplicate is not None:
        events.append(
            NewEvent("referral.duplicate_flagged", None, at, data={"of": duplicate.number})
        )
    return events


def _check_idempotency_key(key: str | None) -> None:
    if key and len(key) > 128:
        raise InvalidInput(
            "Idempotency-Key is longer than 128 characters.", field="Idempotency-Key"
        )


class _KeyTaken(Exception):
    """The idempotency key was already claimed: roll back, then `replay()`."""

    def __init__(self, user: User, key: str, fingerprint: str):
        super().__init__(key)
        self.user, self.key, self.fingerprint = user, key, fingerprint

    def replay(self) -> Referral:
        return _replay(self.user, self.key, self.fingerprint)


def _claim_idempotency_key(
    acting_user: User | None, key: str | None, fingerprint: str, referral: Referral
) -> None:
    """Claim `key` for `referral`, as the last write of the transaction that created it.

    Raises _KeyTaken, which the caller lets roll its transaction back, when an earlier
    request holds the key; a concurrent one holding it makes this wait on the unique key
    until it commits.
    """
    if not key or acting_user is None:
        return
    try:
        IdempotencyKey.objects.create(
            user=acting_user, key=key, fingerprint=fingerprint, referral=referral
        )
    except IntegrityError as error:
        raise _KeyTaken(acting_user, key, fingerprint) from error


def _replay(acting_user: User, key: str, fingerprint: str) -> Referral:
    """The referral an earlier request with this key created, if the request was the same."""
    existing = IdempotencyKey.objects.select_related("referral").get(user=acting_user, key=key)
    if existing.fingerprint != fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was already used for a different request; "
            "use a new key for a new referral.",
            field="Idempotency-Key",
        )
    if existing.referral is None:
        # Bound in the transaction that claimed the key, so only a request that never
        # finished leaves it empty.
        raise Conflict(
            "The first request with this Idempotency-Key did not finish; send it again with "
            "a new key."
        )
    return existing.referral


def create_outbound_referral(
    *,
    acting_user: User,
    patient: Patient | dict,
    receiving_practice: Practice,
    reason: str,
    receiving_provider: Provider | None = None,
    urgency: str = Urgency.ROUTINE,
    icd10_codes: Iterable[str] = (),
    department: Department | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    now: datetime | None = None,
) -> Referral:
    """Draft a referral of one of our patients to an outside practice.

    With an idempotency key, a replay of the same request returns the first draft.
    """
    require(acting_user, Capability.CREATE_REFERRALS)
    now = now or timezone.now()
    choice(urgency, Urgency, "urgency")
    if not reason or not reason.strip():
        raise InvalidInput("reason is required: say why the patient is referred.", field="reason")
    if receiving_practice is None:
        raise InvalidInput("receiving_practice_id is required.", field="receiving_practice_id")
    _check_idempotency_key(idempotency_key)
    if isinstance(patient, dict):
        patient = _unsaved_patient(patient, now=now, org=Organization.current())
    codes = normalize_icd10(icd10_codes)
    try:
        with transaction.atomic():
            if patient.pk is None:
                patient.save()
            referral = Referral.objects.create(
                direction=Direction.OUTBOUND,
                state=State.DRAFT,
                patient=patient,
                source_type=SourceType.PROVIDER,
                channel=ReferralChannel.API,
                urgency=urgency,
                reason=reason.strip(),
                icd10_codes=codes,
                department=department,
                receiving_practice=receiving_practice,
                receiving_provider=receiving_provider,
                received_at=now,
                state_changed_at=now,
                created_by=acting_user,
            )
            record_event(
                referral, "referral.drafted", actor=acting_user, at=now, to_state=State.DRAFT
            )
            _claim_idempotency_key(acting_user, idempotency_key, fingerprint, referral)
    except _KeyTaken as taken:
        return taken.replay()
    return referral


@transaction.atomic
def merge_duplicate(
    duplicate: Referral | int,
    *,
    into: Referral | int,
    acting_user: User,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    """Fold a duplicate into the referral kept; returns the kept one.

    The duplicate is cancelled as a duplicate (if still open) and points at the kept
    referral; neither timeline loses anything, and the kept referral's page shows both.
    """
    now = now or timezone.now()
    dup_pk = duplicate.pk if isinstance(duplicate, Referral) else duplicate
    kept_pk = into.pk if isinstance(into, Referral) else into
    if dup_pk == kept_pk:
        raise InvalidInput("A referral cannot be merged into itself.", field="into")
    # Both rows locked, lower id first, so two merges of the same pair cannot deadlock.
    locked = {
        pk: lock(pk, acting_user=acting_user, capability=Capability.WORK_REFERRALS)
        for pk in sorted((dup_pk, kept_pk))
    }
    dup, kept = locked[dup_pk], locked[kept_pk]
    check_version(dup, expected_version)
    if dup.direction != Direction.INBOUND or kept.direction != Direction.INBOUND:
        raise InvalidInput("Only inbound referrals are merged.", field="into")
    if dup.merged_into_id is not None:
        raise Conflict(f"{dup.number} was already merged into another referral.")
    if kept.merged_into_id is not None:
        raise InvalidInput(
            f"{kept.number} was itself merged away; merge into the referral it went to.",
            field="into",
        )
    if lifecycle.is_open(dup.direction, dup.state):
        dup = transitions.cancel_referral(
            dup,
            acting_user=acting_user,
            reason=CancelReason.DUPLICATE,
            reason_detail=f"Merged into {kept.number}",
            now=now,
        )
    dup.merged_into = kept
    save_changes(dup, ["merged_into"])
    record_event(dup, "referral.merged_into", actor=acting_user, at=now, data={"into": kept.number})
    changed = []
    if kept.possible_duplicate_of_id == dup.pk:
        kept.possible_duplicate_of = None
        changed.append("possible_duplicate_of")
    save_changes(kept, changed)
    record_event(kept, "referral.merged", actor=acting_user, at=now, data={"merged": dup.number})
    return kept


def _lock_open(
    referral: Referral | int, *, acting_user: User, expected_version: int | None, refusal: str
) -> Referral:
    """Lock a referral the user works on, at the version they saw, while it is still open;
    a closed one is refused with "This referral is <state>, which is final; <refusal>"."""
    locked = lock(referral, acting_user=acting_user, capability=Capability.WORK_REFERRALS)
    check_version(locked, expected_version)
    if not lifecycle.is_open(locked.direction, locked.state):
        raise Conflict(f"This referral is {locked.state}, which is final; {refusal}")
    return locked


@transaction.atomic
def assign_referral(
    referral: Referral | int,
    *,
    acting_user: User,
    assignee: User | None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Referral:
    now = now or timezone.now()
    referral = _lock_open(
        referral,
        acting_user=acting_user,
        expected_version=expected_version,
        refusal="it cannot be reassigned.",
    )
    referral.assignee = _staff_assignee(assignee)
    save_changes(referral, ["assignee"])
    record_event(
        referral,
        "referral.assigned",
        actor=acting_user,
        at=now,
        data={"assignee": assignee.get_username() if assignee else None},
    )
    return referral


@transaction.atomic
def record_contact_attempt(
    referral: Referral | int,
    *,
    acting_user: User,
    channel: str,
    outcome: str,
    note: str = "",
    at: datetime | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ContactAttempt:
    """Record an attempt to reach the patient.

    The first attempt starts "time to first contact". While the referral is being
    worked for an appointment (contacting, no_show), the configured number of
    unsuccessful attempts moves it to unreachable.
    """
    now = now or timezone.now()
    referral = _lock_open(
        referral,
        acting_user=acting_user,
        expected_version=expected_version,
        refusal="no more contact attempts.",
    )
    choice(channel, ContactChannel, "channel")
    choice(outcome, ContactOutcome, "outcome")
    at = aware(at, "at") if at is not None else now
    if at > now:
        raise InvalidInput("at is in the future.", field="at")
    if at < referral.received_at:
        raise InvalidInput("at is before the referral was received.", field="at")

    attempt = ContactAttempt.objects.create(
        referral=referral,
        at=at,
        channel=channel,
        outcome=outcome,
        note=note,
        recorded_by=acting_user,
    )
    changed = []
    if referral.first_contact_at is None or at < referral.first_contact_at:
        referral.first_contact_at = at
        changed.append("first_contact_at")
    save_changes(referral, changed)
    record_event(
        referral,
        "referral.contact_attempted",
        actor=acting_user,
        at=at,
        data={"attempt_id": attempt.pk, "channel": channel, "outcome": outcome},
    )

    maximum = Organization.current().max_contact_attempts
    if (
        referral.state in (State.CONTACTING, State.NO_SHOW)
        and outcome in ContactOutcome.unsuccessful()
        and unsuccessful_attempts(referral) >= maximum
    ):
        transitions.unreachable_after_attempts(
            referral, acting_user=acting_user, attempts=maximum, now=now
        )
    return attempt


@transaction.atomic
def add_note(
    referral: Referral | int,
    *,
    acting_user: User,
    text: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ReferralEvent:
    now = now or timezone.now()
    if not text or not text.strip():
        raise InvalidInput("text is required.", field="text")
    referral = lock(referral, acting_user=acting_user, capability=Capability.ANNOTATE_REFERRALS)
    check_version(referral, expected_version)
    save_changes(referral, [])
    return record_event(
        referral, "referral.note_added", actor=acting_user, at=now, data={"text": text.strip()}
    )


def add_attachment(
    referral: Referral | int,
    *,
    acting_user: User,
    upload: File,
    filename: str,
    kind: str = AttachmentKind.OTHER,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Attachment:
    """Store a document on a referral once it passed the upload check (core.uploads: a
    PDF, TIFF, PNG or JPEG that decodes within the limits, 20 MB at most, and clean to the
    virus scanner if one is configured). A form that ran the check already passes the
    CheckedFile as `upload`; anything else is checked here, before any row is locked.

    Staff who annotate referrals may attach to any they see; portal users to their own
    practice's referrals (the records a referral needs, or that a request asked for).
    The fit assessment is re-read, since a required document may have arrived.
    """
    now = now or timezone.now()
    capability = (
        Capability.ANNOTATE_REFERRALS
        if can(acting_user, Capability.ANNOTATE_REFERRALS)
        else Capability.ANSWER_INFO_REQUESTS
    )
    require(acting_user, capability)
    choice(kind, AttachmentKind, "kind")
    checked = upload if isinstance(upload, uploads.CheckedFile) else uploads.check(upload)
    attachment = None
    try:
        with transaction.atomic():
            locked = lock(referral, acting_user=acting_user, capability=capability)
            check_version(locked, expected_version)
            attachment = Attachment(
                referral=locked,
                original_name=uploads.display_name(filename),
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                scan_status=checked.scan_status,
                scanned_by=checked.scanned_by,
                kind=kind,
                uploaded_by=acting_user,
                uploaded_at=now,
            )
            attachment.file.save("upload", checked, save=False)
            attachment.save()
            reassessed = locked.direction == Direction.INBOUND and triage.refresh_assessment(
                locked, on=triage.practice_day(now)
            )
            save_changes(locked, ["fit", "fit_reasons", "missing_documents"] if reassessed else [])
            record_event(
                locked,
                "referral.document_added",
                actor=acting_user,
                at=now,
                data={
                    "attachment_id": attachment.pk,
                    "kind": kind,
                    "content_type": checked.content_type,
                },
            )
    except BaseException:
        # The row rolled back; the file must not outlive it.
        if attachment is not None and attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
