"""The patient's and the referring office's voice: surveys and their responses (NPS and
satisfaction), review invitations (the same for every respondent), service-recovery cases with
their clocks, advocates (patients who refer) with any nominal thank-you, testimonials under a
signed HIPAA authorization, and referring-office feedback.

Patient rows here are PHI like the patient's own: comments, case summaries, testimonial texts
and signatures are encrypted at rest, and every read and write is audited by the services.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from refloop.core import context
from refloop.core.encryption import (
    EncryptedCharField,
    EncryptedTextField,
    EncryptedValuesJSONField,
)
from refloop.core.models import AppendOnlyModel
from refloop.core.storage import documents_storage

# ---------------------------------------------------------------- limits set by law

# OIG, Special Advisory Bulletin "Offering Gifts and Other Inducements to Beneficiaries"
# (August 2002) and its December 2016 policy statement on nominal value (42 U.S.C.
# 1320a-7a(a)(5), the beneficiary inducements civil monetary penalty): at most $15 an item and
# $75 a patient a year, never cash or a cash equivalent. Not settings: a practice cannot raise
# them.
REWARD_ITEM_LIMIT_CENTS = 1500
REWARD_YEAR_LIMIT_CENTS = 7500


def new_code(prefix: str) -> str:
    """A random, unguessable handle for a public link (a survey, an advocate's card): it names
    no one and reveals nothing about volume."""
    alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(20))


class AdvocacySettings(models.Model):
    """The practice's advocacy settings (a singleton, pk=1).

    There is deliberately no setting that ties the review invitation to a score: 16 CFR 465.7
    (the FTC's rule on consumer reviews) and Google's policy forbid review gating.
    """

    # Post-visit patient survey
    survey_after_seen = models.BooleanField(
        default=True, help_text="Survey the patient after a referral's first visit (seen)"
    )
    survey_after_visits = models.BooleanField(
        default=False, help_text="Also survey after later attended visits in the chosen departments"
    )
    survey_visit_departments = models.ManyToManyField(
        "practice.Department", blank=True, related_name="+"
    )
    survey_interval_days = models.PositiveSmallIntegerField(
        default=90, help_text="At most one survey per patient in this many days"
    )
    low_score = models.PositiveSmallIntegerField(
        default=6, help_text="A likelihood-to-recommend at or below this opens a case"
    )
    # Referring-office feedback
    office_survey_after_loop = models.BooleanField(default=True)
    office_survey_sample_percent = models.PositiveSmallIntegerField(
        default=20, help_text="Share of closed loops whose referring office is asked"
    )
    office_survey_quarterly = models.BooleanField(default=True)
    office_low_score = models.PositiveSmallIntegerField(
        default=2, help_text="An answer at or below this (of 5) raises a task for the liaison"
    )
    # Refer a friend: thank-you rewards, off by default
    rewards_enabled = models.BooleanField(default=False)
    rewards_barred_states = models.JSONField(
        default=list,
        blank=True,
        help_text="States (two letters) whose law bars any reward for a patient referral",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        context.forget("advocacy_settings")

    @classmethod
    def current(cls) -> "AdvocacySettings":
        return context.remembered("advocacy_settings", cls._load)

    @classmethod
    def _load(cls) -> "AdvocacySettings":
        found, _ = cls.objects.get_or_create(pk=1)
        return found


# ---------------------------------------------------------------- surveys


class Audience(models.TextChoices):
    PATIENT = "patient", "Patient"
    OFFICE = "office", "Referring office"


class Question(models.Model):
    """A satisfaction question (1 to 5) the practice edits. The likelihood-to-recommend
    question (0 to 10) is fixed for patients, and the three office questions are fixed by
    design, so their figures compare across years."""

    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.PATIENT)
    key = models.SlugField(max_length=40)
    text = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["audience", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["audience", "key"], name="one_question_per_key")
        ]

    def __str__(self) -> str:
        return self.text


class Trigger(models.TextChoices):
    SEEN = "seen", "After the first visit"
    VISIT = "visit", "After a later visit"
    BY_HAND = "by_hand", "Sent by staff"
    LOOP_CLOSED = "loop_closed", "After the loop was closed"
    QUARTERLY = "quarterly", "Quarterly"


class Survey(models.Model):
    """One invitation to answer: to a patient after a visit, or to a referring office's
    provider or staff contact. It is reached through its own link (`code`), which names no one;
    the dimensions the numbers break down by are kept as they were when it was sent."""

    audience = models.CharField(max_length=10, choices=Audience.choices)
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    code = models.CharField(max_length=40, unique=True)
    # "patient:12", "provider:4", "staff_contact:9": the outbox's recipient key
    recipient = models.CharField(max_length=60, db_index=True)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="surveys",
    )
    appointment = models.ForeignKey(
        "referrals.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referring_practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "practice.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        "practice.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_type = models.CharField(max_length=12, blank=True)
    # Whatever runs twice, one survey per cause: "seen:<referral>", "office:<contact>:2026Q4"
    dedupe_key = models.CharField(max_length=120, unique=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["audience", "created_at"]),
            models.Index(fields=["patient", "created_at"]),
        ]

    def audit_touch(self):
        from refloop.core.audit import Touch

        return Touch("survey", self.pk, patient_id=self.patient_id, referral_id=self.referral_id)


class Response(models.Model):
    """A survey's answers, given once."""

    survey = models.OneToOneField(Survey, on_delete=models.PROTECT, related_name="response")
    # Likelihood to recommend, 0 to 10 (patients; None for an office or when skipped)
    recommend = models.PositiveSmallIntegerField(null=True, blank=True)
    # {question key: 1..5}, for the questions active when the survey was answered
    answers = models.JSONField(default=dict, blank=True)
    comment = EncryptedTextField(blank=True)
    # The comment reads as a complaint (advocacy.complaints), whatever the score
    complaint = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(recommend__isnull=True) | Q(recommend__lte=10),
                name="recommend_is_0_to_10",
            )
        ]


