"""Synthetic referral faxes with their labels, for the intake tests, the demo and the OCR
benchmark. Test data, not product: it lives with the demo, above the apps it feeds.

`make_packet(seed)` draws one packet of referrals (fake patients and providers from a fixed
`random.Random(seed)`), lays each out in one of several layouts, and renders it either as a
scan at fax resolution (1-bit, 204x196 dpi, skew, salt-and-pepper noise, stamps, a fax banner
on every page) or as a born-digital PDF with a text layer. The labels say what extraction
should read: one dict per patient, FIELD_NAMES -> the exact expected string, plus "pages".
"""

import datetime as dt
import io
import logging
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from refloop.network.npi import check_digit

LAYOUTS = ("form", "letter", "table")

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    ("sans", False): "DejaVuSans.ttf",
    ("sans", True): "DejaVuSans-Bold.ttf",
    ("serif", False): "DejaVuSerif.ttf",
    ("serif", True): "DejaVuSerif-Bold.ttf",
    ("mono", False): "DejaVuSansMono.ttf",
    ("mono", True): "DejaVuSansMono-Bold.ttf",
}

# Letter paper; the scan is drawn at 204 dpi and sent at fax "fine" resolution, 204x196.
PAGE_W_IN, PAGE_H_IN = 8.5, 11.0
FAX_DPI = (204, 196)

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
    "Mark", "Sandra", "Steven", "Ashley", "Paul", "Dorothy", "Andrew", "Kimberly", "Kenneth",
    "Emily", "Kevin", "Donna", "Brian", "Carol", "Gloria", "Harold", "Vernon", "Rosa",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Lindqvist", "Okafor",
)  # fmt: skip
PROVIDER_FIRST = (
    "Alan", "Beth", "Carmen", "Dennis", "Elena", "Frank", "Grace", "Henry", "Irene", "Jorge",
    "Kathleen", "Louis", "Monica", "Neil", "Olivia", "Peter", "Rachel", "Samuel", "Teresa",
)  # fmt: skip
PROVIDER_LAST = (
    "Abbott", "Bishop", "Castillo", "Dawson", "Ellison", "Fischer", "Gallagher", "Holloway",
    "Ingram", "Jensen", "Kowalski", "Lindgren", "Morrison", "Novak", "Ortega", "Patel",
    "Quinn", "Reyes", "Sorensen", "Tanaka", "Underwood", "Vaughn", "Whitaker",
)  # fmt: skip
CREDENTIALS = ("MD", "DO", "MD", "NP", "PA-C", "MD")
PRACTICES = (
    ("Prairie Family Medicine", "Wichita", "KS", "67202"),
    ("Riverside Internal Medicine", "Hutchinson", "KS", "67501"),
    ("Flint Hills Primary Care", "Emporia", "KS", "66801"),
    ("Sunflower Family Physicians", "Salina", "KS", "67401"),
    ("Cottonwood Health Clinic", "Newton", "KS", "67114"),
    ("Kaw Valley Medical Group", "Lawrence", "KS", "66044"),
    ("Smoky Hill Family Practice", "Hays", "KS", "67601"),
)
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Park Blvd", "Hillside Rd")
AREA_CODES = ("316", "620", "785", "913")
# (reason, ICD-10 codes): orthopedic and spine referrals a primary care office sends.
REASONS = (
    ("Low back pain with left leg radiculopathy", ("M54.16",)),
    ("Right knee osteoarthritis, failed conservative care", ("M17.11",)),
    ("Carpal tunnel syndrome, right wrist", ("G56.01",)),
    ("Right shoulder rotator cuff tear", ("M75.101",)),
    ("ACL sprain, right knee after fall", ("S83.511A",)),
    ("Lumbar disc herniation with radiculopathy", ("M51.16", "M54.16")),
    ("Neck pain radiating to the left arm", ("M54.12",)),
    ("Left hip osteoarthritis with limited walking", ("M16.12",)),
    ("Trigger finger, right ring finger", ("M65.341",)),
    ("Chronic plantar fasciitis, both feet", ("M72.2",)),
    ("Lumbar spinal stenosis with neurogenic claudication", ("M48.062", "M54.50")),
    ("Right lateral epicondylitis not improving", ("M77.11",)),
    ("Bilateral knee pain, primary osteoarthritis", ("M17.0",)),
    ("Cervical disc degeneration with neck pain", ("M50.30", "M54.2")),
)
INSURANCES = (
    "Blue Cross Blue Shield PPO",
    "Aetna Choice POS II",
    "Medicare Part B",
    "UnitedHealthcare Choice Plus",
    "Humana Medicare Advantage",
    "Cigna Open Access Plus",
    "KanCare Medicaid",
    "Tricare Select",
)
URGENCY_WORDS = {
    "routine": ("Routine", "ROUTINE", "Standard"),
    "urgent": ("Urgent", "URGENT"),
    "stat": ("STAT", "Stat"),
}
RECEIVER = "Lakeside Orthopedics & Spine"
RECEIVER_FAX = "(217) 555-0100"
FILLER = (
    "Symptoms began about three months ago and have not improved with home exercises.",
    "Tried physical therapy for six weeks with partial relief and a course of NSAIDs.",
    "No history of surgery on the affected side. Imaging report is attached when available.",
    "Patient works full time and would prefer a morning appointment if possible.",
    "Reports pain at night that interferes with sleep. No fever or weight loss.",
    "Examination shows reduced range of motion and tenderness over the joint line.",
    "Please send your consult note to our office by fax after the visit.",
)


