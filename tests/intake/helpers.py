"""Small documents for the intake tests, built in the test (no files checked in)."""

import io

from fpdf import FPDF
from PIL import Image

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_pdf(*pages: list[str], title: str = "", password: str | None = None) -> bytes:
    """A born-digital PDF: each page's lines as its text layer."""
    pdf = FPDF(format="letter")
    pdf.add_font("dejavu", "", DEJAVU)
    if title:
        pdf.set_title(title)
    for lines in pages:
        pdf.add_page()
        pdf.set_font("dejavu", size=11)
        for line in lines:
            pdf.cell(text=line)
            pdf.ln(7)
    if password:
        pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    return bytes(pdf.output())


def blank_png(width: int = 1700, height: int = 2200) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG")
    return out.getvalue()


REFERRAL_LINES = [
    "REFERRAL FORM",
    "PATIENT INFORMATION",
    "Patient name: Zephyrine Quillfeather",
    "Date of birth: 02/29/1964",
    "Phone: (217) 555-0142",
    "Insurance: Aetna Choice POS II",
    "REFERRING PROVIDER",
    "Referring provider: {provider}",
    "NPI: {npi}",
    "Phone: (217) 555-0177",
    "Fax: {fax}",
    "Urgency: URGENT",
    "Reason for referral: Low back pain with left leg radiculopathy",
    "Diagnosis/ICD-10: M54.16, M51.16",
]


def referral_pdf(
    *, provider: str = "Alan Abbott, MD", npi: str = "1234567893", fax: str = "(217) 555-0199", **kw
) -> bytes:
    lines = [line.format(provider=provider, npi=npi, fax=fax) for line in REFERRAL_LINES]
    return text_pdf(lines, **kw)
