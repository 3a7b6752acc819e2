"""An uploaded history file's run: stored privately, then checked and imported by the
worker (tasks.py), with its progress and outcome kept on the ImportRun row."""

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability, require
from refloop.history import mapping
from refloop.history.models import ImportRun, RunStatus, original_key
from refloop.history.reading import UnreadableFile, format_of
from refloop.history.services import import_history
from refloop.history.validation import check_file

# Stored messages per run; a file with more bad rows says how many more there were.
MAX_STORED_ERRORS = 10_000
FAILED_MESSAGE = (
    "The import stopped on an unexpected error and nothing was imported. Try again; if it "
    "happens again, ask whoever runs refloop to look at the worker's log."
)


def start_run(*, acting_user, upload: UploadedFile, only_good: bool) -> ImportRun:
    """Store the uploaded file and queue its check and import."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    name = (upload.name or "history")[-255:]
    try:
        format_of(name)
    except UnreadableFile as problem:
        raise InvalidInput(problem.message, field="file") from None
    run = ImportRun(
        original_name=name,
        uploaded_by=acting_user,
        only_good=only_good,
        created_at=timezone.now(),
    )
    with transaction.atomic():
        run.file.save("upload", upload, save=False)
        run.save()
        audit.record(
            "history.uploaded",
            audit.Touch("history_import", run.pk),
            actor=acting_user,
            detail={"file": run.original_name, "only_good": only_good},
        )
        from refloop.history.tasks import run_history_import  # tasks imports this module

        transaction.on_commit(lambda: run_history_import.enqueue(run.pk))
    return run


def map_values(*, acting_user, run: ImportRun, chosen: dict[tuple[str, str], str]) -> None:
    """Remember the refloop value chosen for each of the run's unknown values, then check
    and import its file again. `chosen` is (kind, original) -> value, for every one."""
    require(acting_user, Capability.MANAGE_SETTINGS)
    if run.status != RunStatus.INVALID or not run.unknown_values:
        raise InvalidInput("This import has no values left to map.")
    entries = {}
    for unknown in run.unknown_values:
        kind, original = unknown["kind"], unknown["original"]
        value = chosen.get((kind, original), "")
        if value not in mapping.allowed_values(kind):
            raise InvalidInput(f"Choose what '{original}' means in refloop.", field=kind)
        entries[kind, original_key(original)] = (original, value)
    with transaction.atomic():
        mapping.remember(entries, acting_user=acting_user)
        audit.record(
            "history.values_mapped",
            audit.Touch("history_import", run.pk),
            actor=acting_user,
            detail={"values": len(entries)},
        )
        run.status = RunStatus.VALIDATING
        run.errors, run.unknown_values = [], []
        run.done_rows = run.imported_rows = 0
        run.finished_at = None
        run.save()
        from refloop.history.tasks import run_history_import  # tasks imports this module

        transaction.on_commit(lambda: run_history_import.enqueue(run.pk))


def process_run(run_id: int) -> str:
    """Check the run's file, then import it (or the good rows); returns the final status.
    Safe to run twice: a finished run is left as it is."""
    run = ImportRun.objects.select_related("uploaded_by").get(pk=run_id)
    if run.finished:
        return run.status
    if run.status == RunStatus.ANALYZING:
        # Its rows committed before the worker stopped; importing them again would add
        # them twice. The catch-up job builds the facts left to build.
        run.done_rows = run.total_rows
        return _finish(run, RunStatus.DONE)
    finished = False
    try:
        status = _check_and_import(run)
        finished = True
    finally:
        if not finished:
            _finish(run, RunStatus.FAILED, errors=[{"line": None, "message": FAILED_MESSAGE}])
    return status


def _check_and_import(run: ImportRun) -> str:
    with run.file.open("rb") as handle:
        content = handle.read()

    def checked_so_far(done: int, total: int) -> None:
        ImportRun.objects.filter(pk=run.pk).update(done_rows=done, total_rows=total)

    checked = check_file(content, run.original_name, progress=checked_so_far)
    errors = [e.as_dict() for e in checked.errors[:MAX_STORED_ERRORS]]
    if len(checked.errors) > MAX_STORED_ERRORS:
        more = len(checked.errors) - MAX_STORED_ERRORS
        errors.append({"line": None, "message": f"… and {more:,} more problems not listed."})
    run.total_rows = run.done_rows = checked.total_rows
    run.errors = errors
    run.unknown_values = [unknown.as_dict() for unknown in checked.unknown_values]
    # Rows with a value to map are bad rows: with only_good they are left out, and the
    # values are listed to map for the next file.
    if checked.file_problem or (checked.errors and not run.only_good):
        return _finish(run, RunStatus.INVALID)
    run.status = RunStatus.IMPORTING
    run.save(update_fields=["status", "total_rows", "done_rows", "errors"])

    def analyzed_so_far(done: int, total: int) -> None:
        # Called between the fact rebuild's committed chunks, so the page sees it move.
        ImportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.ANALYZING, done_rows=done, imported_rows=total
        )

    # The write is one transaction, so progress written inside it would show only at the
    # end; the page shows the write as under way, then the facts' progress.
    result = import_history(
        checked,
        acting_user=run.uploaded_by,
        only_good=run.only_good,
        run_id=run.pk,
        analytics_progress=analyzed_so_far,
    )
    run.imported_rows = result.imported
    return _finish(run, RunStatus.DONE)


def _finish(run: ImportRun, status: str, *, errors: list[dict] | None = None) -> str:
    run.status = status
    run.finished_at = timezone.now()
    if errors is not None:
        run.errors = errors
    run.save()
    return status
