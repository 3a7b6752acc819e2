"""The one check every uploaded document passes before it is stored, whichever way it came
(attachments, the portal, document intake): what it is by content, opened with its real
decoder within limits, no web page hidden in it, and clean to a ClamAV daemon if one is set.

What is refused and why:
- not a PDF, TIFF, PNG or JPEG by its first bytes, or not decodable as one (415);
- HTML or script anywhere in the file (422): a browser told the right type never runs it,
  but nothing in a referral needs it, and a file that is also a web page is an attack;
- bytes after the end of a PDF (%%EOF), a PNG (IEND) or a JPEG (EOI) (422): scanners and
  fax servers do not append anything, so such a file was made to be two things at once.
  Re-encoding it instead would change a clinical document and its checksum. A TIFF is
  a set of offsets with no "end", so it is judged by its pages alone;
- an image over UPLOAD_MAX_PIXELS, judged from its header before any pixel is decoded
  (a decompression bomb), more than UPLOAD_MAX_PAGES pages, a PDF page larger than
  UPLOAD_MAX_PIXELS at 300 dpi (intake renders every page), password-protected PDFs and
  PDFs with document JavaScript (422);
- what the virus scanner flags (422); while a configured scanner does not answer, every
  upload is refused (503) rather than stored unscanned.
"""

import hashlib
import io
import logging
import os
import re
import warnings

import pypdfium2 as pdfium
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import models
from PIL import Image, UnidentifiedImageError

from refloop.core import clamd
from refloop.core.errors import (
    DomainError,
    InvalidInput,
    PayloadTooLarge,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)

SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
]
ACCEPTED_TYPES = frozenset(content_type for _, content_type in SIGNATURES)
ACCEPTED_DESCRIPTION = "PDF, TIFF, PNG or JPEG"
FILE_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/tiff": "tif",
    "image/png": "png",
    "image/jpeg": "jpg",
}
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/tiff": "TIFF"}
KIND_NAMES = {"application/pdf": "PDF", **IMAGE_FORMATS}

# What a refused file looks like, to say so in the refusal.
KNOWN_OTHER_TYPES: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"RIFF", "a WebP image or other RIFF file"),
    (b"%!PS", "a PostScript file"),
    (b"<", "an HTML or XML file"),
]

# Markup a browser would run. Long enough that compressed image or PDF data matches it by
# chance about once in 10^12 files of 20 MB; "<svg" or "<body" alone would not be.
MARKUP = re.compile(rb"<(?:script|iframe|html[\s>]|!doctype\s+html)", re.IGNORECASE)
PDF_TRAILING_WHITESPACE = b" \t\r\n\x00\x0c"
RENDER_DPI = 300
POINTS_PER_INCH = 72


class ScanStatus(models.TextChoices):
    CLEAN = "clean", "Scanned for viruses: clean"
    NOT_SCANNED = "not_scanned", "Not scanned for viruses"
    INFECTED = "infected", "Malware found"  # only on a quarantined intake record


class Refused(InvalidInput):
    """A file of an accepted type that is still not accepted; the message says why."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


class Infected(Refused):
    def __init__(self, signature: str, scanner: str):
        super().__init__(f"The virus scanner found {signature} in this file; it was not stored.")
        self.signature = signature
        self.scanner = scanner


class ScannerUnavailable(DomainError):
    status = 503

    def __init__(self):
        super().__init__(
            "The virus scanner is not answering, so the file was not stored; "
            "try again in a few minutes.",
            field="file",
        )


class CheckedFile(ContentFile):
    """An upload that passed `check`, with what the check found out about it."""

    def __init__(
        self,
        content: bytes,
        *,
        name: str = "document",
        content_type: str,
        pages: int,
        scan_status: str,
        scanned_by: str,
    ):
        super().__init__(content, name=name)  # as uploaded: for people, never for paths
        self.content_type = content_type
        self.pages = pages
        self.scan_status = scan_status
        self.scanned_by = scanned_by
        self.sha256 = hashlib.sha256(content).hexdigest()


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a file starting with `head`, if it is one refloop accepts."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def describe_content(head: bytes) -> str:
    for signature, description in KNOWN_OTHER_TYPES:
        if head.startswith(signature):
            return description
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "an unrecognized binary file"
    return "plain text"


def display_name(filename: str | None) -> str:
    """An uploaded file's name as people may see it: its last part, without control
    characters (NUL included). Never used in a storage path, which is random."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "document"


