"""The relationship page of a referring practice: everything "how are we doing with this
office?" needs, read in a fixed number of queries whatever the number of contacts,
activities and referrals.

The referral figures come from analytics (its facts table, by the definitions of
docs/design.md): counts and medians only, never a patient or a referral's detail.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch

from refloop.analytics import metrics, referrers, scorecards
from refloop.analytics.charts import sparkline
from refloop.analytics.metrics import Filters, Period, Scope
from refloop.analytics.stats import percentiles
from refloop.network.models import Practice, Provider, StaffContact
from refloop.outreach import tiers
from refloop.outreach.models import (
    Activity,
    OutreachSettings,
    Relationship,
    Task,
    TaskStatus,
)
from refloop.practice.models import Organization
from refloop.referrals.models import DeclineReason

ACTIVITIES_PER_PAGE = 20
INFLUENCE = {
    0: "Unknown",
    1: "Low",
    2: "Some",
    3: "Decides where referrals go",
}
DAYS = (
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
)
SEGMENT_WORDS = {
    "loyal": "Loyal: referred in 3 or 4 of the last four quarters",
    "semi_loyal": "Semi-loyal: referred in 1 or 2 of the last four quarters",
    "new": "New: first referral within the last 90 days",
    "non_referring": "Not referring: no referral in the last 12 months",
    "receiver": "Receiver: receives our referrals, has never referred to us",
}


@dataclass(frozen=True)
class Contact:
    """A provider or a staff contact of the practice, with what the liaison knows of them."""

    kind: str  # "provider" or "staff"
    person: Provider | StaffContact
    role: str  # credentials and specialty, or the staff role
    influence: int
    office_days: tuple[str, ...]  # providers only

    @property
    def pk(self) -> int:
        return self.person.pk

    @property
    def name(self) -> str:
        if isinstance(self.person, Provider):
            return f"{self.person.first_name} {self.person.last_name}"
        return self.person.name

    @property
    def influence_label(self) -> str:
        return INFLUENCE.get(self.influence, INFLUENCE[0])

    @property
    def office_days_label(self) -> str:
        named = dict(DAYS)
        return ", ".join(named[d] for d, _ in DAYS if d in self.office_days)

    @property
    def channel_label(self) -> str:
        return self.person.get_preferred_channel_display()

    @property
    def dom_id(self) -> str:
        return f"contact-{self.kind}-{self.pk}"


def contact_of_provider(provider: Provider) -> Contact:
    profile = getattr(provider, "profile", None)
    role = ", ".join(p for p in (provider.credentials, provider.specialty) if p)
    return Contact(
        kind="provider",
        person=provider,
        role=role or "Provider",
        influence=profile.influence if profile else 0,
        office_days=tuple(profile.office_days) if profile else (),
    )


def contact_of_staff(staff: StaffContact) -> Contact:
    profile = getattr(staff, "profile", None)
    return Contact(
        kind="staff",
        person=staff,
        role=staff.get_role_display(),
        influence=profile.influence if profile else 0,
        office_days=(),
    )


@dataclass(frozen=True)
class Trend:
    """Referrals per month over twelve months, the segment and the declining flag."""

    months: list[tuple[str, int]]  # ("Jan 2026", 4)
    points: str  # the sparkline's polyline
    segment: str
    drift: dict

    @property
    def total(self) -> int:
        return sum(n for _, n in self.months)

    @property
    def segment_label(self) -> str:
        return SEGMENT_WORDS[self.segment].split(":")[0]

    @property
    def segment_words(self) -> str:
        return SEGMENT_WORDS[self.segment]

    @property
    def words(self) -> str:
        return ", ".join(f"{label}: {n}" for label, n in self.months)


@dataclass(frozen=True)
class Treatment:
    """How this practice's referrals fared with us over twelve months (analytics figures,
    read as the scorecard reads them)."""

    period: Period
    referrals: int
    seen: int
    contacted: int
    median_hours_to_first_contact: float | None
    seen_in_period: int
    closed_within_7_days: int
    declined: int
    decline_reasons: list[tuple[str, int]]

    @property
    def period_label(self) -> str:
        return scorecards.describe(self.period)

    @property
    def first_contact(self) -> str:
        return scorecards.hours(self.median_hours_to_first_contact)

    @property
    def loop_closure(self) -> str:
        return scorecards.share(self.closed_within_7_days, self.seen_in_period)

    @property
    def seen_share(self) -> str:
        return scorecards.share(self.seen, self.referrals)

    @property
    def declined_share(self) -> str:
        return scorecards.share(self.declined, self.referrals)


@dataclass(frozen=True)
class RelationshipPage:
    practice: Practice
    relationship: Relationship
    due: tiers.Due
    contacts: list[Contact]
    tasks: list[Task]
    activities: Page
    trend: Trend
    treatment: Treatment

    @property
    def providers(self) -> list[Contact]:
        return [c for c in self.contacts if c.kind == "provider"]

    @property
    def staff(self) -> list[Contact]:
        return [c for c in self.contacts if c.kind == "staff"]


def relationship_of(practice: Practice) -> Relationship:
    """The practice's relationship row, or an unsaved one (tiers not computed yet) so a
    page read never writes."""
    found = Relationship.objects.select_related("territory__liaison").filter(practice=practice)
    return found.first() or Relationship(
        practice=practice, tier_reason="Not computed yet: tiers are computed every night."
    )


def contacts(practice: Practice) -> list[Contact]:
    providers = practice.providers.select_related("profile").order_by("last_name", "first_name")
    staff = practice.staff.select_related("profile").order_by("name")
    return [contact_of_provider(p) for p in providers] + [contact_of_staff(s) for s in staff]


def open_tasks(practice: Practice) -> list[Task]:
    return list(
        Task.objects.filter(practice=practice, status=TaskStatus.OPEN)
        .select_related("owner", "provider", "staff")
        .order_by("due_on", "pk")
    )


def activities(practice: Practice, page: int | str | None) -> Page:
    """The practice's activities, latest first, one page of them with the people met and
    the topics (three queries for the page, one for the count)."""
    rows = (
        Activity.objects.filter(practice=practice)
        .select_related("liaison")
        .prefetch_related(
            Prefetch("providers", queryset=Provider.objects.order_by("last_name")),
            Prefetch("staff", queryset=StaffContact.objects.order_by("name")),
            "topics",
        )
        .order_by("-occurred_on", "-pk")
    )
    return Paginator(rows, ACTIVITIES_PER_PAGE).get_page(page)


def twelve_months(today: date) -> Period:
    """The twelve full local calendar months before this one: the scorecard's year."""
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return scorecards.twelve_months(scorecards.month_period(last_month))


