"""The one-page documents demo referrals come with (a referral letter, imaging and clinic
records, an insurance card): made once per kind, checked once, filed on every referral
that says it has one. They name no patient: the referral's own page does that."""

import datetime as dt
import logging
from functools import cache

from refloop.core import uploads

TITLES = {
    "referral_letter": "Referral letter",
    "imaging": "Imaging report",
    "records": "Clinic notes",
    "insurance": "Insurance card and authorization",
}
BODY = (
    "A sample document of the refloop demo practice.",
    "In a real practice this is the page the referring office sent;",
    "the referral it is filed on says who it is about.",
)


@cache
def _checked(kind: str) -> uploads.CheckedFile:
    from fpdf import FPDF

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf = FPDF(unit="in", format="letter")
    pdf.set_creation_date(dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.text(1, 1.2, TITLES[kind])
    pdf.set_font("Helvetica", "", 11)
    for line, text in enumerate(BODY):
        pdf.text(1, 1.8 + 0.25 * line, text)
    return uploads.check(bytes(pdf.output()))


def document(kind: str) -> uploads.CheckedFile:
    """A fresh copy of the checked file for `kind`, ready for add_attachment."""
    checked = _checked(kind)
    return uploads.CheckedFile(
        _content(kind),
        content_type=checked.content_type,
        pages=checked.pages,
        scan_status=checked.scan_status,
        scanned_by=checked.scanned_by,
    )


@cache
def _content(kind: str) -> bytes:
    checked = _checked(kind)
    checked.seek(0)
    return checked.read()


def filename(kind: str) -> str:
    return f"{kind.replace('_', '-')}.pdf"
