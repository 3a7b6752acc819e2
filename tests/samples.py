"""Documents for the upload tests, built in the test (no files checked in): clean ones of
each accepted kind, and the hostile ones a reviewer uploaded (issue 13, hole 3)."""

import io
import struct
import zlib
from functools import cache

from fpdf import FPDF
from PIL import Image
from PIL.PngImagePlugin import PngInfo

# The EICAR test string: harmless, and flagged by every virus scanner by agreement.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@cache
def pdf() -> bytes:
    """A one-page PDF as a word processor would write it."""
    document = FPDF(format="letter")
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text="Referral letter")
    return bytes(document.output())


def _image(kind: str, size=(40, 30), **options) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 200).save(out, kind, **options)
    return out.getvalue()


@cache
def png() -> bytes:
    return _image("PNG")


@cache
def jpeg() -> bytes:
    return _image("JPEG")


@cache
def tiff(pages: int = 2) -> bytes:
    out = io.BytesIO()
    frames = [Image.new("1", (80, 100), 1) for _ in range(pages)]
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], compression="group4")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A PNG whose header claims `width` × `height` one-bit pixels, with pixel data for the
    first rows only: a decoder that started decoding it would find it truncated, so a
    refusal for its size shows the size was judged from the header alone."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = (b"\x00" + b"\x00" * ((width + 7) // 8)) * 16
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def png_with_eicar_inside() -> bytes:
    """A PNG that decodes, carrying the EICAR string in a text chunk: only a scanner sees it."""
    info = PngInfo()
    info.add_text("Comment", EICAR.decode())
    return _image("PNG", pnginfo=info)


def pdf_with_javascript() -> bytes:
    """A one-page PDF whose catalog names a document-level JavaScript action."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R/Names<</JavaScript 4 0 R>>>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
        b"<</Names[(hello) 5 0 R]>>",
        b"<</S/JavaScript/JS(app.alert\\(1\\))>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# name -> (bytes, the answer the attachment API gives, words the refusal contains)
HOSTILE = {
    # The four the review found accepted.
    "pdf header then EICAR": (b"%PDF-1.4\n" + EICAR, 422, "PDF is incomplete"),
    "png header then script": (PNG_SIGNATURE + b"<script>alert(1)</script>", 422, "web page"),
    "pdf header then html": (
        b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>",
        422,
        "web page",
    ),
    "60000x60000 png bomb": (png_bomb(), 422, "million pixels"),
    # Under Pillow's own bomb limit (89 million), over refloop's (50 million).
    "8000x8000 png bomb": (png_bomb(8000, 8000), 422, "million pixels"),
    # Polyglots: a real document with something appended or hidden.
    "png then script after IEND": (png() + b"<script>alert(1)</script>", 422, "web page"),
    "png then zip after IEND": (png() + b"PK\x03\x04" + b"\x00" * 40, 422, "extra data"),
    "jpeg then data after EOI": (jpeg() + b"PK\x03\x04" + b"\x00" * 40, 422, "extra data"),
    "pdf then data after EOF": (pdf() + b"PK\x03\x04" + b"\x00" * 40, 422, "extra data"),
    "pdf then html after EOF": (pdf() + b"<html><script>x()</script>", 422, "web page"),
    "pdf with javascript": (pdf_with_javascript(), 422, "JavaScript"),
    "damaged png": (png()[:60] + png()[-12:], 415, "damaged"),
}
CLEAN = {
    "pdf": (pdf(), "application/pdf"),
    "png": (png(), "image/png"),
    "jpeg": (jpeg(), "image/jpeg"),
    "tiff": (tiff(), "image/tiff"),
}
