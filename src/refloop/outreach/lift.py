"""Referral lift: do practices send more after a visit than like practices that were not
visited? A difference in differences with a bootstrap interval, per liaison and overall.

For each practice visited in person in the period (its first such visit, on day d; the 90
days after it must be over):

- its change = referrals received in [d, d + 90) minus those in [d - 90, d);
- its controls = the practices of the same tier and segment (the segment as of the first of
  d's month, analytics.referrers) with no in-person contact in [d - 90, d + 90); their mean
  change over the same two windows;
- its lift = its change minus its controls' mean change.

The estimate is the mean lift per visited practice. Its 95% interval is a bootstrap
(percentile) interval from BOOTSTRAP_DRAWS draws of a seeded generator, so the same data
always gives the same figures: each draw resamples the visited practices with replacement,
and redraws the controls' mean of each cohort (the practices visited on one day in one
stratum, which share their controls) from its sampling distribution (normal, with the
controls' spread ÷ √their number), so few or scattered controls widen the interval.
A practice with no control is left out and counted as unmatched. Tiers are today's.
"""

import bisect
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from refloop.analytics import referrers
from refloop.core.models import User
from refloop.outreach.models import Activity, ActivityStatus, Relationship
from refloop.outreach.tiers import IN_PERSON
from refloop.practice.models import Organization
from refloop.referrals.models import Direction, Referral
from refloop.web.words import person

WINDOW_DAYS = 90
BOOTSTRAP_DRAWS = 2000
SEED = 16
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Unit:
    """One visited practice with its windows' figures."""

    practice_id: int
    liaison_id: int
    visited_on: date
    before: int
    after: int
    control_changes: tuple[float, ...]  # after - before of each control
    stratum: tuple = ()  # (tier, segment)

    @property
    def cohort(self) -> tuple:
        """Units of one cohort have the same controls over the same windows."""
        return (str(self.stratum), self.visited_on)

    @property
    def change(self) -> int:
        return self.after - self.before

    @property
    def control_mean(self) -> float:
        return statistics.fmean(self.control_changes)

    @property
    def control_sd(self) -> float:
        return statistics.stdev(self.control_changes) if len(self.control_changes) > 1 else 0.0

    @property
    def lift(self) -> float:
        return self.change - self.control_mean


