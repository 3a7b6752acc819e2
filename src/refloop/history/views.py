"""The history import page for admins: the layout, a template, the upload, each run's
progress and outcome, and the export of all history.

URLs carry run ids only. Exports and run pages show PHI or what was read from it, so
they are audited; the layout page and the template hold none.
"""

import tempfile

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refloop.core import audit
from refloop.core.errors import DomainError
from refloop.core.roles import Capability
from refloop.core.sessions import passive
from refloop.history.export import export_history, write_template
from refloop.history.forms import HistoryUploadForm
from refloop.history.layout import COLUMNS, EVENT_LOG_COLUMNS
from refloop.history.mapping import allowed_values
from refloop.history.models import ImportRun, MappedKind, RunStatus
from refloop.history.runs import map_values, start_run
from refloop.practice.models import Organization
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

POLL_SECONDS = 1
ERRORS_PER_PAGE = 100
RECENT_RUNS = 10
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

admin_view = staff_view(Capability.MANAGE_SETTINGS)


def _page_context(form: HistoryUploadForm) -> dict:
    return {
        "form": form,
        "columns": COLUMNS,
        "event_log_columns": EVENT_LOG_COLUMNS,
        "runs": ImportRun.objects.select_related("uploaded_by")[:RECENT_RUNS],
        "zone": Organization.current().zone,
    }


@require_http_methods(["GET", "POST"])
@admin_view
def import_page(request):
    """The layout and template (GET); the upload, which queues a run and shows it (POST)."""
    if request.method != "POST":
        return render(request, "history/import.html", _page_context(HistoryUploadForm()))
    form = HistoryUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            run = start_run(
                acting_user=request.user,
                upload=form.cleaned_data["file"],
                only_good=form.cleaned_data["only_good"],
            )
        except DomainError as error:
            attach_domain_error(form, error)
        else:
            return redirect("history_run", pk=run.pk)
    return render(request, "history/import.html", _page_context(form), status=422)


def _run_context(run: ImportRun, page_number) -> dict:
    paginator = Paginator(run.errors, ERRORS_PER_PAGE)
    percent = round(100 * run.done_rows / run.total_rows) if run.total_rows else 0
    analyzed = round(100 * run.done_rows / run.imported_rows) if run.imported_rows else 0
    return {
        "run": run,
        "errors": paginator.get_page(page_number),
        "percent": percent,
        "analyzed_percent": analyzed,
        "poll_seconds": POLL_SECONDS,
        "zone": Organization.current().zone,
        "statuses": RunStatus,
        "to_map": _to_map(run),
    }


def _to_map(run: ImportRun) -> list[dict]:
    """The run's unknown values, each with the field that maps it and its choices."""
    if run.status != RunStatus.INVALID:
        return []
    choices: dict[str, tuple[str, ...]] = {}
    rows = []
    for index, unknown in enumerate(run.unknown_values):
        kind = unknown["kind"]
        if kind not in choices:
            choices[kind] = allowed_values(kind)
        rows.append(
            {
                **unknown,
                "field": f"map-{index}",
                "kind_label": MappedKind(kind).label,
                "choices": choices[kind],
            }
        )
    return rows


@require_GET
@admin_view
def run_page(request, pk: int):
    """One run: its progress while it works, then the bad rows or the summary."""
    run = get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk)
    audit.record(
        "history.run_read",
        audit.Touch("history_import", run.pk),
        actor=request.user,
        detail={"status": run.status},
    )
    return render(request, "history/run.html", _run_context(run, request.GET.get("page")))


@require_POST
@admin_view
def run_map(request, pk: int):
    """Map each unknown value of a run to refloop's, then check and import it again."""
    run = get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk)
    chosen = {
        (unknown["kind"], unknown["original"]): request.POST.get(f"map-{index}", "")
        for index, unknown in enumerate(run.unknown_values)
    }
    try:
        map_values(acting_user=request.user, run=run, chosen=chosen)
    except DomainError as error:
        context = _run_context(run, None)
        context["map_error"] = str(error)
        return render(request, "history/run.html", context, status=422)
    return redirect("history_run", pk=run.pk)


@passive  # polled: a page left open on it must still sign its user out
@require_GET
@admin_view
def run_progress(request, pk: int):
    """The progress bar, polled by htmx; once the run is over the whole page reloads
    (and is audited) to show the outcome."""
    run = get_object_or_404(ImportRun, pk=pk)
    response = render(request, "history/_progress.html", _run_context(run, None))
    if run.finished:
        response["HX-Refresh"] = "true"
    return response


@require_GET
@admin_view
def template_file(request, fmt: str, event_log: bool = False):
    """The layout's header and example rows (no patient data, so not audited)."""
    if fmt not in FORMATS:
        raise Http404
    out = tempfile.TemporaryFile()
    write_template(out, fmt, event_log=event_log)
    out.seek(0)
    name = "event-log-template" if event_log else "template"
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"refloop-history-{name}.{fmt}",
        content_type=FORMATS[fmt],
    )


@require_GET
@admin_view
def export_file(request, fmt: str, event_log: bool = False):
    """Every inbound referral in a layout: PHI, so admins only and audited (by the
    export itself). Written to a temporary file first, in constant memory."""
    if fmt not in FORMATS:
        raise Http404
    out = tempfile.TemporaryFile()
    export_history(out, fmt, acting_user=request.user, event_log=event_log)
    out.seek(0)
    stamp = timezone.now().astimezone(Organization.current().zone).strftime("%Y%m%d-%H%M")
    kind = "event-log" if event_log else "history"
    response = FileResponse(
        out,
        as_attachment=True,
        filename=f"refloop-{kind}-{stamp}.{fmt}",
        content_type=FORMATS[fmt],
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("analytics/history/", import_page, name="history_import"),
    path("analytics/history/runs/<int:pk>/", run_page, name="history_run"),
    path("analytics/history/runs/<int:pk>/map", run_map, name="history_run_map"),
    path("analytics/history/runs/<int:pk>/progress", run_progress, name="history_run_progress"),
    path("analytics/history/template.<str:fmt>", template_file, name="history_template"),
    path(
        "analytics/history/event-log-template.<str:fmt>",
        template_file,
        {"event_log": True},
        name="history_event_log_template",
    ),
    path("analytics/history/export.<str:fmt>", export_file, name="history_export"),
    path(
        "analytics/history/event-log.<str:fmt>",
        export_file,
        {"event_log": True},
        name="history_export_event_log",
    ),
]
