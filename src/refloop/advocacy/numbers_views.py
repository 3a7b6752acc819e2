"""The Feedback analytics page (advocacy.numbers' tables for one scope, with charts where
people compare), a CSV per table, and the cases behind a count for those who handle
feedback. Analysts get every figure suppressed as analytics suppresses its own."""

from datetime import timedelta
from typing import TextIO, cast

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from refloop.advocacy import case_clocks, numbers
from refloop.advocacy.models import Case, CaseCategory, CaseSource
from refloop.analytics import charts, privacy
from refloop.analytics.exports import write_csv
from refloop.analytics.metrics import Scope
from refloop.analytics.periods import query, scope_params
from refloop.analytics.privacy import is_hidden
from refloop.analytics.tables import Table
from refloop.analytics.views import form_fields, period_links
from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, can
from refloop.web.access import staff_view

CASES_SHOWN = 200
WITHHELD_NOTE = (
    "Some of these figures rest on fewer than 11 responses or people, so the chart is not "
    "drawn: see the table “{title}” below, where they are shown as the export writes them."
)


def text(value) -> str:
    if value is None:
        return "–"
    if is_hidden(value):
        return value
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _hides_any(table: Table, columns: tuple[int, ...], rows: range | None = None) -> bool:
    chosen = table.rows if rows is None else [table.rows[i] for i in rows]
    return any(is_hidden(row[c]) for row in chosen for c in columns)


def _labels(table: Table, rows: range) -> list[str]:
    return [str(table.rows[i][0]) for i in rows]


def _figures(table: Table, column: int, rows: range) -> list[float | None]:
    """A column's figures for a chart (only ever drawn when none of them is hidden)."""
    values = [table.rows[i][column] for i in rows]
    return [float(v) if isinstance(v, int | float) else None for v in values]


def build_charts(by_key: dict[str, Table]) -> dict:
    """NPS by month (with its margin of error as a band of low and high lines), NPS by
    department and cases by category; a chart any of whose figures is hidden is not drawn."""
    found = {}
    months = by_key["satisfaction_by_month"]
    month_rows = range(len(months.rows) - 1)  # not the "All" row
    if _hides_any(months, (7, 8), month_rows):
        found["nps_by_month"] = _withheld("NPS by month", months)
    else:
        labels = _labels(months, month_rows)
        score = _figures(months, 7, month_rows)
        margin = _figures(months, 8, month_rows)
        pairs = list(zip(score, margin, strict=True))
        low = [None if s is None or m is None else round(s - m, 1) for s, m in pairs]
        high = [None if s is None or m is None else round(s + m, 1) for s, m in pairs]
        spec = charts.line(
            "NPS by month",
            labels,
            {"NPS": score, "95% low": low, "95% high": high},
            y_name="NPS (points)",
            x_name="Month",
            mark_line=0,
            mark_label="NPS 0",
        )
        for entry in spec["option"]["series"][1:]:  # the band's edges, lighter than the NPS
            entry["lineStyle"] = {"type": "dashed", "width": 1}
            entry["symbolSize"] = 4
        spec["table"]["caption"] = (
            "The low and high lines are the 95% margin of error around the NPS. "
            + spec["table"]["caption"]
        ).strip()
        found["nps_by_month"] = spec
    departments = by_key["satisfaction_by_department"]
    rows = range(len(departments.rows) - 1)
    if _hides_any(departments, (7, 8), rows):
        found["nps_by_department"] = _withheld("NPS by department", departments)
    else:
        found["nps_by_department"] = charts.bar(
            "NPS by department",
            _labels(departments, rows),
            {
                "NPS": _figures(departments, 7, rows),
                "Margin of error (±)": _figures(departments, 8, rows),
            },
            y_name="NPS (points)",
            x_name="Department",
            horizontal=True,
        )
    categories = by_key["cases_by_category"]
    rows = range(len(categories.rows) - 1)
    if _hides_any(categories, (1, 6, 7), rows):
        found["cases_by_category"] = _withheld("Cases by category", categories)
    else:
        found["cases_by_category"] = charts.bar(
            "Cases by category",
            _labels(categories, rows),
            {
                "Cases": _figures(categories, 1, rows),
                "Open now": _figures(categories, 6, rows),
                "Late now": _figures(categories, 7, rows),
            },
            y_name="Cases",
            x_name="Category",
            horizontal=True,
        )
    return found


def _withheld(title: str, table: Table) -> dict:
    return {
        "kind": "withheld",
        "title": title,
        "table": table,
        "show_table": False,
        "note": WITHHELD_NOTE.format(title=table.title),
    }


