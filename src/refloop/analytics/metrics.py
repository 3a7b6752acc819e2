"""The metrics of docs/design.md, computed in one place for the pages, the API and the exports.

Every function takes a `Scope` (a period of local dates plus filters) and returns plain
data. Periods are half-open in the practice's time zone; durations are hours; figures
are as known now (a referral received in March and seen in May is converted for March).
"""

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, Q, QuerySet, Sum
from django.db.models.lookups import GreaterThan

from refloop.analytics.models import (
    DETOURS,
    DWELL_STATES,
    FUNNEL_STATES,
    MILESTONES,
    PASSED_MASK,
    REACHED_BIT,
    AppointmentFact,
    ReferralFact,
)
from refloop.analytics.stats import percentiles
from refloop.core.errors import InvalidInput
from refloop.network.models import Practice
from refloop.practice.models import Department, Location, Organization
from refloop.referrals.clocks import REPORT_WITHIN
from refloop.referrals.lifecycle import LOST
from refloop.referrals.models import ReferralChannel, SourceType, Urgency

REFERRED_SOURCES = ("provider", "patient")
# The loop closure rate's fixed 168 hours (docs/design.md), so the figure compares across
# practices and years; the report clock on the pages follows the practice's own target.
LOOP_CLOSURE_HOURS = REPORT_WITHIN.total_seconds() / 3600
LONGEST_PERIOD_DAYS = 3700  # ten years and a little


@dataclass(frozen=True)
class Period:
    """[start, end) in local dates."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start)

    def bounds(self, zone) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end, time(), tzinfo=zone),
        )

    def months(self) -> list[int]:
        """yyyymm of every local month the period touches, in order."""
        months, year, month = [], self.start.year, self.start.month
        last = (self.end - timedelta(days=1)).year * 100 + (self.end - timedelta(days=1)).month
        while year * 100 + month <= last:
            months.append(year * 100 + month)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


@dataclass(frozen=True)
class Filters:
    department: int | None = None
    location: int | None = None
    source_type: str | None = None
    channel: str | None = None
    practice: int | None = None
    urgency: str | None = None

    def referrals(self, qs: QuerySet) -> QuerySet:
        """Location is where the first appointment was: a filter by location leaves out
        referrals never booked."""
        return qs.filter(**self._lookups())

    def appointments(self, qs: QuerySet) -> QuerySet:
        return qs.filter(**self._lookups())

    def _lookups(self) -> dict:
        names = {
            "department": "department_id",
            "location": "location_id",
            "source_type": "source_type",
            "channel": "channel",
            "practice": "practice_id",
            "urgency": "urgency",
        }
        return {
            column: getattr(self, name) for name, column in names.items() if getattr(self, name)
        }

    def as_params(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if value}


@dataclass(frozen=True)
class Scope:
    period: Period
    filters: Filters = field(default_factory=Filters)
    now: datetime | None = None
    zone: object = None

    @classmethod
    def of(cls, period: Period, filters: Filters | None = None, *, now: datetime) -> "Scope":
        return cls(period, filters or Filters(), now, Organization.current().zone)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return self.period.bounds(self.zone)

    def previous(self) -> "Scope":
        return replace(self, period=self.period.previous())

    def with_filters(self, **changes) -> "Scope":
        return replace(self, filters=replace(self.filters, **changes))


# ---- parsing a request ------------------------------------------------------------

FILTER_CHOICES = {
    "source_type": SourceType.values,
    "channel": ReferralChannel.values,
    "urgency": Urgency.values,
}


def _parse_date(value: str | None, name: str) -> date:
    if not value:
        raise InvalidInput(f"{name} is required: a date such as 2026-01-01.", field=name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{name} is not a date: write it as YYYY-MM-DD, for example 2026-01-01.", field=name
        ) from None


def _parse_id(value: str, name: str, model) -> int:
    # A whole number, written as JSON Schema allows one (9, or 9.0 as some clients send it).
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        raise InvalidInput(f"{name} must be a whole number (an id).", field=name)
    pk = int(number)
    if not model.objects.filter(pk=pk).exists():
        raise InvalidInput(f"{name} {pk} does not exist.", field=name)
    return pk


def parse_scope(params, *, now: datetime, default_days: int | None = None) -> Scope:
    """A Scope from query parameters (start, end and the filters). Raises InvalidInput
    naming the parameter at fault. Without start/end and with `default_days`, the
    period is the last `default_days` days up to today."""
    zone = Organization.current().zone
    if default_days and not params.get("start") and not params.get("end"):
        end = now.astimezone(zone).date() + timedelta(days=1)
        period = Period(end - timedelta(days=default_days), end)
    else:
        period = Period(
            _parse_date(params.get("start"), "start"), _parse_date(params.get("end"), "end")
        )
    if period.end <= period.start:
        raise InvalidInput("end must be after start (the period is [start, end)).", field="end")
    if period.days > LONGEST_PERIOD_DAYS:
        raise InvalidInput("The period may be at most ten years long.", field="end")
    values: dict = {}
    for name, model in (("department", Department), ("location", Location), ("practice", Practice)):
        if params.get(name):
            values[name] = _parse_id(params[name], name, model)
    for name, allowed in FILTER_CHOICES.items():
        value = params.get(name)
        if value:
            if value not in allowed:
                raise InvalidInput(f"{name} must be one of {', '.join(allowed)}.", field=name)
            values[name] = value
    return Scope(period, Filters(**values), now, zone)


# ---- the cohorts ------------------------------------------------------------------


def inbound() -> QuerySet:
    return ReferralFact.objects.filter(direction="inbound")


def cohort(scope: Scope) -> QuerySet:
    """Inbound referrals received in the period, filtered."""
    start, end = scope.bounds
    return scope.filters.referrals(inbound().filter(received_at__gte=start, received_at__lt=end))


def _reached(state: str):
    bit = REACHED_BIT[state]
    return Sum(F("reached").bitand(bit).bitrightshift(int(math.log2(bit))))


def _rate(part: int | float | None, whole: int | float | None) -> float | None:
    return part / whole if whole else None


_memo: ContextVar[dict | None] = ContextVar("refloop_metrics_memo", default=None)


@contextmanager
def reading(*, one_practice: bool = False) -> Iterator[None]:
    """Within this block, each cohort query runs once per scope however many figures
    read it (the dashboard asks for the same counts and percentiles from several
    places). Outside it nothing is kept: figures are always as known now. A read of
    `one_practice`'s referrals sorts a few thousand rows at most and keeps the server's
    sort memory (two statements fewer)."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        with nullcontext() if one_practice else _sort_memory():
            yield
    finally:
        _memo.reset(token)


