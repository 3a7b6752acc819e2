"""What every write to a referral shares: the row lock for a user who may change it, the
version check, the save that bumps the version, and the small input checks.

Both services.py (creation, assignment, contact attempts, notes, documents) and
transitions.py (the moves) build on these, so neither needs to import the other's helpers.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import models

from refloop.core.errors import Conflict, InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.core.validation import in_utc, required_text
from refloop.practice.models import Organization
from refloop.referrals.models import ContactOutcome, Referral
from refloop.referrals.selectors import visible_referral


def choice(value: str, choices: type[models.TextChoices], field: str) -> str:
    if value not in choices.values:
        raise InvalidInput(f"{field} must be one of {', '.join(choices.values)}.", field=field)
    return value


def required(value: str | None, field: str, why: str) -> str:
    """The stripped text of a field a write needs, refused as "<field> is required: <why>"."""
    return required_text(value, field, f"{field} is required: {why}")


def aware(value: datetime | None, field: str) -> datetime:
    """Times without a zone are read in the practice's time zone."""
    if value is None:
        raise InvalidInput(f"{field} is required.", field=field)
    # Stored and answered in UTC, whatever zone the caller wrote it in.
    return in_utc(value, Organization.current().zone)


def lock(referral: Referral | int, *, acting_user: User, capability: Capability) -> Referral:
    """The referral, row-locked for this transaction, if `acting_user` may change it."""
    require(acting_user, capability)
    pk = referral.pk if isinstance(referral, Referral) else referral
    return visible_referral(acting_user, pk, locked=True)


def check_version(referral: Referral, expected_version: int | None) -> None:
    if expected_version is not None and referral.version != expected_version:
        raise Conflict(
            "This referral changed since you loaded it (someone else updated it). "
            "Reload it to see the change, then try again."
        )


def save_changes(referral: Referral, fields: Iterable[str]) -> None:
    referral.version += 1
    referral.save(update_fields=[*fields, "version", "updated_at"])


def unsuccessful_attempts(referral: Referral) -> int:
    """Unsuccessful contact attempts in the current round of outreach."""
    attempts = referral.contact_attempts.filter(outcome__in=ContactOutcome.unsuccessful())
    if referral.outreach_started_at is not None:
        attempts = attempts.filter(at__gte=referral.outreach_started_at)
    return attempts.count()
