"""Referral fields read from a page's words, each with a confidence and a review flag.

A page's lines are cut into segments where the words leave a wide gap (form columns), and
labels ("DOB:", "NPI", "Reason for referral:"...) are found in the segments. Generic labels
("Name", "Phone", "Fax") are resolved by the section they sit in (a "PATIENT" or
"REFERRING PROVIDER" heading, a cover sheet's "To:"/"From:"). Every value is normalized and
checked (phone digits, NPI check digit, a date that can be a birth date); a failed check, a
low OCR confidence, a missing value or two disagreeing values set `review`: the engine
never guesses silently.
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from refloop.intake import values
from refloop.intake.models import FIELD_NAMES
from refloop.intake.reading import PageText, Word

# Below this OCR confidence (0..1, the weakest word of a value) a coordinator checks it.
REVIEW_BELOW = 0.80
# Words this far apart (a fraction of the page width) belong to different form columns.
SEGMENT_GAP = 0.03

PATIENT, PROVIDER, SENDER, RECIPIENT, OTHER = "patient", "provider", "sender", "recipient", "other"

# Label -> slot. Order matters: longer, more specific labels first.
LABELS: list[tuple[str, str]] = [
    (r"patient(?:'s)?\s+name", "patient_name"),
    (r"name\s+of\s+patient", "patient_name"),
    (r"last\s+name", "last_name"),
    (r"first\s+name", "first_name"),
    (r"date\s*of\s*birth|birth\.?\s*date|d\.?\s?o\.?\s?b\.?", "dob"),
    (r"(?:home|cell|mobile|patient)\s+(?:phone|tel(?:ephone)?|#)|patient\s+phone", "patient_phone"),
    (r"(?:office|clinic|provider|practice)\s+(?:phone|tel(?:ephone)?)", "provider_phone"),
    (r"(?:office|clinic|provider|practice)\s+fax", "provider_fax"),
    (r"phone(?:\s+(?:number|no\.?|#))?|tel(?:ephone)?|ph", "phone"),
    (r"fax(?:\s+(?:number|no\.?|#))?", "fax"),
    (r"npi(?:\s+(?:number|no\.?|#))?", "npi"),
    (
        r"referring\s+(?:provider|physician|doctor|clinician)(?:\s+name)?|ordering\s+provider"
        r"|referred\s+by|provider(?:\s+name)?|physician|pcp",
        "provider_name",
    ),
    (
        r"reason\s+for\s+(?:referral|consult(?:ation)?|visit)|referral\s+reason|reason"
        r"|chief\s+complaint",
        "reason",
    ),
    (
        r"diagnosis(?:\s+codes?)?(?:\s*/\s*icd-?\s?10)?|icd-?\s?[1lI][0oO]\.?(?:[\s\-]+codes?)?|dx(?:\s+codes?)?",
        "codes",
    ),
    (r"urgency|priority", "urgency"),
    (
        r"(?:primary\s+)?insurance(?:\s+(?:plan|carrier|company))?|payer|payor|health\s+plan",
        "insurance",
    ),
    (r"patient", "patient_name"),
    (r"name", "name"),
    (r"re", "patient_name"),
    (r"from", "from"),
    (r"to|attn", "to"),
    (r"city", "city"),
    # Labels whose values nobody reads here; they end the value before them.
    (
        r"member\s+id|subscriber\s+id|policy(?:\s+(?:number|no\.?|#))?|group(?:\s+(?:number|no\.?|#))?"
        r"|id\s*#?|mrn|sex|gender|address|visit\s+date|date|pages?|signature|notes?|comments?"
        r"|clinical\s+notes|assessment|plan|email|dept|department|specialty|practice",
        "other",
    ),
]
# OCR drops spaces and reads specks as periods between a label's words: "Reason for. referral".
LABEL_RE = re.compile(
    "|".join(
        f"(?P<l{i}>{pattern.replace(r'\s+', r'[\s.,]*')})" for i, (pattern, _) in enumerate(LABELS)
    ),
    re.IGNORECASE,
)
# A label inside a segment needs its colon; at the start of one a colon may be missing.
LABEL_WITH_COLON = re.compile(rf"(?<![A-Za-z0-9])(?:{LABEL_RE.pattern})\s*[:#]", re.IGNORECASE)
LABEL_AT_START = re.compile(rf"^(?:{LABEL_RE.pattern})(?![A-Za-z])\s*[:#]?", re.IGNORECASE)
PATIENT_SLOTS = {"patient_name", "dob", "first_name", "last_name", "patient_phone"}
NO_COLON_SLOTS = {"npi", "fax", "phone", "dob", "provider_fax", "provider_phone", "patient_phone"}
BANNER = re.compile(r"\bP(?:age)?\.?\s*\d{1,3}\s*/\s*\d{1,3}\b|\bpage\s+\d+\s+of\s+\d+", re.I)
TIME = re.compile(r"\d{1,2}:\d{2}")
COVER = re.compile(r"fax\s+cover|cover\s+sheet|pages?\s*:\s*\d", re.IGNORECASE)
CITY_STATE_ZIP = re.compile(r"([A-Z][A-Za-z .'-]{1,40}),\s*([A-Z]{2})\s+\d{5}(?:-\d{4})?")

JUNK = "‘’“”'`\"|_~«»—•·"
TITLES = {"dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "doctor"}
CREDENTIALS = {
    "md", "m.d.", "do", "d.o.", "np", "fnp", "fnp-c", "fnp-bc", "pa", "pa-c", "dpm", "dc",
    "aprn", "rn", "mbbs", "phd", "facp", "faafp", "jr", "jr.", "sr", "sr.",
}  # fmt: skip
NOT_A_PERSON = {
    "new", "patient", "referral", "referrals", "medicine", "medical", "clinic", "health",
    "family", "group", "practice", "center", "centre", "hospital", "associates", "care",
    "physicians", "spine", "orthopedics", "coordinator", "office", "internal", "primary",
    "the", "of", "and", "&", "attn", "department", "request", "form",
}  # fmt: skip
URGENCY_WORDS = {
    "stat": "stat", "emergent": "stat", "emergency": "stat", "immediate": "stat",
    "asap": "urgent", "urgent": "urgent", "expedite": "urgent", "expedited": "urgent",
    "high": "urgent", "routine": "routine", "standard": "routine", "normal": "routine",
    "elective": "routine", "non-urgent": "routine", "low": "routine",
}  # fmt: skip
ROMAN_LOOKALIKES = {
    "Il": "II", "lI": "II", "ll": "II", "I1": "II", "1I": "II", "Ii": "II", "Ill": "III",
}  # fmt: skip
DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1",
                                  "i": "1", "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2"})  # fmt: skip


@dataclass
class Found:
    """One reading of a field on a page."""

    field: str
    value: str
    confidence: float
    page: int
    priority: int = 2  # 3 explicit label, 2 resolved by section, 1 letterhead, 0 fallback
    valid: bool = True
    note: str = ""
    # Where on the page it was read: (x0, y0, x1, y1), fractions of the page.
    box: tuple[float, float, float, float] | None = None


@dataclass
class PageReading:
    number: int
    found: list[Found]
    is_cover: bool
    cities: set[str] = field(default_factory=set)

    def best(self, name: str) -> Found | None:
        options = [f for f in self.found if f.field == name and f.valid]
        return max(options, key=lambda f: (f.priority, f.confidence), default=None)


@dataclass
class Segment:
    words: list[Word]
    column: str  # "left", "right" or "both"

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


# ---- segments, labels and sections ---------------------------------------------------


def _clean_word(word: Word) -> Word | None:
    text = word.text.strip(JUNK)
    text = text.lstrip(".,;:")
    if not any(ch.isalnum() for ch in text) and text not in {"&", "/"}:
        return None
    return Word(text, word.conf, word.x0, word.y0, word.x1, word.y1)


GLUED_LABEL = re.compile(r"^([A-Za-z][A-Za-z0-9\-/]*[A-Za-z][:#])[.,\-:;]*(\S+)$")


def _unglue(word: Word) -> list[Word]:
    """OCR sometimes loses the space after a colon: "NPI:-1036426215" is two words."""
    match = GLUED_LABEL.match(word.text)
    if not match:
        return [word]
    label, value = match.groups()
    split = word.x0 + (word.x1 - word.x0) * len(label) / len(word.text)
    return [
        Word(label, word.conf, word.x0, word.y0, split, word.y1),
        Word(value, word.conf, split, word.y0, word.x1, word.y1),
    ]


def segments_of(line: list[Word]) -> list[Segment]:
    words = [
        w for word in line for w in (_clean_word(part) for part in _unglue(word)) if w is not None
    ]
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.x0 - groups[-1][-1].x1 <= SEGMENT_GAP:
            groups[-1].append(word)
        else:
            groups.append([word])
    return [Segment(g, "left" if (g[0].x0 + g[-1].x1) / 2 < 0.5 else "right") for g in groups]


def _slot(match: re.Match) -> str:
    for name, value in match.groupdict().items():
        if value is not None and name.startswith("l"):
            return LABELS[int(name[1:])][1]
    return "other"


@dataclass
class Labelled:
    slot: str
    words: list[Word]  # the value's words
    segment: Segment


def labelled_values(segment: Segment) -> list[Labelled]:
    """(slot, value words) for each label in the segment; the value ends at the next label."""
    text = segment.text
    # Character offsets of each word in `text`.
    offsets, position = [], 0
    for word in segment.words:
        offsets.append(position)
        position += len(word.text) + 1
    starts: list[tuple[int, int, str]] = []
    at_start = LABEL_AT_START.match(text)
    if at_start and not at_start.group().rstrip().endswith((":", "#")):
        # Without its colon only a label that cannot start a sentence counts ("NPI 1234…").
        if _slot(LABEL_RE.match(text)) not in NO_COLON_SLOTS:
            at_start = None
    if at_start:
        starts.append((at_start.start(), at_start.end(), _slot(LABEL_RE.match(text))))
    for match in LABEL_WITH_COLON.finditer(text):
        if at_start and match.start() < at_start.end():
            continue
        inner = LABEL_RE.match(text, match.start())
        starts.append((match.start(), match.end(), _slot(inner) if inner else "other"))
    results = []
    for index, (_, end, slot) in enumerate(starts):
        stop = starts[index + 1][0] if index + 1 < len(starts) else len(text) + 1
        words = [
            w
            for w, offset in zip(segment.words, offsets, strict=True)
            if offset >= end - 1 and offset + len(w.text) > end and offset < stop
        ]
        results.append(Labelled(slot, words, segment))
    return results


def _is_heading(segment: Segment) -> str | None:
    """The section a heading opens ("PATIENT INFORMATION"), judged by its first words."""
    text = segment.text
    first = " ".join(w.text for w in segment.words[:2])
    if ":" in text or not any(c.isalpha() for c in first) or first.upper() != first:
        return None
    upper = text.upper()
    if re.search(r"PA[TI1L]{1,2}E?NT", upper):
        return PATIENT
    if any(w in upper for w in ("PROVIDER", "PHYSICIAN", "REFERRING", "REFERRED BY")):
        return PROVIDER
    if len(upper.split()) <= 4:
        return OTHER
    return None


def is_banner(line_text: str, index: int) -> bool:
    return index <= 1 and bool(BANNER.search(line_text)) and bool(TIME.search(line_text))


# ---- values -------------------------------------------------------------------------


def _conf(words: list[Word]) -> float:
    return min((w.conf for w in words), default=0.0)


def box_of(words: list[Word]) -> tuple[float, float, float, float] | None:
    """The rectangle around `words` (the review page highlights it on the page image)."""
    if not words:
        return None
    return (
        min(w.x0 for w in words),
        min(w.y0 for w in words),
        max(w.x1 for w in words),
        max(w.y1 for w in words),
    )


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(DIGIT_LOOKALIKES))


def parse_phone(words: list[Word]) -> tuple[str, bool] | None:
    """('(316) 555-0142', valid) from the first phone-like words."""
    return values.read_phone(" ".join(w.text for w in words))


def parse_date(text: str, today: dt.date) -> tuple[str, bool] | None:
    """(ISO date, can be a birth date) from a labelled date's text."""
    read = values.read_date(text, today=today, compact=True)
    return (read.iso, read.plausible) if read else None


