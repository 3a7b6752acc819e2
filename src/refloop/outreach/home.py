"""The liaison's home, their start page: visits due today and this week with the reason,
their open tasks, practices drifting away in their territory, new referrers to thank, and
their own numbers. A fixed number of queries however many practices, tasks or referrals."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, F, Min, Q, QuerySet
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from refloop.analytics import referrers
from refloop.core.models import User
from refloop.core.roles import Capability
from refloop.network.models import Practice, Provider
from refloop.outreach import tiers
from refloop.outreach.models import (
    Activity,
    ActivityStatus,
    CalendarFeed,
    OutreachSettings,
    Relationship,
    Task,
    TaskStatus,
    Territory,
    Tier,
)
from refloop.practice.models import Organization
from refloop.referrals.models import Direction, Referral
from refloop.web.access import staff_view

SHOWN = 20  # rows of each list; the counts say how many there are in all
NEW_REFERRER_DAYS = 30
WEEKS_BACK = 4
CADENCE_TIERS = (Tier.A, Tier.B)
NETWORK_FIGURES_FOR = 3600  # seconds


def my_relationships(user: User) -> QuerySet[Relationship]:
    """The practices of `user`'s territories; every practice when they have none."""
    if Territory.objects.filter(liaison=user).exists():
        return Relationship.objects.filter(territory__liaison=user)
    return Relationship.objects.all()


@dataclass(frozen=True)
class Drifting:
    practice: Practice
    recent: int
    prior: int
    expected: float


@dataclass(frozen=True)
class NewReferrer:
    name: str
    practice: Practice
    first_on: date
    kind: str  # "practice" or "provider"


@dataclass(frozen=True)
class Numbers:
    visits_this_week: int
    visits_last_weeks: int
    weeks: int
    cadence_met: int
    cadence_of: int

    @property
    def cadence_percent(self) -> int | None:
        return round(100 * self.cadence_met / self.cadence_of) if self.cadence_of else None


@dataclass(frozen=True)
class LiaisonHome:
    today: list[tiers.Due]
    this_week: list[tiers.Due]
    due_total: int
    tasks: list[Task]
    tasks_total: int
    tasks_overdue: int
    drifting: list[Drifting]
    new_referrers: list[NewReferrer]
    numbers: Numbers
    planned: list[Activity]
    on: date


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _open_tasks(user: User, on: date) -> tuple[list[Task], int, int]:
    mine = Task.objects.filter(owner=user, status=TaskStatus.OPEN)
    counts = mine.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=on)))
    shown = list(
        mine.select_related("practice").order_by(F("due_on").asc(nulls_last=True), "pk")[:SHOWN]
    )
    return shown, counts["total"], counts["overdue"]


def _network_key(on: date) -> str:
    """What the network-wide figures below depend on: the day, and the newest referral (a
    referral arriving changes them; one changing state does not)."""
    newest = Referral.objects.order_by("-pk").values_list("pk", flat=True).first()
    return f"{on.isoformat()}:{newest}"


def _kept(name: str, key: str, compute):
    """The same for every liaison until a referral arrives or the day turns: computed once
    an hour at most per process, so the home stays fast at 100,000 referrals."""
    return cache.get_or_set(f"outreach:{name}:{key}", compute, NETWORK_FIGURES_FOR)


def _in_scope(scope: QuerySet[Relationship], practice_ids) -> set[int]:
    """Those of `practice_ids` in my practices (asked of the database: a territory can
    hold thousands, the ids asked about are a few)."""
    ids = list(practice_ids)
    if not ids:
        return set()
    return set(scope.filter(practice_id__in=ids).values_list("practice_id", flat=True))


def _drifting(scope: QuerySet[Relationship], on: date, zone, key: str) -> list[Drifting]:
    drift = _kept("drift", key, lambda: referrers.drift(on, zone))
    declining = _in_scope(scope, (pk for pk, row in drift.items() if row["declining"]))
    flagged = {pk: drift[pk] for pk in declining}
    if not flagged:
        return []
    found = [
        Drifting(p, flagged[p.pk]["recent"], flagged[p.pk]["prior"], flagged[p.pk]["expected"])
        for p in Practice.objects.filter(pk__in=list(flagged))
    ]
    found.sort(key=lambda d: (d.recent - d.expected, d.practice.name))
    return found[:SHOWN]


