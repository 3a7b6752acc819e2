"""What an attachment really is, judged by its first bytes rather than its name, and how a
stored document is handed to a browser."""

from django.http import FileResponse

SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
]

ACCEPTED_DESCRIPTION = "PDF, TIFF, PNG or JPEG"
FILE_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/tiff": "tif",
    "image/png": "png",
    "image/jpeg": "jpg",
}


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a file starting with `head`, if it is one refloop accepts."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def private_file_response(stored, *, name: str, as_attachment: bool = False) -> FileResponse:
    """A stored document (patient data) for a browser: its type judged by its content, named
    `name` plus the matching extension (never the uploaded name, which often holds the
    patient's), sandboxed so nothing in it runs, not type-sniffed, never cached."""
    handle = stored.open("rb")
    content_type = sniff_content_type(handle.read(16)) or "application/octet-stream"
    handle.seek(0)
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=as_attachment,
        filename=f"{name}.{FILE_EXTENSIONS.get(content_type, 'bin')}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "no-store"
    return response
