"""Patients: the minimum demographics a referral needs. Everything here is PHI."""

import re
import unicodedata

from django.db import models

from refloop.core.validation import validate_phone


def normalized_name(first_name: str, last_name: str) -> str:
    """Lowercase letters only, accents folded: 'José  O'Neil' -> 'jose oneil'."""

    def fold(part: str) -> str:
        ascii_part = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z]", "", ascii_part.lower())

    return f"{fold(first_name)} {fold(last_name)}"


class Sex(models.TextChoices):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Patient(models.Model):
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    phone = models.CharField(max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    insurance_payer = models.CharField(max_length=120, blank=True)
    insurance_member_id = models.CharField(max_length=40, blank=True)
    preferred_language = models.CharField(max_length=40, default="English")
    contact_consent = models.BooleanField(
        default=True, help_text="The patient agreed to be contacted about this referral"
    )
    # Whether the patient agreed that the outcome of their visit (findings, plan) may be
    # shared with the referring provider. None: not asked yet; the report waits.
    outcome_sharing_consent = models.BooleanField(null=True, blank=True)
    outcome_consent_recorded_at = models.DateTimeField(null=True, blank=True)
    # Identity key for duplicates and lifetime value (DESIGN.md): normalized name + DOB.
    name_key = models.CharField(max_length=170, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["name_key", "date_of_birth"])]

    def __str__(self) -> str:
        # Deliberately not the name: this string ends up in admin logs and error pages.
        return f"Patient #{self.pk}"

    def save(self, *args, **kwargs):
        self.name_key = normalized_name(self.first_name, self.last_name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        super().save(*args, **kwargs)