# ---- the referral data ------------------------------------------------------------------


@dataclass
class Referral:
    first: str
    last: str
    dob: dt.date
    phone: str  # digits
    address: str
    insurance: str
    member_id: str
    provider_first: str
    provider_last: str
    credentials: str
    npi: str
    provider_phone: str
    provider_fax: str
    practice: tuple[str, str, str, str]
    reason: str
    codes: tuple[str, ...]
    urgency: str
    sent: dt.date
    notes: list[str] = field(default_factory=list)

    def labels(self, pages: tuple[int, int]) -> dict:
        return {
            "patient_first_name": self.first,
            "patient_last_name": self.last,
            "patient_date_of_birth": self.dob.isoformat(),
            "patient_phone": format_phone(self.phone),
            "provider_name": f"{self.provider_first} {self.provider_last}",
            "provider_npi": self.npi,
            "provider_phone": format_phone(self.provider_phone),
            "provider_fax": format_phone(self.provider_fax),
            "reason": self.reason,
            "icd10_codes": ", ".join(self.codes),
            "urgency": self.urgency,
            "insurance": self.insurance,
            "pages": list(pages),
        }


def format_phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def _npi(rng: random.Random) -> str:
    first_nine = str(rng.choice((1, 1, 1, 2))) + "".join(str(rng.randrange(10)) for _ in range(8))
    return first_nine + check_digit(first_nine)


def _phone(rng: random.Random, area: str) -> str:
    return f"{area}{rng.randrange(200, 999)}{rng.randrange(10000):04d}"


@dataclass
class Sender:
    """The referring office: one per packet (a practice faxes its referrals in a batch)."""

    first: str
    last: str
    credentials: str
    npi: str
    phone: str
    fax: str
    practice: tuple[str, str, str, str]
    address: str


def _sender(rng: random.Random) -> Sender:
    area = rng.choice(AREA_CODES)
    return Sender(
        first=rng.choice(PROVIDER_FIRST),
        last=rng.choice(PROVIDER_LAST),
        credentials=rng.choice(CREDENTIALS),
        npi=_npi(rng),
        phone=_phone(rng, area),
        fax=_phone(rng, area),
        practice=rng.choice(PRACTICES),
        address=f"{rng.randrange(100, 9999)} {rng.choice(STREETS)}",
    )


