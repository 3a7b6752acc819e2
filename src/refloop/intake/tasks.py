"""Background tasks of document intake (django.tasks; run by `refloop worker`)."""

from django.tasks import task

from refloop.intake.pipeline import process_document


@task()
def process_document_task(document_id: int) -> str:
    """Read one stored packet; safe to run twice. Returns the document's new status."""
    return process_document(document_id).status
