"""Fax: the demo renders each fax as a PDF with a cover block into FAX_OUTBOX_DIR."""

from django.conf import settings
from django.utils import timezone

from refloop.messaging.pdf import (
    PAGE_COUNT,
    attachment_pages,
    document_path,
    render_document_pdf,
    with_attachments,
    write_atomically,
)
from refloop.messaging.transports.base import Envelope, PermanentFailure
from refloop.messaging.transports.sms import is_e164
from refloop.practice.models import Organization

CONFIDENTIALITY_NOTICE = (
    "Confidential: this fax may contain protected health information meant only for the "
    "recipient named above. If you received it in error, please call us and destroy it."
)


def fax_pdf(envelope: Envelope) -> bytes:
    org = Organization.current()
    today = timezone.now().astimezone(org.zone).date()
    sender = f"{org.name}, fax {org.fax}" if org.fax else org.name
    recipient = (
        f"{envelope.recipient_label}, fax {envelope.to}"
        if envelope.recipient_label
        else f"fax {envelope.to}"
    )
    cover = [
        "Fax",
        f"To: {recipient}",
        f"From: {sender}",
        f"Date: {today:%B} {today.day}, {today.year}",
        f"Pages: {PAGE_COUNT} including this cover",
        "",
        CONFIDENTIALITY_NOTICE,
    ]
    document = render_document_pdf(
        cover,
        envelope.subject,
        envelope.body,
        footer=f"Fax from {org.name}",
        author=org.name,
        extra_pages=attachment_pages(envelope.attachments),
    )
    return with_attachments(document, envelope.attachments)


class FileFaxTransport:
    channel = "fax"

    def open(self) -> None:
        pass

    def send(self, envelope: Envelope) -> str:
        if not is_e164(envelope.to):
            raise PermanentFailure(
                "The number on file is not a valid fax number (expected + and 8 to 15 digits)."
            )
        # Named by the delivery key: a fax sent again after a crash replaces its first copy.
        path = document_path(settings.FAX_OUTBOX_DIR, envelope.delivery_key)
        write_atomically(path, fax_pdf(envelope))
        return f"file:{path.name}"

    def close(self) -> None:
        pass
