"""Where one packet holds several patients: cut it where the patient changes.

Each page's patient is its best-read name and birth date, compared part by part (a first
name missing or read with its middle initial, "LAST, FIRST" read the other way round, one
digit of a birth date misread). A page that names nobody belongs to the patient before it,
except a fax cover sheet, which belongs to the pages after it, and a second referral form
of its own, which starts the next patient's pages. A document's own "Page 2 of 3" ties a
page to the one before it.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from refloop.intake.extraction import PageReading

# What only a referral form (or letter) states about its referral, under a label of its
# own; an attached note's and a cover sheet's readings are demoted below priority 2.
REFERRAL_FIELDS = {"reason", "urgency", "insurance", "icd10_codes", "provider_npi"}
FORM_PRIORITY = 2
# A document's own page numbers ("Page 2 of 3", "Pg. 2/3"); a fax banner's are left out of
# the text the reading keeps.
PAGE_OF = re.compile(r"\bp(?:age|g)?\.?\s*(\d{1,2})\s*(?:of|/)\s*(\d{1,2})\b", re.IGNORECASE)
# What a fax cover sheet says of itself, whatever the practice's template.
COVER_TITLE = re.compile(
    r"\b(?:fax\s*cover|cover\s*(?:sheet|page|letter)|fax\s+transmittal|transmittal|facsimile"
    r"|including\s+(?:this\s+)?cover|(?:no\.?|number|#)\s*of\s+pages|total\s+pages"
    r"|pages?\s*(?:\([^)]*\))?\s*[:#]\s*\d)",
    re.IGNORECASE,
)
COVER_CUES = (
    re.compile(r"(?<![A-Za-z])to\s*[:;]", re.IGNORECASE),
    re.compile(r"(?<![A-Za-z])from\s*[:;]", re.IGNORECASE),
    re.compile(
        r"confidential|privileged|received\s+this\s+\w+\s+in\s+error|intended\s+recipient",
        re.IGNORECASE,
    ),  # fmt: skip
    re.compile(r"(?<![A-Za-z])(?:re|subject|attn)\s*[:;.]", re.IGNORECASE),
    re.compile(r"please\s+(?:reply|comment|call|recycle)|for\s+(?:your\s+)?review", re.IGNORECASE),
)


@dataclass(frozen=True)
class Identity:
    first: str
    last: str
    dob: str  # ISO, or "" where none was read


def _identity(reading: PageReading) -> Identity | None:
    last = reading.best("patient_last_name")
    first = reading.best("patient_first_name")
    dob = reading.best("patient_date_of_birth")
    if last is None and dob is None:
        return None
    return Identity(
        _plain(first.value) if first else "",
        _plain(last.value) if last else "",
        dob.value if dob else "",
    )


def _plain(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _first_names_agree(a: str, b: str) -> bool:
    """ "Ann" and "Anne", "J" and "John", "AugustinR" (a middle initial glued on) and
    "Augustin"."""
    if not a or not b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return (
        _similar(a, b) >= 0.8
        or (longer.startswith(shorter) and len(longer) - len(shorter) <= 2)
        or (len(shorter) == 1 and longer.startswith(shorter))
    )


def _names(a: Identity, b: Identity) -> str:
    """ "same", "close", "unknown" or "different": how the two names compare."""
    if not a.last or not b.last:
        if a.last or b.last or not (a.first and b.first):
            return "unknown"
        return "close" if _first_names_agree(a.first, b.first) else "different"
    pairs = [((a.first, a.last), (b.first, b.last))]
    if a.first and b.first:
        pairs.append(((a.first, a.last), (b.last, b.first)))  # "LAST, FIRST" read in turn
    best = "different"
    for (first_a, last_a), (first_b, last_b) in pairs:
        last = _similar(last_a, last_b)
        if not _first_names_agree(first_a, first_b):
            continue
        if last >= 0.9:
            return "same" if first_a and first_b else "close"
        if last >= 0.75:
            best = "close"
    return best


def _dates(a: str, b: str) -> str:
    """ "same", "close" (one digit misread, or day and month swapped), "unknown" or
    "different"."""
    if not a or not b:
        return "unknown"
    if a == b:
        return "same"
    if len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return "close"
    year_a, month_a, day_a = a.split("-") if a.count("-") == 2 else (a, "", "")
    year_b, month_b, day_b = b.split("-") if b.count("-") == 2 else (b, "", "")
    if year_a == year_b and (month_a, day_a) == (day_b, month_b):
        return "close"
    return "different"


def same_patient(a: Identity, b: Identity) -> bool:
    names, dates = _names(a, b), _dates(a.dob, b.dob)
    if dates == "same":
        return names != "different"
    if dates == "close":
        return names in {"same", "close"}
    if dates == "different":
        # Two birth dates: one patient only if the whole name agrees (one date misread).
        return names == "same"
    return names in {"same", "close"} or (names == "unknown" and not (a.last and b.last))


def _merged(a: Identity, b: Identity) -> Identity:
    """The fuller identity, for the next comparison."""
    return Identity(a.first or b.first, a.last or b.last, a.dob or b.dob)


def is_cover(reading: PageReading) -> bool:
    """A fax cover sheet: it names what it is, or says enough of what covers say (To and
    From, a confidentiality notice, a subject line, "please reply"). Never a page that
    states a referral's own fields."""
    if is_form(reading):
        return False
    if reading.is_cover or COVER_TITLE.search(reading.text):
        return True
    return sum(bool(cue.search(reading.text)) for cue in COVER_CUES) >= 3


