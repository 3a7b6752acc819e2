"""API schemas of referrals: one input and one output schema per endpoint.

Three views of a referral leave the API, told apart by `access`: "full" for the practice's
staff with clinical access, "referrer" for the referring practice's portal users (what the
portal shows them, no internal work), "summary" (no patient, no clinical data) for liaisons.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from refloop.core.schemas import (
    Amount,
    Icd10Code,
    Id,
    IsoDate,
    IsoDateTime,
    JsonBool,
    NonBlank,
    Offset,
    OptionalEmail,
    OutSchema,
    Phone,
    Version,
)
from refloop.network.schemas import PracticeRefOut
from refloop.patients.models import Sex
from refloop.referrals import referrer, transitions
from refloop.referrals.models import (
    CancelReason,
    ContactChannel,
    ContactOutcome,
    DeclineReason,
    Direction,
    Fit,
    ReferralChannel,
    SourceType,
    State,
    UnreachableReason,
    Urgency,
)


def _allowed_next(referral, context: dict | None) -> list[str]:
    """The states the calling user may move the referral to now: their role's moves."""
    request = (context or {}).get("request")
    return transitions.allowed_states(referral, getattr(request, "auth", None))


# ---- input -------------------------------------------------------------------


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class PatientIn(_In):
    """A new patient; only the fields sent are stored (the rest take their defaults)."""

    first_name: Annotated[NonBlank, Field(max_length=80)]
    last_name: Annotated[NonBlank, Field(max_length=80)]
    date_of_birth: IsoDate = Field(description="YYYY-MM-DD; not in the future")
    sex: Sex = Sex.UNKNOWN
    phone: Phone = ""
    email: OptionalEmail = ""
    address: str = Field("", max_length=200)
    city: str = Field("", max_length=80)
    state: str = Field("", max_length=2, description="Two-letter state code")
    postal_code: str = Field("", max_length=10)
    insurance_payer: str = Field("", max_length=120)
    insurance_member_id: str = Field("", max_length=40)
    preferred_language: Annotated[NonBlank, Field(max_length=40)] = "English"
    # Never assumed: a client says whether the patient agreed, as a form's box starts unticked.
    contact_consent: JsonBool = Field(
        description="Whether the patient agreed to be contacted about this referral (required)"
    )


# Exactly one of the two, which JSON Schema states as two alternatives: a new patient's
# details, or a patient already on record (the service refuses both or neither, 422).
PATIENT_OR_PATIENT_ID: JsonDict = {
    "oneOf": [
        {
            "title": "A new patient",
            "required": ["patient"],
            "properties": {"patient": {"not": {"type": "null"}}, "patient_id": {"type": "null"}},
        },
        {
            "title": "A patient on record",
            "required": ["patient_id"],
            "properties": {"patient_id": {"not": {"type": "null"}}, "patient": {"type": "null"}},
        },
    ]
}


class _NewReferralIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra=PATIENT_OR_PATIENT_ID)

    patient: PatientIn | None = Field(
        None, description="A new patient; give exactly one of patient and patient_id"
    )
    patient_id: Id | None = Field(
        None,
        description=(
            "A patient already on a referral you may see; give exactly one of patient and "
            "patient_id"
        ),
    )
    reason: NonBlank = Field(description="Why the patient is referred")
    urgency: Urgency = Urgency.ROUTINE
    icd10_codes: list[Icd10Code] = Field([], description="ICD-10-CM codes, e.g. M54.16")
    department_id: Id | None = Field(None, description="A department id")


class ReferralIn(_NewReferralIn):
    source_type: SourceType
    source_other: str = Field(
        "", max_length=200, description="Who referred, in words: required when source_type is other"
    )
    referring_provider_id: Id | None = Field(
        None,
        description=(
            "A provider in the directory; a provider referral (source_type provider) names "
            "this or referring_practice_id"
        ),
    )
    referring_practice_id: Id | None = Field(None, description="A practice in the directory")
    channel: ReferralChannel = ReferralChannel.API
    assignee_id: Id | None = Field(
        None, description="An active coordinator, clinician or admin (user id)"
    )
    received_at: IsoDateTime | None = Field(
        None,
        description=(
            "When it reached us, not in the future; without an offset, the practice's local "
            "time. Defaults to now"
        ),
    )


