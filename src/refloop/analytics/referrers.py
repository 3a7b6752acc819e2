"""The referral network in numbers: each referring practice's volume, trend, segment,
conversion and speed, and whether it is drifting away (docs/design.md's definitions)."""

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q

from refloop.analytics import coverage
from refloop.analytics.metrics import Scope, _rate, _reached, cohort, inbound, once
from refloop.analytics.models import ReferralFact
from refloop.analytics.stats import grouped_percentiles
from refloop.network.models import Practice

RECENT_DAYS = 90
PRIOR_DAYS = 365
DECLINE_MIN_PRIOR = 6
DECLINE_P = 0.05
SEGMENTS = ("loyal", "semi_loyal", "new", "non_referring", "receiver")


def months_before(day: date, months: int) -> date:
    """The same day `months` local calendar months earlier (the last day of a shorter
    month when it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def poisson_cdf(k: int, expected: float) -> float:
    """P(X ≤ k) for X ~ Poisson(expected), summed in log space so large means stay finite."""
    if expected <= 0:
        return 1.0
    total = 0.0
    for i in range(k + 1):
        total += math.exp(i * math.log(expected) - expected - math.lgamma(i + 1))
    return min(total, 1.0)


def declining(recent: int, prior: int) -> tuple[bool, float]:
    """(declining?, P(X ≤ recent)) with expected = prior × 90/365. The tail is exact for
    any count; the flag needs prior ≥ 6, as fewer say too little to act on."""
    p = poisson_cdf(recent, prior * RECENT_DAYS / PRIOR_DAYS)
    return prior >= DECLINE_MIN_PRIOR and p < DECLINE_P, p


def _at(day: date, zone) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def _activity(as_of: date, zone) -> dict[int, dict]:
    """Per practice that referred in the window before `as_of` (the four 3-month blocks
    and the 90 + 365 days of drift), in one pass: how many blocks had a referral, the
    referrals of the last 90 days and of the 365 before, and whether the first referral
    ever came within the last 90 days. Within metrics.reading every scope ending on the
    same day shares it."""
    return once("activity", (as_of, zone), lambda: _read_activity(as_of, zone))


def _read_activity(as_of: date, zone, practice_id: int | None = None) -> dict[int, dict]:
    end = _at(as_of, zone)
    edges = [_at(months_before(as_of, 3 * i), zone) for i in range(4, -1, -1)]
    recent_start = end - timedelta(days=RECENT_DAYS)
    prior_start = recent_start - timedelta(days=PRIOR_DAYS)
    window_start = min(edges[0], prior_start)
    counts = {
        f"b{i}": Count("pk", filter=Q(received_at__gte=edges[i], received_at__lt=edges[i + 1]))
        for i in range(4)
    }
    counts["recent"] = Count("pk", filter=Q(received_at__gte=recent_start))
    counts["prior"] = Count(
        "pk", filter=Q(received_at__gte=prior_start, received_at__lt=recent_start)
    )
    counts["earlier"] = Count("pk", filter=Q(received_at__lt=recent_start))
    referrals = inbound().filter(
        practice__isnull=False, received_at__gte=window_start, received_at__lt=end
    )
    if practice_id is not None:
        referrals = referrals.filter(practice_id=practice_id)
    rows = referrals.values("practice_id").annotate(**counts)
    result = {
        row["practice_id"]: {
            "blocks": sum(1 for i in range(4) if row[f"b{i}"]),
            "recent": row["recent"],
            "prior": row["prior"],
            "new": bool(row["recent"]) and not row["earlier"],
        }
        for row in rows
    }
    # New only if nothing came before the window either: one index probe per candidate
    # (practice, received_at) rather than every practice's first referral ever.
    candidates = [pk for pk, row in result.items() if row["new"]]
    if candidates:
        older = inbound().filter(practice_id=OuterRef("pk"), received_at__lt=window_start)
        for pk in (
            Practice.objects.filter(pk__in=candidates)
            .filter(Exists(older))
            .values_list("pk", flat=True)
        ):
            result[pk]["new"] = False
    return result


def segments(as_of: date, zone) -> dict[int, str]:
    """Every practice in the directory with its segment as of `as_of` (exclusive): over
    the four 3-month blocks ending then, loyal (a referral in 3 or 4 blocks), semi_loyal
    (1 or 2), non_referring (none); new (first referral ever in the last 90 days) wins;
    a practice that never referred to us but was sent our referrals is a receiver."""
    activity = _activity(as_of, zone)
    receiving = once("receivers", (as_of, zone), lambda: _receivers(as_of, zone, activity))
    return {
        pk: _segment(activity.get(pk), receiver=pk in receiving)
        for pk in Practice.objects.values_list("pk", flat=True)
    }


def _receivers(as_of: date, zone, activity: dict, practice_id: int | None = None) -> set[int]:
    """The practices sent an outbound referral before `as_of` that never sent us one
    before then (those with referrals in the window, `activity`, are referrers)."""
    end = _at(as_of, zone)
    sent_to = ReferralFact.objects.filter(
        direction="outbound", sent_at__lt=end, receiving_practice__isnull=False
    )
    if practice_id is not None:
        sent_to = sent_to.filter(receiving_practice_id=practice_id)
    candidates = set(sent_to.values_list("receiving_practice_id", flat=True).distinct()) - set(
        activity
    )
    if not candidates:
        return set()
    referred = (
        inbound()
        .filter(practice_id__in=candidates, received_at__lt=end)
        .values_list("practice_id", flat=True)
        .distinct()
    )
    return candidates - set(referred)


def _segment(row: dict | None, *, receiver: bool = False) -> str:
    if row is None:
        return "receiver" if receiver else "non_referring"
    if row["new"]:
        return "new"
    if row["blocks"] >= 3:
        return "loyal"
    if row["blocks"] >= 1:
        return "semi_loyal"
    return "non_referring"


def drift(as_of: date, zone) -> dict[int, dict]:
    """Per practice: referrals in the last 90 days and the 365 before, expected, p, flag."""
    result = {}
    for practice_id, row in _activity(as_of, zone).items():
        if not row["recent"] and not row["prior"]:
            continue
        flag, p = declining(row["recent"], row["prior"])
        result[practice_id] = {
            "recent": row["recent"],
            "prior": row["prior"],
            "expected": row["prior"] * RECENT_DAYS / PRIOR_DAYS,
            "p_value": p,
            "declining": flag,
        }
    return result


# A practice with no referral in either window: nothing was expected and nothing came.
_NO_DRIFT = {"recent": 0, "prior": 0, "expected": 0.0, "p_value": 1.0, "declining": False}


def standing(practice_id: int, as_of: date, zone) -> dict:
    """One practice's segment and drift as of `as_of`, by the rules of segments() and
    drift(), reading only that practice's referrals (a page about one practice)."""
    activity = _read_activity(as_of, zone, practice_id)
    row = activity.get(practice_id)
    recent, prior = (row["recent"], row["prior"]) if row else (0, 0)
    flag, p = declining(recent, prior)
    receiver = row is None and bool(_receivers(as_of, zone, activity, practice_id))
    return {
        "segment": _segment(row, receiver=receiver),
        "recent_90_days": recent,
        "prior_365_days": prior,
        "expected_90_days": prior * RECENT_DAYS / PRIOR_DAYS,
        "p_value": p,
        "declining": flag,
    }