def is_form(reading: PageReading) -> bool:
    """A referral form or letter: it states at least two of a referral's own fields."""
    stated = {
        f.field
        for f in reading.found
        if f.field in REFERRAL_FIELDS and f.priority >= FORM_PRIORITY and f.valid
    }
    return len(stated) >= 2


def page_of(reading: PageReading) -> tuple[int, int] | None:
    match = PAGE_OF.search(reading.text)
    if match is None:
        return None
    number, count = int(match.group(1)), int(match.group(2))
    return (number, count) if 1 <= number <= count else None


def _continues(reading: PageReading, before: PageReading | None) -> bool:
    """A document's page 2 of 3 after its page 1 of 3: one document, one patient."""
    here, there = page_of(reading), page_of(before) if before else None
    return (
        here is not None and there is not None and here[1] == there[1] and here[0] == there[0] + 1
    )


def split(readings: list[PageReading]) -> list[list[PageReading]]:
    """The pages grouped by patient, in order; every page belongs to exactly one group."""
    groups: list[list[PageReading]] = []
    current: Identity | None = None
    # Pages waiting for the patient they announce: cover sheets, and a referral form whose
    # patient could not be read where the pages before already hold a form.
    waiting: list[PageReading] = []
    previous: PageReading | None = None
    for reading in readings:
        identity = _identity(reading)
        tied = _continues(reading, previous)
        previous = reading
        if tied:
            (waiting or groups[-1]).append(reading)
            if identity is not None:
                current = identity if current is None else _merged(current, identity)
            continue
        if identity is None:
            cover = is_cover(reading)
            unnamed_form = is_form(reading) and any(
                is_form(r) for r in (waiting or (groups[-1] if groups else []))
            )
            if (cover or unnamed_form) and any(not is_cover(r) for r in waiting):
                # Pages no one could be read on, then a new cover or form: they were a
                # packet of their own.
                groups.append(waiting)
                waiting, current = [], None
            if cover or unnamed_form or not groups:
                waiting.append(reading)
            else:
                groups[-1].append(reading)
            continue
        if waiting and is_form(reading) and any(is_form(r) for r in waiting):
            # A form no name was read on, then another form naming a patient: two referrals.
            groups.append(waiting)
            waiting, current = [], None
        if (
            groups
            and current is not None
            and same_patient(current, identity)
            and not any(is_cover(r) for r in waiting)
        ):
            groups[-1].extend([*waiting, reading])
            waiting = []
            current = _merged(current, identity)
            continue
        groups.append([*waiting, reading])
        waiting = []
        current = identity
    if waiting:
        if groups:
            groups[-1].extend(waiting)
        else:
            groups.append(waiting)
    return groups