def parse_person(words: list[Word]) -> tuple[list[Word], list[Word]] | None:
    """(first-name words, last-name words) of a person's name, or None if it is not one."""
    tokens = []
    for word in words:
        # "Henry.Lindgren": a speck read as a period between two names.
        parts = re.split(r"(?<=[a-z])[.:](?=[A-Z])", word.text)
        if len(words) == 1 and len(parts) == 1:
            parts = re.split(r"(?<=[a-z])(?=[A-Z])", word.text)  # "GloriaBaker"
        width = (word.x1 - word.x0) / len(parts)
        for i, part in enumerate(parts):
            x0 = word.x0 + i * width
            tokens.append(Word(part, word.conf, x0, word.y0, x0 + width, word.y1))
    tokens = [w for w in tokens if w.text.lower().strip(",.") not in TITLES]
    # A middle initial's period read as a comma ("Raymond M, Raghunathan") is no "Last, First".
    tokens = [
        Word(f"{w.text[0]}.", w.conf, w.x0, w.y0, w.x1, w.y1)
        if 0 < i < len(tokens) - 1 and re.fullmatch(r"[A-Z],", w.text)
        else w
        for i, w in enumerate(tokens)
    ]
    # Credentials and anything after them ("Jane Smith, MD NPI ...") are not the name.
    for index, word in enumerate(tokens):
        if index >= 2 and word.text.lower().strip(",.;") in CREDENTIALS:
            tokens = tokens[:index]
            break
    # After a comma comes a first name ("HILL, PAUL") or credentials and specks ("Patel, 1D").
    for index, word in enumerate(tokens[:-1]):
        if word.text.endswith(",") and not all(
            re.fullmatch(r"[A-Za-z][A-Za-z'\-]+", w.text.strip(",."))
            and w.text.lower().strip(",.") not in CREDENTIALS
            for w in tokens[index + 1 :]
        ):
            tokens = tokens[: index + 1]
            break
    if not tokens or len(tokens) > 4:
        return None
    if any(w.text.lower().strip(",.") in NOT_A_PERSON for w in tokens):
        return None
    if not all(re.fullmatch(r"[A-Za-z][A-Za-z'\-]*[.,]?", w.text) for w in tokens):
        return None
    comma = next((i for i, w in enumerate(tokens) if w.text.endswith(",")), None)
    if comma is not None and comma < len(tokens) - 1:
        last, first = tokens[: comma + 1], tokens[comma + 1 :]
    else:
        first, last = tokens[:-1], tokens[-1:]
    # A middle initial ("Jane A. Smith") is not part of the first name.
    first = [w for w in first if len(w.text.strip(".,")) > 1] or first[:1]
    if not first or not last:
        return None
    return first[:1], last


