"""Referrer scorecards: what happened to the patients one referring practice sent us, next to
the same figures for all referrers, for a period and the twelve months around it.

Everything is read through `metrics` with `Filters(practice=…)`. A scorecard goes to the
referring practice itself, so it holds aggregates only: no patient, no referral number.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils.module_loading import import_string

from refloop.analytics import metrics, suppression
from refloop.analytics.coverage import Coverage
from refloop.analytics.metrics import Filters, Period, Scope
from refloop.analytics.referrers import months_before
from refloop.analytics.stats import percentiles
from refloop.core.errors import InvalidInput
from refloop.network.models import Practice
from refloop.practice.models import Organization

# Below this many referrals a practice's figures swing with every patient: said, not hidden
# (the scorecard goes to the treating party, whose own patients these are).
SMALL_VOLUME = 11
SMALL_VOLUME_NOTE = "Figures based on fewer than 11 referrals vary a lot."
NO_FIGURE = "–"

_NAMES = (
    "volume",
    "conversion",
    "time_to_first_contact",
    "time_to_appointment",
    "show_rate",
    "loop_closure",
)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
# How the practice's own people rated us (the referring-office survey) is advocacy's, above
# analytics: named by dotted path and resolved when a scorecard is built, never imported.
OFFICE_RATINGS = "refloop.advocacy.office_selectors.ratings"


# ---- periods ------------------------------------------------------------------------


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_period(first: date) -> Period:
    first = first.replace(day=1)
    return Period(first, next_month(first))


def last_full_month(now: datetime) -> Period:
    """The last complete local calendar month before `now`."""
    today = now.astimezone(Organization.current().zone).date()
    return month_period((today.replace(day=1) - timedelta(days=1)).replace(day=1))


def parse_month(text: str | None) -> Period:
    """'2026-10' as that local calendar month; InvalidInput naming `month` otherwise."""
    match = _MONTH.fullmatch((text or "").strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        raise InvalidInput("Write the month as YYYY-MM, for example 2026-10.", field="month")
    return month_period(date(int(match[1]), int(match[2]), 1))


def twelve_months(period: Period) -> Period:
    """The twelve local calendar months ending with the period's last month."""
    last = (period.end - timedelta(days=1)).replace(day=1)
    return Period(months_before(last, 11), next_month(last))


def describe(period: Period) -> str:
    """'October 2026' for a calendar month, else '1 Oct 2026 to 14 Nov 2026'."""
    if period == month_period(period.start):
        return f"{period.start:%B %Y}"
    last = period.end - timedelta(days=1)
    return f"{period.start.day} {period.start:%b %Y} to {last.day} {last:%b %Y}"


# ---- figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """docs/design.md's figures for one scope, with the counts each rate or median rests on."""

    referrals: int
    seen: int  # of the referrals, how many have reached seen (conversion)
    contacted: int
    median_hours_to_first_contact: float | None
    booked: int
    median_hours_to_appointment: float | None
    reported: int
    median_hours_to_report: float | None
    attended: int
    appointments: int  # attended + no-show, dated in the period
    seen_in_period: int
    closed_within_7_days: int

    @property
    def conversion(self) -> float | None:
        return self.seen / self.referrals if self.referrals else None

    @property
    def show_rate(self) -> float | None:
        return self.attended / self.appointments if self.appointments else None

    @property
    def loop_closure(self) -> float | None:
        return self.closed_within_7_days / self.seen_in_period if self.seen_in_period else None


def report_time(scope: Scope) -> dict:
    """Median hours from seen to loop closed, over the referrals seen in the period whose
    loop is closed: the same referrals loop closure counts, so the two read together."""
    start, end = scope.bounds
    seen = scope.filters.referrals(metrics.inbound().filter(seen_at__gte=start, seen_at__lt=end))
    found = percentiles(seen, ["report_hours"], ps=(0.5,))["report_hours"]
    return {"count": found["count"], "median_hours": found["p50"]}


