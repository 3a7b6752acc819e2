"""What the public referral form keeps besides the referral: who sent it (people without an
account), the one-time form nonce that makes a double submit record one referral, and the
short-lived per-address counts behind the rate limit."""

import uuid

from django.db import models

from refloop.core import audit


class SubmitterRole(models.TextChoices):
    PATIENT = "patient", "I am the patient"
    CAREGIVER = "caregiver", "I am a family member or caregiver of the patient"
    PROVIDER = "provider", "I am a provider or clinic staff referring a patient"


class HeardAbout(models.TextChoices):
    """ "How did you hear about us", in words for the public; each maps to a source type."""

    PROVIDER = "provider", "A doctor or other health professional"
    PATIENT = "patient", "Another patient, a friend or family"
    SELF = "self", "I found you myself (search, map, your website)"
    MARKETING = "marketing", "An advertisement, article or event"
    OTHER = "other", "Other"


class PublicSubmission(models.Model):
    """One referral sent through the public form, with what only the form knows.

    PHI-adjacent (a caregiver's or provider's name and phone): staff read it through
    `selectors.submission_for_staff`, which audits the read; it is kept out of the admin.
    """

    # The form's one-time nonce (the random part of the signed value the form carried).
    nonce = models.CharField(max_length=64, unique=True)
    # What the confirmation page's signed link names: random, says nothing about anyone.
    reference = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.OneToOneField(
        "referrals.Referral",
        null=True,
        on_delete=models.PROTECT,
        related_name="public_submission",
    )
    submitted_at = models.DateTimeField()
    submitter_role = models.CharField(max_length=12, choices=SubmitterRole.choices)
    submitter_name = models.CharField(max_length=120, blank=True)
    submitter_phone = models.CharField(max_length=30, blank=True)
    submitter_fax = models.CharField(max_length=30, blank=True)
    practice_name = models.CharField(max_length=200, blank=True)
    npi = models.CharField(max_length=10, blank=True)
    matched_provider = models.ForeignKey(
        "network.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The directory's provider with the NPI given, if any",
    )
    referring_doctor = models.CharField(
        max_length=200, blank=True, help_text="The doctor a patient or caregiver named"
    )
    heard_about = models.CharField(max_length=12, choices=HeardAbout.choices)
    heard_other = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"Public submission #{self.pk}"


class SubmissionAttempt(models.Model):
    """One POST to the public form from an address, kept only for the rate-limit window.

    `client_key` is a keyed hash of the address (never the address itself)."""

    client_key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["client_key", "at"])]


def touch(submission: "PublicSubmission", referral) -> audit.Touch:
    """The audit log's handle on a submission (it holds the sender's details)."""
    return audit.Touch(
        "public_submission",
        submission.pk,
        patient_id=referral.patient_id,
        referral_id=referral.pk,
    )
