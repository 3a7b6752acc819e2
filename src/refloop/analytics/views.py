"""The analytics dashboard: the period and filter form, the bottlenecks and declining
referrers, the headline tiles, the charts and the referrers table.

The page reads `dashboard.build(scope)` once and the previous period's metrics once;
every chart and table is cut from those. The referrers table sorts on the server (links
that work without script; htmx swaps only the table in, from `referrers_fragment`, which
reads the referrers and nothing else).
"""

from datetime import timedelta

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from refloop.analytics import dashboard, metrics, panels, privacy, referrers, tiles
from refloop.analytics.charts import sparkline
from refloop.analytics.metrics import FILTER_CHOICES, Scope
from refloop.analytics.periods import (
    SCOPE_PARAMS,
    local_today,
    query,
    quick_choices,
    scope_params,
    with_default_period,
)
from refloop.analytics.privacy import is_hidden
from refloop.analytics.selection import drill_url
from refloop.analytics.tables import TABLES, Table
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can
from refloop.network.models import Practice
from refloop.practice.models import Department, Location
from refloop.web.access import staff_view

REFERRERS_SHOWN = 25
REFERRER_SORTS = {
    "practice": lambda r: r["practice"].lower(),
    "segment": lambda r: referrers.SEGMENTS.index(r["segment"]),
    "volume": lambda r: r["volume"],
    "previous": lambda r: r["previous_volume"],
    "recent": lambda r: r["recent_90_days"],
    "expected": lambda r: r["expected_90_days"],
    "p_value": lambda r: r["p_value"],
    "conversion": lambda r: r["conversion"],
    "first_contact": lambda r: r["median_hours_to_first_contact"],
}
REFERRER_COLUMNS = (
    ("practice", "Practice"),
    ("segment", "Segment"),
    ("volume", "Referrals"),
    ("previous", "Previous period"),
    (None, "Trend"),
    ("recent", "Last 90 days"),
    ("expected", "Expected per 90 days"),
    ("p_value", "p-value"),
    ("conversion", "Conversion"),
    ("first_contact", "Median time to first contact"),
)


def export_links(params: dict) -> dict:
    """Download links by table key (tables.TABLES), and "all" for the workbook, for the
    dashboard's period and filters."""
    qs = query(params)
    links = {key: reverse("analytics_export_csv", args=[key]) + qs for key in TABLES}
    links["all"] = reverse("analytics_export_xlsx") + qs
    return links


def form_fields(params: dict, error: InvalidInput | None) -> list[dict]:
    """The filter form's fields with their current values and choices, and the error
    sentence beside the field it names."""

    def options(pairs):
        return [{"value": str(value), "label": text} for value, text in pairs]

    choices = {
        "department": options(Department.objects.order_by("name").values_list("pk", "name")),
        "location": options(Location.objects.order_by("name").values_list("pk", "name")),
        "source_type": options((v, panels.label(v)) for v in FILTER_CHOICES["source_type"]),
        "channel": options((v, panels.CHANNEL_LABELS.get(v, v)) for v in FILTER_CHOICES["channel"]),
        "practice": options(Practice.objects.order_by("name").values_list("pk", "name")),
        "urgency": options((v, panels.URGENCY_LABELS.get(v, v)) for v in FILTER_CHOICES["urgency"]),
    }
    labels = {
        "start": "Start",
        "end": "End (not included)",
        "department": "Department",
        "location": "Location",
        "source_type": "Source",
        "channel": "Channel",
        "practice": "Referring practice",
        "urgency": "Urgency",
    }
    fields = []
    for name in SCOPE_PARAMS:
        field = {
            "name": name,
            "label": labels[name],
            "value": params.get(name, ""),
            "kind": "date" if name in ("start", "end") else "select",
            "options": choices.get(name, []),
            "error": error.message if error is not None and error.field == name else "",
        }
        known = {o["value"] for o in field["options"]}
        if field["kind"] == "select" and field["value"] and field["value"] not in known:
            # Keep what was asked for visible next to the sentence saying what is wrong.
            field["options"] = [
                {"value": field["value"], "label": field["value"]},
                *field["options"],
            ]
        fields.append(field)
    return fields