def referrers(scope: Scope, *, compared: bool | None = None) -> list[dict]:
    """Every practice in the directory, declining ones first, then by volume: volume in
    the period and in the one before (None when the data does not cover both: see
    analytics.coverage; `compared` None lets it decide), monthly trend, segment and drift
    as of the period's end, conversion and median hours to first contact."""
    if compared is None:
        compared = coverage.comparison(scope)["compared"]
    months = scope.period.months()
    period: dict[int, dict] = defaultdict(lambda: {"volume": 0, "seen": 0})
    trend: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        cohort(scope)
        .filter(practice__isnull=False)
        .values("practice_id", "received_month")
        .annotate(volume=Count("pk"), seen=_reached("seen"))
    ):
        totals = period[row["practice_id"]]
        totals["volume"] += row["volume"]
        totals["seen"] += row["seen"] or 0
        trend[row["practice_id"]][row["received_month"]] = row["volume"]
    before = (
        dict(
            cohort(scope.previous())
            .filter(practice__isnull=False)
            .values("practice_id")
            .annotate(n=Count("pk"))
            .values_list("practice_id", "n")
        )
        if compared
        else {}
    )
    contact = grouped_percentiles(
        cohort(scope).filter(practice__isnull=False), ["practice_id"], "first_contact_hours"
    )
    segment = segments(scope.period.end, scope.zone)
    drifting = drift(scope.period.end, scope.zone)
    result = []
    for practice in Practice.objects.values("pk", "name", "city", "in_network"):
        pk = practice["pk"]
        if scope.filters.practice and pk != scope.filters.practice:
            continue
        stats = period.get(pk, {"volume": 0, "seen": 0})
        d = drifting.get(pk) or _NO_DRIFT
        result.append(
            {
                "practice_id": pk,
                "practice": practice["name"],
                "city": practice["city"],
                "in_network": practice["in_network"],
                "volume": stats["volume"],
                "previous_volume": before.get(pk, 0) if compared else None,
                "trend": [trend[pk].get(month, 0) for month in months],
                "segment": segment[pk],
                "declining": d["declining"],
                "recent_90_days": d["recent"],
                "prior_365_days": d["prior"],
                "expected_90_days": d["expected"],
                "p_value": d["p_value"],
                "conversion": _rate(stats["seen"] or 0, stats["volume"]),
                "contacted": contact.get((pk,), {}).get("count", 0),
                "median_hours_to_first_contact": contact.get((pk,), {}).get("p50"),
            }
        )
    result.sort(key=lambda r: (not r["declining"], -r["volume"], r["practice"]))
    return result