def _name_confidence(words: list[Word]) -> float:
    # A one- or two-letter name is where OCR most often lost letters ("Li" for "Linda").
    short = any(len(w.text.strip(",.")) <= 2 for w in words)
    return min(_conf(words), 0.7) if short else _conf(words)


def _name_text(words: list[Word]) -> str:
    text = " ".join(w.text.strip(",.") for w in words)
    if text.isupper() or text.islower():
        text = "-".join(part.capitalize() for part in text.split("-"))
        text = " ".join(part[:1].upper() + part[1:] for part in text.split(" "))
    return text


def _free_text(words: list[Word]) -> str:
    tokens = [w.text for w in words]
    for index, token in enumerate(tokens[:-1]):
        # Specks read as punctuation: "sprain,-right", "degeneration. with".
        token = re.sub(r"([,;])[.\-,;:]+$", r"\1", token)
        token = re.sub(r"([a-z][,;])[.\-]+(?=[a-z])", r"\1 ", token)
        if token.endswith(".") and tokens[index + 1][:1].islower() and len(token) > 3:
            token = token[:-1]
        if token.endswith(":"):  # not a label, so a speck: "Blue Shield: PPO"
            token = token.rstrip(":")
        tokens[index] = token
    for index, token in enumerate(tokens[1:], start=1):
        # A plan's roman numeral after a capitalised word: "POS Il" is "POS II".
        if token in ROMAN_LOOKALIKES and tokens[index - 1].isupper():
            tokens[index] = ROMAN_LOOKALIKES[token]
    text = " ".join(tokens).strip(" ,;:.")
    return re.sub(r"\s+", " ", text)