# ---------------------------------------------------------------- review invitations


class ReviewSite(models.Model):
    """A public review page (Google, Healthgrades, ...), for one location or for all."""

    name = models.CharField(max_length=60)
    url = models.URLField(max_length=500)
    location = models.ForeignKey(
        "practice.Location",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_sites",
        help_text="Empty: offered for every location",
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class ReviewInvitation(models.Model):
    """An offer of the review links: on the survey's thank-you page to every respondent, or in a
    message to a patient who did not answer. `code` is the handle its click links carry."""

    class Via(models.TextChoices):
        SURVEY_PAGE = "survey_page", "On the survey's thank-you page"
        MESSAGE = "message", "In a message"

    code = models.CharField(max_length=40, unique=True)
    via = models.CharField(max_length=12, choices=Via.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.PROTECT, related_name="invitations"
    )
    location = models.ForeignKey(
        "practice.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dedupe_key = models.CharField(max_length=120, unique=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()


class ReviewClick(models.Model):
    """One click through the counting redirect to a review site."""

    invitation = models.ForeignKey(
        ReviewInvitation, on_delete=models.CASCADE, related_name="clicks"
    )
    site = models.ForeignKey(ReviewSite, on_delete=models.CASCADE, related_name="clicks")
    at = models.DateTimeField()


# ---------------------------------------------------------------- service recovery


class CaseCategory(models.TextChoices):
    ACCESS = "access", "Access and scheduling"
    WAIT = "wait", "Wait time"
    COMMUNICATION = "communication", "Communication"
    BILLING = "billing", "Billing"
    CLINICAL = "clinical", "Clinical care"
    STAFF = "staff", "Staff"
    FACILITY = "facility", "Facility"
    OTHER = "other", "Other"


class CaseState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class CaseSource(models.TextChoices):
    LOW_SCORE = "low_score", "Low survey score"
    COMMENT = "comment", "Survey comment"
    PHONE = "phone", "Phone call"
    PORTAL = "portal", "Referring office (portal)"
    OFFICE_SURVEY = "office_survey", "Referring-office survey"
    IN_PERSON = "in_person", "In person"


class CaseOutcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved to the person's satisfaction"
    PARTLY = "partly", "Partly resolved"
    NOT_RESOLVED = "not_resolved", "Could not be resolved"
    NO_RESPONSE = "no_response", "The person did not respond"


class Case(models.Model):
    """A service-recovery case: a complaint or an unhappy answer, with an owner and two clocks
    (acknowledge within one business day, resolve within seven days)."""

    number = models.CharField(max_length=12, unique=True)
    source = models.CharField(max_length=14, choices=CaseSource.choices)
    category = models.CharField(max_length=14, choices=CaseCategory.choices)
    state = models.CharField(
        max_length=12, choices=CaseState.choices, default=CaseState.OPEN, db_index=True
    )
    summary = EncryptedTextField()
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    referring_practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    department = models.ForeignKey(
        "practice.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="advocacy_cases",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    acknowledge_by = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolve_by = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=14, choices=CaseOutcome.choices, blank=True)
    action_taken = EncryptedTextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    # An API client's Idempotency-Key and a digest of what it sent: a retry answers this row
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    client_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "acknowledge_by"]),
            models.Index(fields=["state", "resolve_by"]),
            models.Index(fields=["owner", "state"]),
        ]

    def __str__(self) -> str:
        return self.number

    def audit_touch(self):
        from refloop.core.audit import Touch

        return Touch("case", self.pk, patient_id=self.patient_id, referral_id=self.referral_id)


