"""Patients: the minimum demographics a referral needs. Everything here is PHI."""

import re
import unicodedata

from django.db import models

from refloop.core.encryption import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    blind_index,
)
from refloop.core.validation import validate_phone


def normalized_name(first_name: str, last_name: str) -> str:
    """Lowercase letters only, accents folded: 'José  O'Neil' -> 'jose oneil'."""

    def fold(part: str) -> str:
        ascii_part = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z]", "", ascii_part.lower())

    return f"{fold(first_name)} {fold(last_name)}"


def name_key(first_name: str, last_name: str) -> str:
    """The blind index of a full name, normalized as normalized_name does."""
    return blind_index("patient.name", normalized_name(first_name, last_name))


def last_name_key(last_name: str) -> str:
    return blind_index("patient.last_name", normalized_name("", last_name).strip())


def birth_key(date_of_birth) -> str:
    return blind_index("patient.date_of_birth", date_of_birth.isoformat())


class Sex(models.TextChoices):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Patient(models.Model):
    first_name = EncryptedCharField(max_length=80)
    last_name = EncryptedCharField(max_length=80)
    date_of_birth = EncryptedDateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = EncryptedCharField(max_length=30, blank=True, validators=[validate_phone])
    email = EncryptedEmailField(blank=True)
    address = EncryptedCharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    insurance_payer = models.CharField(max_length=120, blank=True)
    insurance_member_id = EncryptedCharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=40, default="English")
    contact_consent = models.BooleanField(
        default=True, help_text="The patient agreed to be contacted about this referral"
    )
    # Whether the patient agreed that the outcome of their visit (findings, plan) may be
    # shared with the referring provider. None: not asked yet; the report waits.
    outcome_sharing_consent = models.BooleanField(null=True, blank=True)
    outcome_consent_recorded_at = models.DateTimeField(null=True, blank=True)
    # Blind indexes (HMACs under settings.BLIND_INDEX_KEY, never plaintext) for the lookups
    # that need equality on encrypted values: duplicates and lifetime value (name and
    # birth date, docs/design.md), patient matching and the worklist search (last name and
    # birth date).
    name_key = models.CharField(max_length=64, editable=False)
    last_name_key = models.CharField(max_length=64, editable=False)
    birth_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["name_key", "birth_key"], name="patient_identity_idx"),
            models.Index(fields=["last_name_key", "birth_key"], name="patient_last_name_idx"),
        ]

    def __str__(self) -> str:
        # Deliberately not the name: this string ends up in admin logs and error pages.
        return f"Patient #{self.pk}"

    def save(self, *args, **kwargs):
        self.date_of_birth = self._meta.get_field("date_of_birth").to_python(self.date_of_birth)
        self.name_key = name_key(self.first_name, self.last_name)
        self.last_name_key = last_name_key(self.last_name)
        self.birth_key = birth_key(self.date_of_birth)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {
                *kwargs["update_fields"],
                "name_key",
                "last_name_key",
                "birth_key",
            }
        super().save(*args, **kwargs)
