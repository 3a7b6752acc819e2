"""Background tasks of document intake (django.tasks; run by `refloop worker`)."""

from django.tasks import task
from django.utils import timezone

from refloop.intake.pipeline import process_document
from refloop.intake.services import resume_stalled


@task()
def resume_stalled_documents() -> int:
    """Periodic: queue again the documents a crash left unread."""
    return len(resume_stalled(now=timezone.now()))


@task()
def process_document_task(document_id: int) -> str:
    """Read one stored packet; safe to run twice. Returns the document's new status."""
    return process_document(document_id).status
