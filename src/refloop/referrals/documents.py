"""What an attachment really is, judged by its first bytes rather than its name."""

SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
]

ACCEPTED_DESCRIPTION = "PDF, TIFF, PNG or JPEG"


def sniff_content_type(head: bytes) -> str | None:
    """The content type of a file starting with `head`, if it is one refloop accepts."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None