def parse_codes(words: list[Word]) -> list[str]:
    return values.read_codes(" ".join(w.text for w in words)).codes


# ---- the page -------------------------------------------------------------------------


def read_page(page: PageText, *, today: dt.date) -> PageReading:
    """Every field reading on one page."""
    found: list[Found] = []
    cities: set[str] = set()
    sections = {"left": SENDER, "right": SENDER}
    lines = [line for line in page.lines if line]
    full_text = page.text
    for index, line in enumerate(lines):
        line_text = " ".join(w.text for w in line)
        if is_banner(line_text, index):
            found.extend(_banner_fax(line, page.number))
            continue
        for match in CITY_STATE_ZIP.finditer(line_text):
            cities.add(match.group(1).split(",")[-1].strip().lower())
        segments = segments_of(line)
        headings = [(s, _is_heading(s)) for s in segments]
        headings = [(s, h) for s, h in headings if h]
        if len(headings) == 1 and len(segments) == 1:
            sections = {"left": headings[0][1], "right": headings[0][1]}
            continue
        for segment, heading in headings:
            if len(headings) > 1:
                sections[segment.column] = heading
        items = [(segment, item) for segment in segments for item in labelled_values(segment)]
        for segment, item in items:
            if item.slot in PATIENT_SLOTS and item.words:
                # A birth date or a patient's name: this part of the page is the patient's.
                if sections["left"] == sections["right"]:
                    sections = {"left": PATIENT, "right": PATIENT}
                else:
                    sections[segment.column] = PATIENT
        for segment, item in items:
            if item.slot == "to":
                sections = {"left": RECIPIENT, "right": RECIPIENT}
            elif item.slot == "from":
                sections = {"left": PROVIDER, "right": PROVIDER}
            words = item.words
            if not words and item.slot not in {"other", "to", "from"}:
                words = _value_below(lines, index, segment)
            section = sections[segment.column]
            found.extend(_readings(item.slot, words, section, page.number, today, cities))
        if segments and re.match(r"sincerely|regards|respectfully", segments[0].text, re.I):
            below = _value_below(lines, index, segments[0]) if segments else []
            found.extend(_readings("provider_name", below, PROVIDER, page.number, today, cities))
        for segment in segments:
            signed = re.search(r"signed\s+by\s+", segment.text, re.IGNORECASE)
            if signed:
                after = _words_after(segment, signed.end())
                for reading in _readings(
                    "provider_name", after, PROVIDER, page.number, today, cities
                ):
                    reading.priority = 1
                    found.append(reading)
    _fallbacks(found, page, today)
    # Letters: what their sentences state (imported here: prose builds on this module).
    from refloop.intake import prose

    found.extend(prose.read_prose(page, today))
    return PageReading(page.number, found, bool(COVER.search(full_text)), cities)


