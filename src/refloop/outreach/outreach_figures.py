"""Outreach in numbers, for the outreach analytics page and the API: visits per liaison per
week, cadence met, coverage of the top referrers, activities by type and topic, cost.
Counts of the liaisons' work and of practices; no patient data."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum

from refloop.analytics.metrics import Period
from refloop.analytics.scorecards import referring_practices
from refloop.core.models import User
from refloop.network.models import Practice
from refloop.outreach.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    OutreachSettings,
    Relationship,
    Tier,
    Topic,
)
from refloop.outreach.tiers import IN_PERSON, standing
from refloop.web.words import person

TOP_REFERRERS = 20
COVERAGE_DAYS = 90
CADENCE_TIERS = (Tier.A, Tier.B)


@dataclass(frozen=True)
class Span:
    """[start, end) in local dates."""

    start: date
    end: date

    @classmethod
    def last(cls, days: int, on: date) -> "Span":
        return cls(on + timedelta(days=1) - timedelta(days=days), on + timedelta(days=1))

    def weeks(self) -> list[date]:
        """The Monday of every week the span touches."""
        monday = self.start - timedelta(days=self.start.weekday())
        found = []
        while monday < self.end:
            found.append(monday)
            monday += timedelta(days=7)
        return found


def _done(span: Span):
    return Activity.objects.filter(
        status=ActivityStatus.DONE, occurred_on__gte=span.start, occurred_on__lt=span.end
    )


def visits_per_week(span: Span) -> dict:
    """{"weeks": [monday...], "series": {liaison name: [visits per week]}} (in person)."""
    weeks = span.weeks()
    index = {monday: i for i, monday in enumerate(weeks)}
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * len(weeks))
    for liaison_id, day in (
        _done(span).filter(kind__in=IN_PERSON).values_list("liaison_id", "occurred_on")
    ):
        counts[liaison_id][index[day - timedelta(days=day.weekday())]] += 1
    names = _names(counts)
    return {
        "weeks": weeks,
        "series": {
            names[pk]: counts[pk] for pk in sorted(counts, key=lambda pk: names[pk].lower())
        },
    }


def _names(ids) -> dict[int, str]:
    return {u.pk: person(u) for u in User.objects.filter(pk__in=list(ids))}


@dataclass(frozen=True)
class CadenceRow:
    label: str
    practices: int
    met: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.practices, 1) if self.practices else None


def cadence_met(on: date) -> list[CadenceRow]:
    """Of the tier A and B practices, the share visited in person within their cadence
    (as of `on`; never visited is not met): per tier, per liaison (their territories), all."""
    settings = OutreachSettings.current()
    rows = Relationship.objects.filter(
        Q(tier_override__in=CADENCE_TIERS) | Q(tier_override="", computed_tier__in=CADENCE_TIERS)
    ).select_related("territory")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    liaisons = set()
    for relationship in rows:
        due = standing(relationship, on, settings)
        met = relationship.last_visit_on is not None and not due.overdue
        keys = ["All tier A and B", f"Tier {relationship.tier}"]
        liaison = relationship.territory.liaison_id if relationship.territory else None
        keys.append(f"liaison:{liaison}" if liaison else "No liaison (no territory)")
        if liaison:
            liaisons.add(liaison)
        for key in keys:
            totals[key][0] += 1
            totals[key][1] += int(met)
    names = _names(liaisons)
    order = ["All tier A and B", "Tier A", "Tier B"]
    order += sorted((f"liaison:{pk}" for pk in liaisons), key=lambda k: names[int(k[8:])].lower())
    order.append("No liaison (no territory)")
    return [
        CadenceRow(names[int(key[8:])] if key.startswith("liaison:") else key, *totals[key])
        for key in order
        if key in totals or key == "All tier A and B"
    ]


@dataclass(frozen=True)
class CoverageRow:
    practice_id: int
    practice: str
    referrals: int
    last_visit_on: date | None
    covered: bool


def top_referrer_coverage(on: date, *, now: datetime) -> tuple[list[CoverageRow], int]:
    """The top 20 referring practices of the last 365 days (analytics' counts), each with
    whether it was met in person in the last 90 days; and how many were."""
    year = Span.last(365, on)
    volumes = referring_practices(Period(year.start, year.end), now=now)
    names = dict(Practice.objects.filter(pk__in=list(volumes)).values_list("pk", "name"))
    top = sorted(volumes.items(), key=lambda kv: (-kv[1], names.get(kv[0], "").lower()))[
        :TOP_REFERRERS
    ]
    since = on - timedelta(days=COVERAGE_DAYS - 1)
    last = dict(
        Activity.objects.filter(
            practice_id__in=[pk for pk, _ in top],
            kind__in=IN_PERSON,
            status=ActivityStatus.DONE,
            occurred_on__lte=on,
        )
        .values("practice_id")
        .annotate(last=Max("occurred_on"))
        .values_list("practice_id", "last")
    )
    rows = [
        CoverageRow(
            pk, names.get(pk, "?"), n, last.get(pk), bool(last.get(pk) and last[pk] >= since)
        )
        for pk, n in top
    ]
    return rows, sum(r.covered for r in rows)


def activities_by_kind(span: Span) -> list[tuple[str, int, Decimal]]:
    """(kind label, activities, cost) for every kind, in the kinds' order."""
    found = {
        row["kind"]: (row["n"], row["cost"] or Decimal("0"))
        for row in _done(span).values("kind").annotate(n=Count("pk"), cost=Sum("cost"))
    }
    return [(label, *found.get(value, (0, Decimal("0")))) for value, label in ActivityKind.choices]


def activities_by_topic(span: Span) -> list[tuple[str, int]]:
    """(topic, activities about it) for every topic with one, busiest first."""
    rows = (
        Topic.objects.annotate(
            n=Count(
                "activities",
                filter=Q(
                    activities__status=ActivityStatus.DONE,
                    activities__occurred_on__gte=span.start,
                    activities__occurred_on__lt=span.end,
                ),
            )
        )
        .filter(n__gt=0)
        .order_by("-n", "name")
    )
    return [(t.name, t.n) for t in rows]


def cost_by_liaison(span: Span) -> list[tuple[str, int, Decimal]]:
    """(liaison, activities, cost) for each liaison with an activity in the span."""
    rows = list(_done(span).values("liaison_id").annotate(n=Count("pk"), cost=Sum("cost")))
    names = _names(r["liaison_id"] for r in rows)
    return sorted(
        ((names[r["liaison_id"]], r["n"], r["cost"] or Decimal("0")) for r in rows),
        key=lambda row: row[0].lower(),
    )