def _referral(rng: random.Random, sender: Sender, sent: dt.date) -> Referral:
    reason, codes = rng.choice(REASONS)
    urgency = rng.choices(("routine", "urgent", "stat"), weights=(6, 3, 1))[0]
    dob = dt.date(1938, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 68))
    practice = sender.practice
    return Referral(
        first=rng.choice(FIRST_NAMES),
        last=rng.choice(LAST_NAMES),
        dob=dob,
        phone=_phone(rng, rng.choice(AREA_CODES)),
        address=f"{rng.randrange(10, 9999)} {rng.choice(STREETS)}, {practice[1]}, {practice[2]} {practice[3]}",
        insurance=rng.choice(INSURANCES),
        member_id=f"{rng.choice('AHKWXZ')}{rng.randrange(10**8, 10**9)}",
        provider_first=sender.first,
        provider_last=sender.last,
        credentials=sender.credentials,
        npi=sender.npi,
        provider_phone=sender.phone,
        provider_fax=sender.fax,
        practice=practice,
        reason=reason,
        codes=codes,
        urgency=urgency,
        sent=sent,
        notes=rng.sample(FILLER, 3),
    )


# ---- how the values are written on the page ---------------------------------------------


@dataclass
class Style:
    """The house style of one sending office: label words and value formats."""

    name_order: str  # "first_last" or "last_first"
    phone_format: str
    date_format: str
    font: str
    size: int  # px at 204 dpi
    labels: dict[str, str]

    def name(self, first: str, last: str) -> str:
        if self.name_order == "last_first":
            return f"{last.upper()}, {first.upper()}"
        return f"{first} {last}"

    def phone(self, digits: str) -> str:
        a, b, c = digits[:3], digits[3:6], digits[6:]
        return self.phone_format.format(a=a, b=b, c=c)

    def date(self, value: dt.date) -> str:
        if self.date_format == "long":
            return value.strftime("%b %d, %Y").replace(" 0", " ")
        if self.date_format == "short":
            return f"{value.month}/{value.day}/{value.year}"
        return value.strftime(self.date_format)


def _style(rng: random.Random) -> Style:
    return Style(
        name_order=rng.choice(("first_last", "first_last", "last_first")),
        phone_format=rng.choice(("({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}")),
        date_format=rng.choice(("%m/%d/%Y", "%m/%d/%Y", "short", "long", "%m-%d-%Y")),
        font=rng.choice(("sans", "serif")),
        size=rng.choice((30, 32, 34)),
        labels={
            "name": rng.choice(("Patient name", "Patient Name", "Name")),
            "dob": rng.choice(("DOB", "Date of birth", "Birth date")),
            "phone": rng.choice(("Phone", "Home phone", "Phone")),
            "provider": rng.choice(("Referring provider", "Referring physician", "Provider")),
            "urgency": rng.choice(("Urgency", "Priority")),
            "insurance": rng.choice(("Insurance", "Primary insurance", "Payer")),
            "reason": rng.choice(("Reason for referral", "Reason")),
            "codes": rng.choice(("Diagnosis/ICD-10", "ICD-10 codes", "Dx codes")),
        },
    )


# ---- drawing: one list of operations, two renderers --------------------------------------


@dataclass
class Text:
    x: float  # inches from the left edge
    y: float  # inches from the top edge, at the baseline
    text: str
    size: int
    bold: bool = False
    font: str = "sans"


@dataclass
class Rule:
    x0: float
    y0: float
    x1: float
    y1: float
    width: float = 0.02  # inches


@dataclass
class Page:
    ops: list = field(default_factory=list)
    y: float = 0.9

    def text(self, x: float, text: str, style: Style, *, bold=False, size=None, font=None):
        self.ops.append(Text(x, self.y, text, size or style.size, bold, font or style.font))

    def heading(self, text: str, style: Style, *, grow: int, after: float) -> None:
        """A bold title `grow` points above the body text at the left margin, then `after`
        inches down."""
        self.text(0.8, text, style, bold=True, size=style.size + grow)
        self.y += after

    def line(self, style: Style, *parts: tuple[float, str], bold=False, gap=1.6):
        """One line of text pieces at given x positions, then move down."""
        for x, text in parts:
            self.text(x, text, style, bold=bold)
        self.y += gap * style.size / 204

    def rule(self, x0=0.7, x1=7.8, width=0.02):
        self.ops.append(Rule(x0, self.y - 0.12, x1, self.y - 0.12, width))
        self.y += 0.12


