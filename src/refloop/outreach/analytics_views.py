"""The outreach analytics page: what the liaisons did and what it is worth (visits per
liaison per week, cadence met, coverage of the top referrers, activities by type and topic,
cost, and the referral lift). For liaisons and admins (WORK_OUTREACH) and every role that
reads analytics (VIEW_ANALYTICS); an analyst's copy hides referral counts of 1 to 10."""

from datetime import timedelta

from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from refloop.analytics import charts, privacy, suppression
from refloop.core.roles import Capability, can
from refloop.outreach import lift as lift_
from refloop.outreach import outreach_figures as figures
from refloop.outreach.tiers import today
from refloop.web.access import is_staff_member, let_in

SPANS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months"}
DEFAULT_DAYS = 90


def may_read(user) -> bool:
    return is_staff_member(user) and (
        can(user, Capability.WORK_OUTREACH) or can(user, Capability.VIEW_ANALYTICS)
    )


outreach_or_analytics = let_in(
    may_read,
    "Outreach analytics are for liaisons, admins and the roles that read analytics.",
)


def _money(value) -> str:
    return f"${value:,.2f}"


def _count(value: int, hide: bool) -> str:
    if hide and 1 <= value <= suppression.SMALL_MAX:
        return suppression.SMALL
    return f"{value:,}"


def lift_rows(report: lift_.LiftReport, hide: bool) -> list[dict]:
    """The lift per liaison and overall as the page shows them; for an analyst a row resting
    on 1 to 10 referrals has its counts written <11 and its estimate suppressed."""
    rows = []
    for row in [*report.by_liaison, report.overall]:
        small = hide and any(1 <= n <= suppression.SMALL_MAX for n in (row.before, row.after))
        rows.append(
            {
                "label": row.label,
                "practices": row.practices,
                "unmatched": row.unmatched,
                "before": _count(row.before, hide),
                "after": _count(row.after, hide),
                "words": suppression.SUPPRESSED if small else row.words,
                "estimate": None if small else row.estimate,
                "low": None if small else row.low,
                "high": None if small else row.high,
                "overall": row is report.overall,
            }
        )
    return rows


def _chart_number(value):
    return None if value is None else round(value, 2)


@require_GET
@outreach_or_analytics
def outreach_analytics(request):
    try:
        days = int(request.GET.get("days", DEFAULT_DAYS))
    except ValueError:
        days = DEFAULT_DAYS
    days = days if days in SPANS else DEFAULT_DAYS
    on, now = today(), timezone.now()
    span = figures.Span.last(days, on)
    hide = privacy.applies_to(request.user)

    weekly = figures.visits_per_week(span)
    week_labels = [f"{monday:%-d %b}" for monday in weekly["weeks"]]
    cadence = figures.cadence_met(on)
    coverage, covered = figures.top_referrer_coverage(on, now=now)
    kinds = figures.activities_by_kind(span)
    topics = figures.activities_by_topic(span)
    costs = figures.cost_by_liaison(span)
    report = lift_.lift(on=on)
    rows = lift_rows(report, hide)
    shown = [r for r in rows if r["estimate"] is not None]

    specs = {
        "visits": charts.line(
            "In-person visits per liaison per week",
            week_labels,
            weekly["series"],
            y_name="Visits",
            x_name="Week of",
        ),
        "cadence": charts.bar(
            "Tier A and B practices visited within their cadence",
            [row.label for row in cadence],
            {"Visited within cadence": [row.percent for row in cadence]},
            y_name="Practices",
            x_name="Group",
            horizontal=True,
            percent=True,
        ),
        "kinds": charts.bar(
            "Activities by type",
            [label for label, _, _ in kinds],
            {"Activities": [n for _, n, _ in kinds]},
            y_name="Activities",
            x_name="Type",
            horizontal=True,
        ),
        "topics": charts.bar(
            "Activities by topic",
            [name for name, _ in topics],
            {"Activities": [n for _, n in topics]},
            y_name="Activities",
            x_name="Topic",
            horizontal=True,
        ),
        "cost": charts.bar(
            "Cost by liaison",
            [name for name, _, _ in costs],
            {"Cost ($)": [cost for _, _, cost in costs]},
            y_name="Dollars",
            x_name="Liaison",
            horizontal=True,
        ),
        "lift": charts.bar(
            "Referral lift per practice per 90 days",
            [r["label"] for r in shown],
            {
                "Estimate": [_chart_number(r["estimate"]) for r in shown],
                "Interval low": [_chart_number(r["low"]) for r in shown],
                "Interval high": [_chart_number(r["high"]) for r in shown],
            },
            y_name="Referrals per practice per 90 days",
            x_name="Liaison",
            horizontal=True,
            mark_line=0,
            mark_label="No effect",
        ),
    }
    context = {
        "days": days,
        "span_label": SPANS[days],
        "span_links": [
            {"days": d, "label": label, "current": d == days} for d, label in SPANS.items()
        ],
        "span": span,
        "span_last": span.end - timedelta(days=1),
        "charts": specs,
        "liaisons": list(weekly["series"]),
        "cadence": cadence,
        "coverage": coverage,
        "covered": covered,
        "coverage_percent": round(100 * covered / len(coverage)) if coverage else None,
        "coverage_days": figures.COVERAGE_DAYS,
        "kinds": [(label, n, _money(cost)) for label, n, cost in kinds],
        "topics": topics,
        "costs": [(name, n, _money(cost)) for name, n, cost in costs],
        "total_cost": _money(sum((cost for _, _, cost in kinds), start=0)),
        "lift": report,
        "lift_rows": rows,
        "lift_overall": rows[-1],
        "lift_charted": bool(shown),
        "window": lift_.WINDOW_DAYS,
        "hide": hide,
    }
    return render(request, "outreach/analytics.html", context)


urlpatterns = [
    path("outreach/analytics/", outreach_analytics, name="outreach_analytics"),
]