def check(upload: File | bytes, *, accepted: frozenset[str] = ACCEPTED_TYPES) -> CheckedFile:
    """The upload as a CheckedFile, or a DomainError saying plainly why it is refused:
    PayloadTooLarge, UnsupportedMediaType, Refused (Infected), ScannerUnavailable."""
    content = upload if isinstance(upload, bytes) else _read(upload)
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise _too_large(len(content))
    if not content:
        raise UnsupportedMediaType("The file is empty; send it again.")
    content_type = sniff_content_type(content[:16])
    if content_type not in accepted:
        described = (
            f"a {KIND_NAMES[content_type]}" if content_type else describe_content(content[:16])
        )
        wanted = ACCEPTED_DESCRIPTION if accepted == ACCEPTED_TYPES else _listed(accepted)
        raise UnsupportedMediaType(
            f"This file is {described} (judged by its content, not its name), not a "
            f"{wanted}. Scan or save it in one of those formats."
        )
    if MARKUP.search(content):
        raise Refused(
            "The file contains web page code (HTML or script), which a document may not "
            "carry. Scan it, or print it to a new PDF."
        )
    if content_type == "application/pdf":
        pages = _inspect_pdf(content)
    else:
        pages = _inspect_image(content, content_type)
    scan_status, scanned_by = _scan(content)
    return CheckedFile(
        content,
        name=getattr(upload, "name", None) or "document",
        content_type=content_type,
        pages=pages,
        scan_status=scan_status,
        scanned_by=scanned_by,
    )


def _read(upload: File) -> bytes:
    if upload.size is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise _too_large(upload.size)  # before reading it
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    return content


def _too_large(size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is {size / 1_048_576:.1f} MB; documents may be at most "
        f"{settings.ATTACHMENT_MAX_BYTES // 1_048_576} MB. Split it into smaller files."
    )


def _listed(types: frozenset[str]) -> str:
    names = [KIND_NAMES[t] for _, t in SIGNATURES if t in types]
    names = list(dict.fromkeys(names))  # TIFF has two signatures
    return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _too_many_pages(kind: str, count: int) -> Refused:
    return Refused(
        f"The {kind} has {count} pages; at most {settings.UPLOAD_MAX_PAGES} are accepted. "
        "Split it into smaller files."
    )


# ---- PDF --------------------------------------------------------------------------------


def _inspect_pdf(content: bytes) -> int:
    """The page count of a PDF that PDFium opens, page by page, within the limits."""
    end = content.rfind(b"%%EOF")
    if end == -1:
        raise Refused("The PDF is incomplete (it does not end as a PDF ends); save it again.")
    if content[end + 5 :].strip(PDF_TRAILING_WHITESPACE):
        raise Refused(
            "The PDF has extra data after its end; save it again from the program that made "
            "it, or scan it."
        )
    try:
        document = pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise Refused("The PDF is password-protected; ask for an unprotected copy.") from None
        raise UnsupportedMediaType(
            "The PDF is damaged and cannot be opened; save or scan it again."
        ) from None
    try:
        count = len(document)
        if count == 0:
            raise UnsupportedMediaType("The PDF has no pages.")
        if count > settings.UPLOAD_MAX_PAGES:
            raise _too_many_pages("PDF", count)
        if pdfium.raw.FPDFDoc_GetJavaScriptActionCount(document.raw) > 0:
            raise Refused(
                "The PDF contains JavaScript, which a document may not carry. "
                "Print it to a new PDF, or scan it."
            )
        for index in range(count):
            _inspect_pdf_page(document, index)
    finally:
        document.close()
    return count


