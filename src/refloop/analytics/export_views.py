"""Downloads of the analytics tables: one table as CSV, or all of them as XLSX, for the
same period and filters as the dashboard and the API. Analysts always get small cells
suppressed (they see de-identified aggregates only); other roles may ask for it with
`suppress=1`. Every export is audited: who, which table, which period and filters.
"""

from io import BytesIO

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from refloop.analytics import dashboard, metrics, privacy
from refloop.analytics.exports import About, write_csv, write_xlsx
from refloop.analytics.tables import TABLES, Table, suppress, tables
from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability
from refloop.network.models import Practice
from refloop.practice.models import Department, Location, Organization
from refloop.web.access import staff_view

# With no start and end, the export covers the last twelve months, like the dashboard.
DEFAULT_DAYS = 365
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Export:
    """One export request, read and checked: the scope, whether to suppress, the tables."""

    def __init__(self, request):
        self.now = timezone.now()
        self.scope = metrics.parse_scope(request.GET, now=self.now, default_days=DEFAULT_DAYS)
        self.suppressed = privacy.suppressed_for(request.user, request.GET.get("suppress"))
        self.user = request.user

    def tables(self) -> list[Table]:
        found = tables(dashboard.build(self.scope))
        return suppress(found) if self.suppressed else found

    def filename(self, name: str, extension: str) -> str:
        period = self.scope.period
        return f"refloop-{name}-{period.start.isoformat()}-to-{period.end.isoformat()}.{extension}"

    def about(self) -> About:
        return About(
            start=self.scope.period.start,
            end=self.scope.period.end,
            filters=_describe(self.scope.filters),
            generated_at=self.now.astimezone(Organization.current().zone),
            suppressed=self.suppressed,
        )

    def record(self, table: str, format: str) -> None:
        audit.record(
            "analytics.exported",
            audit.Touch("analytics_table", table),
            actor=self.user,
            detail={
                "table": table,
                "format": format,
                "start": self.scope.period.start.isoformat(),
                "end": self.scope.period.end.isoformat(),
                "filters": self.scope.filters.as_params(),
                "suppressed": self.suppressed,
            },
            now=self.now,
        )


def _describe(filters: metrics.Filters) -> list[tuple[str, str]]:
    """Each filter set, in words (names of the department, location or practice)."""
    models = {"department": Department, "location": Location, "practice": Practice}
    described = []
    for name, value in filters.as_params().items():
        if name in models:
            label = models[name].objects.filter(pk=value).values_list("name", flat=True).first()
            described.append((name, f"{label} (id {value})"))
        else:
            described.append((name, str(value)))
    return described


def _bad_request(error: InvalidInput) -> HttpResponse:
    return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def export_csv(request, table: str):
    if table not in TABLES:
        raise Http404("No such analytics table.")
    try:
        export = _Export(request)
    except InvalidInput as error:
        return _bad_request(error)
    found = next(t for t in export.tables() if t.key == table)
    export.record(table, "csv")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    write_csv(found, response)
    return _attachment(response, export.filename(table.replace("_", "-"), "csv"))


@require_GET
@staff_view(Capability.VIEW_ANALYTICS)
def export_xlsx(request):
    try:
        export = _Export(request)
    except InvalidInput as error:
        return _bad_request(error)
    found = export.tables()
    export.record("all", "xlsx")
    buffer = BytesIO()
    write_xlsx(found, buffer, about=export.about())
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    return _attachment(response, export.filename("analytics", "xlsx"))