def period_links(params: dict, now) -> list[dict]:
    filters = {k: v for k, v in params.items() if k not in ("start", "end")}
    links = []
    for choice in quick_choices(local_today(now)):
        start, end = choice["start"].isoformat(), choice["end"].isoformat()
        links.append(
            {
                "label": choice["label"],
                "url": "?" + query({"start": start, "end": end, **filters}).lstrip("?"),
                "current": params.get("start") == start and params.get("end") == end,
            }
        )
    return links


def in_words(value, fmt) -> str:
    """A figure in words: "–" for none, an analyst's "<11" or "suppressed" as it is."""
    if is_hidden(value):
        return value
    return "–" if value is None else fmt(value)


def referrer_rows(rows: list[dict], scope: Scope, sort: str, show_all: bool) -> dict:
    key = sort.lstrip("-")
    if key in REFERRER_SORTS:
        getter = REFERRER_SORTS[key]
        # Hidden figures sort with the missing ones, in the order the export lists them.
        present = [r for r in rows if getter(r) is not None and not is_hidden(getter(r))]
        missing = [r for r in rows if getter(r) is None or is_hidden(getter(r))]
        rows = sorted(present, key=getter, reverse=sort.startswith("-")) + missing
    shown = rows if show_all else rows[:REFERRERS_SHOWN]
    return {
        "rows": [
            {
                **row,
                "url": drill_url(scope, practice=row["practice_id"]),
                "segment_label": panels.SEGMENT_LABELS[row["segment"]],
                "change": None
                if row["previous_volume"] is None
                or is_hidden(row["volume"])
                or is_hidden(row["previous_volume"])
                else row["volume"] - row["previous_volume"],
                "previous_text": in_words(row["previous_volume"], "{:,}".format),
                "spark": sparkline(row["trend"]),
                "expected_text": in_words(row["expected_90_days"], "{:.1f}".format),
                "first_contact": panels.hours_words(row["median_hours_to_first_contact"])
                if not is_hidden(row["median_hours_to_first_contact"])
                else row["median_hours_to_first_contact"],
                "p_text": p_value_text(row["p_value"]),
                "conversion_text": in_words(row["conversion"], lambda c: f"{c * 100:.0f}%"),
            }
            for row in shown
        ],
        "total": len(rows),
        "hidden": len(rows) - len(shown),
    }


def p_value_text(p: float | str | None) -> str:
    if is_hidden(p):
        return p
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def referrer_context(rows: list[dict], scope: Scope, params: dict, request) -> dict:
    sort = request.GET.get("rsort", "")
    if sort.lstrip("-") not in REFERRER_SORTS:
        sort = ""
    show_all = request.GET.get("rall") == "1"
    columns = []
    for key, heading in REFERRER_COLUMNS:
        column = {"key": key, "heading": heading, "aria_sort": ""}
        if key:
            current = sort.lstrip("-") == key
            descending = sort.startswith("-")
            if current:
                column["aria_sort"] = "descending" if descending else "ascending"
            next_sort = key if current and descending else f"-{key}"
            if key == "practice" and not current:
                next_sort = "practice"
            state = {**params, "rsort": next_sort, "rall": "1" if show_all else ""}
            column["url"] = query(state) + "#referrers"
            column["fragment"] = reverse("analytics_referrers") + query(state)
        columns.append(column)
    all_state = {**params, "rsort": sort, "rall": "1"}
    return {
        "referrers": referrer_rows(rows, scope, sort, show_all),
        "referrer_columns": columns,
        "referrers_all_url": query(all_state) + "#referrers",
        "referrers_all_fragment": reverse("analytics_referrers") + query(all_state),
        "referrers_sorted": bool(sort),
        # referrers.referrers leaves every previous volume out when the periods are not compared.
        "referrers_compared": not rows or rows[0]["previous_volume"] is not None,
    }


def _scope_or_error(request) -> tuple[dict, Scope | None, InvalidInput | None]:
    """The query's scope and no error, or no scope and the error that stopped it."""
    now = timezone.now()
    params = with_default_period(request.GET, now)
    try:
        return params, metrics.parse_scope(params, now=now), None
    except InvalidInput as error:
        return params, None, error


