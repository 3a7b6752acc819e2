"""How a stored document is handed to a browser. What an upload is, and whether it is
accepted, is decided once, in refloop.core.uploads."""

from django.http import FileResponse

from refloop.core.uploads import (
    ACCEPTED_DESCRIPTION,
    FILE_EXTENSIONS,
    sniff_content_type,
)

__all__ = [
    "ACCEPTED_DESCRIPTION",
    "FILE_EXTENSIONS",
    "private_file_response",
    "sniff_content_type",
]

# What a browser can show by itself; anything else is only ever downloaded.
SHOWN_INLINE = {"application/pdf", "image/png", "image/jpeg"}


def private_file_response(
    stored, *, name: str, content_type: str, as_attachment: bool = False
) -> FileResponse:
    """A stored document (patient data) for a browser, as the type the upload check verified
    (`content_type`; anything unverified goes out as a download of octet-stream), named
    `name` plus the matching extension (never the uploaded name, which often holds the
    patient's), sandboxed so nothing in it runs, not type-sniffed, never cached."""
    if content_type not in FILE_EXTENSIONS:
        content_type = "application/octet-stream"
    response = FileResponse(
        stored.open("rb"),
        content_type=content_type,
        as_attachment=as_attachment or content_type not in SHOWN_INLINE,
        filename=f"{name}.{FILE_EXTENSIONS.get(content_type, 'bin')}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "no-store"
    return response