@dataclass(frozen=True)
class Lift:
    """The estimate for a group of visited practices (a liaison's, or everyone's)."""

    label: str
    practices: int  # visited practices with controls
    unmatched: int  # visited practices without any
    estimate: float | None  # referrals per practice per 90 days
    low: float | None
    high: float | None
    before: int  # the visited practices' referrals in the 90 days before
    after: int  # ... and after
    control_change: float | None  # the controls' mean change, averaged over the practices

    @property
    def clear(self) -> bool:
        """The interval leaves out 0: more (or fewer) referrals than chance would give."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    @property
    def words(self) -> str:
        """The figure and its uncertainty in a sentence a manager reads."""
        if self.estimate is None:
            return (
                f"Too few visited practices to say ({self.practices} with practices like them "
                "not visited; at least 2 are needed)"
            )
        figures = (
            f"about {_signed(self.estimate)} referrals per practice per 90 days, "
            f"{CONFIDENCE:.0%} interval {_signed(self.low)} to {_signed(self.high)}"
        )
        if not self.clear:
            return f"{figures}: could be no effect"
        if self.estimate > 0:
            return f"{figures}: visited practices sent more than like practices not visited"
        return f"{figures}: visited practices sent fewer than like practices not visited"


@dataclass(frozen=True)
class LiftReport:
    start: date  # visits from start...
    end: date  # ...to end (exclusive), each with its 90 days after over
    overall: Lift
    by_liaison: list[Lift] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)


def _signed(value: float | None) -> str:
    if value is None:
        return "–"
    shown = f"{abs(value):.1f}"
    if shown == "0.0":
        return "0.0"
    return f"{'+' if value > 0 else '-'}{shown}"


def estimate(units: Sequence[Unit], *, label: str = "All", seed: int = SEED) -> Lift:
    """The mean lift of `units` (those with controls) and its bootstrap interval."""
    matched = [u for u in units if u.control_changes]
    unmatched = len(units) - len(matched)
    before = sum(u.before for u in matched)
    after = sum(u.after for u in matched)
    if len(matched) < 2:
        return Lift(label, len(matched), unmatched, None, None, None, before, after, None)
    point = statistics.fmean(u.lift for u in matched)
    rng = random.Random(seed)
    n = len(matched)
    # Practices visited on the same day in the same stratum share their controls, so they
    # share the error of the controls' mean: one draw per cohort, not per practice.
    error_of = {u.cohort: u.control_sd / math.sqrt(len(u.control_changes)) for u in matched}
    cohorts = sorted(error_of)
    cohort_of = [cohorts.index(u.cohort) for u in matched]
    errors = [error_of[c] for c in cohorts]
    draws = []
    for _ in range(BOOTSTRAP_DRAWS):
        shift = [rng.gauss(0.0, error) if error else 0.0 for error in errors]
        total = 0.0
        for _ in range(n):
            i = rng.randrange(n)
            total += matched[i].lift - shift[cohort_of[i]]
        draws.append(total / n)
    # Linear interpolation between closest ranks, as numpy's default and docs/design.md.
    cuts = statistics.quantiles(draws, n=40, method="inclusive")
    return Lift(
        label,
        n,
        unmatched,
        point,
        cuts[0],
        cuts[-1],
        before,
        after,
        statistics.fmean(u.control_mean for u in matched),
    )


class _Counts:
    """Referrals per practice by local day, counted over any window by bisection."""

    def __init__(self, days: dict[int, list[date]]):
        self.days = days

    def between(self, practice_id: int, start: date, end: date) -> int:
        days = self.days.get(practice_id, [])
        return bisect.bisect_left(days, end) - bisect.bisect_left(days, start)


def _counts(start: date, end: date, zone) -> _Counts:
    days: dict[int, list[date]] = defaultdict(list)
    rows = Referral.objects.filter(
        direction=Direction.INBOUND,
        merged_into__isnull=True,
        referring_practice__isnull=False,
        received_at__gte=datetime.combine(start, time(), tzinfo=zone),
        received_at__lt=datetime.combine(end, time(), tzinfo=zone),
    ).values_list("referring_practice_id", "received_at")
    for practice_id, received_at in rows.iterator(chunk_size=5000):
        days[practice_id].append(received_at.astimezone(zone).date())
    for values in days.values():
        values.sort()
    return _Counts(days)


def _in_person() -> Iterable[tuple[int, int, date]]:
    return (
        Activity.objects.filter(kind__in=IN_PERSON, status=ActivityStatus.DONE)
        .order_by("occurred_on", "pk")
        .values_list("practice_id", "liaison_id", "occurred_on")
    )


def units(start: date, end: date) -> list[Unit]:
    """Every practice first visited in person in [start, end), with its controls."""
    zone = Organization.current().zone
    window = timedelta(days=WINDOW_DAYS)
    contacts: dict[int, list[date]] = defaultdict(list)
    first: dict[int, tuple[int, date]] = {}
    for practice_id, liaison_id, day in _in_person():
        contacts[practice_id].append(day)
        if start <= day < end and practice_id not in first:
            first[practice_id] = (liaison_id, day)
    if not first:
        return []
    tiers = {
        r.practice_id: r.tier
        for r in Relationship.objects.only("practice_id", "computed_tier", "tier_override")
    }
    earliest = min(day for _, day in first.values()) - window
    latest = max(day for _, day in first.values()) + window
    counts = _counts(earliest, latest, zone)
    # Per month: the practices of each (tier, segment), and each practice's segment.
    strata: dict[date, tuple[dict[int, str], dict[tuple, list[int]]]] = {}
    found = []
    for practice_id, (liaison_id, day) in sorted(first.items(), key=lambda kv: (kv[1][1], kv[0])):
        month = day.replace(day=1)
        if month not in strata:
            segment = referrers.segments(month, zone)
            members: dict[tuple, list[int]] = defaultdict(list)
            for pk, name in segment.items():
                members[(tiers.get(pk), name)].append(pk)
            strata[month] = (segment, members)
        segment, members = strata[month]
        controls = []
        for other in members[(tiers.get(practice_id), segment.get(practice_id))]:
            visited = contacts.get(other, [])
            lo = bisect.bisect_left(visited, day - window)
            if other == practice_id or (lo < len(visited) and visited[lo] < day + window):
                continue  # met in person around then: not a control
            controls.append(
                counts.between(other, day, day + window) - counts.between(other, day - window, day)
            )
        found.append(
            Unit(
                practice_id=practice_id,
                liaison_id=liaison_id,
                visited_on=day,
                before=counts.between(practice_id, day - window, day),
                after=counts.between(practice_id, day, day + window),
                control_changes=tuple(controls),
                stratum=(tiers.get(practice_id), segment.get(practice_id)),
            )
        )
    return found


def default_span(on: date) -> tuple[date, date]:
    """The visits of the year whose 90 days after are over by `on`."""
    end = on - timedelta(days=WINDOW_DAYS) + timedelta(days=1)
    return end - timedelta(days=365), end


def lift(
    *, on: date, start: date | None = None, end: date | None = None, seed: int = SEED
) -> LiftReport:
    """The lift of the visits in [start, end) (by default the year whose after-windows are
    over by `on`), overall and per liaison (the one who made the first visit)."""
    default_start, default_end = default_span(on)
    start = start or default_start
    end = min(end or default_end, default_end)
    found = units(start, end) if start < end else []
    by: dict[int, list[Unit]] = defaultdict(list)
    for unit in found:
        by[unit.liaison_id].append(unit)
    names = {u.pk: person(u) for u in User.objects.filter(pk__in=by)}
    per_liaison = sorted(
        (estimate(group, label=names.get(pk, "?"), seed=seed) for pk, group in by.items()),
        key=lambda lift_: lift_.label.lower(),
    )
    return LiftReport(
        start, end, estimate(found, label="All liaisons", seed=seed), per_liaison, found
    )
