"""The analytics API: docs/design.md's metrics, the referrers and the funnel for a period.

Periods are `start` (inclusive) and `end` (exclusive) local dates, the last 12 months when
both are left out (as the dashboard opens); filters narrow the
referrals counted. A bad or unknown parameter answers 422 naming it (refloop.api). Aggregates only:
no patient appears in any answer, and an analyst's figures are suppressed as their export
is (analytics.privacy).
"""

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from refloop.analytics import coverage, dashboard, metrics, periods, privacy, referrers
from refloop.analytics.coverage import Coverage
from refloop.core.roles import Capability, require
from refloop.core.schemas import Id, IsoDate
from refloop.referrals.models import ReferralChannel, SourceType, Urgency

router = Router(tags=["analytics"])


class ScopeIn(Schema):
    start: IsoDate | None = Field(
        None,
        description=(
            "First day of the period (YYYY-MM-DD, the practice's time). Give start and end "
            "together, end after start, at most ten years apart (else 422); without both, "
            "the last 12 months, as the dashboard opens"
        ),
    )
    end: IsoDate | None = Field(
        None, description="Day after the last one: the period is [start, end); with start"
    )
    department: Id | None = Field(None, description="Department id")
    location: Id | None = Field(None, description="Location id (of the first appointment)")
    source_type: SourceType | None = None
    channel: ReferralChannel | None = Field(None, description="The channel it arrived by")
    practice: Id | None = Field(None, description="Referring practice id")
    urgency: Urgency | None = None


# Comma-separated metric names, spaces around them allowed, as the view's split reads them.
_METRIC = "|".join(metrics.METRICS)
METRIC_NAMES = rf"^[ \t]*(?:{_METRIC})?[ \t]*(?:,[ \t]*(?:{_METRIC})?[ \t]*)*$"


class MetricsIn(ScopeIn):
    metrics: str | None = Field(
        None,
        pattern=METRIC_NAMES,
        description=(
            "Comma-separated metric names, of "
            + ", ".join(metrics.METRICS)
            + "; all of them when omitted"
        ),
    )


def _scope(request: HttpRequest) -> metrics.Scope:
    require(request.user, Capability.VIEW_ANALYTICS)
    # The period defaults as the dashboard's does, so the API and the page agree unasked.
    return periods.scope_from(request.GET, timezone.now())


def _echo(scope: metrics.Scope) -> dict:
    """The period and filters asked for, what the data covers of them, and whether the
    period is compared with the one before (analytics.coverage: only when the data covers
    both; `previous_volume` is null otherwise). `months` are the period's local months;
    a month counted only in part (the current month to date, the month the data starts
    in) has `partial: true` and the days counted, [start, end)."""
    comparison = coverage.comparison(scope)
    return {
        "start": scope.period.start,
        "end": scope.period.end,
        "filters": scope.filters.as_params(),
        "data_from": comparison["data_from"],
        "comparison": {
            "compared": comparison["compared"],
            "previous_start": comparison["previous_start"],
            "previous_end": comparison["previous_end"],
            "note": comparison["note"],
        },
        "months": [_month(period) for period in Coverage.of(scope).months(scope.period)],
    }


def _month(period: dict) -> dict:
    month = period["month"]
    counted = (
        {"start": period["counted_from"], "end": period["counted_to"]}
        if period["counted_from"]
        else None
    )
    return {
        "month": f"{month // 100}-{month % 100:02d}",
        "label": period["label"],
        "partial": period["partial"],
        "counted": counted,
    }


# The query schemas document the parameters in OpenAPI; the values are read from
# request.GET by metrics.parse_scope so that every endpoint, page and export answers a
# bad value with the same sentence.
@router.get("/analytics/metrics", response={200: dict})
def analytics_metrics(request: HttpRequest, query: Query[MetricsIn]):
    """Every metric of docs/design.md (or those named in `metrics`) for the period."""
    scope = _scope(request)
    names = tuple(
        name.strip() for name in (request.GET.get("metrics") or "").split(",") if name.strip()
    )
    found = metrics.compute(scope, names or metrics.METRICS)
    echo = _echo(scope)
    if privacy.applies_to(request.user):
        analyst = _analyst_copy(scope)
        shown = analyst.metrics()
        found = {name: shown.get(name, {}) for name in found}
        per_month = analyst.monthly_volume()
    else:
        monthly = dashboard.volume_series(scope, "source_type")["series"].values()
        per_month = [sum(counts) for counts in zip(*monthly, strict=True)] or [0] * len(
            echo["months"]
        )
    if "volume" in found:
        # Per month, flagged as the months are: a partial month is never a whole one.
        found["volume"]["by_month"] = [
            {"month": month["month"], "count": n, "partial": month["partial"]}
            for month, n in zip(echo["months"], per_month, strict=True)
        ]
    return {**echo, "metrics": found}


def _analyst_copy(scope: metrics.Scope) -> privacy.Shown:
    """The analyst's figures, suppressed as their export is (analytics.privacy)."""
    return privacy.Shown.of(dashboard.build(scope))


@router.get("/analytics/referrers", response={200: dict})
def analytics_referrers(request: HttpRequest, query: Query[ScopeIn]):
    """Per referring practice: volume (and the previous period's, null when the periods are
    not compared), monthly trend (one count per entry of `months`), segment (loyal,
    semi_loyal, new, non_referring, or receiver: only receives our referrals) and declining
    flag as of `end` with the referrals of the last 90 days, of the 365 before, the count
    expected from those (unrounded) and P(X ≤ recent) for X ~ Poisson(expected), given
    whatever the prior count (the flag needs 6), conversion, median hours to first
    contact."""
    scope = _scope(request)
    if privacy.applies_to(request.user):
        return {**_echo(scope), "referrers": _analyst_copy(scope).referrers()}
    return {**_echo(scope), "referrers": referrers.referrers(scope)}


@router.get("/analytics/funnel", response={200: dict})
def analytics_funnel(request: HttpRequest, query: Query[ScopeIn]):
    """For the referrals received in the period. `states`: per state, how many reached it,
    were lost at it, are in it now, and the median hours spent there. `milestones`: the
    funnel (received, accepted, scheduled, seen, loop_closed), whose counts only go down:
    how many passed each, were lost before the next (`lost_here`), are on the way now
    (`now_here`), and the median hours in it. `detours`: the optional states (in_review,
    pending_info, contacting, no_show), each with the milestone it leaves (`after`), how
    many took it and their `share` of those that passed that milestone, lost and now
    there, and the median hours spent there."""
    scope = _scope(request)
    if privacy.applies_to(request.user):
        return {**_echo(scope), **_analyst_copy(scope).funnel()}
    return {**_echo(scope), **metrics.funnel(scope)}