@contextmanager
def _sort_memory() -> Iterator[None]:
    """On PostgreSQL, room for the percentiles' sorts in memory for this read (the
    default 4 MB spilled a year of durations to disk), then the server's default again."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = %s", [settings.ANALYTICS_WORK_MEM])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET work_mem")


def once(name: str, scope, compute: Callable[[], object]):
    """compute(), kept for the rest of the read (see reading) under (name, scope)."""
    memo = _memo.get()
    if memo is None:
        return compute()
    key = (name, scope)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _summary(scope: Scope) -> dict:
    """One pass over the cohort: volume, how many reached each state and how many are
    in it now, and per source type the patients whose first referral this is and their
    value (lifetime value)."""

    def compute() -> dict:
        aggregates: dict[str, Aggregate] = {"volume": Count("pk")}
        aggregates |= {f"reached_{state}": _reached(state) for state in FUNNEL_STATES}
        aggregates |= {
            f"now_{state}": Count("pk", filter=Q(state=state)) for state in FUNNEL_STATES
        }
        for milestone, mask in PASSED_MASK.items():
            passed = Q(GreaterThan(F("reached").bitand(mask), 0))
            aggregates[f"passed_{milestone}"] = Count("pk", filter=passed)
            # Of those for which it is the last milestone passed: lost since, or not (still
            # on the way, or loop closed for the last one).
            last = passed & ~Q(GreaterThan(F("reached").bitand(_LATER_MASK[milestone]), 0))
            aggregates[f"lost_after_{milestone}"] = Count("pk", filter=last & Q(state__in=LOST))
            aggregates[f"now_after_{milestone}"] = Count("pk", filter=last & ~Q(state__in=LOST))
        for source in SourceType.values:
            first = Q(first_of_patient=True, source_type=source)
            aggregates[f"first_{source}"] = Count("pk", filter=first)
            aggregates[f"value_{source}"] = Sum("patient_value", filter=first)
        row = cohort(scope).aggregate(**aggregates)
        return {
            key: value if key.startswith("value_") else value or 0 for key, value in row.items()
        }

    return once("summary", scope, compute)


# Per milestone, the bits of the milestones after it (none after the last).
_LATER_MASK = {
    milestone: PASSED_MASK[MILESTONES[i + 1]] if i + 1 < len(MILESTONES) else 0
    for i, milestone in enumerate(MILESTONES)
}


# Every duration the dashboard takes a percentile of, read in one pass per scope.
CLOCK_COLUMNS = (
    "first_contact_hours",
    "schedule_hours",
    "appointment_hours",
    *(f"dwell_{state}" for state in DWELL_STATES),
)


def clocks(scope: Scope) -> dict[str, dict]:
    """{column: {"count", "p50", "p90"}} for every column of CLOCK_COLUMNS."""
    return once("clocks", scope, lambda: percentiles(cohort(scope), CLOCK_COLUMNS))


# ---- the metrics ------------------------------------------------------------------


def volume(scope: Scope, summary: dict | None = None) -> dict:
    summary = summary or _summary(scope)
    return {"count": summary["volume"]}


def conversion(scope: Scope, summary: dict | None = None) -> dict:
    summary = summary or _summary(scope)
    seen = summary["reached_seen"]
    return {"referrals": summary["volume"], "seen": seen, "rate": _rate(seen, summary["volume"])}


DURATIONS = {
    "time_to_first_contact": "first_contact_hours",
    "time_to_schedule": "schedule_hours",
    "time_to_appointment": "appointment_hours",
}


def durations(scope: Scope) -> dict:
    """Median and 90th percentile hours of the three clocks, over the referrals of the
    cohort that have reached each point."""
    found = clocks(scope)
    return {
        name: {
            "count": found[column]["count"],
            "median_hours": found[column]["p50"],
            "p90_hours": found[column]["p90"],
        }
        for name, column in DURATIONS.items()
    }


def show_rate(scope: Scope) -> dict:
    """Appointments dated in the period: attended ÷ (attended + no-show), for referred
    and non-referred patients."""
    start, end = scope.bounds
    rows = (
        scope.filters.appointments(
            AppointmentFact.objects.filter(
                starts_at__gte=start, starts_at__lt=end, outcome__in=("attended", "no_show")
            )
        )
        .values("source_type", "outcome")
        .annotate(n=Count("pk"))
    )
    groups = {
        "referred": {"attended": 0, "no_show": 0},
        "non_referred": {"attended": 0, "no_show": 0},
    }
    for row in rows:
        group = "referred" if row["source_type"] in REFERRED_SOURCES else "non_referred"
        groups[group][row["outcome"]] += row["n"]
    for counts in groups.values():
        counts["rate"] = _rate(counts["attended"], counts["attended"] + counts["no_show"])
    return groups


def loop_closure(scope: Scope) -> dict:
    """Referrals seen in the period, and the share closed within 168 hours of seen."""
    start, end = scope.bounds
    row = scope.filters.referrals(inbound().filter(seen_at__gte=start, seen_at__lt=end)).aggregate(
        seen=Count("pk"),
        closed=Count("pk", filter=Q(report_hours__lte=LOOP_CLOSURE_HOURS)),
    )
    return {
        "seen": row["seen"],
        "closed_within_7_days": row["closed"],
        "rate": _rate(row["closed"], row["seen"]),
    }


def outbound_sent(scope: Scope) -> QuerySet:
    """Outbound referrals sent in the period. Only the department and location filters
    apply (the others describe inbound sources)."""
    start, end = scope.bounds
    sent = ReferralFact.objects.filter(direction="outbound", sent_at__gte=start, sent_at__lt=end)
    if scope.filters.department:
        sent = sent.filter(department_id=scope.filters.department)
    if scope.filters.location:
        sent = sent.filter(location_id=scope.filters.location)
    return sent


def leakage(scope: Scope) -> dict:
    """Outbound referrals sent in the period, and the share sent out of network."""
    sent = outbound_sent(scope)
    rows = list(
        sent.values("receiving_practice_id", "receiving_practice__name", "receiving_in_network")
        .annotate(n=Count("pk"))
        .order_by("-n", "receiving_practice__name", "receiving_in_network")
    )
    total = sum(row["n"] for row in rows)
    out = sum(row["n"] for row in rows if row["receiving_in_network"] is False)
    return {
        "sent": total,
        "out_of_network": out,
        "rate": _rate(out, total),
        "by_receiving_practice": [
            {
                "practice_id": row["receiving_practice_id"],
                "practice": row["receiving_practice__name"] or "(no practice)",
                "in_network": row["receiving_in_network"],
                "sent": row["n"],
            }
            for row in rows
        ],
    }


def lost(scope: Scope) -> dict:
    """Referrals of the cohort now declined, unreachable or cancelled."""
    return once("lost", scope, lambda: _lost(scope))


def _lost(scope: Scope) -> dict:
    rows = (
        cohort(scope)
        .filter(state__in=LOST)
        .values("state", "lost_reason", "lost_stage")
        .annotate(n=Count("pk"))
    )
    by_outcome: dict[str, int] = dict.fromkeys(LOST, 0)
    by_reason: dict[str, int] = {}
    by_stage: dict[str, int] = {}
    for row in rows:
        by_outcome[row["state"]] += row["n"]
        reason = row["lost_reason"] or "not recorded"
        by_reason[reason] = by_reason.get(reason, 0) + row["n"]
        by_stage[row["lost_stage"]] = by_stage.get(row["lost_stage"], 0) + row["n"]
    return {
        "count": sum(by_outcome.values()),
        "by_outcome": by_outcome,
        "by_reason": dict(sorted(by_reason.items(), key=lambda item: -item[1])),
        "by_stage": {state: by_stage[state] for state in FUNNEL_STATES if state in by_stage},
    }


def provider_ranking(scope: Scope) -> list[tuple[str, int]]:
    """(npi, referrals) of the cohort's referring providers, most first (ties by NPI):
    the order the concentration figure and its Pareto drill-down share."""
    return list(
        cohort(scope)
        .exclude(provider_npi="")
        .values("provider_npi")
        .annotate(n=Count("pk"))
        .order_by("-n", "provider_npi")
        .values_list("provider_npi", "n")
    )


def concentration(scope: Scope) -> dict:
    """Among cohort referrals naming a referring provider, the share sent by the top
    ⌈20 %⌉ of those providers (by NPI) by count."""
    counts = provider_ranking(scope)
    providers = len(counts)
    top = math.ceil(0.2 * providers)
    total = sum(n for _, n in counts)
    top_sum = sum(n for _, n in counts[:top])
    return {
        "providers": providers,
        "top_providers": top,
        "referrals": total,
        "top_referrals": top_sum,
        "top_share": _rate(top_sum, total),
        "ranked": [n for _, n in counts],
    }


def lifetime_value(scope: Scope) -> dict:
    """Patients whose first referral was received in the period, by that referral's
    source: how many, their attended visit value to date, and the value per patient."""
    summary = _summary(scope)
    by_source = {}
    for source in SourceType.values:
        patients = summary[f"first_{source}"]
        if not patients:
            continue
        value = summary[f"value_{source}"] or Decimal("0")
        by_source[source] = {
            "patients": patients,
            "value": float(value),
            "value_per_patient": float(value / patients),
        }
    return {"by_source": by_source}


def funnel(scope: Scope, summary: dict | None = None) -> dict:
    """For the cohort, each state: how many reached it, were lost at it, are there now,
    and the median hours spent there (completed stays). Then the funnel proper: the
    milestones, whose counts only go down (each one's reached = the next one's + those
    lost on the way + those still on the way), and the detours taken between them."""
    summary = summary or _summary(scope)
    stages = lost(scope)["by_stage"]
    dwell = clocks(scope)
    rows = {}
    for state in FUNNEL_STATES:
        entry = {
            "state": state,
            "reached": summary[f"reached_{state}"],
            "lost_here": stages.get(state, 0),
            "now_here": summary[f"now_{state}"],
        }
        if state in DWELL_STATES:
            entry["median_dwell_hours"] = dwell[f"dwell_{state}"]["p50"]
            entry["left"] = dwell[f"dwell_{state}"]["count"]
        rows[state] = entry
    milestones = []
    for milestone in MILESTONES:
        entry = {
            "state": milestone,
            "reached": summary[f"passed_{milestone}"],
            # Lost after this milestone and before the next (from whichever state: one
            # missed visit sends a scheduled referral back to contacting), and still on the
            # way to the next one now.
            "lost_here": summary[f"lost_after_{milestone}"],
            "now_here": summary[f"now_after_{milestone}"],
        }
        if milestone in DWELL_STATES:
            entry["median_dwell_hours"] = rows[milestone]["median_dwell_hours"]
            entry["left"] = rows[milestone]["left"]
        milestones.append(entry)
    passed = {entry["state"]: entry["reached"] for entry in milestones}
    detours = [
        {
            **rows[state],
            "after": after,
            # Of the referrals that passed the milestone before it, the share that took it.
            "share": _rate(rows[state]["reached"], passed[after]),
        }
        for state, after in DETOURS.items()
    ]
    return {
        "referrals": summary["volume"],
        "states": list(rows.values()),
        "milestones": milestones,
        "detours": detours,
    }


METRICS = (
    "volume",
    "conversion",
    "time_to_first_contact",
    "time_to_schedule",
    "time_to_appointment",
    "show_rate",
    "loop_closure",
    "leakage",
    "lost",
    "concentration",
    "lifetime_value",
)


def compute(scope: Scope, names: tuple[str, ...] = METRICS) -> dict:
    """The named metrics for one scope, each read once."""
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise InvalidInput(
            f"metrics names one that does not exist; the metrics are {', '.join(METRICS)}.",
            field="metrics",
        )
    result: dict = {}
    summary = _summary(scope) if {"volume", "conversion"} & set(names) else None
    clocks = durations(scope) if set(DURATIONS) & set(names) else {}
    for name in names:
        if name == "volume":
            result[name] = volume(scope, summary)
        elif name == "conversion":
            result[name] = conversion(scope, summary)
        elif name in DURATIONS:
            result[name] = clocks[name]
        else:
            result[name] = _ONE_PASS[name](scope)
    return result


_ONE_PASS = {
    "show_rate": show_rate,
    "loop_closure": loop_closure,
    "leakage": leakage,
    "lost": lost,
    "concentration": concentration,
    "lifetime_value": lifetime_value,
}
