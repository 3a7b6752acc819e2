"""A packet from a seed: its HTML pages, how it is to be faxed, and its labels.

Labels are the 12 fields of refloop.intake.models.FIELD_NAMES in refloop's format, for
the REFERRING provider, "" where the fax does not carry the field, plus the patient's
pages [first, last] (1-based; a cover sheet belongs to the patient after it).
"""

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from . import ehr, forms, letters
from .data import label_phone, referral
from .sheets import BASE_CSS, SANS, SERIF, attachment, cover_sheet, fax_banner

FIRST_SEED = 5000
PACKETS = 45
TODAY = dt.date(2026, 6, 1)  # bench/ocr.py reads the faxes as of this day

LAYOUTS = {
    "cover_form": forms.underlined_form,
    "letterhead_letter": letters.letterhead_letter,
    "handwritten_form": forms.handwritten_form,
    "boxed_form": forms.boxed_form,
    "ehr_order": ehr.order_printout,
    "ehr_referral": ehr.referral_printout,
    "prior_auth": forms.prior_auth,
    "discharge_referral": letters.discharge_referral,
    "plain_letter": letters.plain_letter,
}


@dataclass
class Faxing:
    """How the packet goes through the fax: resolution, file, and what the line does to it."""

    file: str  # "pdf" (image-only) or "tif" (multi-page, Group 4)
    dpi: tuple[int, int]
    skews: list[float]  # degrees, one per page
    dither: bool  # grey shading as a halftone (else a plain threshold)
    threshold: int
    stroke: str  # "thick", "broken" or "plain"
    specks: float  # share of pixels flipped to black
    streaks: int


@dataclass
class Packet:
    seed: int
    layout: str
    html: str
    pages: int
    labels: list[dict]
    faxing: Faxing
    page_html: list[str] = field(repr=False, default_factory=list)


def generator_hash() -> str:
    """Changes whenever the generator's code does: the key of the rendered-packet cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def seeds() -> list[int]:
    return list(range(FIRST_SEED, FIRST_SEED + PACKETS))


def layout_of(seed: int) -> str:
    names = list(LAYOUTS)
    return names[(seed - FIRST_SEED) % len(names)]


def _labels(ref, drawn) -> dict:
    values = {
        "patient_first_name": ref.patient.first,
        "patient_last_name": ref.patient.last,
        "patient_date_of_birth": ref.patient.dob.isoformat(),
        "patient_phone": label_phone(ref.patient.phone),
        "provider_name": ref.referrer.name,
        "provider_npi": ref.referrer.npi,
        "provider_phone": label_phone(ref.referrer.practice.phone),
        "provider_fax": label_phone(ref.referrer.practice.fax),
        "reason": ref.reason.text,
        "icd10_codes": ", ".join(ref.reason.codes),
        "urgency": ref.urgency,
        "insurance": ref.insurance,
    }
    values.update(drawn.values)
    for name in drawn.blank:
        values[name] = ""
    return values


def make_packet(seed: int) -> Packet:
    rng = random.Random(seed)
    layout = layout_of(seed)
    draw = LAYOUTS[layout]
    # About one packet in seven carries two patients from the same referring office.
    patients = 2 if (seed - FIRST_SEED) % 13 in (5, 11) else 1
    first = referral(rng, TODAY)
    refs = [first] + [referral(rng, TODAY, referrer=first.referrer) for _ in range(patients - 1)]
    cover = layout == "cover_form" or rng.random() < 0.25
    note_font = rng.choice(SANS + SERIF)
    pages: list[str] = []
    labels = []
    for index, ref in enumerate(refs):
        start = len(pages) + 1
        if cover and index == 0:
            pages.append("")  # the cover sheet, drawn once the page count is known
        drawn = draw(rng, ref)
        pages += drawn.pages + attachment(rng, ref, note_font)
        labels.append({**_labels(ref, drawn), "pages": [start, len(pages)]})
    if cover:
        pages[0] = cover_sheet(rng, first, len(pages), note_font)
    banner = (
        fax_banner(
            rng,
            first,
            dt.datetime.combine(first.referral_date, dt.time(9))
            + dt.timedelta(minutes=rng.randrange(0, 480)),
        )
        if rng.random() < 0.85
        else ""
    )
    total = len(pages)
    pages = [
        p.replace("{BANNER}", banner.replace("{PAGE}", str(n)).replace("{PAGES}", str(total)))
        for n, p in enumerate(pages, start=1)
    ]
    two_fifty = rng.random() < 0.5
    faxing = Faxing(
        file="tif" if rng.random() < 0.5 else "pdf",
        dpi=(204, 196) if two_fifty else (200, 200),
        skews=[round(rng.choice([-1, 1]) * rng.uniform(0.5, 2.5), 2) for _ in pages],
        dither=rng.random() < 0.5,
        threshold=rng.randrange(140, 185),
        stroke=rng.choice(["thick", "broken", "plain", "plain"]),
        specks=rng.uniform(0.0003, 0.002),
        streaks=rng.choice([0, 1, 1, 2]),
    )
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        + BASE_CSS
        + "</style></head><body>"
        + "".join(pages)
        + "</body></html>"
    )
    for label in labels:
        label["layout"] = layout
    return Packet(seed, layout, html, total, labels, faxing, pages)