# Free text a person wrote on the timeline (a note on acknowledging, why a case was reopened):
# stored encrypted inside the event's data, as the referral timeline's free text is.
EVENT_FREE_TEXT = ("note", "reason")


class AdvocacyEvent(AppendOnlyModel):
    """The append-only record of what happened in this domain (a survey answered, a case
    acknowledged, an authorization revoked), each with actor and time: a case's timeline, and
    the one cause of the reactions in `advocacy.reactions`."""

    kind = models.CharField(max_length=60, db_index=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    survey = models.ForeignKey(
        Survey, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    advocate = models.ForeignKey(
        "advocacy.Advocate", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    testimonial = models.ForeignKey(
        "advocacy.Testimonial",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    data = EncryptedValuesJSONField(default=dict, blank=True, encrypted_keys=EVENT_FREE_TEXT)

    class Meta:
        ordering = ["at", "pk"]


# ---------------------------------------------------------------- refer a friend


class Advocate(models.Model):
    """A patient who agreed to refer friends: their personal link and card carry `code`."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="advocate"
    )
    code = models.CharField(max_length=40, unique=True)
    opted_in_at = models.DateTimeField()
    opted_out_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    @property
    def active(self) -> bool:
        return self.opted_out_at is None


class FriendReferral(models.Model):
    """A referral a friend made through an advocate's link, with the friend's answer to "may we
    thank the person who referred you?" Without that yes, no thank-you names the friend."""

    referral = models.OneToOneField(
        "referrals.Referral", on_delete=models.PROTECT, related_name="friend_referral"
    )
    advocate = models.ForeignKey(Advocate, on_delete=models.PROTECT, related_name="referrals")
    may_name_friend = models.BooleanField(default=False)
    thanked_at = models.DateTimeField(null=True, blank=True)
    thank_message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class RewardItem(models.Model):
    """A thank-you item on the practice's list: never cash or a cash equivalent, each within
    the nominal value (REWARD_ITEM_LIMIT_CENTS)."""

    name = models.CharField(max_length=120)
    value_cents = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(value_cents__gt=0) & Q(value_cents__lte=REWARD_ITEM_LIMIT_CENTS),
                name="reward_item_within_nominal_value",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Reward(models.Model):
    """The ledger: one thank-you item given to an advocate, counted against the yearly limit
    (REWARD_YEAR_LIMIT_CENTS) of the calendar year it was given in."""

    advocate = models.ForeignKey(Advocate, on_delete=models.PROTECT, related_name="rewards")
    item = models.ForeignKey(RewardItem, on_delete=models.PROTECT, related_name="+")
    friend_referral = models.ForeignKey(
        FriendReferral, null=True, blank=True, on_delete=models.PROTECT, related_name="rewards"
    )
    value_cents = models.PositiveIntegerField()
    year = models.PositiveSmallIntegerField()
    given_on = models.DateField()
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    # An API client's Idempotency-Key and a digest of what it sent: a retry answers this row
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    client_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["advocate", "year"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(value_cents__lte=REWARD_ITEM_LIMIT_CENTS),
                name="reward_within_nominal_value",
            )
        ]


# ---------------------------------------------------------------- testimonials


class Authorization(models.Model):
    """A patient's HIPAA authorization (45 CFR 164.508(c)) to use their testimonial in the
    practice's marketing: each required element is kept as the patient saw it, with the exact
    text they signed and its digest."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    # 164.508(c)(1)(i)-(iv): what is disclosed, by whom, to whom, for what purpose
    information = models.TextField()
    disclosed_by = models.CharField(max_length=200)
    disclosed_to = models.TextField()
    purpose = models.TextField()
    # 164.508(c)(1)(v): an expiration date or event
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=200, blank=True)
    # 164.508(c)(2): the statements the patient must be told
    statements = models.TextField(help_text="Revocation, no conditioning, redisclosure")
    # 164.508(c)(1)(vi): signature and date
    signature = EncryptedCharField(max_length=200)
    signer_is_patient = models.BooleanField(default=True)
    representative_authority = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField()
    text = EncryptedTextField(help_text="The whole authorization as signed")
    text_sha256 = models.CharField(max_length=64)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_how = models.CharField(max_length=200, blank=True)
    # The handle of the patient's revoke link (in the copy they are sent): names no one.
    revocation_code = models.CharField(max_length=40, unique=True, null=True, blank=True)
    # When staff recorded that the expiry event happened: until then an authorization that
    # ends with an event (not a date) is unexpired.
    expiry_event_occurred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
                name="authorization_has_an_expiry",
            )
        ]

    def audit_touch(self):
        from refloop.core.audit import Touch

        return Touch("authorization", self.pk, patient_id=self.patient_id)


def testimonial_photo_path(instance: "Testimonial", filename: str) -> str:
    return f"testimonials/{secrets.token_hex(16)}"


class TestimonialState(models.TextChoices):
    SUBMITTED = "submitted", "Waiting for review"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Not used"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Testimonial(models.Model):
    """A patient's words (and perhaps a photo) offered for the practice's marketing. Shown or
    exported only while approved under a valid, unexpired, unrevoked authorization."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    authorization = models.ForeignKey(
        Authorization, null=True, blank=True, on_delete=models.PROTECT, related_name="testimonials"
    )
    # The survey whose link it was offered from: one testimonial per survey link.
    survey = models.OneToOneField(
        Survey, null=True, blank=True, on_delete=models.PROTECT, related_name="testimonial"
    )
    text = EncryptedTextField()
    attribution = models.CharField(
        max_length=80, blank=True, help_text='How it is signed, as the patient chose ("Maria G.")'
    )
    photo = models.FileField(
        upload_to=testimonial_photo_path, max_length=200, storage=documents_storage, blank=True
    )
    photo_type = models.CharField(max_length=40, blank=True)
    state = models.CharField(
        max_length=10, choices=TestimonialState.choices, default=TestimonialState.SUBMITTED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    def audit_touch(self):
        from refloop.core.audit import Touch

        return Touch("testimonial", self.pk, patient_id=self.patient_id)