def _letterhead(page: Page, ref: Referral, sender_address: str, style: Style) -> None:
    name, city, state, zip_code = ref.practice
    page.heading(name, style, grow=10, after=0.3)
    page.line(style, (0.8, f"{sender_address}, {city}, {state} {zip_code}"))
    page.line(
        style,
        (0.8, f"Phone: {style.phone(ref.provider_phone)}"),
        (3.6, f"Fax: {style.phone(ref.provider_fax)}"),
    )
    page.rule()


def _provider_name(ref: Referral) -> str:
    return f"{ref.provider_first} {ref.provider_last}, {ref.credentials}"


def _urgency_word(rng: random.Random, ref: Referral) -> str:
    return rng.choice(URGENCY_WORDS[ref.urgency])


def layout_form(rng: random.Random, ref: Referral, sender: Sender, style: Style) -> list[Page]:
    """A labelled referral form, sometimes followed by a progress note page."""
    lab = style.labels
    page = Page(y=1.0)
    page.heading("REFERRAL FORM", style, grow=16, after=0.45)
    _letterhead(page, ref, sender.address, style)
    page.y += 0.15
    page.line(style, (0.8, "PATIENT INFORMATION"), bold=True)
    page.line(
        style,
        (0.8, f"{lab['name']}: {style.name(ref.first, ref.last)}"),
        (4.9, f"{lab['dob']}: {style.date(ref.dob)}"),
    )
    page.line(style, (0.8, f"Address: {ref.address}"))
    page.line(
        style,
        (0.8, f"{lab['phone']}: {style.phone(ref.phone)}"),
        (4.9, "Sex: F" if rng.random() < 0.5 else "Sex: M"),
    )
    page.line(style, (0.8, f"{lab['insurance']}: {ref.insurance}"))
    page.line(style, (0.8, f"Member ID: {ref.member_id}"))
    page.y += 0.15
    page.line(style, (0.8, "REFERRING PROVIDER"), bold=True)
    page.line(
        style,
        (0.8, f"{lab['provider']}: {_provider_name(ref)}"),
        (4.9, f"NPI: {ref.npi}"),
    )
    page.line(
        style,
        (0.8, f"Phone: {style.phone(ref.provider_phone)}"),
        (4.9, f"Fax: {style.phone(ref.provider_fax)}"),
    )
    page.y += 0.15
    page.line(style, (0.8, "REFERRAL"), bold=True)
    page.line(style, (0.8, f"{lab['urgency']}: {_urgency_word(rng, ref)}"))
    page.line(style, (0.8, f"{lab['reason']}: {ref.reason}"))
    page.line(style, (0.8, f"{lab['codes']}: {', '.join(ref.codes)}"))
    page.y += 0.15
    page.line(style, (0.8, "Clinical notes:"))
    for sentence in ref.notes[:2]:
        page.line(style, (0.8, sentence))
    page.y += 0.3
    page.line(
        style, (0.8, "Signature: ____________________"), (4.9, f"Date: {style.date(ref.sent)}")
    )
    pages = [page]
    if rng.random() < 0.4:
        pages.append(_progress_note(ref, style))
    return pages


def _progress_note(ref: Referral, style: Style) -> Page:
    page = Page(y=1.0)
    page.heading("PROGRESS NOTE", style, grow=10, after=0.4)
    page.line(
        style,
        (0.8, f"Patient: {style.name(ref.first, ref.last)}"),
        (4.9, f"DOB: {style.date(ref.dob)}"),
    )
    page.line(style, (0.8, f"Visit date: {style.date(ref.sent)}"))
    page.rule()
    page.line(style, (0.8, "Subjective"), bold=True)
    for sentence in ref.notes:
        page.line(style, (0.8, sentence))
    page.y += 0.15
    page.line(style, (0.8, "Assessment and plan"), bold=True)
    page.line(style, (0.8, f"Assessment: {ref.reason.lower()}."))
    page.line(style, (0.8, "Plan: refer to orthopedics for evaluation and treatment."))
    page.y += 0.4
    page.line(style, (0.8, f"Electronically signed by {_provider_name(ref)}"))
    return page