def present(table: Table, scope: Scope, may_list_cases: bool) -> dict:
    """A table as the page shows it; for those who handle feedback a case count links to
    the cases it counts (filters and period only in the link)."""
    rows = []
    choices = {"cases_by_category": CaseCategory, "cases_by_source": CaseSource}.get(table.key)
    by_label = {str(label): value for value, label in choices.choices} if choices else {}
    for row in table.rows:
        cells = [{"text": text(value), "href": None} for value in row]
        if may_list_cases and choices and isinstance(row[1], int) and row[1] > 0:
            narrow = {table.key.removeprefix("cases_by_"): by_label.get(str(row[0]), "")}
            cells[1]["href"] = reverse("advocacy_numbers_cases") + query(
                {**scope_params(scope), **narrow}
            )
        rows.append({"cells": cells, "total": row[0] == numbers.ALL})
    return {
        "key": table.key,
        "title": table.title,
        "headers": table.headers,
        "rows": rows,
        "download": reverse("advocacy_numbers_csv", args=[table.key]) + query(scope_params(scope)),
    }


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def numbers_page(request):
    now = timezone.now()
    params, scope, error = numbers.read_scope(request.GET, now)
    context: dict = {
        "fields": [f for f in form_fields(params, error) if f["name"] in numbers.PARAMS],
        "period_links": period_links(params, now),
        "error": error,
        "few": numbers.FEW_RESPONSES,
        "caution": numbers.CAUTION,
    }
    if scope is None:  # the error says why
        return render(request, "advocacy/numbers.html", context, status=400)
    found = numbers.tables_for(request.user, scope, now)
    by_key = {table.key: table for table in found}
    may_list = can(request.user, Capability.HANDLE_FEEDBACK)
    shown = {table.key: present(table, scope, may_list) for table in found}
    context.update(
        {
            "scope": scope,
            "period_start": scope.period.start,
            "period_last": scope.period.end - timedelta(days=1),
            "hide": privacy.applies_to(request.user),
            "charts": build_charts(by_key),
            "satisfaction": [shown[f"satisfaction_by_{by}"] for by in numbers.BREAKDOWNS],
            "reviews": [shown["reviews_by_month"], shown["reviews_by_site"]],
            "cases": [shown["cases_by_category"], shown["cases_by_source"]],
            "advocates": shown["advocates"],
            "offices": shown["office_scores"],
            "may_list_cases": may_list,
        }
    )
    return render(request, "advocacy/numbers.html", context)


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def numbers_csv(request, feedback_table: str):
    table = feedback_table
    if table not in numbers.TABLES:
        raise Http404("No such feedback table.")
    now = timezone.now()
    _, scope, error = numbers.read_scope(request.GET, now)
    try:
        if error is not None:
            raise error
        suppressed = privacy.suppressed_for(request.user, request.GET.get("suppress"))
    except InvalidInput as refused:
        return HttpResponse(refused.message, status=400, content_type="text/plain; charset=utf-8")
    assert scope is not None
    found = next(
        t
        for t in numbers.tables_for(request.user, scope, now, suppressed=suppressed)
        if t.key == table
    )
    audit.record(
        "analytics.exported",
        audit.Touch("analytics_table", f"feedback:{table}"),
        actor=request.user,
        detail={
            "table": f"feedback:{table}",
            "format": "csv",
            "start": scope.period.start.isoformat(),
            "end": scope.period.end.isoformat(),
            "filters": scope.filters.as_params(),
            "suppressed": suppressed,
        },
        now=now,
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    write_csv(found, cast(TextIO, response))  # an HttpResponse is written like a file
    period = scope.period
    name = f"refloop-feedback-{table.replace('_', '-')}-{period.start}-to-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view(Capability.HANDLE_FEEDBACK)
def numbers_cases(request):
    """The cases behind a count on the Feedback page: numbers, categories, states and clocks,
    no patient. Each case listed is audited as read."""
    now = timezone.now()
    params, scope, error = numbers.read_scope(request.GET, now)
    category = request.GET.get("category", "")
    source = request.GET.get("source", "")
    if error is None and category and category not in CaseCategory.values:
        error = InvalidInput("category must be one of " + ", ".join(CaseCategory.values) + ".")
    if error is None and source and source not in CaseSource.values:
        error = InvalidInput("source must be one of " + ", ".join(CaseSource.values) + ".")
    context: dict = {"error": error, "back": reverse("advocacy_numbers") + query(params)}
    if scope is None or error is not None:
        return render(request, "advocacy/numbers_cases.html", context, status=400)
    found = numbers.cases(scope).order_by("-opened_at")
    if category:
        found = found.filter(category=category)
    if source:
        found = found.filter(source=source)
    listed = list(found[:CASES_SHOWN])
    audit.record_many(
        "case.listed", [case.audit_touch() for case in listed], actor=request.user, now=now
    )
    context.update(
        {
            "period_start": scope.period.start,
            "period_last": scope.period.end - timedelta(days=1),
            "category": CaseCategory(category).label if category else "",
            "source": CaseSource(source).label if source else "",
            "cases": [_case_row(case, now) for case in listed],
            "more": found.count() - len(listed),
        }
    )
    return render(request, "advocacy/numbers_cases.html", context)


def _case_row(case: Case, now) -> dict:
    return {
        "number": case.number,
        "pk": case.pk,
        "category": case.get_category_display(),
        "source": case.get_source_display(),
        "state": case.get_state_display(),
        "opened_at": case.opened_at,
        "acknowledge_by": case.acknowledge_by,
        "acknowledged_at": case.acknowledged_at,
        "resolve_by": case.resolve_by,
        "resolved_at": case.resolved_at,
        "late": case_clocks.is_overdue(case, now=now),
    }


urlpatterns = [
    path("analytics/feedback/", numbers_page, name="advocacy_numbers"),
    path("analytics/feedback/cases/", numbers_cases, name="advocacy_numbers_cases"),
    path(
        "analytics/feedback/export/<slug:feedback_table>.csv",
        numbers_csv,
        name="advocacy_numbers_csv",
    ),
]
