"""Territories: a liaison's set of referring practices, assigned by city or ZIP code prefix
rules, or one by one. A practice is in at most one territory (Relationship.territory):
rules add only practices in no territory yet; moving one from another territory is a
deliberate, one-by-one act.

Writes check MANAGE_SETTINGS (a territory decides whose visit list a practice is on) and
are recorded in the audit log.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.models import User
from refloop.core.roles import Capability, require
from refloop.network.models import Practice
from refloop.outreach.models import Relationship, Territory

_ZIP_PREFIX = re.compile(r"\d{1,5}")


def clean_cities(values: Iterable[str]) -> list[str]:
    """Cities as typed, trimmed, each once (case-insensitively), in the order given."""
    seen, result = set(), []
    for value in values:
        city = " ".join(value.split())
        if city and city.casefold() not in seen:
            seen.add(city.casefold())
            result.append(city)
    return result


def clean_postal_codes(values: Iterable[str]) -> list[str]:
    """ZIP code prefixes (1 to 5 digits), each once; InvalidInput naming the bad one."""
    result: list[str] = []
    for value in values:
        code = value.strip()
        if not code:
            continue
        if not _ZIP_PREFIX.fullmatch(code):
            raise InvalidInput(
                f"{code!r} is not a ZIP code or its start: write 1 to 5 digits, like 627 or 62701.",
                field="postal_codes",
            )
        if code not in result:
            result.append(code)
    return result


def rule_filter(cities: Iterable[str], postal_codes: Iterable[str]) -> Q | None:
    """Practices in one of the cities (any case) or whose ZIP code starts with a prefix;
    None when there is no rule."""
    found = Q()
    for city in cities:
        found |= Q(city__iexact=city)
    for code in postal_codes:
        found |= Q(postal_code__startswith=code)
    return found or None


def matching(cities: Iterable[str], postal_codes: Iterable[str]) -> QuerySet[Practice]:
    rule = rule_filter(cities, postal_codes)
    return Practice.objects.filter(rule) if rule is not None else Practice.objects.none()


@dataclass(frozen=True)
class Preview:
    """What applying rules to a territory would do."""

    matching: int  # practices the rules match
    added: int  # in no territory: applying adds them
    already: int  # in this territory already
    elsewhere: int  # in another territory: applying leaves them there


def preview(
    cities: Iterable[str], postal_codes: Iterable[str], territory: Territory | None = None
) -> Preview:
    """How many practices the rules match, and of those how many applying would add. One
    query."""
    found = matching(cities, postal_codes)
    this = territory.pk if territory is not None else None
    in_this = Q(relationship__territory_id=this) if this else Q(pk__in=[])
    counts = found.aggregate(
        matching=Count("pk"),
        unassigned=Count(
            "pk", filter=Q(relationship__isnull=True) | Q(relationship__territory__isnull=True)
        ),
        already=Count("pk", filter=in_this),
    )
    return Preview(
        matching=counts["matching"],
        added=counts["unassigned"],
        already=counts["already"],
        elsewhere=counts["matching"] - counts["unassigned"] - counts["already"],
    )


def _record(action: str, territory: Territory, *, actor: User, detail: dict, now) -> None:
    audit.record(
        action, audit.Touch("territory", territory.pk), actor=actor, detail=detail, now=now
    )


def save_territory(
    *,
    acting_user: User,
    name: str,
    liaison: User | None,
    cities: Iterable[str],
    postal_codes: Iterable[str],
    territory_id: int | None = None,
    now: datetime | None = None,
) -> Territory:
    """Create a territory (no id) or change one: its name, liaison and rules. Saving rules
    assigns nothing: apply_rules does, after the preview."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Give the territory a name.", field="name")
    if liaison is not None and not liaison.is_active:
        raise InvalidInput("Choose an active user as the liaison.", field="liaison")
    values = {
        "name": name,
        "liaison": liaison,
        "cities": clean_cities(cities),
        "postal_codes": clean_postal_codes(postal_codes),
    }
    with transaction.atomic():
        taken = Territory.objects.filter(name__iexact=name)
        if territory_id is not None:
            taken = taken.exclude(pk=territory_id)
        if taken.exists():
            raise InvalidInput(f"There is already a territory called {name}.", field="name")
        if territory_id is None:
            territory = Territory.objects.create(**values)
            detail = {k: str(v) if k == "liaison" else v for k, v in values.items()}
            _record(
                "outreach.territory_created", territory, actor=acting_user, detail=detail, now=now
            )
            return territory
        territory = Territory.objects.select_for_update().get(pk=territory_id)
        changed = {}
        for field, new in values.items():
            old = getattr(territory, field)
            if old != new:
                changed[field] = [str(old), str(new)] if field == "liaison" else [old, new]
                setattr(territory, field, new)
        if changed:
            territory.save()
            _record(
                "outreach.territory_changed", territory, actor=acting_user, detail=changed, now=now
            )
    return territory


def _relationships_for(practice_ids: list[int]) -> None:
    """Make sure each practice has its relationship row (tiers may not have run yet)."""
    existing = set(
        Relationship.objects.filter(practice_id__in=practice_ids).values_list(
            "practice_id", flat=True
        )
    )
    Relationship.objects.bulk_create(
        [Relationship(practice_id=pk) for pk in practice_ids if pk not in existing],
        ignore_conflicts=True,
    )


def apply_rules(*, acting_user: User, territory: Territory, now: datetime | None = None) -> int:
    """Add to the territory every practice its rules match that is in no territory yet;
    returns how many were added. Practices in another territory stay there."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    with transaction.atomic():
        territory = Territory.objects.select_for_update().get(pk=territory.pk)
        ids = list(
            matching(territory.cities, territory.postal_codes)
            .filter(Q(relationship__isnull=True) | Q(relationship__territory__isnull=True))
            .values_list("pk", flat=True)
        )
        _relationships_for(ids)
        added = Relationship.objects.filter(practice_id__in=ids, territory__isnull=True).update(
            territory=territory
        )
        _record(
            "outreach.territory_rules_applied",
            territory,
            actor=acting_user,
            detail={
                "added": added,
                "cities": territory.cities,
                "postal_codes": territory.postal_codes,
            },
            now=now,
        )
    return added


def move_practice(
    *,
    acting_user: User,
    practice: Practice,
    territory: Territory | None,
    now: datetime | None = None,
) -> Territory | None:
    """Put the practice in `territory` (None: in none), out of any other; returns the
    territory it was in before."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    now = now or timezone.now()
    with transaction.atomic():
        relationship, _ = Relationship.objects.select_for_update().get_or_create(practice=practice)
        before = relationship.territory
        if relationship.territory_id == (territory.pk if territory else None):
            return before
        relationship.territory = territory
        relationship.save(update_fields=["territory"])
        audit.record(
            "outreach.practice_moved",
            audit.Touch("practice", practice.pk),
            actor=acting_user,
            detail={
                "from": before.name if before else None,
                "to": territory.name if territory else None,
            },
            now=now,
        )
    return before