def layout_letter(rng: random.Random, ref: Referral, sender: Sender, style: Style) -> list[Page]:
    """A fax cover sheet followed by a referral letter."""
    lab = style.labels
    cover = Page(y=1.2)
    cover.heading("FAX COVER SHEET", style, grow=16, after=0.7)
    cover.line(style, (0.8, f"To: {RECEIVER}"), gap=1.4)
    cover.line(style, (0.8, f"Fax: {RECEIVER_FAX}"), gap=2.2)
    cover.line(style, (0.8, f"From: {_provider_name(ref)}"), gap=1.4)
    cover.line(style, (0.8, f"Phone: {style.phone(ref.provider_phone)}"), gap=1.4)
    cover.line(style, (0.8, f"Fax: {style.phone(ref.provider_fax)}"), gap=2.2)
    cover.line(style, (0.8, f"Date: {style.date(ref.sent)}"))
    cover.line(style, (0.8, "Pages: 2 (including cover)"))
    cover.line(style, (0.8, "Re: New patient referral"), gap=3)
    for sentence in (
        "CONFIDENTIALITY NOTICE: This facsimile contains protected health",
        "information intended only for the recipient named above. If you received",
        "it in error, notify the sender by telephone and destroy all copies.",
    ):
        cover.line(style, (0.8, sentence), gap=1.3)

    letter = Page(y=1.0)
    _letterhead(letter, ref, sender.address, style)
    letter.y += 0.2
    letter.line(style, (0.8, style.date(ref.sent)), gap=2.0)
    letter.line(style, (0.8, RECEIVER), gap=1.3)
    letter.line(style, (0.8, "Attn: Referral Coordinator"), gap=2.0)
    letter.line(
        style,
        (0.8, f"Re: {style.name(ref.first, ref.last)}"),
        (4.9, f"{lab['dob']}: {style.date(ref.dob)}"),
    )
    letter.line(style, (0.8, f"Patient phone: {style.phone(ref.phone)}"))
    letter.line(style, (0.8, f"{lab['insurance']}: {ref.insurance}"), gap=2.2)
    letter.line(style, (0.8, "Dear Colleague,"), gap=2.0)
    letter.line(style, (0.8, "Thank you for seeing this patient, whom I am referring for"), gap=1.3)
    letter.line(
        style, (0.8, "evaluation and treatment. A summary of the history follows."), gap=2.0
    )
    letter.line(style, (0.8, f"{lab['reason']}: {ref.reason}"))
    letter.line(style, (0.8, f"Diagnosis: {', '.join(ref.codes)}"))
    letter.line(style, (0.8, f"{lab['urgency']}: {_urgency_word(rng, ref)}"), gap=2.0)
    for sentence in ref.notes[:2]:
        letter.line(style, (0.8, sentence), gap=1.3)
    letter.y += 0.3
    letter.line(style, (0.8, "Sincerely,"), gap=2.6)
    letter.line(style, (0.8, _provider_name(ref)))
    letter.line(style, (0.8, f"NPI: {ref.npi}"))
    return [cover, letter]