def figures(scope: Scope) -> Figures:
    found = metrics.compute(scope, _NAMES)
    shows = found["show_rate"]
    attended = shows["referred"]["attended"] + shows["non_referred"]["attended"]
    missed = shows["referred"]["no_show"] + shows["non_referred"]["no_show"]
    contact, visit = found["time_to_first_contact"], found["time_to_appointment"]
    report = report_time(scope)
    return Figures(
        referrals=found["volume"]["count"],
        seen=found["conversion"]["seen"],
        contacted=contact["count"],
        median_hours_to_first_contact=contact["median_hours"],
        booked=visit["count"],
        median_hours_to_appointment=visit["median_hours"],
        reported=report["count"],
        median_hours_to_report=report["median_hours"],
        attended=attended,
        appointments=attended + missed,
        seen_in_period=found["loop_closure"]["seen"],
        closed_within_7_days=found["loop_closure"]["closed_within_7_days"],
    )


def monthly_volume(scope: Scope) -> list[tuple[int, int]]:
    """(yyyymm, referrals) for every local month of the scope's period, zeros included."""
    counts = dict(
        metrics.cohort(scope)
        .values("received_month")
        .annotate(n=Count("pk"))
        .values_list("received_month", "n")
    )
    return [(month, counts.get(month, 0)) for month in scope.period.months()]


# ---- the scorecard ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[str, ...]  # practice, all referrers; then the same for the 12 months
    meaning: str


@dataclass(frozen=True)
class Rating:
    """One office question over the scorecard's twelve months: "How you rated us"."""

    question: str
    average: str  # "4.3" of 5, or NO_FIGURE when nobody answered it
    answers: int


@dataclass(frozen=True)
class Scorecard:
    organization: str
    practice_id: int
    practice: str
    period: Period
    year: Period
    mine: Figures
    everyone: Figures
    mine_year: Figures
    everyone_year: Figures
    trend: list[tuple[int, int]]
    # The analyst's copy: small cells hidden by the exports' rule (analytics.suppression).
    suppressed: bool = False
    # Per trend month, the days it counts (coverage.Coverage.months): a month to date or
    # the month the data starts in is partial, and labelled so.
    trend_periods: tuple[dict, ...] = ()
    # The practice's answers to our office survey over the twelve months (`year`).
    office_responses: int = 0
    office_ratings: tuple[Rating, ...] = ()

    @property
    def shows_ratings(self) -> bool:
        """Whether "How you rated us" is drawn: there are answers, and the analyst's copy
        (suppressed) hides a count of 1 to 10 as it hides every small cell."""
        if not self.office_responses:
            return False
        return not (self.suppressed and suppression.is_small(self.office_responses))

    @property
    def period_label(self) -> str:
        return describe(self.period)

    @property
    def year_label(self) -> str:
        return describe(self.year)

    @property
    def small(self) -> bool:
        return self.mine.referrals < SMALL_VOLUME

    @property
    def note(self) -> str:
        return SMALL_VOLUME_NOTE if self.small else ""

    @property
    def shows_trend(self) -> bool:
        """A suppressed copy draws the month-by-month counts only when none is 1 to 10."""
        return not self.suppressed or not any(suppression.is_small(n) for _, n in self.trend)

    @property
    def trend_labels(self) -> list[str]:
        if self.trend_periods:
            return [period["label"] for period in self.trend_periods]
        return [month_label(month) for month, _ in self.trend]

    @property
    def trend_partial(self) -> list[int]:
        return [i for i, period in enumerate(self.trend_periods) if period["partial"]]

    @property
    def rows(self) -> list[Row]:
        return rows(self)


def build(
    practice: Practice, period: Period, *, now: datetime, suppressed: bool = False
) -> Scorecard:
    """The scorecard of `practice` for `period`, with all referrers and the twelve months
    ending with the period's last month beside it."""
    year = twelve_months(period)
    mine = Filters(practice=practice.pk)
    rated = import_string(OFFICE_RATINGS)(practice.pk, *Scope.of(year, now=now).bounds)
    return Scorecard(
        organization=Organization.current().name,
        practice_id=practice.pk,
        practice=practice.name,
        period=period,
        year=year,
        mine=figures(Scope.of(period, mine, now=now)),
        everyone=figures(Scope.of(period, now=now)),
        mine_year=figures(Scope.of(year, mine, now=now)),
        everyone_year=figures(Scope.of(year, now=now)),
        trend=monthly_volume(Scope.of(year, mine, now=now)),
        suppressed=suppressed,
        trend_periods=tuple(Coverage.of(Scope.of(year, now=now)).months(year)),
        office_responses=rated.responses,
        office_ratings=tuple(
            Rating(a.text, NO_FIGURE if a.average is None else f"{a.average:.1f}", a.answers)
            for a in rated.averages
        ),
    )


