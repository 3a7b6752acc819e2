"""Printable documents for the fax and letter channels: one PDF layout, and storing it safely."""

import io
import os
import re
import tempfile
from pathlib import Path

import pypdfium2
from fpdf.enums import XPos, YPos

# The shared page already knows where the DejaVu fonts are and falls back to Helvetica.
from refloop.core.pdf import FONT, INK, MUTED, OnePager
from refloop.messaging.transports.base import PermanentFailure

# Put this in a title line to print the document's page count there ("Pages: {pages}").
PAGE_COUNT = "{pages}"

_SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")


def render_document_pdf(
    title_lines: list[str],
    subject: str,
    body: str,
    *,
    footer: str = "",
    author: str = "",
    extra_pages: int = 0,
) -> bytes:
    """A Letter-size PDF: a heading block (first line bold, "" for a gap), the subject, the body.

    The body wraps and runs onto as many pages as it needs. `extra_pages` (attachments that
    will follow) count in the heading's page count.
    """
    # Rendered twice when the heading shows the page count: the first pass counts the pages.
    pages = "1"
    document = _render(title_lines, subject, body, footer=footer, author=author, pages=pages)
    if any(PAGE_COUNT in line for line in title_lines):
        pages = str(document.pages_count + extra_pages)
        document = _render(title_lines, subject, body, footer=footer, author=author, pages=pages)
    return bytes(document.output())


def _render(
    title_lines: list[str], subject: str, body: str, *, footer: str, author: str, pages: str
) -> OnePager:
    pdf = OnePager(footer)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(subject)
    if author:
        pdf.set_author(author)
    pdf.add_page()
    lines = [line.replace(PAGE_COUNT, pages) for line in title_lines]
    if lines:
        pdf.line_of(lines[0], size=14, style="B", height=7)
    for line in lines[1:]:
        if line:
            pdf.line_of(line, size=10, color=INK, height=5)
        else:
            pdf.ln(3)
    pdf.ln(3)
    pdf.set_draw_color(*MUTED)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)
    if subject:
        pdf.line_of(subject, size=11.5, style="B", height=6)
        pdf.ln(2)
    pdf.set_font(FONT, "", 10.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 5.4, body.strip(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf


def attachment_pages(attachments: list[tuple[str, bytes, str]]) -> int:
    """How many pages the PDF attachments of a fax or letter add."""
    return sum(len(pypdfium2.PdfDocument(content)) for _, content, _ in _pdfs(attachments))


def with_attachments(document: bytes, attachments: list[tuple[str, bytes, str]]) -> bytes:
    """`document` followed by every page of each PDF attachment (a scorecard sent by fax or
    letter travels as pages after the message)."""
    pdfs = _pdfs(attachments)
    if not pdfs:
        return document
    merged = pypdfium2.PdfDocument(document)
    for _, content, _ in pdfs:
        merged.import_pages(pypdfium2.PdfDocument(content))
    buffer = io.BytesIO()
    merged.save(buffer)
    return buffer.getvalue()


def _pdfs(attachments: list[tuple[str, bytes, str]]) -> list[tuple[str, bytes, str]]:
    if any(mimetype != "application/pdf" for _, _, mimetype in attachments):
        raise PermanentFailure("Only PDF documents can be sent by fax or letter.")
    return attachments


def document_path(directory: Path, delivery_key: str) -> Path:
    """Where the document for one delivery is stored: the same key, the same file."""
    if not _SAFE_FILE_NAME.fullmatch(delivery_key):
        raise PermanentFailure("The message's delivery key cannot be used as a file name.")
    return Path(directory) / f"{delivery_key}.pdf"


def write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a crash mid-write never leaves half a PDF to print."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
