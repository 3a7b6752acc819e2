"""Background task of history imports (django.tasks; run by `refloop worker`)."""

from django.tasks import task

from refloop.history.runs import process_run


@task()
def run_history_import(run_id: int) -> str:
    """Check and import one uploaded history file; returns the run's final status."""
    return process_run(run_id)