def _words_after(segment: Segment, offset: int) -> list[Word]:
    position, words = 0, []
    for word in segment.words:
        if position >= offset:
            words.append(word)
        position += len(word.text) + 1
    return words


def _banner_fax(line: list[Word], page: int) -> list[Found]:
    """The sending fax number a fax server prints in its banner: the referrer's fax, likely."""
    text = " ".join(w.text for w in line)
    match = re.search(r"FROM\W*", text, re.IGNORECASE)
    if not match:
        return []
    parsed = parse_phone(_words_after(Segment(line, "both"), match.end()))
    if not parsed or not parsed[1]:
        return []
    # Sure enough to show, not to trust: it may be a fax server's own number.
    return [Found("provider_fax", parsed[0], 0.75, page, priority=0, box=box_of(line))]


def _value_below(lines: list[list[Word]], index: int, segment: Segment) -> list[Word]:
    """A value written under its label (boxed forms, a signature under "Sincerely,")."""
    for line in lines[index + 1 : index + 3]:
        for candidate in segments_of(line):
            if abs(candidate.words[0].x0 - segment.words[0].x0) < 0.05:
                if LABEL_AT_START.match(candidate.text):
                    return []
                return candidate.words
    return []


def _readings(
    slot: str, words: list[Word], section: str, page: int, today: dt.date, cities: set[str]
) -> list[Found]:
    if not words or slot == "other":
        return []
    if section == RECIPIENT and slot not in {"patient_name", "dob", "reason", "codes", "npi"}:
        return []
    if slot == "from":
        slot = "provider_name"
    if slot == "name":
        slot = "provider_name" if section in {PROVIDER, SENDER} else "patient_name"
    if slot == "phone":
        slot = "patient_phone" if section == PATIENT else "provider_phone"
    if slot == "fax":
        slot = "provider_fax"
    priority = 1 if section == SENDER else 2
    if slot in {"patient_name", "first_name", "last_name", "dob", "npi", "patient_phone"}:
        priority = 3
    conf = _conf(words)
    out: list[Found] = []
    if slot == "patient_name":
        person = parse_person(words)
        if person:
            first, last = person
            out.append(
                Found(
                    "patient_first_name",
                    _name_text(first),
                    _name_confidence(first),
                    page,
                    priority,
                    box=box_of(first),
                )
            )
            out.append(
                Found(
                    "patient_last_name",
                    _name_text(last),
                    _name_confidence(last),
                    page,
                    priority,
                    box=box_of(last),
                )
            )
    elif slot in {"first_name", "last_name"}:
        name_words = [w for w in words if re.fullmatch(r"[A-Za-z][A-Za-z'\-]*,?", w.text)][:2]
        if name_words and len(name_words) == len(words[: len(name_words)]):
            confidence = _name_confidence(name_words)
            out.append(
                Found(
                    f"patient_{slot}",
                    _name_text(name_words),
                    confidence,
                    page,
                    3,
                    box=box_of(name_words),
                )
            )
    elif slot == "provider_name":
        person = parse_person(words)
        if person:
            first, last = person
            value = f"{_name_text(first)} {_name_text(last)}"
            confidence = _name_confidence(first + last)
            out.append(
                Found("provider_name", value, confidence, page, priority, box=box_of(first + last))
            )
    elif slot == "dob":
        parsed = parse_date(" ".join(w.text for w in words), today)
        if parsed:
            out.append(Found("patient_date_of_birth", parsed[0], conf, page, 3, parsed[1], "date"))
    elif slot in {"patient_phone", "provider_phone", "provider_fax"}:
        parsed = parse_phone(words)
        if parsed:
            out.append(Found(slot, parsed[0], conf, page, priority, parsed[1], "phone"))
    elif slot == "npi":
        npi = values.read_npi(" ".join(w.text for w in words[:4]))
        if npi:
            out.append(Found("provider_npi", npi[0], conf, page, 3, npi[1], "npi"))
    elif slot == "reason":
        text = _free_text(words)
        if len(text) >= 3:
            out.append(Found("reason", text, conf, page, priority))
    elif slot == "codes":
        read = values.read_codes(" ".join(w.text for w in words))
        if read.codes:
            code_words = [w for w in words if values.read_codes(w.text).codes] or words
            confidence = _conf(code_words)
            if read.unknown or read.ambiguous:
                # Shaped like a code but not one: a person checks it rather than losing it.
                confidence = min(confidence, 0.5)
            found = Found("icd10_codes", ", ".join(read.codes), confidence, page, priority)
            found.box = box_of(code_words)
            out.append(found)
    elif slot == "urgency":
        for word in words:
            level = URGENCY_WORDS.get(word.text.lower().strip(".,!"))
            if level:
                out.append(Found("urgency", level, word.conf, page, priority))
                break
    elif slot == "insurance":
        text = _free_text(words)
        if any(c.isalpha() for c in text):
            out.append(Found("insurance", text, conf, page, priority))
    elif slot == "city":
        cities.add(_free_text(words).lower())
    for found in out:
        if found.box is None:
            found.box = box_of(words)
    return out