def trend(practice: Practice, *, now: datetime, today: date, zone) -> Trend:
    year = twelve_months(today)
    volume = scorecards.monthly_volume(Scope.of(year, Filters(practice=practice.pk), now=now))
    # As of tomorrow: today's referrals count in the last 90 days.
    standing = referrers.standing(practice.pk, today + timedelta(days=1), zone)
    return Trend(
        months=[(scorecards.month_label(m), n) for m, n in volume],
        points=sparkline([n for _, n in volume]),
        segment=standing["segment"],
        drift=standing,
    )


def treatment(practice: Practice, *, now: datetime, today: date) -> Treatment:
    """The scorecard's measures for the practice's twelve months (volume, conversion and
    loop closure by metrics' definitions, the median time to first contact over the same
    cohort as metrics.durations), and the referrals of that cohort we declined
    (docs/design.md: declined means not a fit), by reason. Only what the page shows is
    read: a few statements on one practice's rows."""
    year = twelve_months(today)
    scope = Scope.of(year, Filters(practice=practice.pk), now=now)
    # Volume and conversion as referrers.referrers() counts them: one small aggregate
    # (metrics' one-pass summary counts every state, which costs more to build than to run).
    counts = metrics.cohort(scope).aggregate(volume=Count("pk"), seen=metrics._reached("seen"))
    closure = metrics.loop_closure(scope)
    contact = percentiles(metrics.cohort(scope), ["first_contact_hours"], ps=(0.5,))
    reasons = dict(DeclineReason.choices)
    declined = (
        metrics.cohort(scope)
        .filter(state="declined")
        .values("lost_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "lost_reason")
    )
    by_reason = [(reasons.get(r["lost_reason"], "Not recorded"), r["n"]) for r in declined]
    return Treatment(
        period=year,
        referrals=counts["volume"],
        seen=counts["seen"] or 0,
        contacted=contact["first_contact_hours"]["count"],
        median_hours_to_first_contact=contact["first_contact_hours"]["p50"],
        seen_in_period=closure["seen"],
        closed_within_7_days=closure["closed_within_7_days"],
        declined=sum(n for _, n in by_reason),
        decline_reasons=by_reason,
    )


def relationship_page(
    practice: Practice, *, page: int | str | None = None, now: datetime
) -> RelationshipPage:
    org = Organization.current()
    today = tiers.today()
    relationship = relationship_of(practice)
    with metrics.reading(one_practice=True):
        found_trend = trend(practice, now=now, today=today, zone=org.zone)
        found_treatment = treatment(practice, now=now, today=today)
    return RelationshipPage(
        practice=practice,
        relationship=relationship,
        due=tiers.standing(relationship, today, OutreachSettings.current()),
        contacts=contacts(practice),
        tasks=open_tasks(practice),
        activities=activities(practice, page),
        trend=found_trend,
        treatment=found_treatment,
    )