def referring_practices(period: Period, *, now: datetime) -> dict[int, int]:
    """{practice id: referrals received in the period} for every practice that sent one."""
    return dict(
        metrics.cohort(Scope.of(period, now=now))
        .filter(practice__isnull=False)
        .values("practice_id")
        .annotate(n=Count("pk"))
        .values_list("practice_id", "n")
    )


def index(period: Period, *, now: datetime) -> list[dict]:
    """Every practice in the directory with its referrals in the period, busiest first."""
    volumes = referring_practices(period, now=now)
    practices: list[dict[str, Any]] = [
        {"practice_id": pk, "practice": name, "city": city, "referrals": volumes.get(pk, 0)}
        for pk, name, city in Practice.objects.values_list("pk", "name", "city")
    ]
    practices.sort(key=lambda row: (-row["referrals"], row["practice"].lower()))
    return practices


# ---- in words -----------------------------------------------------------------------


def month_label(yyyymm: int) -> str:
    return f"{date(yyyymm // 100, yyyymm % 100, 1):%b %Y}"


def days(hours: float) -> str:
    """Hours in words: '30.5 hours' under two days, '3.1 days' from then on."""
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def hours(value: float | None) -> str:
    return NO_FIGURE if value is None else days(value)


def share(part: int, whole: int) -> str:
    if not whole:
        return NO_FIGURE
    return f"{round(100 * part / whole)}% ({part} of {whole})"


def percent(value: float | None) -> float | None:
    """A rate as a percentage with one decimal (for charts); None stays None."""
    return None if value is None else round(100 * value, 1)


_ROWS = (
    (
        "Referrals received",
        lambda f: f"{f.referrals:,}",
        "Referrals we received in the period.",
    ),
    (
        "Seen by us",
        lambda f: share(f.seen, f.referrals),
        "Of those referrals, the share whose patient we have seen (as known today).",
    ),
    (
        "Time to first contact",
        lambda f: hours(f.median_hours_to_first_contact),
        "Median time from receiving the referral to our first call to the patient.",
    ),
    (
        "Time to appointment",
        lambda f: hours(f.median_hours_to_appointment),
        "Median time from receiving the referral to the first appointment (booked ones count).",
    ),
    (
        "Time to report",
        lambda f: hours(f.median_hours_to_report),
        "For patients seen in the period: median time from the visit to the report sent to you.",
    ),
    (
        "Show rate",
        lambda f: share(f.attended, f.appointments),
        "Appointments in the period that the patient attended (of attended and missed).",
    ),
    (
        "Loop closed within 7 days",
        lambda f: share(f.closed_within_7_days, f.seen_in_period),
        "Patients seen in the period whose report reached you within 7 days of the visit.",
    ),
)


def _bases(f: Figures) -> tuple[tuple[int, ...], ...]:
    """The counts each row after the first rests on, in `_ROWS` order."""
    return (
        (f.seen, f.referrals),
        (f.contacted,),
        (f.booked,),
        (f.reported,),
        (f.attended, f.appointments),
        (f.closed_within_7_days, f.seen_in_period),
    )


def rows(card: Scorecard) -> list[Row]:
    """The scorecard's table, in words: the page and the PDF print the same cells; an
    analyst's copy hides small cells by the same rule as the exports."""
    columns = (card.mine, card.everyone, card.mine_year, card.everyone_year)
    hidden: dict[suppression.Cell, str] = {}
    if card.suppressed:
        values, counts, derived = {}, [], {}
        for c, f in enumerate(columns):
            values[suppression.Cell("scorecard", 0, c)] = f.referrals
            counts.append(suppression.Cell("scorecard", 0, c))
            for r, basis in enumerate(_bases(f), start=1):
                values[suppression.Cell("scorecard", r, c)] = r
                derived[suppression.Cell("scorecard", r, c)] = suppression.Basis(counts=basis)
        hidden = suppression.hide(values, counts, derived, [])
    return [
        Row(
            label,
            tuple(
                hidden.get(suppression.Cell("scorecard", r, c), cell(f))
                for c, f in enumerate(columns)
            ),
            meaning,
        )
        for r, (label, cell, meaning) in enumerate(_ROWS)
    ]