def _first_referrals(since: datetime) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """(practice id -> first inbound referral, provider id -> first) for those whose first
    referral came since `since`."""
    inbound = Referral.objects.filter(direction=Direction.INBOUND, merged_into__isnull=True)
    practices = (
        inbound.filter(referring_practice__isnull=False)
        .values("referring_practice")
        .annotate(first=Min("received_at"))
        .filter(first__gte=since)
    )
    providers = (
        inbound.filter(referring_provider__isnull=False)
        .values("referring_provider")
        .annotate(first=Min("received_at"))
        .filter(first__gte=since)
    )
    return (
        {row["referring_practice"]: row["first"] for row in practices},
        {row["referring_provider"]: row["first"] for row in providers},
    )


def _new_referrers(
    scope: QuerySet[Relationship], since: datetime, zone, key: str
) -> list[NewReferrer]:
    """Practices and providers of my practices whose first referral came since `since`."""
    firsts, provider_firsts = _kept(
        "firsts", f"{key}:{since.isoformat()}", lambda: _first_referrals(since)
    )
    providers = list(
        Provider.objects.filter(pk__in=list(provider_firsts)).select_related("practice")
    )
    scope_ids = _in_scope(scope, [*firsts, *(p.practice_id for p in providers)])
    found = [
        NewReferrer(p.name, p, firsts[p.pk].astimezone(zone).date(), "practice")
        for p in Practice.objects.filter(pk__in=[pk for pk in firsts if pk in scope_ids])
    ]
    found += [
        NewReferrer(str(p), p.practice, provider_firsts[p.pk].astimezone(zone).date(), "provider")
        for p in providers
        if p.practice is not None and p.practice_id in scope_ids
    ]
    found.sort(key=lambda n: (n.first_on, n.name), reverse=True)
    return found[:SHOWN]


def _numbers(user: User, scope: QuerySet[Relationship], on: date) -> Numbers:
    week = _week_start(on)
    earliest = week - timedelta(weeks=WEEKS_BACK)
    visits = Activity.objects.filter(
        liaison=user,
        status=ActivityStatus.DONE,
        kind__in=tiers.IN_PERSON,
        occurred_on__gte=earliest,
        occurred_on__lte=on,
    ).aggregate(
        this_week=Count("pk", filter=Q(occurred_on__gte=week)),
        before=Count("pk", filter=Q(occurred_on__lt=week)),
    )
    settings = OutreachSettings.current()
    within = Q(pk__in=[])  # visited within the cadence of its tier
    for tier in CADENCE_TIERS:
        since = on - timedelta(days=settings.cadence(tier))
        within |= tiers.of_tier(tier) & Q(last_visit_on__gte=since)
    cadence = scope.filter(tiers.of_tier(*CADENCE_TIERS)).aggregate(
        total=Count("pk"), met=Count("pk", filter=within)
    )
    return Numbers(
        visits["this_week"], visits["before"], WEEKS_BACK, cadence["met"], cadence["total"]
    )


def _planned(user: User, now: datetime, day_start: datetime) -> list[Activity]:
    # Today's visits stay all day, however early (a liaison marks the morning's visit done
    # in the evening), and the last twelve hours' stay past midnight.
    since = min(now - timedelta(hours=12), day_start)
    return list(
        Activity.objects.filter(liaison=user, status=ActivityStatus.PLANNED, starts_at__gte=since)
        .select_related("practice")
        .order_by("starts_at", "pk")[:SHOWN]
    )


def liaison_home(user: User, *, now: datetime | None = None) -> LiaisonHome:
    org = Organization.current()
    zone = org.zone
    on = tiers.today() if now is None else now.astimezone(zone).date()
    now = now or datetime.combine(on, time(), tzinfo=zone)
    scope = my_relationships(user)
    tasks, tasks_total, tasks_overdue = _open_tasks(user, on)
    since = datetime.combine(on - timedelta(days=NEW_REFERRER_DAYS), time(), tzinfo=zone)
    key = _network_key(on)
    return LiaisonHome(
        today=tiers.due_visits(scope, on=on, within_days=0, limit=SHOWN),
        this_week=tiers.due_visits(scope, on=on, after=on, limit=SHOWN),
        due_total=tiers.count_due(scope, on=on),
        tasks=tasks,
        tasks_total=tasks_total,
        tasks_overdue=tasks_overdue,
        drifting=_drifting(scope, on, zone, key),
        new_referrers=_new_referrers(scope, since, zone, key),
        numbers=_numbers(user, scope, on),
        planned=_planned(user, now, datetime.combine(on, time(), tzinfo=zone)),
        on=on,
    )


outreach_view = staff_view(Capability.WORK_OUTREACH)


@require_GET
@outreach_view
def home(request):
    context = {
        "home": liaison_home(request.user, now=timezone.now()),
        "has_calendar": CalendarFeed.objects.filter(user=request.user).exists(),
    }
    with timezone.override(Organization.current().zone):  # planned visits in local time
        return render(request, "outreach/home.html", context)
