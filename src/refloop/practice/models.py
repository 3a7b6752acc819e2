"""This practice: its organization settings, locations and departments (service lines)."""

from datetime import timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db import models

from refloop.core import context

LOGO_TYPES = frozenset({"image/png", "image/jpeg"})


def validate_logo(upload) -> None:
    """A PNG or JPEG under 512 KB that passes the upload check (core.uploads)."""
    from refloop.core import uploads
    from refloop.core.errors import DomainError

    if upload.size > 512 * 1024:
        raise ValidationError("The logo must be smaller than 512 KB.")
    try:
        uploads.check(upload, accepted=LOGO_TYPES)
    except DomainError as refusal:
        raise ValidationError(f"The logo was refused. {refusal.message}") from None


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. America/Chicago).")


class Organization(models.Model):
    """The one practice this installation serves (a singleton, pk=1)."""

    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64,
        default="America/New_York",
        validators=[validate_time_zone],
        help_text="Used for every displayed time and every period boundary.",
    )
    phone = models.CharField(max_length=30, blank=True)
    fax = models.CharField(max_length=30, blank=True)
    logo = models.FileField(
        upload_to="branding/",
        blank=True,
        validators=[validate_logo],
        help_text="PNG or JPEG, shown in the workspace header.",
    )
    # First-contact SLA per urgency, in hours after the referral is received.
    sla_stat_hours = models.PositiveIntegerField(default=4)
    sla_urgent_hours = models.PositiveIntegerField(default=24)
    sla_routine_hours = models.PositiveIntegerField(default=48)
    # The consult report's target, in hours after the patient was seen (the loop closure).
    report_within_hours = models.PositiveIntegerField(default=168)
    # Unsuccessful patient contact attempts before a referral becomes unreachable.
    max_contact_attempts = models.PositiveIntegerField(default=3)
    # Roles that must sign in with a second factor, besides admins, who always must.
    mfa_required_roles = models.JSONField(
        default=list,
        blank=True,
        help_text="Roles that must sign in with a second factor (admins always must).",
    )

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        context.forget("organization")

    @classmethod
    def current(cls) -> "Organization":
        return context.remembered("organization", cls._load)

    @classmethod
    def _load(cls) -> "Organization":
        try:  # get(), not first(): compiling first()'s ORDER BY was a third of the read
            return cls.objects.get(pk=1)
        except cls.DoesNotExist:
            return cls.objects.get_or_create(pk=1, defaults={"name": "Our practice"})[0]

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def first_contact_sla(self, urgency: str) -> timedelta:
        hours = {
            "stat": self.sla_stat_hours,
            "urgent": self.sla_urgent_hours,
            "routine": self.sla_routine_hours,
        }[urgency]
        return timedelta(hours=hours)

    @property
    def report_within(self) -> timedelta:
        return timedelta(hours=self.report_within_hours)


class Location(models.Model):
    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    fax = models.CharField(max_length=30, blank=True)

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A service line: what it accepts, and who answers for it."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=30, unique=True)
    locations = models.ManyToManyField(Location, blank=True, related_name="departments")
    accepted_specialties = models.JSONField(
        default=list, blank=True, help_text="Specialties it treats, e.g. ['Spine surgery']"
    )
    accepted_conditions = models.JSONField(
        default=list, blank=True, help_text="ICD-10 prefixes it accepts, e.g. ['M54', 'M51']"
    )
    accepted_insurances = models.JSONField(
        default=list, blank=True, help_text="Payer names it accepts; empty means all"
    )
    # Intake criteria (triage): who is not a fit, and what a referral must include.
    description = models.TextField(
        blank=True, help_text="What it treats, in words for referring practices and patients"
    )
    accepted_keywords = models.JSONField(
        default=list,
        blank=True,
        help_text="Words in a referral's reason that point here, e.g. ['sciatica', 'back pain']",
    )
    excluded_conditions = models.JSONField(
        default=list, blank=True, help_text="ICD-10 prefixes it does not take, e.g. ['M54.5']"
    )
    excluded_keywords = models.JSONField(
        default=list,
        blank=True,
        help_text="Words in a reason that mean not a fit here, e.g. ['pregnant']",
    )
    min_age = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Years, inclusive")
    max_age = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Years, inclusive")
    required_documents = models.JSONField(
        default=list,
        blank=True,
        help_text="Attachment kinds a referral must include, e.g. ['referral_letter', 'imaging']",
    )
    # Round-robin routing: the coordinator who received this department's last referral.
    last_routed_to = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    point_of_contact = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Receives SLA escalations and unassigned-referral alerts",
    )

    def __str__(self) -> str:
        return self.name

    def accepts_condition(self, icd10_code: str) -> bool:
        return _matching_prefix(icd10_code, self.accepted_conditions) is not None

    def excludes_condition(self, icd10_code: str) -> str | None:
        """The excluded prefix `icd10_code` falls under, if any."""
        return _matching_prefix(icd10_code, self.excluded_conditions)


def _matching_prefix(icd10_code: str, prefixes: list[str]) -> str | None:
    code = icd10_code.replace(".", "").upper()
    for prefix in prefixes:
        if code.startswith(prefix.replace(".", "").upper()):
            return prefix
    return None