class OutboundReferralIn(_NewReferralIn):
    receiving_practice_id: Id = Field(description="The outside practice (practice id)")
    receiving_provider_id: Id | None = Field(None, description="A provider in the directory")


class ReferralFilterIn(Schema):
    state: list[State] = Field([], description="Repeat to match any of several states")
    urgency: Urgency | None = None
    department: Id | None = Field(None, description="Department id")
    source_type: SourceType | None = None
    referring_practice: Id | None = Field(None, description="Practice id")
    channel: ReferralChannel | None = None
    assignee: Id | None = Field(None, description="User id")
    fit: Fit | None = Field(None, description="Triage's assessment")
    direction: Direction | None = None
    received_from: IsoDate | None = Field(None, description="Inclusive, the practice's local date")
    received_to: IsoDate | None = Field(None, description="Inclusive, the practice's local date")
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class AppointmentIn(_In):
    starts_at: IsoDateTime = Field(description="Without an offset, the practice's local time")
    department_id: Id | None = None
    location_id: Id | None = None
    clinician_id: Id | None = None


class AppointmentBookingIn(AppointmentIn):
    expected_version: Version | None = Field(
        None, description="Refuse (409) if the referral changed"
    )


class TransitionIn(_In):
    """The move to state `to`, with the fields that move reads (the others are ignored).

    Which moves exist, from which states, and what each one needs are listed in the
    operation's description.
    """

    to: State
    expected_version: Version | None = Field(
        None, description="Refuse (409) if the referral changed"
    )
    # Which reasons, and whether text is needed, depend on the move: the service checks
    # them after the move itself (409 before 422), so the schema states only their type.
    reason: str | None = Field(
        None,
        description=(
            "declined: "
            + ", ".join(DeclineReason.values)
            + "; unreachable: "
            + ", ".join(UnreachableReason.values)
            + "; cancelled: "
            + ", ".join(CancelReason.values)
        ),
    )
    reason_detail: str | None = Field(None, description="Required when reason is other")
    suggested_alternative: str | None = Field(None, description="declined")
    missing_info: str | None = Field(None, description="pending_info: what is missing, not blank")
    department_id: Id | None = Field(None, description="accepted")
    appointment: AppointmentIn | None = Field(None, description="scheduled")
    visit_value: Amount | None = Field(None, description="seen: the visit's value, e.g. 180.00")
    report_summary: str | None = Field(
        None, description="loop_closed, completed: the consult report, not blank"
    )
    note: str | None = None


class AssignmentIn(_In):
    assignee_id: Id | None = Field(
        description="An active coordinator, clinician or admin (user id), or null to unassign"
    )
    expected_version: Version | None = None


class ContactAttemptIn(_In):
    channel: ContactChannel
    outcome: ContactOutcome
    note: str = ""
    at: IsoDateTime | None = Field(
        None,
        description=(
            "When it happened: not in the future, not before the referral was received. "
            "Defaults to now"
        ),
    )
    expected_version: Version | None = Field(
        None, description="Refuse (409) if the referral changed"
    )


class NoteIn(_In):
    text: NonBlank
    expected_version: Version | None = Field(
        None, description="Refuse (409) if the referral changed"
    )


# ---- output: references ----------------------------------------------------------


class ProviderRefOut(OutSchema):
    id: int
    npi: str
    first_name: str
    last_name: str
    credentials: str


class DepartmentRefOut(OutSchema):
    id: int
    code: str
    name: str


class LocationRefOut(OutSchema):
    id: int
    name: str