def _fallbacks(found: list[Found], page: PageText, today: dt.date) -> None:
    """Weaker readings where no label was found: a code or STAT anywhere on the page."""
    fields = {f.field for f in found}
    words = page.words
    if "icd10_codes" not in fields:
        coded = [
            w
            for w in words
            if re.fullmatch(r"[A-TV-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4},?", w.text)
            and values.is_known_code(w.text.rstrip(","))
        ]
        codes = parse_codes(coded)
        if codes:
            found.append(
                Found(
                    "icd10_codes",
                    ", ".join(codes),
                    _conf(coded) * 0.8,
                    page.number,
                    0,
                    box=box_of(coded),
                )
            )
    if "urgency" not in fields:
        for word in words:
            if word.text.strip(".,!:") in {"STAT", "URGENT"}:
                level = URGENCY_WORDS[word.text.strip(".,!:").lower()]
                found.append(
                    Found("urgency", level, word.conf * 0.7, page.number, 0, box=box_of([word]))
                )
                break


# ---- a candidate's fields -------------------------------------------------------------


def merge(readings: list[PageReading]) -> dict[str, dict]:
    """The candidate's fields in the IntakeCandidate.fields shape, from its pages' readings."""
    fields: dict[str, dict] = {}
    for name in FIELD_NAMES:
        options = [f for r in readings for f in r.found if f.field == name]
        valid = [f for f in options if f.valid]
        if valid:
            best = max(valid, key=lambda f: (f.priority, f.confidence))
            disagree = any(
                f.value != best.value and f.priority >= best.priority and f.confidence >= 0.5
                for f in valid
            )
            review = best.confidence < REVIEW_BELOW or disagree
            fields[name] = _field(best.value, best.confidence, review, best.page, best.box)
        elif options:
            # Read but failed its check (a bad NPI check digit, an impossible date).
            best = max(options, key=lambda f: (f.priority, f.confidence))
            fields[name] = _field(best.value, min(best.confidence, 0.3), True, best.page, best.box)
        elif name == "urgency":
            # Nothing says how urgent: routine is the default, and a person confirms it.
            fields[name] = _field("routine", 0.5, True, None)
        else:
            fields[name] = _field("", 0.0, True, None)
    return fields


def _field(
    value: str,
    confidence: float,
    review: bool,
    page: int | None,
    box: tuple[float, float, float, float] | None = None,
) -> dict:
    return {
        "value": value,
        "confidence": round(confidence, 3),
        "review": review,
        "page": page,
        "box": [round(edge, 4) for edge in box] if box else None,
    }