def layout_table(rng: random.Random, ref: Referral, sender: Sender, style: Style) -> list[Page]:
    """A two-column boxed form: patient on the left, referring provider on the right."""
    lab = style.labels
    page = Page(y=1.0)
    page.heading(ref.practice[0], style, grow=6, after=0.35)
    page.heading("OUTPATIENT REFERRAL REQUEST", style, grow=4, after=0.45)
    top = page.y - 0.25
    page.line(style, (0.9, "PATIENT"), (4.4, "REFERRING PROVIDER"), bold=True)
    page.line(style, (0.9, f"Last name: {ref.last}"), (4.4, f"Name: {_provider_name(ref)}"))
    page.line(style, (0.9, f"First name: {ref.first}"), (4.4, f"NPI: {ref.npi}"))
    page.line(
        style,
        (0.9, f"{lab['dob']}: {style.date(ref.dob)}"),
        (4.4, f"Phone: {style.phone(ref.provider_phone)}"),
    )
    page.line(
        style,
        (0.9, f"Phone: {style.phone(ref.phone)}"),
        (4.4, f"Fax: {style.phone(ref.provider_fax)}"),
    )
    page.line(style, (0.9, f"Member ID: {ref.member_id}"), (4.4, f"City: {ref.practice[1]}"))
    middle = page.y - 0.1
    page.y += 0.2
    page.line(style, (0.9, f"{lab['insurance']}: {ref.insurance}"))
    page.line(style, (0.9, f"{lab['urgency']}: {_urgency_word(rng, ref)}"))
    page.line(style, (0.9, f"{lab['reason']}: {ref.reason}"))
    page.line(style, (0.9, f"{lab['codes']}: {', '.join(ref.codes)}"))
    bottom = page.y - 0.1
    for y in (top, middle, bottom):
        page.ops.append(Rule(0.75, y, 7.85, y))
    page.ops.append(Rule(0.75, top, 0.75, bottom))
    page.ops.append(Rule(7.85, top, 7.85, bottom))
    page.ops.append(Rule(4.25, top, 4.25, middle))
    page.y += 0.3
    page.line(style, (0.9, "Comments:"))
    for sentence in ref.notes[:2]:
        page.line(style, (0.9, sentence), gap=1.3)
    page.y += 0.3
    page.line(style, (0.9, f"Sent by {ref.practice[0]} on {style.date(ref.sent)}"))
    pages = [page]
    if rng.random() < 0.3:
        pages.append(_progress_note(ref, style))
    return pages


LAYOUT_FUNCTIONS = {"form": layout_form, "letter": layout_letter, "table": layout_table}


@cache
def _font(name: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES[(name, bold)]), size)


def _render_image(page: Page, dpi: int) -> Image.Image:
    image = Image.new("L", (round(PAGE_W_IN * dpi), round(PAGE_H_IN * dpi)), 255)
    draw = ImageDraw.Draw(image)
    scale = dpi / 204
    for op in page.ops:
        if isinstance(op, Text):
            font = _font(op.font, op.bold, round(op.size * scale))
            draw.text((op.x * dpi, op.y * dpi), op.text, font=font, fill=0, anchor="ls")
        else:
            draw.line(
                (op.x0 * dpi, op.y0 * dpi, op.x1 * dpi, op.y1 * dpi),
                fill=0,
                width=max(1, round(op.width * dpi)),
            )
    return image


def _stamp(rng: random.Random, sent: dt.date) -> Image.Image:
    word = rng.choice(("RECEIVED", "FAXED", "RECEIVED", "SCANNED"))
    when = (sent + dt.timedelta(days=rng.randrange(0, 3))).strftime("%b %d %Y").upper()
    font = _font("sans", True, 40)
    small = _font("sans", True, 30)
    stamp = Image.new("L", (380, 150), 0)
    draw = ImageDraw.Draw(stamp)
    draw.rectangle((3, 3, 376, 146), outline=255, width=5)
    draw.text((190, 62), word, font=font, fill=255, anchor="mm")
    draw.text((190, 112), when, font=small, fill=255, anchor="mm")
    return stamp.rotate(rng.uniform(-12, 12), expand=True, resample=Image.Resampling.BICUBIC)


def _banner(sent: dt.date, rng: random.Random, sender: Sender, number: int, total: int) -> str:
    when = f"{sent:%b %d %Y} {rng.randrange(7, 18):02d}:{rng.randrange(60):02d}"
    return (
        f"{when}   FROM: {format_phone(sender.fax)}   {sender.practice[0][:24].upper()}"
        f"   P.{number:03d}/{total:03d}"
    )


