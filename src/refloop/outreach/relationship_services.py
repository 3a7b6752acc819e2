"""Writes of the relationship page: what the liaison learns about the people of a practice
(influence, channel, best time, office days, notes) and a tier set by hand.

Each checks WORK_OUTREACH, writes in one transaction and records the change in the audit
log (old and new values of the fields that are not free text: notes are only said to have
changed, as they may be long).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.network.models import Channel, Practice, Provider, StaffContact
from refloop.outreach.models import ProviderProfile, Relationship, StaffProfile, Tier

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DETAIL_FIELDS = ("preferred_channel", "best_time", "notes")
COMPUTED = "computed"


def _check(values: Mapping[str, Any], *, office_days: bool) -> None:
    if values["influence"] not in (0, 1, 2, 3):
        raise InvalidInput("Influence is 0 (unknown) to 3 (decides).", field="influence")
    if values["preferred_channel"] not in ("", *Channel.values):
        raise InvalidInput("Choose one of the channels offered.", field="preferred_channel")
    if office_days and not set(values["office_days"]) <= set(WEEKDAYS):
        raise InvalidInput("Office days are days of the week.", field="office_days")


def _apply(instance, values: Mapping[str, Any]) -> dict[str, list]:
    changed = {}
    for field, new in values.items():
        old = getattr(instance, field)
        if old != new:
            changed[field] = ["…", "…"] if field == "notes" else [old, new]
            setattr(instance, field, new)
    return changed


def update_provider(
    *,
    acting_user: User,
    provider_id: int,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> list[str]:
    """Save what the liaison knows of a provider; returns the names of what changed."""
    require(acting_user, Capability.WORK_OUTREACH)
    _check(values, office_days=True)
    days = [d for d in WEEKDAYS if d in values["office_days"]]
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider_id)
        profile, _ = ProviderProfile.objects.get_or_create(provider=provider)
        changed = _apply(provider, {f: values[f] for f in DETAIL_FIELDS})
        profile_changed = _apply(profile, {"influence": values["influence"], "office_days": days})
        if changed:
            provider.save(update_fields=list(changed))
        if profile_changed:
            profile.save(update_fields=list(profile_changed))
        changed |= profile_changed
        if changed:
            audit.record(
                "outreach.provider_profile_changed",
                audit.Touch("provider", provider.pk),
                actor=acting_user,
                detail=changed,
                now=now or timezone.now(),
            )
    return list(changed)


def update_staff(
    *,
    acting_user: User,
    staff_id: int,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> list[str]:
    """Save what the liaison knows of a staff contact; returns the names of what changed."""
    require(acting_user, Capability.WORK_OUTREACH)
    _check(values, office_days=False)
    with transaction.atomic():
        staff = StaffContact.objects.select_for_update().get(pk=staff_id)
        profile, _ = StaffProfile.objects.get_or_create(staff=staff)
        changed = _apply(staff, {f: values[f] for f in DETAIL_FIELDS})
        profile_changed = _apply(profile, {"influence": values["influence"]})
        if changed:
            staff.save(update_fields=list(changed))
        if profile_changed:
            profile.save(update_fields=list(profile_changed))
        changed |= profile_changed
        if changed:
            audit.record(
                "outreach.staff_profile_changed",
                audit.Touch("staffcontact", staff.pk),
                actor=acting_user,
                detail=changed,
                now=now or timezone.now(),
            )
    return list(changed)


def set_tier(
    *, acting_user: User, practice: Practice, tier: str, now: datetime | None = None
) -> bool:
    """Set the practice's tier by hand (A, B, C or prospect), or back to the computed one
    (`computed`); False if it was already so."""
    require(acting_user, Capability.WORK_OUTREACH)
    if tier != COMPUTED and tier not in Tier.values:
        raise InvalidInput("Choose A, B, C, prospect or the computed tier.", field="tier")
    wanted = "" if tier == COMPUTED else tier
    with transaction.atomic():
        relationship, _ = Relationship.objects.select_for_update().get_or_create(practice=practice)
        if relationship.tier_override == wanted:
            return False
        detail = {"tier_override": [relationship.tier_override, wanted]}
        relationship.tier_override = wanted
        relationship.save(update_fields=["tier_override"])
        audit.record(
            "outreach.tier_set",
            audit.Touch("practice", practice.pk),
            actor=acting_user,
            detail=detail,
            now=now or timezone.now(),
        )
    return True
