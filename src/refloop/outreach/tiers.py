"""Tiers, visit cadence and the due list.

A practice's tier follows from what it sends us and what it could send:

- **A**: 24 or more referrals in the last 12 months (two a month), or one of the top tenth
  of referring practices by that count;
- **B**: 6 to 23, or fewer but with 3 or more providers of a relevant specialty (the
  potential to send more);
- **C**: 1 to 5, or any referral before the last 12 months;
- **prospect**: never referred, with a provider of a relevant specialty. Relevant means a
  specialty (NPPES taxonomy) of a provider who has referred to us; while nobody has, every
  directory practice is a prospect.

A tier set by hand wins. The cadence per tier (settings; 30/60/90 days) and the last in-person
contact give the date a visit is due; "overdue" is past it, "due" is within a week of it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from refloop.network.models import Practice, Provider
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    OutreachSettings,
    Relationship,
    Tier,
)
from refloop.practice.models import Organization
from refloop.referrals.models import Direction, Referral

A_PER_YEAR = 24
B_PER_YEAR = 6
TOP_SHARE = 0.10
POTENTIAL_PROVIDERS = 3
DUE_SOON_DAYS = 7
# What resets the cadence: meeting the office in person.
IN_PERSON = (ActivityKind.VISIT, ActivityKind.DROP_OFF, ActivityKind.LUNCH_AND_LEARN)


def _counts(since: datetime) -> tuple[dict[int, int], set[int]]:
    """(referrals per practice since `since`, practices that ever referred)."""
    inbound = Referral.objects.filter(
        direction=Direction.INBOUND, referring_practice__isnull=False, merged_into__isnull=True
    )
    rows = inbound.values("referring_practice").annotate(
        recent=Count("pk", filter=Q(received_at__gte=since)), ever=Count("pk")
    )
    recent = {r["referring_practice"]: r["recent"] for r in rows}
    return recent, set(recent)


def _relevant_taxonomies() -> set[str]:
    codes = Referral.objects.filter(
        direction=Direction.INBOUND, referring_provider__isnull=False
    ).values_list("referring_provider__taxonomy_code", flat=True)
    return {code for code in codes.distinct() if code}


def tier_for(recent: int, ever: bool, relevant_providers: int, a_threshold: int) -> tuple[str, str]:
    """(tier, why) for one practice; `a_threshold` is the count that puts a practice in the
    top tenth (never below B's)."""
    said = f"{recent} referral{'s' if recent != 1 else ''} in the last 12 months"
    if recent >= A_PER_YEAR or (recent >= B_PER_YEAR and recent >= a_threshold):
        return Tier.A, said
    if recent >= B_PER_YEAR:
        return Tier.B, said
    if ever and relevant_providers >= POTENTIAL_PROVIDERS:
        return Tier.B, f"{said}; {relevant_providers} providers in specialties that refer to us"
    if ever:
        return Tier.C, said if recent else "No referral in the last 12 months; some before"
    if relevant_providers:
        return Tier.PROSPECT, (
            f"Never referred; {relevant_providers} provider"
            f"{'s' if relevant_providers != 1 else ''} in specialties that refer to us"
        )
    return Tier.C, "Never referred; no provider in a specialty that refers to us"


def refresh_tiers(now: datetime | None = None) -> int:
    """Compute every practice's tier (a relationship row is made for each practice that has
    none). Returns how many practices' tier or reason changed."""
    now = now or timezone.now()
    recent, ever = _counts(now - timedelta(days=365))
    taxonomies = _relevant_taxonomies()
    relevant = Provider.objects.filter(practice__isnull=False)
    if taxonomies:
        relevant = relevant.filter(taxonomy_code__in=taxonomies)
    providers = dict(
        relevant.values("practice").annotate(n=Count("pk")).values_list("practice", "n")
    )
    ranked = sorted((n for n in recent.values() if n), reverse=True)
    top = ranked[max(0, int(len(ranked) * TOP_SHARE) - 1)] if ranked else A_PER_YEAR
    a_threshold = max(top, B_PER_YEAR)

    existing = set(Relationship.objects.values_list("practice_id", flat=True))
    Relationship.objects.bulk_create(
        [
            Relationship(practice_id=pk)
            for pk in Practice.objects.values_list("pk", flat=True)
            if pk not in existing
        ],
        ignore_conflicts=True,
    )
    changed = []
    for relationship in Relationship.objects.only(
        "pk", "practice_id", "computed_tier", "tier_reason", "computed_at"
    ):
        tier, why = tier_for(
            recent.get(relationship.practice_id, 0),
            relationship.practice_id in ever,
            providers.get(relationship.practice_id, 0),
            a_threshold,
        )
        if (tier, why) != (relationship.computed_tier, relationship.tier_reason):
            relationship.computed_tier, relationship.tier_reason = tier, why
            relationship.computed_at = now
            changed.append(relationship)
    Relationship.objects.bulk_update(
        changed, ["computed_tier", "tier_reason", "computed_at"], batch_size=500
    )
    return len(changed)


def relationship_of(practice: Practice) -> Relationship:
    found, _ = Relationship.objects.get_or_create(practice=practice)
    return found


def note_contact(practice_id: int) -> None:
    """Keep the practice's last in-person contact after an activity is logged or changed."""
    last = Activity.objects.filter(
        practice_id=practice_id, kind__in=IN_PERSON, status=ActivityStatus.DONE
    ).aggregate(last=Max("occurred_on"))["last"]
    Relationship.objects.update_or_create(practice_id=practice_id, defaults={"last_visit_on": last})


@dataclass(frozen=True)
class Due:
    """Where a practice stands against its cadence."""

    relationship: Relationship
    on: date  # the day it is judged on
    cadence_days: int
    due_on: date  # the day a visit falls due (today when never visited)
    overdue_days: int  # > 0 when past due

    @property
    def practice(self) -> Practice:
        return self.relationship.practice

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    @property
    def reason(self) -> str:
        tier = self.relationship.tier
        label = "Prospect" if tier == Tier.PROSPECT else f"Tier {tier}"
        every = f"{label}: a visit every {self.cadence_days} days"
        last = self.relationship.last_visit_on
        if last is None:
            return f"{every}; never visited"
        ago = (self.on - last).days
        if self.overdue:
            return f"{every}; last visit {ago} days ago, {self.overdue_days} days overdue"
        return f"{every}; last visit {ago} days ago, due {self.due_on:%-d %b}"


def standing(relationship: Relationship, today: date, settings: OutreachSettings) -> Due:
    cadence = settings.cadence(relationship.tier)
    last = relationship.last_visit_on
    due_on = today if last is None else last + timedelta(days=cadence)
    return Due(relationship, today, cadence, due_on, max(0, (today - due_on).days))


def today() -> date:
    return timezone.localdate(timezone.now(), Organization.current().zone)


def of_tier(*chosen: str) -> Q:
    """Relationships whose tier (the hand-set one, else the computed one) is one of `chosen`."""
    return Q(tier_override__in=chosen) | Q(tier_override="", computed_tier__in=chosen)


def _due_window(tier: str, cadence: int, on: date, horizon: date, after: date | None) -> Q:
    """Relationships of `tier` whose visit falls due after `after` (if given) and by
    `horizon`; never visited counts as due on `on`."""
    window = Q(last_visit_on__lte=horizon - timedelta(days=cadence))
    if after is not None:
        window &= Q(last_visit_on__gt=after - timedelta(days=cadence))
    if after is None or after < on <= horizon:
        window |= Q(last_visit_on__isnull=True)
    return of_tier(tier) & window


def due_visits(
    relationships: QuerySet[Relationship] | None = None,
    *,
    on: date | None = None,
    within_days: int = DUE_SOON_DAYS,
    after: date | None = None,
    tiers: tuple[str, ...] = (Tier.A, Tier.B, Tier.C),
    limit: int | None = None,
) -> list[Due]:
    """Practices due for a visit within `within_days` of `on` (or overdue), most overdue
    first; with `after`, only those falling due after that day. Prospects are left out
    unless asked for: they are a list of their own. The database picks, orders and (with
    `limit`) cuts the list: one query per tier, whatever the number of practices."""
    on = on or today()
    settings = OutreachSettings.current()
    horizon = on + timedelta(days=within_days)
    rows = relationships if relationships is not None else Relationship.objects.all()
    found: list[Due] = []
    for tier in tiers:
        cadence = settings.cadence(tier)
        # Due on (last visit + cadence), so within a tier the order is the last visit's;
        # never visited counts as due today.
        falls_due = Coalesce("last_visit_on", Value(on - timedelta(days=cadence)))
        picked = (
            rows.filter(_due_window(tier, cadence, on, horizon, after))
            .select_related("practice", "territory")
            .order_by(falls_due, "practice__name", "pk")
        )
        found += [standing(r, on, settings) for r in (picked[:limit] if limit else picked)]
    found.sort(key=lambda d: (-d.overdue_days, d.due_on, d.practice.name))
    return found[:limit] if limit else found


def count_due(
    relationships: QuerySet[Relationship],
    *,
    on: date,
    within_days: int = DUE_SOON_DAYS,
    tiers: tuple[str, ...] = (Tier.A, Tier.B, Tier.C),
) -> int:
    """How many practices due_visits() would list, counted by the database."""
    settings = OutreachSettings.current()
    horizon = on + timedelta(days=within_days)
    due = Q(pk__in=[])
    for tier in tiers:
        due |= _due_window(tier, settings.cadence(tier), on, horizon, None)
    return relationships.filter(due).count()
