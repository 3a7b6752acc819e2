"""Everything the analytics dashboard shows for one scope, read through the metrics
module: the page renders it, the benchmark times it, the management report prints it."""

from collections import defaultdict

from django.db.models import Count
from django.utils import timezone

from refloop.analytics import bottlenecks, coverage, metrics, referrers
from refloop.analytics.coverage import Coverage
from refloop.analytics.metrics import Scope, cohort
from refloop.analytics.selection import contacted_within_target
from refloop.analytics.stats import grouped_figures
from refloop.network.models import Practice
from refloop.practice.models import Department, Organization

# Sankey: the busiest referring practices by name, the rest as one flow.
SANKEY_PRACTICES = 12


def volume_series(scope: Scope, by: str) -> dict:
    """Referrals per local month of the period, one series per `by` value (source_type
    or channel), and per month which days it counts: `periods[i]["partial"]` when less
    than the whole month (the current month to date, the month the data starts in, a
    month the period cuts), labelled in `labels` ("Dec 2026 (to 6 Dec)")."""
    months = scope.period.months()
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    index = {month: i for i, month in enumerate(months)}
    for row in _monthly(scope):
        if row["received_month"] in index:
            series[row[by]][index[row["received_month"]]] += row["n"]
    periods = Coverage.of(scope).months(scope.period)
    return {
        "months": months,
        "labels": [p["label"] for p in periods],
        "periods": periods,
        "series": dict(sorted(series.items())),
    }


def _monthly(scope: Scope) -> list[dict]:
    """Referrals per month, source type and channel: both volume series from one read."""
    return metrics.once(
        "monthly",
        scope,
        lambda: list(
            cohort(scope).values("received_month", "source_type", "channel").annotate(n=Count("pk"))
        ),
    )


def sla(scope: Scope) -> dict:
    """Per urgency: the first-contact SLA in hours, the median and 90th percentile hours
    to first contact and to appointment, and how many were contacted within the SLA."""
    org = Organization.current()
    hours = {
        u: org.first_contact_sla(u).total_seconds() / 3600 for u in ("stat", "urgent", "routine")
    }
    # Within the target stamped on each referral when it arrived (referrals.clocks): after
    # an SLA edit, `sla_hours` is today's target and older referrals keep their own.
    within = Count("pk", filter=contacted_within_target(scope.now or timezone.now()))
    found = grouped_figures(
        cohort(scope),
        ["urgency"],
        ["first_contact_hours", "appointment_hours"],
        ps=(0.5, 0.9),
        extra={"within": within},
    )
    rows = []
    for urgency, target in hours.items():
        figures = found.get((urgency,), {})
        c = figures.get("first_contact_hours", {})
        v = figures.get("appointment_hours", {})
        rows.append(
            {
                "urgency": urgency,
                "sla_hours": target,
                "contacted": c.get("count", 0),
                "appointments": v.get("count", 0),
                "within_sla": figures.get("within", 0),
                "median_hours_to_first_contact": c.get("p50"),
                "p90_hours_to_first_contact": c.get("p90"),
                "median_hours_to_appointment": v.get("p50"),
                "p90_hours_to_appointment": v.get("p90"),
            }
        )
    return {"by_urgency": rows}


def flows(scope: Scope) -> dict:
    """Referring practice -> department flows of the cohort (the Sankey diagram): the
    busiest practices by name, the others together, and referrals with no practice by
    their source type."""
    rows = list(
        cohort(scope).values("practice_id", "source_type", "department_id").annotate(n=Count("pk"))
    )
    totals: dict[int, int] = defaultdict(int)
    for row in rows:
        if row["practice_id"]:
            totals[row["practice_id"]] += row["n"]
    # Ties at the cut-off go by name (then id), not by the order the database returned the
    # rows in: the same data draws the same diagram on SQLite and PostgreSQL.
    counts = sorted(totals.values(), reverse=True)
    cutoff = counts[SANKEY_PRACTICES - 1] if len(counts) >= SANKEY_PRACTICES else 0
    candidates = [pk for pk, n in totals.items() if n >= cutoff]
    known = dict(Practice.objects.filter(pk__in=candidates).values_list("pk", "name"))
    busiest = sorted(candidates, key=lambda pk: (-totals[pk], known.get(pk, ""), pk))
    names = {pk: known[pk] for pk in busiest[:SANKEY_PRACTICES] if pk in known}
    departments = dict(Department.objects.values_list("pk", "name"))
    links: dict[tuple, int] = defaultdict(int)
    for row in rows:
        if row["practice_id"] in names:
            source = ("practice", row["practice_id"], names[row["practice_id"]])
        elif row["practice_id"]:
            source = ("others", None, "Other practices")
        else:
            source = (
                "source",
                row["source_type"],
                f"{row['source_type'].capitalize()} (no practice)",
            )
        target = (
            "department",
            row["department_id"],
            departments.get(row["department_id"], "No department"),
        )
        links[(source, target)] += row["n"]
    return {
        "links": [
            {
                "source": source[2],
                "source_kind": source[0],
                "source_id": source[1],
                "target": target[2],
                "department_id": target[1],
                "referrals": n,
            }
            for (source, target), n in sorted(links.items(), key=lambda item: -item[1])
        ]
    }


def build(scope: Scope) -> dict:
    """The whole dashboard for one scope, and the previous period's headline figures
    to compare with; each cohort query runs once (metrics.reading)."""
    with metrics.reading():
        return _build(scope)


def _build(scope: Scope) -> dict:
    figures = metrics.compute(scope)
    comparison = coverage.comparison(scope)
    compared = comparison["compared"]
    network = referrers.referrers(scope, compared=compared)
    by_segment: dict[str, list[dict]] = {segment: [] for segment in referrers.SEGMENTS}
    for row in network:
        by_segment[row["segment"]].append(
            {"practice_id": row["practice_id"], "practice": row["practice"]}
        )
    return {
        "period": {"start": scope.period.start, "end": scope.period.end},
        "filters": scope.filters.as_params(),
        "metrics": figures,
        "comparison": comparison,
        # None when the data does not cover both periods: nothing is compared then.
        "previous_metrics": metrics.compute(scope.previous()) if compared else None,
        "funnel": metrics.funnel(scope),
        "by_source_type": volume_series(scope, "source_type"),
        "by_channel": volume_series(scope, "channel"),
        "sla": sla(scope),
        "bottlenecks": bottlenecks.find(scope, compared=compared),
        "referrers": network,
        "declining": [row for row in network if row["declining"]],
        "segments": by_segment,
        "flows": flows(scope),
    }
