"""Letters: a printable PDF on our letterhead in LETTER_DIR, which staff print and post."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from refloop.messaging.pdf import (
    document_path,
    render_document_pdf,
    with_attachments,
    write_atomically,
)
from refloop.messaging.transports.base import Envelope, PermanentFailure, delivery_key
from refloop.practice.models import Organization

# The outbox joins a postal address with ", "; "IL 62701" belongs on the city's line.
_STATE_AND_ZIP = re.compile(r"[A-Z]{2} \S+")


def address_lines(postal: str) -> list[str]:
    """ "Dr. Reed, Prairie Family Medicine, 1 Main St, Springfield, IL 62701" as envelope lines."""
    parts = [part.strip() for part in postal.split(", ") if part.strip()]
    if len(parts) >= 3 and _STATE_AND_ZIP.fullmatch(parts[-1]):
        parts[-2:] = [f"{parts[-2]}, {parts[-1]}"]
    return parts


def letter_pdf(envelope: Envelope) -> bytes:
    org = Organization.current()
    today = timezone.now().astimezone(org.zone).date()
    contacts = [f"Phone {org.phone}" if org.phone else "", f"Fax {org.fax}" if org.fax else ""]
    letterhead = [org.name, "   ·   ".join(c for c in contacts if c)]
    heading = [
        *(line for line in letterhead if line),
        "",
        f"{today:%B} {today.day}, {today.year}",
        "",
        *address_lines(envelope.to),
    ]
    document = render_document_pdf(
        heading, envelope.subject, envelope.body, footer=org.name, author=org.name
    )
    return with_attachments(document, envelope.attachments)


def letter_path(message_pk: int) -> Path | None:
    """The printable PDF of a letter that was "sent", or None if there is none (yet)."""
    path = document_path(settings.LETTER_DIR, delivery_key(message_pk))
    return path if path.is_file() else None


class LetterTransport:
    channel = "letter"

    def open(self) -> None:
        pass

    def send(self, envelope: Envelope) -> str:
        if not envelope.to.strip():
            raise PermanentFailure("There is no postal address to print on the letter.")
        # Named by the delivery key: a letter rendered again after a crash replaces the first.
        path = document_path(settings.LETTER_DIR, envelope.delivery_key)
        write_atomically(path, letter_pdf(envelope))
        return f"file:{path.name}"

    def close(self) -> None:
        pass
