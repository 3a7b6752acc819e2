"""The referral partner directory: outside practices, their providers and their staff."""

from django.core.exceptions import ValidationError
from django.db import models

from refloop.core.validation import validate_phone
from refloop.network.npi import npi_problem


def validate_npi(value: str) -> None:
    problem = npi_problem(value)
    if problem:
        raise ValidationError(problem)


class Channel(models.TextChoices):
    FAX = "fax"
    EMAIL = "email"
    PHONE = "phone"
    PORTAL = "portal"
    MAIL = "mail"


class Segment(models.TextChoices):
    LOYAL = "loyal"
    SEMI_LOYAL = "semi_loyal"
    NON_REFERRING = "non_referring"
    NEW = "new"
    RECEIVER = "receiver"  # only receives our outbound referrals, never referred to us


class ContactDetails(models.Model):
    """How and when a partner prefers to be reached."""

    phone = models.CharField(max_length=30, blank=True, validators=[validate_phone])
    fax = models.CharField(max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(blank=True)
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    best_time = models.CharField(max_length=120, blank=True, help_text="e.g. 'after 3 pm'")
    notes = models.TextField(blank=True, help_text="Getting-to-know-you notes")

    class Meta:
        abstract = True


class Practice(ContactDetails):
    name = models.CharField(max_length=200, db_index=True)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True, db_index=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    in_network = models.BooleanField(default=False)
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Provider(ContactDetails):
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="providers"
    )
    npi = models.CharField(max_length=10, unique=True, validators=[validate_npi])
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, db_index=True)
    credentials = models.CharField(max_length=40, blank=True, help_text="MD, DO, NP, PA-C…")
    taxonomy_code = models.CharField(max_length=10, blank=True)
    specialty = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{self.first_name} {self.last_name}{suffix}"


class StaffRole(models.TextChoices):
    REFERRAL_COORDINATOR = "referral_coordinator"
    NURSE = "nurse"
    MEDICAL_ASSISTANT = "medical_assistant"
    FRONT_DESK = "front_desk"
    OFFICE_MANAGER = "office_manager"
    OTHER = "other"


class StaffContact(ContactDetails):
    """Staff at a partner practice: they often decide where a referral goes."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="staff")
    name = models.CharField(max_length=120)
    role = models.CharField(max_length=30, choices=StaffRole.choices)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class NppesLocation(models.Model):
    """A practice location read from the national NPI registry (NPPES), keyed by its
    normalized address, 5-digit ZIP and phone; `values` holds the practice's fields as last
    imported, so a field that differs from them now was edited by staff and is kept."""

    key = models.CharField(max_length=300, unique=True)
    practice = models.OneToOneField(
        Practice, null=True, blank=True, on_delete=models.SET_NULL, related_name="nppes"
    )
    # The organization (entity type 2) at this location with the lowest NPI names it.
    org_npi = models.CharField(max_length=10, blank=True)
    org_name = models.CharField(max_length=200, blank=True)
    values = models.JSONField(default=dict)


class NppesProvider(models.Model):
    """A provider's fields as last imported from NPPES (see NppesLocation.values)."""

    provider = models.OneToOneField(
        Provider, primary_key=True, on_delete=models.CASCADE, related_name="nppes"
    )
    values = models.JSONField(default=dict)
