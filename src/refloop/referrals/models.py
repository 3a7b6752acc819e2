"""Referrals (inbound and outbound), their timeline, contact attempts, appointments, documents."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from refloop.core.encryption import EncryptedTextField, EncryptedValuesJSONField
from refloop.core.models import AppendOnlyModel
from refloop.core.storage import documents_storage
from refloop.core.uploads import ScanStatus


class Direction(models.TextChoices):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class SourceType(models.TextChoices):
    PROVIDER = "provider"
    PATIENT = "patient"
    SELF = "self"
    MARKETING = "marketing"
    OTHER = "other"


class ReferralChannel(models.TextChoices):
    PORTAL = "portal"
    WEB_FORM = "web_form"
    PHONE = "phone"
    WALK_IN = "walk_in", "Walk-in"  # the patient came to the front desk with the referral
    FAX = "fax"
    EMAIL = "email"
    HL7 = "hl7"
    FHIR = "fhir"
    API = "api"
    IMPORT = "import"


class Urgency(models.TextChoices):
    ROUTINE = "routine"
    URGENT = "urgent"
    STAT = "stat"


class State(models.TextChoices):
    # inbound
    RECEIVED = "received"
    IN_REVIEW = "in_review"
    PENDING_INFO = "pending_info"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONTACTING = "contacting"
    SCHEDULED = "scheduled"
    NO_SHOW = "no_show"
    SEEN = "seen"
    LOOP_CLOSED = "loop_closed"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"
    # outbound only
    DRAFT = "draft"
    SENT = "sent"
    COMPLETED = "completed"


# The open inbound states in lifecycle.INBOUND's order (a test holds the two together).
# The worklist's partial indexes cover exactly these rows, and the database uses them
# only when a query names the same states.
OPEN_INBOUND_STATES = (
    State.RECEIVED,
    State.IN_REVIEW,
    State.PENDING_INFO,
    State.ACCEPTED,
    State.CONTACTING,
    State.SCHEDULED,
    State.NO_SHOW,
    State.SEEN,
)
_OPEN_INBOUND = models.Q(direction="inbound", state__in=[s.value for s in OPEN_INBOUND_STATES])


class Fit(models.TextChoices):
    """Triage's assessment of a referral against its department's intake criteria."""

    FIT = "fit", "Fit"
    NEEDS_REVIEW = "needs_review", "Needs review"
    NOT_FIT = "not_fit", "Not a fit"


class DeclineReason(models.TextChoices):
    NOT_CLINICALLY_INDICATED = "not_clinically_indicated"
    OUTSIDE_SCOPE = "outside_scope"
    INSURANCE_NOT_ACCEPTED = "insurance_not_accepted"
    NO_CAPACITY = "no_capacity"
    INCOMPLETE_INFORMATION = "incomplete_information"
    DUPLICATE = "duplicate"
    OTHER = "other"


class CancelReason(models.TextChoices):
    PATIENT_REQUEST = "patient_request"
    REFERRER_REQUEST = "referrer_request"
    CARE_ELSEWHERE = "care_elsewhere"
    DUPLICATE = "duplicate"
    ENTERED_IN_ERROR = "entered_in_error"
    OTHER = "other"


class UnreachableReason(models.TextChoices):
    MAX_ATTEMPTS_REACHED = "max_attempts_reached"
    INVALID_CONTACT_DETAILS = "invalid_contact_details"
    OTHER = "other"


def new_referral_number() -> str:
    # Random rather than sequential: numbers appear in letters and faxes and
    # should not reveal volume or invite guessing.
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    body = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"R-{body[:4]}-{body[4:]}"


class Referral(models.Model):
    number = models.CharField(max_length=12, unique=True, default=new_referral_number)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    state = models.CharField(max_length=20, choices=State.choices, db_index=True)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="referrals"
    )
    source_type = models.CharField(max_length=12, choices=SourceType.choices)
    source_other = models.CharField(
        max_length=200, blank=True, help_text="Required when the source type is 'other'"
    )
    referring_practice = models.ForeignKey(
        "network.Practice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sent_referrals",
    )
    referring_provider = models.ForeignKey(
        "network.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sent_referrals",
    )
    advocate_patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advocated_referrals",
        help_text="The patient who recommended us",
    )
    campaign = models.CharField(max_length=120, blank=True)
    channel = models.CharField(max_length=10, choices=ReferralChannel.choices)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    # Most urgent first when sorted ascending; stored and indexed so the worklist can
    # page "stat first" by walking an index instead of sorting every open referral.
    urgency_rank = models.GeneratedField(
        expression=models.Case(
            models.When(urgency="stat", then=models.Value(0)),
            models.When(urgency="urgent", then=models.Value(1)),
            default=models.Value(2),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    reason = EncryptedTextField()
    icd10_codes = models.JSONField(default=list, blank=True)
    department = models.ForeignKey(
        "practice.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    assignee = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_referrals",
    )

    # triage (referrals/triage.py): set at creation, refreshed when documents arrive
    fit = models.CharField(max_length=12, choices=Fit.choices, blank=True)
    fit_reasons = models.JSONField(default=list, blank=True)
    missing_documents = models.JSONField(
        default=list, blank=True, help_text="Attachment kinds the department requires and lacks"
    )
    # Same patient from the same source within 30 days: flagged, merged by a person.
    possible_duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_referrals"
    )

    # outbound: where we send the patient, and whether that was in network when sent
    receiving_practice = models.ForeignKey(
        "network.Practice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_referrals",
    )
    receiving_provider = models.ForeignKey(
        "network.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="received_referrals",
    )
    receiving_in_network = models.BooleanField(null=True, blank=True)

    # the clock
    received_at = models.DateTimeField(db_index=True)
    state_changed_at = models.DateTimeField()
    first_contact_due_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    outreach_started_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_scheduled_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="Reached a terminal state (loop closed, completed, lost)"
    )

    # why it ended or paused
    missing_info = EncryptedTextField(blank=True)
    end_reason = models.CharField(max_length=40, blank=True)
    end_reason_detail = EncryptedTextField(blank=True)
    suggested_alternative = EncryptedTextField(blank=True)
    report_summary = EncryptedTextField(blank=True)

    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["direction", "state", "received_at"]),
            models.Index(fields=["department", "state"]),
            models.Index(fields=["assignee", "state"]),
            models.Index(
                fields=["direction", "urgency_rank", "received_at"], name="referral_urgency_idx"
            ),
            # The worklist's open referrals, oldest first, mine or everyone's: read in
            # order from an index holding only open rows. Without them the database walks
            # received_at from the oldest referral, past every closed one.
            models.Index(
                fields=["assignee", "received_at"],
                condition=_OPEN_INBOUND,
                name="referral_open_mine_idx",
            ),
            models.Index(fields=["received_at"], condition=_OPEN_INBOUND, name="referral_open_idx"),
            # SQLite never uses a partial index for a query with bound parameters; this
            # one lets it count and page "My referrals" from the index alone.
            models.Index(
                fields=["assignee", "direction", "state", "received_at"],
                name="referral_mine_idx",
            ),
            models.Index(fields=["referring_practice", "received_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source_type="other") | ~Q(source_other=""),
                name="referral_other_source_specified",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.source_type == SourceType.OTHER and not self.source_other.strip():
            raise ValidationError({"source_other": "Say what the 'other' source is."})


# Timeline data written by people (a note, a reason's details) or quoting the referral's
# clinical text (why triage chose a department): encrypted inside the JSON.
EVENT_FREE_TEXT = (
    "text",
    "note",
    "missing_info",
    "reason_detail",
    "suggested_alternative",
    "department_reason",
)


class ReferralEvent(AppendOnlyModel):
    """The referral's timeline: transitions, contacts, notes, documents, messages."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=60, db_index=True)  # dotted: referral.accepted
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField()
    data = EncryptedValuesJSONField(default=dict, blank=True, encrypted_keys=EVENT_FREE_TEXT)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["referral", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class ContactChannel(models.TextChoices):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    PORTAL = "portal"
    IN_PERSON = "in_person"


class ContactOutcome(models.TextChoices):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_VOICEMAIL = "left_voicemail"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    MESSAGE_SENT = "message_sent"
    PATIENT_DECLINED = "patient_declined"

    @classmethod
    def unsuccessful(cls) -> set[str]:
        return {cls.NO_ANSWER, cls.LEFT_VOICEMAIL, cls.BUSY, cls.WRONG_NUMBER, cls.MESSAGE_SENT}


class ContactAttempt(models.Model):
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="contact_attempts"
    )
    at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=20, choices=ContactOutcome.choices)
    note = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey("core.User", null=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["at", "pk"]


class AppointmentOutcome(models.TextChoices):
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


class Appointment(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField(db_index=True)
    department = models.ForeignKey(
        "practice.Department", null=True, blank=True, on_delete=models.PROTECT
    )
    location = models.ForeignKey(
        "practice.Location", null=True, blank=True, on_delete=models.PROTECT
    )
    clinician = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    outcome = models.CharField(
        max_length=12,
        choices=AppointmentOutcome.choices,
        blank=True,
        help_text="Empty while the appointment is still ahead",
    )
    visit_value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "pk"]


class ProgressReport(models.Model):
    """What the clinician found and plans, written after the visit for the referring provider."""

    referral = models.OneToOneField(
        Referral, on_delete=models.PROTECT, related_name="progress_report"
    )
    findings = EncryptedTextField()
    plan = EncryptedTextField()
    medications = EncryptedTextField(blank=True)
    follow_up = EncryptedTextField(
        blank=True, help_text="Recommendations for the referring provider"
    )
    entered_by = models.ForeignKey("core.User", on_delete=models.PROTECT)
    entered_at = models.DateTimeField()


class AttachmentKind(models.TextChoices):
    REFERRAL_LETTER = "referral_letter"
    RECORDS = "records"
    IMAGING = "imaging"
    INSURANCE = "insurance"
    CONSULT_REPORT = "consult_report"
    OTHER = "other"


def kind_label(kind: str) -> str:
    """An attachment kind in words ('referral_letter' -> 'Referral letter'); unknown kinds
    (a department may list one the product does not know yet) as they are."""
    if kind not in AttachmentKind.values:
        return kind
    return kind.replace("_", " ").capitalize()


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name never carries the uploaded name (which often holds the patient's).
    return f"attachments/{instance.uploaded_at:%Y/%m}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200, storage=documents_storage)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(
        max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.OTHER
    )
    uploaded_by = models.ForeignKey("core.User", null=True, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField()
    scan_status = models.CharField(
        max_length=12, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED
    )
    scanned_by = models.CharField(
        max_length=200, blank=True, help_text="The virus scanner's version line, when scanned"
    )


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for referral creation; a replay returns the same referral."""

    user = models.ForeignKey("core.User", on_delete=models.CASCADE)
    key = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body")
    referral = models.ForeignKey(Referral, null=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]