class UserRefOut(OutSchema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(user) -> str:
        return user.get_full_name() or user.username


# ---- output: the parts of a referral ----------------------------------------------


class PatientOut(OutSchema):
    id: int
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    phone: str
    email: str
    address: str
    city: str
    state: str
    postal_code: str
    insurance_payer: str
    insurance_member_id: str
    preferred_language: str
    contact_consent: bool


class PatientBriefOut(OutSchema):
    id: int
    first_name: str
    last_name: str
    date_of_birth: date


class AppointmentOut(OutSchema):
    id: int
    starts_at: datetime
    department: DepartmentRefOut | None
    location: LocationRefOut | None
    clinician: UserRefOut | None
    outcome: str = Field(description="Empty while the appointment is still ahead")
    visit_value: Decimal | None
    created_at: datetime


class ContactAttemptOut(OutSchema):
    id: int
    at: datetime
    channel: str
    outcome: str
    note: str
    recorded_by: str | None

    @staticmethod
    def resolve_recorded_by(attempt) -> str | None:
        return attempt.recorded_by.get_username() if attempt.recorded_by_id else None


class AttachmentOut(OutSchema):
    id: int
    kind: str
    content_type: str
    size: int
    sha256: str
    original_name: str
    uploaded_by: str | None
    uploaded_at: datetime
    scan_status: str = Field(
        description="clean (a ClamAV daemon scanned it) or not_scanned (none was configured)"
    )
    scanned_by: str = Field(description="The virus scanner's version line; empty if not scanned")
    content_url: str

    @staticmethod
    def resolve_uploaded_by(attachment) -> str | None:
        return attachment.uploaded_by.get_username() if attachment.uploaded_by_id else None

    @staticmethod
    def resolve_content_url(attachment) -> str:
        return f"/api/v1/referrals/{attachment.referral_id}/attachments/{attachment.pk}/content"


class EventOut(OutSchema):
    id: int
    kind: str = Field(description="Dotted event name, e.g. referral.accepted")
    from_state: str
    to_state: str
    actor: str
    at: datetime
    data: dict

    @staticmethod
    def resolve_actor(event) -> str:
        return event.actor_label


class NoteOut(OutSchema):
    id: int
    text: str
    author: str
    at: datetime

    @staticmethod
    def resolve_text(event) -> str:
        return event.data.get("text", "")

    @staticmethod
    def resolve_author(event) -> str:
        return event.actor_label


# ---- output: a referral ---------------------------------------------------------


class ReferralSummaryOut(OutSchema):
    """What a role without clinical access may know: no patient, reason, codes or documents."""

    access: Literal["summary"] = "summary"
    id: int
    number: str
    direction: str
    state: str
    version: int
    urgency: str
    source_type: str
    channel: str
    referring_practice: PracticeRefOut | None
    referring_provider: ProviderRefOut | None
    receiving_practice: PracticeRefOut | None
    department: DepartmentRefOut | None
    assignee: UserRefOut | None
    received_at: datetime
    state_changed_at: datetime
    first_contact_due_at: datetime | None
    first_contact_at: datetime | None
    closed_at: datetime | None


class ReferralRowOut(ReferralSummaryOut):
    """A list row for roles with clinical access."""

    access: Literal["full"] = "full"
    patient: PatientBriefOut
    reason: str
    icd10_codes: list[str]


class ReferralCreatedOut(ReferralRowOut):
    """The referral as just recorded; its Location answers the full detail."""

    allowed_next: list[str] = Field(description="States you may move this referral to now")

    @staticmethod
    def resolve_allowed_next(referral, context) -> list[str]:
        return _allowed_next(referral, context)


class ReferralDetailOut(ReferralRowOut):
    """Everything about one referral, for roles with clinical access."""

    patient: PatientOut
    source_other: str
    campaign: str
    receiving_provider: ProviderRefOut | None
    receiving_in_network: bool | None
    allowed_next: list[str] = Field(description="States you may move this referral to now")
    missing_info: str
    end_reason: str
    end_reason_detail: str
    suggested_alternative: str
    report_summary: str
    fit: str = Field(
        description="Triage against the department's criteria: fit, needs_review, not_fit"
    )
    fit_reasons: list[str] = Field(description="One sentence per finding, the deciding ones first")
    missing_documents: list[str] = Field(description="Attachment kinds required and not attached")
    possible_duplicate_of_id: int | None = Field(
        description="An earlier referral for the same patient from the same source (30 days)"
    )
    merged_into_id: int | None = Field(description="Set when merged into another referral")
    sla_breached_at: datetime | None
    outreach_started_at: datetime | None
    accepted_at: datetime | None
    first_scheduled_at: datetime | None
    seen_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime
    appointments: list[AppointmentOut]
    contact_attempts: list[ContactAttemptOut]
    attachments: list[AttachmentOut]
    events: list[EventOut] = Field(description="The timeline, oldest first")

    @staticmethod
    def resolve_allowed_next(referral, context) -> list[str]:
        return _allowed_next(referral, context)


# ---- output: what the referring practice may know (portal users) ---------------------


class StatusOut(Schema):
    label: str = Field(description="The state in plain words, e.g. Appointment booked")
    meaning: str = Field(description="What it means for the referring practice")


class ReferrerPatientOut(OutSchema):
    first_name: str
    last_name: str
    date_of_birth: date


class ReferrerLocationOut(OutSchema):
    name: str
    address: str
    city: str


class ReferrerAppointmentOut(OutSchema):
    starts_at: datetime
    department: DepartmentRefOut | None
    location: ReferrerLocationOut | None
    outcome: str = Field(description="Empty while the appointment is still ahead")


class ReferrerDocumentOut(OutSchema):
    id: int
    kind: str
    content_type: str
    uploaded_at: datetime
    content_url: str

    @staticmethod
    def resolve_content_url(attachment) -> str:
        return f"/api/v1/referrals/{attachment.referral_id}/attachments/{attachment.pk}/content"


class StatusStepOut(Schema):
    state: str
    label: str
    at: datetime


class ReferrerRowOut(OutSchema):
    """A list row for the referring practice: what its portal's list shows."""

    access: Literal["referrer"] = "referrer"
    id: int
    number: str
    state: str
    status: StatusOut
    urgency: str
    department: DepartmentRefOut | None
    patient: ReferrerPatientOut
    received_at: datetime
    state_changed_at: datetime
    appointment_at: datetime | None = Field(description="The appointment booked, once it is")

    @staticmethod
    def resolve_status(referral) -> dict:
        label, meaning = referrer.status_words(referral.state)
        return {"label": label, "meaning": meaning}

    @staticmethod
    def resolve_appointment_at(referral) -> datetime | None:
        appointment = referrer.appointment_shown(referral)
        return appointment.starts_at if appointment is not None else None


class ReferrerReferralOut(ReferrerRowOut):
    """One referral as the referring practice sees it on the portal, and no more: no
    contact attempts, notes, staff names, assignee or internal clocks."""

    referring_provider: ProviderRefOut | None
    reason: str
    icd10_codes: list[str]
    missing_info: str = Field(description="What we need from you, while information is needed")
    end_reason: str = Field(description="Why it was declined or cancelled")
    end_reason_detail: str
    suggested_alternative: str = Field(description="Where to refer instead, when declined")
    report_summary: str = Field(description="The consult report, once the loop is closed")
    appointment: ReferrerAppointmentOut | None
    documents: list[ReferrerDocumentOut]
    history: list[StatusStepOut] = Field(description="The states reached, oldest first")

    @staticmethod
    def resolve_missing_info(referral) -> str:
        return referrer.missing_info(referral)

    @staticmethod
    def resolve_end_reason(referral) -> str:
        return referrer.end_reason(referral)[0]

    @staticmethod
    def resolve_end_reason_detail(referral) -> str:
        return referrer.end_reason(referral)[1]

    @staticmethod
    def resolve_suggested_alternative(referral) -> str:
        return referral.suggested_alternative if referral.state == State.DECLINED else ""

    @staticmethod
    def resolve_report_summary(referral) -> str:
        return referrer.report_summary(referral)

    @staticmethod
    def resolve_appointment(referral) -> dict | None:
        appointment = referrer.appointment_shown(referral)
        if appointment is None:
            return None
        return {
            "starts_at": appointment.starts_at,
            "department": appointment.department or referral.department,
            "location": appointment.location,
            "outcome": appointment.outcome,
        }

    @staticmethod
    def resolve_documents(referral) -> list:
        return referrer.documents(referral)

    @staticmethod
    def resolve_history(referral) -> list[dict]:
        return referrer.status_history(referral)


ReferralOut = Annotated[
    ReferralDetailOut | ReferrerReferralOut | ReferralSummaryOut, Field(discriminator="access")
]
ReferralListItemOut = Annotated[
    ReferralRowOut | ReferrerRowOut | ReferralSummaryOut, Field(discriminator="access")
]


class ReferralPageOut(OutSchema):
    items: list[ReferralListItemOut]
    total: int
    limit: int
    offset: int


class ReferralStateOut(OutSchema):
    """A referral's state after a change."""

    id: int
    number: str
    direction: str
    state: str
    version: int
    allowed_next: list[str]
    assignee: UserRefOut | None
    state_changed_at: datetime

    @staticmethod
    def resolve_allowed_next(referral, context) -> list[str]:
        return _allowed_next(referral, context)


class AppointmentBookedOut(OutSchema):
    referral: ReferralStateOut
    appointment: AppointmentOut