def _inspect_pdf_page(document: pdfium.PdfDocument, index: int) -> None:
    try:
        page = document[index]
    except pdfium.PdfiumError:
        raise UnsupportedMediaType(
            f"Page {index + 1} of the PDF is damaged; save or scan it again."
        ) from None
    try:
        width, height = (points / POINTS_PER_INCH for points in page.get_size())
    finally:
        page.close()
    if width * height * RENDER_DPI**2 > settings.UPLOAD_MAX_PIXELS:
        raise Refused(
            f"Page {index + 1} of the PDF is {width:.0f} × {height:.0f} inches, larger than "
            "a document page; print it to letter or legal size."
        )


# ---- images -----------------------------------------------------------------------------


def _inspect_image(content: bytes, content_type: str) -> int:
    """The frame count of an image that decodes fully, every frame within the pixel limit;
    each frame's size is read from its header before its pixels are decoded."""
    kind = IMAGE_FORMATS[content_type]
    limit = settings.UPLOAD_MAX_PIXELS
    too_large = (
        f"The {kind} image has more than {limit / 1_000_000:.0f} million pixels; "
        "scan it at 300 dpi or less."
    )
    damaged = UnsupportedMediaType(
        f"The {kind} image is damaged and cannot be opened; save or scan it again."
    )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard (a warning first, an error at twice its limit).
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused(too_large) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise damaged from None
    with image:
        try:
            frames = getattr(image, "n_frames", 1)
            if frames > settings.UPLOAD_MAX_PAGES:
                raise _too_many_pages(f"{kind} image", frames)
            for index in range(frames):
                image.seek(index)
                width, height = image.size
                if width * height > limit:
                    raise Refused(too_large)
                image.load()
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
            raise damaged from None
    end = {"image/png": _png_end, "image/jpeg": _jpeg_end}.get(content_type)
    if end is not None and end(content) != len(content):
        raise Refused(
            f"The {kind} image has extra data after its end; save it again from the "
            "program that made it, or scan it."
        )
    return frames


def _png_end(content: bytes) -> int | None:
    """Where a PNG's IEND chunk ends, walking its chunks (length, type, data, CRC)."""
    position = 8
    while position + 12 <= len(content):
        length = int.from_bytes(content[position : position + 4])
        kind = content[position + 4 : position + 8]
        position += 12 + length
        if kind == b"IEND":
            return position
    return None


def _jpeg_end(content: bytes) -> int | None:
    """Where a JPEG's EOI marker ends: segments are skipped by their length (so an EXIF
    thumbnail's own EOI is not taken for the end), entropy-coded data up to its next
    marker (0xFF 0x00 is a stuffed byte, 0xFF 0xD0-D7 a restart marker)."""
    position = 2
    while position + 2 <= len(content):
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker == 0xD9:
            return position + 2
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:
            position += 2
        else:
            position += 2 + int.from_bytes(content[position + 2 : position + 4])
            if marker == 0xDA:
                position = _entropy_coded_end(content, position)
    return None


def _entropy_coded_end(content: bytes, position: int) -> int:
    while (position := content.find(b"\xff", position)) != -1:
        following = content[position + 1 : position + 2]
        if following == b"\x00" or b"\xd0" <= following <= b"\xd7":
            position += 2
        else:
            return position
    return len(content)


# ---- virus scanning ---------------------------------------------------------------------


def _scan(content: bytes) -> tuple[str, str]:
    """(scan status, the scanner's version line) once clamd found nothing in `content`."""
    address = settings.CLAMD_SOCKET
    if not address:
        return ScanStatus.NOT_SCANNED, ""
    timeout = settings.CLAMD_TIMEOUT_SECONDS
    try:
        found = clamd.scan(content, address=address, timeout=timeout)
        scanner = clamd.version(address, timeout=timeout)
    except clamd.ScannerError as exc:
        logger.warning("upload refused, the virus scanner failed: %s", exc)
        raise ScannerUnavailable() from None
    if found is not None:
        logger.warning("upload refused, the virus scanner found %s", found)
        raise Infected(found, scanner)
    return ScanStatus.CLEAN, scanner