def _scan(page: Page, rng: random.Random, banner: str, sent: dt.date) -> Image.Image:
    """The page as a fax machine prints it: skewed, stamped, speckled, 1-bit at 204x196."""
    image = _render_image(page, 204)
    draw = ImageDraw.Draw(image)
    draw.text((40, 34), banner, font=_font("mono", False, 24), fill=0, anchor="lt")
    if rng.random() < 0.6:
        stamp = _stamp(rng, sent)
        ink = Image.new("L", stamp.size, rng.randrange(40, 110))
        x = rng.randrange(1100, image.width - stamp.width - 20)
        y = rng.randrange(80, 240)
        image.paste(ink, (x, y), stamp)
    image = image.rotate(rng.uniform(-1.8, 1.8), resample=Image.Resampling.BICUBIC, fillcolor=255)
    image = image.resize((image.width, round(image.height * FAX_DPI[1] / FAX_DPI[0])))
    threshold = rng.randrange(150, 190)
    image = image.point(lambda v: 255 if v > threshold else 0).convert("1")
    pixels = image.load()
    assert pixels is not None  # a loaded in-memory image always has its pixels
    width, height = image.size
    for _ in range(int(width * height * rng.uniform(0.0008, 0.002))):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = 0 if pixels[x, y] else 255  # a speck: flip the bilevel pixel
    for _ in range(rng.randrange(0, 3)):  # a streak from a dirty scanner glass
        y = rng.randrange(height)
        for x in range(rng.randrange(width // 2), width):
            pixels[x, y] = 0
    return image


def _render_pdf(pages: list[Page], sent: dt.date) -> bytes:
    from fpdf import FPDF

    # fpdf2's font subsetting logs every glyph table at INFO.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf = FPDF(unit="in", format="letter")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(dt.datetime(sent.year, sent.month, sent.day, 12, 0, tzinfo=dt.UTC))
    for (name, bold), filename in FONT_FILES.items():
        pdf.add_font(name, "B" if bold else "", str(FONT_DIR / filename))
    for page in pages:
        pdf.add_page()
        for op in page.ops:
            if isinstance(op, Text):
                pdf.set_font(op.font, "B" if op.bold else "", op.size * 72 / 204)
                pdf.text(op.x, op.y, op.text)
            else:
                pdf.set_line_width(op.width)
                pdf.line(op.x0, op.y0, op.x1, op.y1)
    return bytes(pdf.output())


def make_packet(
    seed: int, *, patients: int = 2, layout: str | None = None, scanned: bool = True
) -> tuple[bytes, str, list[dict]]:
    """(file bytes, file extension "tif" or "pdf", one label dict per patient).

    Deterministic for a seed. `layout` is one of LAYOUTS, or None to draw one. A scanned
    packet is a multi-page TIFF or an image-only PDF; otherwise a PDF with a text layer.
    Labels map each FIELD_NAME to the expected value and "pages" to [first, last] (1-based).
    """
    rng = random.Random(seed)
    layout = layout or rng.choice(LAYOUTS)
    if layout not in LAYOUT_FUNCTIONS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}")
    style = _style(rng)
    sender = _sender(rng)
    sent = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randrange(0, 120))
    pages: list[Page] = []
    labels = []
    for _ in range(patients):
        ref = _referral(rng, sender, sent)
        drawn = LAYOUT_FUNCTIONS[layout](rng, ref, sender, style)
        labels.append(ref.labels((len(pages) + 1, len(pages) + len(drawn))))
        pages.extend(drawn)
    if not scanned:
        return _render_pdf(pages, sent), "pdf", labels
    images = [
        _scan(page, rng, _banner(sent, rng, sender, number, len(pages)), sent)
        for number, page in enumerate(pages, start=1)
    ]
    out = io.BytesIO()
    if rng.random() < 0.7:
        images[0].save(
            out, "TIFF", save_all=True, append_images=images[1:], compression="group4", dpi=FAX_DPI
        )
        return out.getvalue(), "tif", labels
    # A fixed timestamp keeps the bytes the same for a seed.
    stamp = dt.datetime(sent.year, sent.month, sent.day, 12, 0).timetuple()
    images[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=images[1:],
        resolution=204,
        creationDate=stamp,
        modDate=stamp,
    )
    return out.getvalue(), "pdf", labels