@staff_view(Capability.VIEW_ANALYTICS)
def dashboard_page(request):
    params, scope, error = _scope_or_error(request)
    now = timezone.now()
    context: dict[str, object] = {
        "fields": form_fields(params, error),
        "period_links": period_links(params, now),
        "error": error,
    }
    if scope is None:  # the error says why
        return render(request, "analytics/dashboard.html", context, status=400)

    params = scope_params(scope)
    board = dashboard.build(scope)
    figures, previous = board["metrics"], board["previous_metrics"]
    charts = panels.build(
        board,
        scope,
        anonymous_providers=not (
            can(request.user, Capability.VIEW_REFERRALS)
            or can(request.user, Capability.VIEW_REFERRAL_SUMMARIES)
        ),
    )
    declining, network = board["declining"], board["referrers"]
    sentences, withheld = board["bottlenecks"]["sentences"], 0
    if privacy.applies_to(request.user):
        analyst = privacy.Shown.of(board)
        figures = analyst.metrics()
        previous = None if previous is None else privacy.previous_metrics(previous)
        charts.update(withheld_charts(analyst.hidden_charts(), charts))
        declining, network = analyst.declining(), analyst.referrers()
        sentences, withheld = analyst.sentences()
    context.update(
        {
            "scope": scope,
            "period_start": scope.period.start,
            "period_last": scope.period.end - timedelta(days=1),
            "previous_start": scope.period.previous().start,
            "previous_last": scope.period.start - timedelta(days=1),
            "comparison": board["comparison"],
            "partial_months": [
                p for p in board["by_source_type"]["periods"] if p["partial"] and p["counted_from"]
            ],
            "empty_months": empty_months(board["by_source_type"]["periods"]),
            "sentences": sentences,
            "withheld_sentences": withheld,
            "tiles": tiles.build(figures, previous, scope),
            "charts": charts,
            "declining": [
                {
                    **row,
                    "url": drill_url(scope, practice=row["practice_id"]),
                    "p_text": p_value_text(row["p_value"]),
                    "expected_text": in_words(row["expected_90_days"], "{:.1f}".format),
                }
                for row in declining
            ],
            "segments": [
                {
                    "key": key,
                    "label": panels.SEGMENT_LABELS[key],
                    "practices": [
                        {**p, "url": drill_url(scope, practice=p["practice_id"])}
                        for p in board["segments"].get(key, [])
                    ],
                }
                for key in panels.SEGMENT_LABELS
            ],
            "downloads": export_links(params),
            "drill_all": drill_url(scope),
            **referrer_context(network, scope, params, request),
        }
    )
    return render(request, "analytics/dashboard.html", context)


def empty_months(periods: list[dict]) -> dict | None:
    """How many of the period's months have no data at all, and which ("Dec 2025 to
    May 2026"), or None."""
    empty = [panels.month_label(p["month"]) for p in periods if not p["counted_from"]]
    if not empty:
        return None
    return {
        "count": len(empty),
        "span": empty[0] if len(empty) == 1 else f"{empty[0]} to {empty[-1]}",
    }


def withheld_charts(hidden: dict[str, Table], charts: dict) -> dict:
    """For an analyst: each chart that would show a hidden figure, as its export table
    (once: charts drawn from a table already shown point to it)."""
    replaced, shown_tables = {}, set()
    for name, table in hidden.items():
        first = table.key not in shown_tables
        shown_tables.add(table.key)
        spec = {
            "kind": "withheld",
            "title": table.title,
            "table": table,
            "show_table": first,
            "note": "Some of these figures count fewer than 11 referrals, so they are "
            "shown as the export writes them, not as a chart."
            if first
            else f"Counts fewer than 11 referrals: see the table “{table.title}”.",
        }
        replaced[name] = [spec] if isinstance(charts[name], list) else spec
    return replaced


@staff_view(Capability.VIEW_ANALYTICS)
def referrers_fragment(request):
    """The referrers table alone, sorted or in full (htmx)."""
    params, scope, error = _scope_or_error(request)
    if scope is None:  # the error says why
        return render(request, "analytics/_error.html", {"error": error}, status=400)
    params = scope_params(scope)
    if privacy.applies_to(request.user):
        # Suppression looks at every table at once (they repeat each other's totals).
        rows = privacy.Shown.of(dashboard.build(scope)).referrers()
    else:
        rows = referrers.referrers(scope)
    context = {
        "downloads": export_links(params),
        **referrer_context(rows, scope, params, request),
    }
    return render(request, "analytics/_referrers.html", context)
