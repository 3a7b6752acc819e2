"""Referral fields read from a page's layout, each with a confidence and a review flag.

The page's words are laid out by position (`layout`), labels from the vocabulary are found
and paired with their values by geometry (`pairing`), and the page is walked top to bottom
so that headings and party labels decide whose a generic "Name", "Phone" or "NPI" is: the
patient's, the referring provider's, or nobody's (a referred-to clinic, a cover sheet, an
attached note). Every value is normalized and checked (phone digits, NPI check digit, a
date that can be a birth date); a failed check, a low OCR confidence, a missing value, a
reading only a fallback found or two disagreeing values set `review`: the engine never
guesses silently.
"""

import datetime as dt
import re
from dataclasses import dataclass, field, replace

from rapidfuzz.distance import Levenshtein

from refloop.intake import layout, pairing, vocabulary
from refloop.intake.models import FIELD_NAMES
from refloop.intake.reading import Box, PageText, Word, engine_words
from refloop.intake.values import (
    date_spans,
    is_known_code,
    is_medical_word,
    npi_undoubled,
    read_codes,
    read_date,
    read_phone,
    read_phones,
    read_plan,
    respelled,
    title_agrees,
)
from refloop.network.npi import is_valid_npi

# Below this OCR confidence (0..1, the weakest word of a value) a coordinator checks it,
# unless stronger evidence than the OCR engine's says the value holds (`_review_below`).
REVIEW_BELOW = 0.80
CHECKED_REVIEW_BELOW = 0.40
AGREED_REVIEW_BELOW = 0.50
# The fax banner's sending number is shown at this confidence; a last resort that must
# yield to it is shown below it.
BANNER_CONFIDENCE = 0.75
BELOW_BANNER = 0.5
# A fax read in a form and the banner's number this many digits apart are one number misread.
BANNER_DIGITS_APART = 2
# Checked, and agreeing with what else the fax says in words (codes with the reason): the
# engine's confidence, which specks beside a code's label pull to nothing, no longer decides.
AGREEING_REVIEW_BELOW = 0.0
# Digits (a phone, a birth date) read alike on two pages: two misreads of the same digits
# do not agree by chance.
DIGITS_ALIKE_REVIEW_BELOW = 0.0
# A second reading this sure of another value puts the first in doubt; a reading kept only
# to be shown (UNSURE) does not.
CONTESTS_FROM = 0.50
UNSURE = 0.45
# A date at least this many years ago is a birth date's, not a referral's or a visit's.
MIN_AGE_YEARS = 2
# What the engine gives a clean, well-printed word.
FULL_CONFIDENCE = 0.90
# Below this, a segment beside a heading is taken for specks, not text.
NOISE_BELOW = 0.40
PATIENT, PROVIDER, RECIPIENT, INSURANCE, NOTE, COVER, TOP, OTHER = (
    "patient", "provider", "recipient", "insurance", "note", "cover", "top", "other",
)  # fmt: skip
# A clinician's block whose heading was lost ("Name: Rebecca Moreau, MD" under the
# patient's): the first on a page may be the referrer's, the next ones are someone else's.
CLINICIAN, ANOTHER_CLINICIAN = "clinician", "another clinician"
# The most rows a table's column is read down.
MAX_TABLE_ROWS = 8
# Labels whose value says whose part of the page this is.
PATIENT_SLOTS = {"patient_name", "dob", "first_name", "last_name", "patient_phone"}
NAME_FIELDS = {"patient_first_name", "patient_last_name", "provider_name"}
PROVIDER_FIELDS = {"provider_name", "provider_npi", "provider_phone", "provider_fax"}
BANNER = re.compile(r"\bP(?:age)?\.?\s*\d{1,3}\s*/\s*\d{1,3}\b|\bpage\s+\d+\s+of\s+\d+", re.I)
TIME = re.compile(r"\d{1,2}:\d{2}")
COVER_SHEET = re.compile(r"fax\s+cover|cover\s+sheet|pages?\s*:\s*\d", re.IGNORECASE)
INSURANCE_TAIL = re.compile(r"[,;]\s*(?:member|group|id|policy|subscriber|plan\s+id)\b", re.I)
SIGN_OFF = re.compile(r"(?:sincerely|regards|respectfully|best regards|kind regards)\b", re.I)
LIST_NUMBER = re.compile(r"\(?\d{1,2}[.)]")
# The code set's name before a code, its "I" lost or misread: "ICD10:", "(CD10:", "CD-10".
CODE_SET_NAME = re.compile(r"\W?[1Il|!]?CD[-\s]?10(?:-?CM)?\W?", re.IGNORECASE)
# A code written as codes are, with its dot: what a page's other codes look like.
DOTTED_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4}(?![A-Za-z0-9])")
CITY_STATE_ZIP = re.compile(r"([A-Z][A-Za-z .'-]{1,40}),\s*([A-Z]{2})\s+\d{5}(?:-\d{4})?")

# Area codes of toll-free numbers: payers' and companies' lines, rarely a practice's own.
TOLL_FREE = {"800", "833", "844", "855", "866", "877", "888"}

TITLES = {"dr", "dr.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "doctor"}
CREDENTIALS = {
    "md", "m.d.", "do", "d.o.", "np", "fnp", "fnp-c", "fnp-bc", "pa", "pa-c", "dpm", "dc",
    "aprn", "rn", "mbbs", "phd", "facp", "faafp", "jr", "jr.", "sr", "sr.", "dnp", "facs",
    # Not a credential, but it ends a name on a signature line too ("Ana Ruiz, NPI 12…"),
    # and it is how a fax often reads "NP".
    "npi",
}  # fmt: skip
# Words that begin a surname of several words: "St. Clair", "Van der Graaf", "de la Cruz".
SURNAME_PARTICLES = {
    "st", "ste", "saint", "mt", "mc", "mac", "van", "von", "der", "den", "de", "del", "della",
    "da", "di", "du", "la", "le", "dos", "das", "ter", "ten",
}  # fmt: skip
# Abbreviated particles keep their period: "St. Clair".
ABBREVIATED_PARTICLES = {"st", "ste", "mt"}
NOT_A_PERSON = {
    "new", "patient", "referral", "referrals", "medicine", "medical", "clinic", "health",
    "family", "group", "practice", "center", "centre", "hospital", "associates", "care",
    "physicians", "spine", "orthopedics", "coordinator", "office", "internal", "primary",
    "the", "of", "and", "&", "attn", "department", "request", "form",
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
    box: Box | None = None  # where on the page the value was read
    # Passed a check that a misread rarely survives: an NPI's check digit, codes all in the
    # code set as read, a birth date that reads one way only.
    checked: bool = False
    # Whose value it is was guessed (a clinician's block with no heading): a person looks.
    unsure: bool = False
    # Agrees with what else the fax says: a code's title names the condition the reason (or
    # the words beside the code) names. Set when a candidate's fields are merged.
    agrees: bool = False
    # Read only after an OCR repair (a code's "1" read for its "I"): checked by the
    # agreement above only, never by the repair alone.
    repaired: bool = False
    # The OCR engine's own confidence in the words, where `confidence` is set otherwise (a
    # fax banner's number is shown at BANNER_CONFIDENCE whatever the engine made of it).
    read_confidence: float = 0.0


@dataclass
class PageReading:
    number: int
    found: list[Found]
    is_cover: bool
    cities: set[str] = field(default_factory=set)
    text: str = ""  # the page's words, without the fax machine's banner

    def best(self, name: str) -> Found | None:
        options = [f for f in self.found if f.field == name and f.valid]
        return max(options, key=lambda f: (f.priority, f.confidence), default=None)


def is_banner(line_text: str, index: int) -> bool:
    return index <= 1 and bool(BANNER.search(line_text)) and bool(TIME.search(line_text))


# ---- values -------------------------------------------------------------------------


def _conf(words: list[Word]) -> float:
    return min((w.conf for w in words), default=0.0)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(DIGIT_LOOKALIKES))


def parse_phone(words: list[Word]) -> tuple[str, bool] | None:
    """('(316) 555-0142', valid) from the first phone-like words."""
    return read_phone(" ".join(w.text for w in words))


def parse_date(text: str, today: dt.date) -> tuple[str, bool] | None:
    """(ISO date, can be a birth date) from a labelled date's text."""
    read = read_date(text, today=today, compact=True)
    return (read.iso, read.plausible) if read else None


def parse_person(words: list[Word]) -> tuple[list[Word], list[Word]] | None:
    """(first-name words, last-name words) of a person's name, or None if it is not one."""
    tokens = []
    for word in words:
        # "Henry.Lindgren": a speck read as a period between two names.
        parts = re.split(r"(?<=[a-z])[.:!|](?=[A-Z])", word.text)  # "Sofia!W."
        if len(words) == 1 and len(parts) == 1:
            parts = re.split(r"(?<=[a-z])(?=[A-Z])", word.text)  # "GloriaBaker"
        width = (word.x1 - word.x0) / len(parts)
        for i, part in enumerate(parts):
            x0 = word.x0 + i * width
            tokens.append(Word(part, word.conf, x0, word.y0, x0 + width, word.y1))
    # A speck read as a symbol glued to a word's front: "Oluwaseun §S. Fitzgerald".
    tokens = [replace(w, text=re.sub(r"^[^\w'(\s]+(?=[A-Za-z])", "", w.text)) for w in tokens]
    # ... or as an I: "ICatherine Lockhart", where Catherine is a word and ICatherine none.
    tokens = [
        replace(w, text=w.text[1:], conf=min(w.conf, UNSURE)) if _i_glued_on(w.text) else w
        for w in tokens
    ]
    tokens = [w for w in tokens if w.text.lower().strip(",.") not in TITLES]
    # A speck read as a colon after a name: "Yusuf G. Nwosu: MD".
    tokens = [replace(w, text=w.text.rstrip(":;")) if len(w.text) > 1 else w for w in tokens]
    # A middle initial's period read as a comma ("Raymond M, Raghunathan") is no "Last, First".
    tokens = [
        Word(f"{w.text[0]}.", w.conf, w.x0, w.y0, w.x1, w.y1)
        if 0 < i < len(tokens) - 1 and re.fullmatch(r"[A-Z],", w.text)
        else w
        for i, w in enumerate(tokens)
    ]
    # "Comelius": a name the dictionary lacks, read with OCR's look-alike letters for one
    # it holds (Cornelius); still flagged, as any name the dictionary lacked.
    tokens = [
        w
        if (meant := _lookalikes_undone(w.text)) == w.text
        else replace(w, text=meant, conf=min(w.conf, UNSURE))
        for w in tokens
    ]
    # "Dubois, ingrid": a name's capital I read as its small letter or as an l.
    if any(w.text[:1].isupper() for w in tokens):
        tokens = [
            replace(w, text="I" + w.text[1:]) if _small_capital_i(w.text) else w for w in tokens
        ]
    # What follows a name in brackets is not the name: "Rebecca Kaplan (Cardiology)".
    bracket = next((i for i, w in enumerate(tokens) if w.text.startswith("(")), None)
    tokens = tokens[:bracket] if bracket else tokens
    # Credentials and anything after them ("Jane Smith, MD NPI ...") are not the name.
    for index, word in enumerate(tokens):
        if index >= 2 and word.text.lower().strip(",.;") in CREDENTIALS:
            tokens = tokens[:index]
            break
    # After a comma comes a first name ("HILL, PAUL"), perhaps with a middle initial
    # ("Huang, Augustin R"), or credentials and specks ("Patel, 1D").
    for index, word in enumerate(tokens[:-1]):
        after = tokens[index + 1 :]
        if len(after) > 1 and re.fullmatch(r"[A-Z]\.?", after[-1].text):
            after = after[:-1]
        if word.text.endswith(",") and not all(
            re.fullmatch(r"[A-Za-z][A-Za-z'\-]+", w.text.strip(",."))
            and w.text.lower().strip(",.") not in CREDENTIALS
            # "Miriam Bergstrom, BO": short capitals after a name in mixed case are its
            # credentials misread (DO), not a first name.
            and not (len(w.text.strip(",.")) <= 3 and w.text.isupper() and not word.text.isupper())
            for w in after
        ):
            tokens = tokens[: index + 1]
            break
    if not tokens or len(tokens) > 4:
        return None
    if any(w.text.lower().strip(",.") in NOT_A_PERSON for w in tokens):
        return None
    if not all(re.fullmatch(r"[A-Za-z][A-Za-z'\-]*[.,]?", w.text) for w in tokens):
        return None
    # A lone small letter is a speck read as one ("eae i a OMe" beside a heading); an
    # initial is a capital.
    if any(re.fullmatch(r"[a-z]", w.text) for w in tokens):
        return None
    comma = next((i for i, w in enumerate(tokens) if w.text.endswith(",")), None)
    if comma is not None and comma < len(tokens) - 1:
        last, first = tokens[: comma + 1], tokens[comma + 1 :]
    else:
        first, last = tokens[:-1], tokens[-1:]
        # A particle before the surname belongs to it: "Dolores St. Clair", "Ana de la Cruz".
        while len(first) > 1 and _bare(first[-1]) in SURNAME_PARTICLES:
            last.insert(0, first.pop())
    # A middle initial ("Jane A. Smith") is not part of the first name.
    first = [w for w in first if len(w.text.strip(".,")) > 1] or first[:1]
    if not first or not last:
        return None
    return first[:1], last


def _i_glued_on(text: str) -> bool:
    known = engine_words()
    bare = text.strip(",.")
    return (
        bool(known)
        and bool(re.fullmatch(r"[Il][A-Z][a-z]{2,}", bare))
        and bare.lower() not in known
        and bare[1:].lower() in known
    )


def _small_capital_i(text: str) -> bool:
    return (
        bool(re.fullmatch(r"[il][a-z]{3,}[.,]?", text))
        and text.lower().strip(",.") not in SURNAME_PARTICLES
    )


# Letters OCR reads as others that look alike, each way: m and rn, d and cl, w and vv.
LOOKALIKE_LETTERS = (("m", "rn"), ("rn", "m"), ("d", "cl"), ("cl", "d"), ("w", "vv"))


def _lookalikes_undone(text: str) -> str:
    """A word the engine's dictionary lacks, put back to the one word it holds that the
    word is with one look-alike swapped ("Comelius" to "Cornelius"); otherwise as read."""
    known = engine_words()
    bare = text.strip(",.")
    if not known or len(bare) < 4 or bare.lower() in known:
        return text
    meant = set()
    for seen, instead in LOOKALIKE_LETTERS:
        start = bare.find(seen, 1)  # a capital's look-alike is another matter
        while start != -1:
            candidate = bare[:start] + instead + bare[start + len(seen) :]
            if candidate.lower() in known:
                meant.add(candidate)
            start = bare.find(seen, start + 1)
    return text.replace(bare, meant.pop()) if len(meant) == 1 else text


def name_confidence(words: list[Word]) -> float:
    """A name's confidence: the engine's, less where the name is the kind a misread makes.
    A one- or two-letter name is where OCR most often lost letters ("Li" for "Linda"); a
    name the engine's dictionary lacks, read with less than its full confidence, is where
    its doubt was a misread ("Carlas", "Hallis", "Bergstom": it knows Carlos, Hollis and
    Bergstrom, and reads a clean word at 0.9 and more)."""
    confidence = _conf(words)
    if any(len(w.text.strip(",.")) <= 2 for w in words):
        confidence = min(confidence, 0.7)
    known = engine_words()
    unknown = [w for w in words if known and w.text.strip(",.").lower() not in known]
    if unknown and _conf(unknown) < FULL_CONFIDENCE:
        confidence = min(confidence, UNSURE)
    # Read with full confidence, a name the dictionary lacks but holds one letter off
    # ("Deboreh", Deborah) is as likely a misread as a rare name.
    if any(_one_letter_off_a_word(w.text.strip(",."), known) for w in unknown):
        confidence = min(confidence, UNSURE)
    return confidence


def _one_letter_off_a_word(word: str, known: frozenset[str]) -> bool:
    meant = respelled(word, known)
    return meant is not None and _one_letter_apart(word, meant)


def _one_letter_apart(read: str, meant: str) -> bool:
    """The same length, one letter different: a misread letter, nothing lost or added."""
    return len(read) == len(meant) and (
        sum(a != b for a, b in zip(read.lower(), meant.lower(), strict=True)) == 1
    )


def known_name(words: list[Word]) -> bool:
    """Every word of the name is in the engine's dictionary, and none is short: a misread
    rarely lands on another name it knows ("Carlas" for Carlos, "Hallis" for Hollis)."""
    known = engine_words()
    return bool(known) and all(
        len(w.text.strip(",.")) > 2 and w.text.strip(",.").lower() in known for w in words
    )


def _bare(word: Word) -> str:
    return word.text.lower().strip(",.")


def name_text(words: list[Word]) -> str:
    """A name as a coordinator types it: "ST. CLAIR," -> "St. Clair"."""
    text = " ".join(
        w.text.strip(",") if _bare(w) in ABBREVIATED_PARTICLES else w.text.strip(",.")
        for w in words
    )
    if text.isupper() or text.islower():
        text = "-".join(part.capitalize() for part in text.split("-"))
        text = " ".join(part[:1].upper() + part[1:] for part in text.split(" "))
    # "O'Donnell" read with its apostrophe as an r or a quote mark: "OrDonnell", "O`Brien".
    return re.sub(r"\bO[r`´’‘](?=[A-Z][a-z])", "O'", text)


def respell_words(words: list[Word]) -> list[Word]:
    """Free text's words the engine doubted and no dictionary holds, each put right where it
    is one word's misreading ("Hypecthyroidism", "obdteuctive", "mammagram")."""
    known = engine_words()
    out = []
    for word in words:
        parts = re.fullmatch(r"([^A-Za-z]*)([A-Za-z]+)([^A-Za-z]*)", word.text)
        lab = parts and vocabulary.LAB_LOOKALIKES.get(parts[2].lower())
        if parts and lab:
            out.append(replace(word, text=parts[1] + lab + parts[3]))
            continue
        meant = respelled(parts[2], known) if parts and known else None
        # A word read with full confidence is put right only to a condition's word one
        # letter off ("mammagram"): the engine is sure of what it read, and a drug's or a
        # person's name is no dictionary word either.
        if (
            parts is None
            or meant is None
            or (word.conf >= FULL_CONFIDENCE and not _one_letter_to_a_condition(parts[2], meant))
        ):
            out.append(word)
            continue
        out.append(replace(word, text=parts[1] + meant + parts[3]))
    return out


def _one_letter_to_a_condition(read: str, meant: str) -> bool:
    return _one_letter_apart(read, meant) and is_medical_word(meant)


def _free_text(words: list[Word]) -> str:
    tokens = [w.text for w in words]
    for index, token in enumerate(tokens):
        # A speck read as a period between two words: "controlled.asthma".
        token = re.sub(r"(?<=[a-z]{3})\.(?=[a-z]{3})", " ", token)
        # A box's side read as a letter glued to the word after it: "iBlue", "|Cross";
        # or as a word of its own before the first ("i Thyroid nodule").
        token = re.sub(r"^[|!il](?=[A-Z][a-z]{2,}$)", "", token)
        if index == 0 and re.fullmatch(r"[|!il]", token) and "".join(tokens[1:2])[:1].isupper():
            token = ""
        if index == len(tokens) - 1:
            tokens[index] = token
            break
        # Specks read as punctuation: "sprain,-right", "degeneration. with".
        token = re.sub(r"([,;])[.\-,;:]+$", r"\1", token)
        token = re.sub(r"([a-z][,;])[.\-]+(?=[a-z0-9])", r"\1 ", token)  # "stone,.7 mm"
        if token.endswith(".") and tokens[index + 1][:1].islower() and len(token) > 3:
            token = token[:-1]
        if token.endswith(":"):  # not a label, so a speck: "Blue Shield: PPO"
            token = token.rstrip(":")
        tokens[index] = token
    for index, token in enumerate(tokens[1:], start=1):
        # A plan's roman numeral after a capitalised word: "POS Il" is "POS II".
        if token in ROMAN_LOOKALIKES and tokens[index - 1].isupper():
            tokens[index] = ROMAN_LOOKALIKES[token]
    text = " ".join(_joined(tokens)).strip(" ,;:.!")
    return re.sub(r"\s+", " ", text)


def _joined(tokens: list[str]) -> list[str]:
    """A word OCR cut in two ("epigas tric"): two neighbours, one of which no dictionary
    holds, whose join it does, joined."""
    known = engine_words()
    out: list[str] = []
    for token in tokens:
        previous = out[-1] if out else ""
        both = previous + token
        if (
            known
            and previous.isalpha()
            and re.fullmatch(r"[a-z]+[,;.]?", token)
            and not (previous.lower() in known and token.rstrip(",;.").lower() in known)
            and both.rstrip(",;.").lower() in known
        ):
            out[-1] = both
        else:
            out.append(token)
    return out


def parse_codes(words: list[Word], about: tuple[str, ...] = ()) -> list[str]:
    """Every ICD-10-CM code in the words, in order, repaired against the code set (of two
    repairs, the one whose condition `about` names)."""
    return read_codes(" ".join(w.text for w in words), about=about).codes


# ---- the page -------------------------------------------------------------------------


@dataclass
class _Context:
    page: int
    today: dt.date
    model: layout.Layout
    is_cover: bool
    in_note: bool = False  # below an attached note's or report's heading
    cities: set[str] = field(default_factory=set)


def read_page(page: PageText, *, today: dt.date) -> PageReading:
    """Every field reading on one page."""
    model = layout.build(page)
    items = {s.index: pairing.items_in(s) for s in model.segments}
    _misread_headings(model, items)
    _labels_ending_segments(model, items, today)
    taken = _pair_values(model, items, today)
    _code_columns(model, items)
    context = _Context(page.number, today, model, bool(COVER_SHEET.search(page.text)))
    found: list[Found] = []
    sections = {"left": TOP, "right": TOP}
    # Readings above any party's section: a letterhead, the report's if a report follows.
    letterhead: list[Found] = []
    above_parties, parties = True, set()
    # A generic "Name" read in no patient's section, while the line after may show whose.
    unclaimed_name: tuple[pairing.Item, list[Found]] | None = None
    body: list[str] = []
    # Phone numbers in the patient's section whose label OCR lost ("CELL" in a small cell).
    unlabelled_phones: list[list[Word]] = []
    for number, line in enumerate(model.lines):
        words = [w for s in line.segments for w in s.words]
        line_text = " ".join(w.text for w in words)
        if is_banner(line_text, number):
            found.extend(_banner_fax(words, page.number))
            continue
        body.append(line_text)
        for match in CITY_STATE_ZIP.finditer(line_text):
            context.cities.add(match.group(1).split(",")[-1].strip().lower())
        for segment in line.segments:
            kind = _heading(segment, line, items, taken)
            if kind is None:
                continue
            if kind == NOTE and above_parties:
                _not_the_referrers(letterhead)
            parties.add(kind)
            context.in_note = context.in_note or kind == NOTE
            context.is_cover = context.is_cover or kind == COVER
            column = "both" if _alone(segment, line) else model.column(segment)
            if column == "both":  # alone on its line, or but for specks
                sections = {"left": kind, "right": kind}
            else:
                sections[column] = kind
        for segment in line.segments:
            column = model.column(segment)
            # A party's label across the page, specks beside it, switches both columns.
            spread = "both" if len(line.segments) > 1 and _alone(segment, line) else column
            for item in items[segment.index]:
                before = sections["left" if column == "both" else column]
                if _switch_section(sections, spread, item, parties):
                    parties.update(sections.values())
                section = sections["left" if column == "both" else column]
                if (
                    section == PATIENT
                    and before != PATIENT
                    and item.slot == "dob"
                    and unclaimed_name is not None
                    and unclaimed_name[0].segment.line == segment.line - 1
                ):
                    # "Name  Santiago Ramanathan" then "Date of Birth …", the "Patient"
                    # heading above them lost (a shaded bar): the name was the patient's.
                    named, readings = unclaimed_name
                    found[:] = [f for f in found if all(f is not r for r in readings)]
                    found.extend(_readings(named, PATIENT, context))
                readings = _readings(item, section, context)
                found.extend(readings)
                unclaimed_name = (
                    (item, readings)
                    if item.slot == "name" and section not in {PATIENT, TOP} and item.words
                    else None
                )
                if above_parties and section in {TOP, OTHER}:
                    letterhead.extend(readings)
            if (
                sections["left" if column == "both" else column] == PATIENT
                and not items[segment.index]
                and segment.index not in taken
                and PHONE_ALONE.fullmatch(segment.text)
            ):
                unlabelled_phones.append(segment.words)
            if SIGN_OFF.match(segment.text) and not items[segment.index]:
                sections = {"left": PROVIDER, "right": PROVIDER}
                signature = _signature_below(segment, model, items)
                found.extend(_readings(signature, PROVIDER, context) if signature else [])
        above_parties = above_parties and parties <= {TOP, OTHER}
    if context.in_note:
        # A page holding an attached report or note: numbers above its heading, where no
        # party's heading stood, are as likely the report's letterhead ("ASHBY IMAGING
        # CENTER Tel ... Fax ...") as the referrer's. Shown, not trusted.
        for reading in found:
            if reading.field in PROVIDER_FIELDS and reading.priority == 1:
                reading.confidence = min(reading.confidence, UNSURE)
    _fallbacks(found, model, page.number, today)
    if len(unlabelled_phones) == 1 and not any(f.field == "patient_phone" for f in found):
        # One number alone in the patient's block, where no label gave the patient's phone:
        # most likely it, and shown for a check.
        read = parse_phone(unlabelled_phones[0])
        if read and read[1]:
            found.append(Found("patient_phone", read[0], UNSURE, page.number, 0, note="phone",
                               box=_box(unlabelled_phones[0])))  # fmt: skip
    # Letters: what their sentences state (imported here: prose builds on this module).
    from refloop.intake import prose

    found.extend(prose.read_prose(page, today))
    found = _codes_together(found)
    _codes_complete(found, page)
    _not_the_provider(found)
    return PageReading(page.number, found, context.is_cover, context.cities, "\n".join(body))


# A reason ending on a word that leads on ("Gallstones with"): the rest was on a line OCR
# lost or a speck ended it early, so what is shown is cut short.
CUT_SHORT = re.compile(
    r"\b(?:with|and|or|of|for|to|the|a|an|in|on|at|by|without|due|from|after|including)$",
    re.IGNORECASE,
)
# Written as a phone number is, its groups apart: ten bare digits are an ID ("3165550142").
PHONE_ALONE = re.compile(r"(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}")


def _alone(segment: layout.Segment, line: layout.Line) -> bool:
    """Whether the segment stands alone on its line but for specks read as words (a low
    confidence): a heading across the page, not one column's."""
    return all(_conf(s.words) < NOISE_BELOW for s in line.segments if s is not segment)


def _heading(
    segment: layout.Segment,
    line: layout.Line,
    items: dict[int, list[pairing.Item]],
    taken: set[int],
) -> str | None:
    """The section a heading opens (OTHER for a heading of no party), or None if the
    segment is no heading. Beside other segments only a party's heading counts, or a row of
    labels standing as headings ("PATIENT    REFERRING PROVIDER"); a label beside its value
    is a field, whatever its case."""
    labels = items[segment.index]
    if segment.index in taken or any(i.words for i in labels):
        lead = [w for w in segment.words if labels and w.x0 < labels[0].label[0].x0]
        # "OFFICE VISIT NOTE  Date of service: ..." opens the note all the same.
        text = " ".join(w.text for w in lead)
        kind = vocabulary.section_of(text) if lead and layout.heading_shaped(text) else None
        return kind if segment.index not in taken else None
    # Specks after a heading, read as words at a low confidence ("Receiving Provider coo ee
    # Oe"), are no part of it.
    words = list(segment.words)
    while len(words) > 1 and words[-1].conf < NOISE_BELOW:
        words.pop()
    text = " ".join(w.text for w in words)
    if not layout.heading_shaped(text):
        return None
    kind = vocabulary.section_of(text)
    # Specks and stray marks read as words (a low confidence) do not stand beside it.
    others = [s for s in line.segments if s is not segment and _conf(s.words) >= NOISE_BELOW]
    if not others:
        return kind or OTHER
    if not all(layout.heading_shaped(s.text) for s in others):
        return None
    if labels:
        # A row of field labels over their values ("NAME   SPECIALTY", "DOB   PHONE") is
        # no heading: the section above goes on. A row of parties' headings opens theirs.
        return kind if all(items[s.index] for s in others) else None
    return kind


def _pair_values(
    model: layout.Layout, items: dict[int, list[pairing.Item]], today: dt.date
) -> set[int]:
    """Fill in the values that do not follow their label; the segments read as values."""
    taken: set[int] = set()
    for segment in model.segments:
        labelled = items[segment.index]
        for position, item in enumerate(labelled):
            if item.slot == "urgency":
                item.words = _options(item, model, items)
                continue
            if not item.words and position == len(labelled) - 1:
                for option in pairing.candidates(item, model, items):
                    found = [
                        s
                        for s in option
                        if s.index not in taken or len(s.words) < len(model.segments[s.index].words)
                    ]
                    words = [w for s in found for w in _before_label(s, items)]
                    if words and _fits(item.slot, words, today, model):
                        item.value_segments = tuple(found)
                        item.words = words
                        taken.update(s.index for s in found)
                        break
            if item.slot in SPLIT_NAME_SLOTS and len(item.words) == 1:
                item.words = item.words + _other_half(item, model, items, taken)
            if item.slot in ROW_SLOTS and item.words:
                item.row = pairing.rest_of_row(item, model, items, taken)
            if item.slot in pairing.RUN_ON_SLOTS and item.words:
                last = item.value_segments[-1] if item.value_segments else segment
                more = pairing.run_on(item, last, model, items, taken)
                item.words = item.words + [w for s in more for w in s.words]
                taken.update(s.index for s in more)
    return taken


def _misread_headings(model: layout.Layout, items: dict[int, list[pairing.Item]]) -> None:
    """A number's heading misread past the vocabulary's tolerance ("Fex", "NPL", "Prone"),
    alone in its cell beside a heading read right ("Phone    Fex"): a label all the same,
    whose value must then read as its number (`_fits`)."""
    for line in model.lines:
        if not any(pairing.starts_with_label(s, items) for s in line.segments):
            continue
        for segment in line.segments:
            if items[segment.index] or len(segment.words) != 1:
                continue
            slot = vocabulary.header_slot(segment.text)
            if slot in {"phone", "fax", "npi"}:
                items[segment.index] = [pairing.Item(slot, segment.words, segment, [])]


# Slots whose label may end the segment before its value: a value that is a number or an
# option word is told from prose by its shape, wherever its label stood.
TRAILING_SLOTS = {"urgency", "npi", "dob", "phone", "fax", "provider_phone", "provider_fax"}


def _labels_ending_segments(
    model: layout.Layout, items: dict[int, list[pairing.Item]], today: dt.date
) -> None:
    """A label OCR glued onto the end of the segment before its value ("REF994 Referral to
    Endocrinology Priority | STAT", "... Ordered by Dr Lee  NPI | 1234567893"): a label
    where the next segment reads as its value and starts with no label of its own. Its
    wording may be misread ("Prlortty") only where the value is an option word."""
    for line in model.lines:
        for segment, following in zip(line.segments, line.segments[1:], strict=False):
            if pairing.starts_with_label(following, items) or len(segment.words) < 2:
                continue
            labelled = {id(w) for i in items[segment.index] for w in i.label}
            for size in (3, 2, 1):
                label = segment.words[-size:]
                if len(label) == len(segment.words) or any(id(w) in labelled for w in label):
                    continue
                text = " ".join(w.text for w in label).rstrip(":")
                slot = vocabulary.SLOT_OF.get(vocabulary.normalized(text))
                if slot is None and vocabulary.misread_slot(text) == "urgency":
                    slot = "urgency"
                if slot not in TRAILING_SLOTS:
                    continue
                if slot == "urgency":
                    fits = _urgency_of(following.words[0]) is not None
                else:
                    fits = _fits(slot, following.words, today, model)
                if not fits:
                    continue
                for item in items[segment.index]:
                    item.words = [w for w in item.words if all(w is not x for x in label)]
                items[segment.index].append(pairing.Item(slot, label, segment, []))
                break


def _code_columns(model: layout.Layout, items: dict[int, list[pairing.Item]]) -> None:
    """A diagnosis table's code column under a heading OCR misread ("1cD-10", "(CD-10"),
    which no label found: its cells down to the table's end are the codes. Whatever in
    them reads as no code makes the list doubtful (`_values`)."""
    for segment in model.segments:
        if items[segment.index] or len(segment.words) > 2:
            continue
        if vocabulary.header_slot(segment.words[0].text) != "codes":
            continue
        x0, x1 = segment.x0 - 2 * model.char_width, segment.x1 + 2 * model.char_width
        words: list[Word] = []
        bottom = segment.bottom
        for line in model.lines[segment.line + 1 : segment.line + 1 + MAX_TABLE_ROWS]:
            if line.top - bottom > 1.6 * model.text_height:
                break
            cells = [s for s in line.segments if min(s.x1, x1) - max(s.x0, x0) > 0]
            if not cells or any(pairing.starts_with_label(s, items) for s in cells):
                break
            words += [w for s in cells for w in s.words if x0 <= (w.x0 + w.x1) / 2 <= x1]
            bottom = line.bottom
        if words and parse_codes(_code_words(words), _around(words, model)):
            items[segment.index] = [pairing.Item("codes", segment.words, segment, words)]


def _codes_together(found: list[Found]) -> list[Found]:
    """Codes read under several labels of one standing ("ICD10:E11.65", "ICD10:I48.91")
    are one list."""
    codes = [f for f in found if f.field == "icd10_codes" and f.valid]
    if len(codes) < 2:
        return found
    top = max(f.priority for f in codes)
    together = [f for f in codes if f.priority == top]
    values = list(dict.fromkeys(c for f in together for c in f.value.split(", ")))
    boxes = [f.box for f in together if f.box is not None]
    joined = Found(
        "icd10_codes",
        ", ".join(values),
        min(f.confidence for f in together),
        together[0].page,
        top,
        checked=all(f.checked for f in together),
        repaired=any(f.repaired for f in together),
        box=Box(
            min(b.x0 for b in boxes),
            min(b.y0 for b in boxes),
            max(b.x1 for b in boxes),
            max(b.y1 for b in boxes),
        )
        if boxes
        else None,
    )
    return [f for f in found if f not in together] + [joined]


def _not_the_referrers(letterhead: list[Found]) -> None:
    """The letterhead over a report or a note (an imaging centre's, a lab's, a hospital's)
    is its author's, not often the referrer's: its numbers are shown only where nothing
    else gives them, and yield to the fax banner's."""
    for reading in letterhead:
        if reading.field in PROVIDER_FIELDS:
            reading.priority = 0
            reading.confidence = min(reading.confidence, BELOW_BANNER)


def _codes_complete(found: list[Found], page: PageText) -> None:
    """A list of codes is checked only if every code written on its page is in it: a list
    whose other codes went unread ("K80.20" of "K80.20, R10.13", the second on a line of
    its own) passes the code set as whole, but leaves a code on the page outside it."""
    written = {c for c in DOTTED_CODE.findall(page.text) if is_known_code(c)}
    for reading in found:
        if reading.field == "icd10_codes" and reading.checked:
            reading.checked = written <= set(reading.value.split(", "))


def _not_the_provider(found: list[Found]) -> None:
    """A patient's name that is the referring provider's, read on the same page, is the
    provider's block read as the patient's (its heading lost to OCR): shown, never trusted."""
    providers = {f.value.lower() for f in found if f.field == "provider_name" and f.priority >= 1}
    for first, last in zip(found, found[1:], strict=False):
        pair = (first.field, last.field) == ("patient_first_name", "patient_last_name")
        if pair and f"{first.value} {last.value}".lower() in providers:
            first.priority = last.priority = 0


def _fits(slot: str, words: list[Word], today: dt.date, model: layout.Layout) -> bool:
    """Whether words can be the value of a label of this slot (a check, not a reading)."""
    if slot == "dob":
        # Date-shaped is enough here: whether it parses is the reading's business.
        text = " ".join(w.text for w in words[:4])
        return parse_date(text, today) is not None or bool(re.search(r"\d{1,4}\W+\w", text))
    if slot in {"patient_phone", "provider_phone", "provider_fax", "phone", "fax"}:
        return len(_digits(" ".join(w.text for w in words[:4]))) >= 7
    if slot == "npi":
        digits = _digits(" ".join(w.text for w in words[:2]))
        return len(digits) == 10 or npi_undoubled(digits) is not None
    if slot in {"patient_name", "last_first", "name", "provider_name", "from"}:
        return parse_person(words) is not None
    if slot in {"first_name", "last_name"}:
        return bool(re.fullmatch(r"[A-Za-z][A-Za-z'\-]*,?", words[0].text))
    if slot == "codes":
        return bool(parse_codes(_code_words(words), _around(words, model)))
    return any(ch.isalpha() for w in words for ch in w.text)


# A "Last / First" or patient name written by hand: its slash read as nothing or as a
# speck leaves a gap as wide as a column's between the two names.
SPLIT_NAME_SLOTS = {"last_first", "patient_name"}


def _other_half(
    item: pairing.Item,
    model: layout.Layout,
    items: dict[int, list[pairing.Item]],
    taken: set[int],
) -> list[Word]:
    """The name that goes on in the next segment of the line, before any label there: one
    or two words shaped as names, where the label's segment ends with the first half."""
    segment = item.segment
    beside = [s for s in model.lines[segment.line].segments if s.x0 > segment.x1]
    if not beside or item.words[-1] is not segment.words[-1]:
        return []
    following = min(beside, key=lambda s: s.x0)
    words = _before_label(following, items)
    if following.index in taken or not 1 <= len(words) <= 2:
        return []
    if not all(pairing.NAME_TOKEN.fullmatch(w.text) for w in words):
        return []
    if len(words) == len(following.words):
        taken.add(following.index)
    return words


def _before_label(segment: layout.Segment, items: dict[int, list[pairing.Item]]) -> list[Word]:
    labels = items.get(segment.index, [])
    if not labels:
        return segment.words
    return [w for w in segment.words if w.x0 < labels[0].label[0].x0]


def _options(
    item: pairing.Item, model: layout.Layout, items: dict[int, list[pairing.Item]]
) -> list[Word]:
    """An urgency label's options: the rest of its line, or the line under it (checkboxes)."""
    line = model.lines[item.segment.line]
    words = list(item.words)
    for segment in line.segments[line.segments.index(item.segment) + 1 :]:
        if pairing.starts_with_label(segment, items):
            break
        words.extend(_before_label(segment, items))
    if any(_urgency_of(w) for w in words):
        return words
    if item.segment.line + 1 < len(model.lines):
        below = model.lines[item.segment.line + 1]
        if below.top - item.segment.bottom <= 1.6 * model.text_height and not any(
            pairing.starts_with_label(s, items) for s in below.segments
        ):
            return [w for s in below.segments for w in s.words]
    return words


def _urgency_of(word: Word) -> str | None:
    return vocabulary.urgency_level(word.text)


def _switch_section(
    sections: dict[str, str], column: str, item: pairing.Item, seen: set[str]
) -> bool:
    """A label that names a party ("Patient name", "Referring physician", "Referred to")
    makes the lines after it that party's, and so does a name with a clinician's title or
    credentials where no heading said whose block it is; whether it did."""
    if not item.words and item.slot != "from":
        return False  # a cover sheet's "From:" opens the sender's lines, its value or not
    current = sections["left" if column == "both" else column]
    if item.slot in {"name", "last_first"} and current in {PATIENT, TOP, OTHER, CLINICIAN}:
        if _a_clinician(item.words):
            kind = ANOTHER_CLINICIAN if CLINICIAN in seen else CLINICIAN
        elif current == CLINICIAN:
            kind = OTHER  # a person after the clinician's block: whose, nobody said
        elif current in {TOP, OTHER} and item.words and not seen & {PATIENT, CLINICIAN}:
            # A form's first person, no party's heading above (a title, a letterhead): the
            # patient, and the lines after are the patient's ("Phone" below "Last / First"
            # is not the letterhead's).
            kind = PATIENT
        else:
            return False
    elif item.slot in PATIENT_SLOTS:
        kind = PATIENT
    elif item.slot == "from" or (item.slot == "provider_name" and not item.weak):
        kind = PROVIDER
    elif item.slot == "npi" and current == PATIENT:
        # A patient has no NPI: the block it opens is a clinician's, its heading lost
        # (a shaded bar OCR did not read).
        kind = PROVIDER
    elif item.slot == "to":
        kind = RECIPIENT
    else:
        return False
    if sections["left"] == sections["right"] or column == "both":
        sections["left"] = sections["right"] = kind
    else:
        sections[column] = kind
    return True


def _a_clinician(words: list[Word]) -> bool:
    """A name written with a doctor's title or a clinician's credentials after it."""
    bare = [_bare(w) for w in words]
    if bare and bare[0] in {"dr", "doctor"}:
        return True
    return any(b in CREDENTIALS - {"npi", "jr", "sr"} for b in bare[2:])


def _signature_below(
    segment: layout.Segment, model: layout.Layout, items: dict[int, list[pairing.Item]]
) -> pairing.Item | None:
    """The name signed under "Sincerely,"."""
    for line in model.lines[segment.line + 1 : segment.line + 4]:
        for below in line.segments:
            if abs(below.x0 - segment.x0) < 0.05:
                if pairing.starts_with_label(below, items):
                    return None
                return pairing.Item("provider_name", [], below, below.words)
    return None


# Where a section makes a generic label someone's field; None: nobody's we read.
GENERIC = {
    "name": {PATIENT: "patient_name", PROVIDER: "provider_name", INSURANCE: "insurance",
             TOP: "patient_name", OTHER: "patient_name", NOTE: "patient_name",
             CLINICIAN: "provider_name"},
    "phone": {PATIENT: "patient_phone", PROVIDER: "provider_phone", TOP: "provider_phone",
              OTHER: "provider_phone", COVER: "provider_phone", NOTE: "provider_phone",
              CLINICIAN: "provider_phone"},
    "fax": {PATIENT: "provider_fax", PROVIDER: "provider_fax", TOP: "provider_fax",
            OTHER: "provider_fax", COVER: "provider_fax", NOTE: "provider_fax",
            CLINICIAN: "provider_fax"},
    "npi": {PATIENT: "npi", PROVIDER: "npi", TOP: "npi", OTHER: "npi", COVER: "npi",
            NOTE: "npi", INSURANCE: "npi", CLINICIAN: "npi"},
    "last_first": {PATIENT: "last_first", PROVIDER: "provider_name", TOP: "last_first",
                   OTHER: "last_first", NOTE: "last_first", CLINICIAN: "provider_name"},
    "from": {s: "provider_name" for s in (PATIENT, PROVIDER, TOP, OTHER, COVER, NOTE)},
}  # fmt: skip
# A field read in its own section is sure; at the top of a page or under a heading of no
# party, less so.
SURE_SECTIONS = {PATIENT, PROVIDER, INSURANCE}
# Labels that may name a referring provider, whose row may go on with their numbers.
ROW_SLOTS = {"provider_name", "name", "last_first", "from"}
IDENTITY_FIELDS = {"patient_first_name", "patient_last_name", "patient_date_of_birth"}
# Values of digits: two readings alike on two pages are no shared misread, as two names
# in one typeface can be ("Carlas" in the letterhead and under the signature).
DIGIT_FIELDS = {
    "patient_date_of_birth", "patient_phone", "provider_npi", "provider_phone", "provider_fax",
}  # fmt: skip


def _readings(item: pairing.Item, section: str, context: _Context) -> list[Found]:
    slot, words = item.slot, item.words
    if not words or slot in {"other", "to"}:
        return []
    if slot == "city":
        context.cities.add(_free_text(words).lower())
        return []
    explicit = slot not in GENERIC
    if not explicit:
        resolved = GENERIC[slot].get(section)
        if resolved is None:
            return []
        slot = resolved
    if section == RECIPIENT and slot in {"provider_name", "provider_phone", "provider_fax", "npi"}:
        return []  # the referred-to clinic's, whatever the label calls it
    if explicit:
        # A chief complaint is the visit's, not the referral's: shown, never trusted.
        priority = (
            0 if slot == "chief_complaint" else 1 if item.weak else 2 if slot == "reason" else 3
        )
    else:
        priority = 2 if section in SURE_SECTIONS else 1
    out = _values(slot, words, priority, context)
    if slot == "provider_name" and out and item.row:
        out += _row_numbers(item.row, context.page, priority, context.model)
    for reading in out:
        if context.in_note and reading.field not in IDENTITY_FIELDS:
            reading.priority = 0  # an attached note's or report's, not the referral's
        if context.is_cover and reading.field in PROVIDER_FIELDS:
            reading.priority = 0  # a cover sheet's numbers: the last resort
        reading.unsure = section == CLINICIAN
        if _toll_free(reading):
            reading.priority = 0  # a payer's or a company's line, not a practice's own
    return out


def _values(slot: str, words: list[Word], priority: int, context: _Context) -> list[Found]:
    page, conf = context.page, _conf(words)

    def found(name: str, value: str, used: list[Word], **kw) -> Found:
        return Found(name, value, kw.pop("confidence", _conf(used)), page, priority,
                     box=_box(used), **kw)  # fmt: skip

    if slot == "last_first" and any("/" in w.text for w in words):
        words = _slash_as_comma(words)  # "ABERNATHY / TOBIAS"
    if slot in {"patient_name", "last_first"}:
        words = _with_its_tail(words, context.model)
        person = parse_person(words)
        if person and slot == "last_first" and not any(w.text.endswith(",") for w in words):
            first, last = person
            person = (last, first) if len(first) == len(last) == 1 else person
        if not person:
            return []
        first, last = person
        return [
            found("patient_first_name", name_text(first), first,
                  confidence=name_confidence(first), checked=known_name(first)),
            found("patient_last_name", name_text(last), last, confidence=name_confidence(last),
                  checked=known_name(last)),
        ]  # fmt: skip
    if slot in {"first_name", "last_name"}:
        name_words = [w for w in words if re.fullmatch(r"[A-Za-z][A-Za-z'\-]*,?", w.text)][:2]
        if not name_words or len(name_words) != len(words[: len(name_words)]):
            return []
        confidence = name_confidence(name_words)
        return [found(f"patient_{slot}", name_text(name_words), name_words,
                      confidence=confidence, checked=known_name(name_words))]  # fmt: skip
    if slot == "provider_name":
        person = parse_person(words)
        if not person:
            return []
        first, last = person
        value = f"{name_text(first)} {name_text(last)}"
        named = found("provider_name", value, first + last,
                      confidence=name_confidence(first + last),
                      checked=known_name(first + last))  # fmt: skip
        return [named, *_row_numbers(_after(words, last[-1]), page, priority, context.model)]
    if slot == "dob":
        read = read_date(" ".join(w.text for w in words), today=context.today, compact=True)
        if not read:
            return []
        dob = found("patient_date_of_birth", read.iso, words, valid=read.plausible,
                    note="date", checked=read.one_style)  # fmt: skip
        dob.confidence = min(dob.confidence, UNSURE) if read.doubtful else dob.confidence
        return [dob]
    if slot in {"patient_phone", "provider_phone", "provider_fax"}:
        parsed = parse_phone(words)
        if not parsed:
            return []
        return [found(slot, parsed[0], words, valid=parsed[1], note="phone")]
    if slot == "npi":
        used = words[:2]
        digits = _digits(" ".join(w.text for w in used))
        if not digits:
            return []
        if (undoubled := npi_undoubled(digits)) is not None:
            # A digit read twice: the number its check digit confirms, for a person to see.
            return [found("provider_npi", undoubled, used, confidence=UNSURE, note="npi")]
        valid = is_valid_npi(digits)
        return [found("provider_npi", digits, used, valid=valid, note="npi", checked=valid)]
    if slot in {"reason", "chief_complaint"}:
        spelled = respell_words(words)
        text = _free_text(spelled)
        if len(text) < 3:
            return []
        # A word put right from the dictionary is a guess a person confirms.
        confidence = min(conf, UNSURE) if spelled != words else conf
        return [found("reason", text, words, confidence=confidence)]
    if slot == "codes":
        coded = _code_words(words)
        about = _around(words, context.model)
        codes = parse_codes(coded, about)
        if not codes:
            return []
        used = [w for w in coded if parse_codes([w], about)]
        # A number left over beside the codes is a code misread (a list's own "1." is not),
        # and a code's shape without its place in the code set a code misread or retired: a
        # person looks.
        codes_read = read_codes(" ".join(w.text for w in coded), about=about)
        leftover = [
            w
            for w in coded
            if w not in used
            and not LIST_NUMBER.fullmatch(w.text)
            and not CODE_SET_NAME.fullmatch(w.text)
        ]
        doubtful = bool(
            _beside_codes(leftover, words) or codes_read.unknown or codes_read.ambiguous
        )
        confidence = min(_conf(used), 0.5) if doubtful else _conf(used)
        # Every code a billable leaf, nothing left over: checked here, and then only if no
        # other code on the page went unread into the list (`_codes_complete`).
        return [found("icd10_codes", ", ".join(codes), used, confidence=confidence,
                      checked=not (doubtful or codes_read.short),
                      repaired=bool(codes_read.repaired))]  # fmt: skip
    if slot == "urgency":
        return _urgency(words, context, found)
    if slot == "insurance":
        words = _first_sentence(words)
        text = _free_text(words)
        # "Aetna PPO, member ID ...": the plan ends where its numbers begin.
        text = INSURANCE_TAIL.split(text)[0].strip(" ,;:.")
        if not re.search(r"[A-Za-z]{3}", text):
            return []
        plan = read_plan(text)
        return [found("insurance", plan.value, words, confidence=min(conf, 0.5) if plan.repaired
                      else conf, checked=plan.known, repaired=plan.repaired)]  # fmt: skip
    return []


def _with_its_tail(words: list[Word], model: layout.Layout) -> list[Word]:
    """A name whose last word's end OCR boxed apart, in the next cell of its line ("Pett"
    ... "igrew"): the end put back, the word doubted. Only a piece no word of the language
    is ("male" is one) after a capitalised word."""
    if not words or not re.fullmatch(r"[A-Z][a-z]+", words[-1].text):
        return words
    held = next((s for s in model.segments if any(w is words[-1] for w in s.words)), None)
    if held is None:
        return words
    beside = [s for s in model.lines[held.line].segments if s.x0 > held.x1]
    if not beside:
        return words
    tail = beside[0].words[0]
    known = engine_words()
    if (
        not re.fullmatch(r"[a-z]{3,}", tail.text)
        or tail.text in SURNAME_PARTICLES
        or tail.text in known
        or (words[-1].text + tail.text).lower() not in known
    ):
        return words
    whole = Word(words[-1].text + tail.text, min(words[-1].conf, tail.conf, UNSURE),
                 words[-1].x0, words[-1].y0, tail.x1, max(words[-1].y1, tail.y1))  # fmt: skip
    return [*words[:-1], whole]


def _around(words: list[Word], model: layout.Layout) -> tuple[str, str]:
    """What a code's misreading is judged by, nearest first: the lines that hold the words
    (a code column's description sits on the code's row, beyond its own cell), the page."""
    held = {id(w) for w in words}
    texts = [" ".join(w.text for s in line.segments for w in s.words) for line in model.lines]
    rows = [
        text
        for text, line in zip(texts, model.lines, strict=True)
        if any(id(w) in held for s in line.segments for w in s.words)
    ]
    return " ".join(rows), " ".join(texts)


def _row_numbers(
    words: list[Word], page: int, priority: int, model: layout.Layout | None = None
) -> list[Found]:
    """A table row that gives a role's person and then their numbers without a label each,
    as EHR printouts do ("Ordering Provider | Sato, Oluwaseun FNP-BC | 1622224305 | (550)
    608-5588 | (550) 850-3253"), read column by column: the NPI by its check digit, a phone
    and a fax by the column's header above (read with a letter or two wrong: "Prone",
    "Fex"), else in the order rows give them. A column that reads as no number keeps its
    place, so a misread phone does not make the fax the phone. The order is a convention,
    not a check: numbers placed by it alone are shown to a person."""
    out = []
    numbered = [c for c in _columns(words) if any(ch.isdigit() for w in c for ch in w.text)]
    # (words, heading, the number read) of each column that holds a phone or a fax.
    phone_columns: list[tuple[list[Word], str | None, str | None]] = []
    for column in numbered:
        header = _column_header(column, model) if model is not None else None
        npi = next((w for w in column if _is_npi_word(w)), None)
        if npi is not None and header in {None, "npi"}:
            out.append(Found("provider_npi", _digits(npi.text), npi.conf, page, priority,
                             box=_box([npi]), note="npi", checked=True))  # fmt: skip
            column = [w for w in column if w is not npi]
        if not column or header == "npi" or _bare_number(column):
            continue  # no more, or an NPI misread: no phone
        numbers = read_phones(" ".join(w.text for w in column))
        if len(numbers) > 1:  # columns run together: "1245319599 (614)555-0132 (614)555-0133"
            phone_columns += [(column, None, number) for number in numbers]
            continue
        parsed = parse_phone(column)
        number = parsed[0] if parsed and parsed[1] else None
        phone_columns.append((column, header if header in {"phone", "fax"} else None, number))
    by_header = all(h is not None for _, h, _ in phone_columns)
    for position, (column, header, number) in enumerate(phone_columns):
        by_position = ("provider_phone", "provider_fax")[position] if position < 2 else ""
        slot = (
            {"phone": "provider_phone", "fax": "provider_fax"}.get(header, by_position)
            if by_header and header is not None
            else by_position
        )
        if not slot or number is None:
            continue
        confidence = _conf(column) if by_header else min(_conf(column), 0.6)
        out.append(Found(slot, number, confidence, page, priority, box=_box(column),
                         note="phone"))  # fmt: skip
    return out


def _columns(words: list[Word]) -> list[list[Word]]:
    """A row's words cut into its columns at gaps wider than a word's height."""
    columns: list[list[Word]] = []
    for word in words:
        gap = word.x0 - columns[-1][-1].x1 if columns else 1.0
        if gap > max(word.y1 - word.y0, columns[-1][-1].y1 - columns[-1][-1].y0 if columns else 0):
            columns.append([word])
        else:
            columns[-1].append(word)
    return columns


def _bare_number(column: list[Word]) -> bool:
    """Ten digits or more written as one number (an NPI's shape, not a phone's parts)."""
    return len(column) == 1 and bool(re.fullmatch(r"\d{10,12}\.?", column[0].text))


def _column_header(column: list[Word], model: layout.Layout) -> str | None:
    """The slot of the column heading over these words ("NPI", "Phone", "Fax"), read from
    the lines just above the row, each heading word read with a letter or two wrong."""
    # A heading starts over its column's values, give or take a character or two.
    x0, x1 = column[0].x0 - 2 * model.char_width, column[-1].x1
    row = next(
        (i for i, line in enumerate(model.lines) for s in line.segments if column[0] in s.words),
        None,
    )
    if row is None:
        return None
    for line in reversed(model.lines[max(0, row - 3) : row]):
        over = [w for s in line.segments for w in s.words if min(w.x1, x1) - max(w.x0, x0) > 0]
        slots = {vocabulary.header_slot(w.text) for w in over} - {None}
        if len(slots) == 1:
            return slots.pop()
    return None


def _toll_free(reading: Found) -> bool:
    return reading.note == "phone" and reading.value[1:4] in TOLL_FREE


def _after(words: list[Word], part: Word) -> list[Word]:
    """The words after the one `part` was cut from (parse_person may split a word)."""
    for index, word in enumerate(words):
        if word.x0 - 1e-9 <= part.x0 < word.x1 and word.y0 < part.y1 and part.y0 < word.y1:
            return words[index + 1 :]
    return []


def _is_npi_word(word: Word) -> bool:
    """Ten digits with the NPI's check digit, written as one number (not a phone's parts)."""
    digits = _digits(word.text)
    return len(digits) == 10 and is_valid_npi(digits) and not re.search(r"[()\-.]", word.text)


def _beside_codes(leftover: list[Word], words: list[Word]) -> list[Word]:
    """The words left over beside a list of codes, less those in a date: a row's next cell
    ("R92.8, N63.0 | 05/17/2026") run into the value is no code misread."""
    offsets, position = {}, 0
    for word in words:
        offsets[id(word)] = position
        position += len(word.text) + 1
    spans = date_spans(" ".join(w.text for w in words))
    return [
        w
        for w in leftover
        if id(w) not in offsets or not any(a <= offsets[id(w)] < b for a, b in spans)
    ]


def _first_sentence(words: list[Word]) -> list[Word]:
    """A plan's name is no sentence: in a letter, "Insurance: Aetna POS II. Please see her
    ..." ends at the period, not at the next label. A sentence goes on in lower case; a
    plan's name in capitals ("Ambetter. Balanced Care" is a speck read as a period)."""
    for index, word in enumerate(words[:-2]):
        ends = word.text.endswith(".") and len(word.text.strip(".")) > 1
        following = words[index + 1].text, words[index + 2].text
        if ends and following[0][:1].isupper() and following[1][:1].islower():
            return words[: index + 1]
    return words


CODE_DOT = re.compile(r"[A-Za-z]{3}\.[A-Za-z0-9]{1,4},?")


def _code_words(words: list[Word]) -> list[Word]:
    """Words that can hold a code (a code always has a digit, or a code's dot after three
    characters: "Lyo.o"), a code split by OCR after its point or colon ("G56: 01") joined
    again."""
    coded: list[Word] = []
    for word in words:
        if not any(ch.isdigit() for ch in word.text) and not CODE_DOT.fullmatch(word.text):
            continue
        previous = coded[-1] if coded else None
        if (
            previous is not None
            and previous.text.endswith((".", ":"))
            and word.text.strip(",;").isdigit()
            and word.x0 - previous.x1 < 2 * (previous.y1 - previous.y0)
        ):
            text = previous.text.rstrip(".:") + "." + word.text
            coded[-1] = Word(text, min(previous.conf, word.conf), previous.x0, previous.y0,
                             word.x1, max(previous.y1, word.y1))  # fmt: skip
            continue
        coded.append(word)
    return coded


def _slash_as_comma(words: list[Word]) -> list[Word]:
    """A "Last / First" value's slash as the comma of "Last, First", wherever OCR put it: a
    word of its own, inside a word, or glued to either name ("BLACKWOOD /YOLANDA")."""
    out: list[Word] = []
    for word in words:
        text = word.text
        if text.startswith("/") and out:
            out[-1] = replace(out[-1], text=out[-1].text.rstrip(",") + ",")
            text = text[1:]
        if "/" in text.strip("/"):
            head, tail = text.split("/", 1)
            out += [replace(word, text=head + ","), replace(word, text=tail)]
        elif text:
            out.append(replace(word, text=text[:-1] + "," if text.endswith("/") else text))
    return out


def _urgency(words: list[Word], context: _Context, found) -> list[Found]:
    """The option that is marked; a lone option with no box at all; never a guess."""
    options: list[tuple[Word, str, bool | None]] = []
    for index, word in enumerate(words):
        level = _urgency_of(word)
        if level is None:
            continue
        mark = context.model.mark_of(word)
        text = word.text.lower()
        before = words[index - 1].text.lower() if index else ""
        if mark is not None:
            state: bool | None = mark.marked
        elif vocabulary.glued_box(text) in vocabulary.MARKED_TOKENS:
            state = True
        elif before in vocabulary.MARKED_TOKENS:
            state = True
        elif before in vocabulary.EMPTY_TOKENS or before.endswith("]"):
            state = False
        else:
            state = None
        options.append((word, level, state))
    marked = [(w, level) for w, level, state in options if state]
    if marked:
        levels = {level for _, level in marked}
        used = [w for w, _ in marked]
        confidence = _conf(used) if len(levels) == 1 else min(_conf(used), 0.4)
        # A word among the options that is none of them is an option garbled, and the
        # one garbled is likely the one marked: a circle or a tick is ink over its word
        # ("CRoutiné>" beside "Urgent STAT"). Shown, not trusted.
        read = {id(w) for w, _, _ in options}
        garbled = any(id(w) not in read and _garbled_option(w) for w in words)
        if garbled:
            confidence = min(confidence, UNSURE)
        # One option marked beside others read unmarked: a choice among a few known words,
        # which a misread letter does not change.
        chosen = len(levels) == 1 and any(state is False for _, _, state in options) and not garbled
        return [found("urgency", marked[0][1], used, confidence=confidence, checked=chosen)]
    if any(state is False for _, _, state in options):
        return []  # boxes read, none of them marked
    levels = {level for _, level, _ in options}
    if len(levels) != 1:
        return []  # several options and no mark read: a person looks
    return [found("urgency", options[0][1], [options[0][0]])]


def _garbled_option(word: Word) -> bool:
    """A word of three letters or more in an options line that reads as no option: not a
    box drawn as text ("[X]", "(J"), nor a separator."""
    return sum(c.isalpha() for c in word.text) >= 3


def _box(words: list[Word]) -> Box | None:
    if not words:
        return None
    return Box(
        min(w.x0 for w in words),
        min(w.y0 for w in words),
        max(w.x1 for w in words),
        max(w.y1 for w in words),
    )


def _banner_fax(words: list[Word], page: int) -> list[Found]:
    """The sending fax number a fax server prints in its banner: the referrer's fax, likely."""
    after: list[Word] = []
    for index, word in enumerate(words):
        if re.match(r"FROM\W*$", word.text, re.IGNORECASE):
            after = words[index + 1 :]
            break
    parsed = parse_phone(after) if after else None
    if not parsed or not parsed[1]:
        return []
    number: list[Word] = []
    count = 0
    for word in after:
        if number and count >= 10:
            break
        digits = sum(ch.isdigit() for ch in word.text)
        if digits or number:
            number.append(word)
            count += digits
    # Sure enough to show, not to trust: it may be a fax server's own number.
    return [
        Found(
            "provider_fax",
            parsed[0],
            BANNER_CONFIDENCE,
            page,
            priority=0,
            box=_box(after[:3]),
            read_confidence=_conf(number),
        )
    ]


def _fallbacks(found: list[Found], model: layout.Layout, page: int, today: dt.date) -> None:
    """An ICD-10 code written anywhere, where no label led to one, and a birth date after a
    short word no label matched: shown, and flagged. An urgency word anywhere is no answer
    ("URGENT CARE CENTER"), so there is none here."""
    if not any(f.field == "patient_date_of_birth" for f in found):
        found.extend(_birth_date_after_a_lost_label(model, page, today))
    if not any(f.field == "insurance" for f in found):
        found.extend(_plan_in_a_coverage_row(model, page))
    if any(f.field == "icd10_codes" for f in found):
        return
    coded = [
        w
        for s in model.segments
        for w in s.words
        if re.fullmatch(r"[A-TV-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4},?", w.text)
        and is_known_code(w.text.rstrip(","))
    ]
    codes = parse_codes(coded)
    if codes:
        found.append(
            Found("icd10_codes", ", ".join(codes), _conf(coded) * 0.8, page, 0, box=_box(coded))
        )


def _birth_date_after_a_lost_label(model: layout.Layout, page: int, today: dt.date) -> list[Found]:
    """A date years ago after a word DOB's misreading could be ("pos 03/10/1966", "poB
    13-Oct-2003": three letters, an o amid them, two at most wrong), or below it where a
    form's header row stands over its values ("oon" over "01/22/1968"): a birth date, since
    the other dates on a form are recent (the referral's, a visit's)."""
    for number, line in enumerate(model.lines):
        words = [w for s in line.segments for w in s.words]
        below = (
            [w for s in model.lines[number + 1].segments for w in s.words]
            if number + 1 < len(model.lines)
            else []
        )
        for index, first in enumerate(words):
            if not _dob_misread(first.text):
                continue
            after = words[index + 1 : index + 2]
            under = [w for w in below if first.x0 - COLUMN_SLACK <= w.x0 <= first.x1]
            for rest in (after, under[:1]):
                read = read_date(rest[0].text, today=today) if rest else None
                if read and read.plausible and int(read.iso[:4]) <= today.year - MIN_AGE_YEARS:
                    return [
                        Found("patient_date_of_birth", read.iso, min(_conf(rest), UNSURE),
                              page, 0, note="date", box=_box(rest))
                    ]  # fmt: skip
    return []


# How far left of its label a value below it may start (a fraction of the page's width).
COLUMN_SLACK = 0.02


def _plan_in_a_coverage_row(model: layout.Layout, page: int) -> list[Found]:
    """A coverage table's row whose heading and column headings OCR lost ("Cer" for
    "Coverage"): a plan's name opening its line, a payer's name first and every word a plan
    word, with a member number in the next cell. Shown, and flagged."""
    for line in model.lines:
        if len(line.segments) < 2:
            continue
        first, beside = line.segments[0], line.segments[1]
        words = first.text.split()
        if len(words) < 2 or words[0].lower() not in vocabulary.PAYERS:
            continue
        if not any(MEMBER_NUMBER.fullmatch(w.text) for w in beside.words):
            continue
        plan = read_plan(first.text)
        if plan.known:
            return [Found("insurance", plan.value, min(_conf(first.words), UNSURE), page, 0,
                          box=_box(first.words))]  # fmt: skip
    return []


# A member number: letters and digits, five digits at least ("X191116815", "2028967553").
MEMBER_NUMBER = re.compile(r"(?=(?:[A-Za-z]*\d){5})[A-Za-z0-9\-]{6,20}")


def _dob_misread(text: str) -> bool:
    key = text.lower().replace("0", "o")
    return (
        len(key) == 3
        and key.isalpha()
        and key[1] == "o"
        and key != "for"  # "for 03/14/2015": a sentence's word before a date
        and Levenshtein.distance(key, "dob") <= 2
    )


# ---- a candidate's fields -------------------------------------------------------------


def merge(readings: list[PageReading]) -> dict[str, dict]:
    """The candidate's fields in the IntakeCandidate.fields shape, from its pages' readings."""
    fields: dict[str, dict] = {}
    for name in FIELD_NAMES:
        options = [f for r in readings for f in r.found if f.field == name]
        valid = [f for f in options if f.valid]
        if valid:
            if name == "reason":
                _reasons_agree(valid, readings)
            # Of two readings as explicit, the one that agrees with another field wins.
            best = max(valid, key=lambda f: (f.priority, f.agrees, f.confidence))
            if name == "icd10_codes" and best.checked:
                best.agrees = _codes_agree(best, readings)
            if name == "provider_fax":
                best = _banner_reading(best, valid)
            disagree = any(
                f.value != best.value
                and (f.priority >= best.priority or _unsure_number(best))
                and f.confidence >= CONTESTS_FROM
                # "Cataract, decreased vision", whose code's title says cataract, over
                # "Ophthalmology consultation" read under a label of the same standing.
                and (f.agrees or not best.agrees or name != "reason")
                for f in valid
            )
            # Only a fallback read it (a cover sheet, an attached note, a code anywhere).
            review = (
                best.confidence < _review_below(best, valid)
                or disagree
                or best.priority == 0
                or best.unsure
                or (name == "reason" and bool(CUT_SHORT.search(best.value)))
            )
            fields[name] = _field(best.value, best.confidence, review, best.page, best.box)
        elif options:
            # Read but failed its check (a bad NPI check digit, an impossible date).
            best = max(options, key=lambda f: (f.priority, f.confidence))
            fields[name] = _field(best.value, min(best.confidence, 0.3), True, best.page, best.box)
        elif name == "urgency":
            # Nothing says how urgent: most referrals are routine, and a person confirms it
            # (a form's mark the reader missed is routine far more often than not).
            fields[name] = _field("routine", 0.5, True, None)
        elif name == "provider_npi" and not any(_may_hold_an_npi(r.text) for r in readings):
            # Most letters carry no NPI: where nothing on the pages is labelled one or could
            # be one, nothing was missed and there is nothing to check.
            fields[name] = _field("", 0.0, False, None)
        else:
            fields[name] = _field("", 0.0, True, None)
    _office_area_code(fields)
    return fields


def _office_area_code(fields: dict[str, dict]) -> None:
    """An office number read without its area code ("Phone: 521 1573") beside the same
    office's other number read whole: an office's phone and fax almost always share an area
    code, so it is offered with that one, flagged for a person to confirm."""
    for name, other in (("provider_phone", "provider_fax"), ("provider_fax", "provider_phone")):
        short, whole = _digits(fields[name]["value"]), _digits(fields[other]["value"])
        if len(short) != 7 or len(whole) != 10:
            continue
        read = read_phone(whole[:3] + short)
        if read and read[1]:
            fields[name] |= {"value": read[0], "review": True}


# "NPI", and as OCR misreads it: "NP!", "NPl", "NP1", "INPI", "N P I".
NPI_WORDING = re.compile(r"(?<![A-Za-z])I?N\s?P\s?[Il1|!](?![a-z])", re.IGNORECASE)


def _may_hold_an_npi(text: str) -> bool:
    """Whether a page's text names an NPI or holds a number that could be one read with a
    digit lost or added (9 to 11 digits in a row)."""
    return bool(NPI_WORDING.search(text) or re.search(r"(?<!\d)\d{9,11}(?!\d)", text))


def _banner_reading(best: Found, faxes: list[Found]) -> Found:
    """A fax read in the form and the fax banner's sending number a digit or two apart are
    one number, one of them misread: the reading the engine was surer of, flagged all the
    same ('(875) 454-5365' in a table's small type, '(815) 454-5365' in the banner)."""
    if best.priority == 0:
        return best
    banners = [
        f
        for f in faxes
        if f.priority == 0 and 1 <= _digits_apart(f.value, best.value) <= BANNER_DIGITS_APART
    ]
    surer = max(banners, key=lambda f: f.read_confidence, default=None)
    # The form's number read alike elsewhere counts at its surest reading.
    alike = max(f.confidence for f in faxes if f.value == best.value and f.priority)
    if surer is None or surer.read_confidence <= alike:
        return best
    return replace(best, value=surer.value, confidence=surer.read_confidence, unsure=True)


def _digits_apart(one: str, other: str) -> int:
    a, b = _digits(one), _digits(other)
    return sum(x != y for x, y in zip(a, b, strict=True)) if len(a) == len(b) else len(a) + 1


def _reasons_agree(reasons: list[Found], readings: list[PageReading]) -> None:
    """Marks the reasons that name the condition of a code the fax gives, checked against
    the code set: read as a reason, not a service requested or a specialty ("Endocrinology
    consultation and treatment" beside "Type 2 diabetes with hyperglycemia" and E11.65).
    Agreement on a word does not check the others' letters: it lowers the bar, no more."""
    codes = [
        code
        for r in readings
        for f in r.found
        if f.field == "icd10_codes" and f.valid and f.checked and not f.repaired
        for code in f.value.split(", ")
    ]
    for reason in reasons:
        reason.agrees = any(title_agrees(code, reason.value) for code in codes)


def _codes_agree(codes: Found, readings: list[PageReading]) -> bool:
    """Whether each code's title names a condition the fax states in words: in a reason
    read anywhere in the candidate, or on the lines the codes are written on ("E11.65 Type 2
    diabetes with hyperglycemia"). A code misread into another real code is another
    condition, which the words rarely name."""
    said = [f.value for r in readings for f in r.found if f.field == "reason"]
    page = next((r for r in readings if r.number == codes.page), None)
    code_list = codes.value.split(", ")
    if page is not None:
        said += [line for line in page.text.splitlines() if any(c in line for c in code_list)]
    text = " ".join(said)
    return all(title_agrees(code, text) for code in code_list)


def _unsure_number(best: Found) -> bool:
    """A number whose section is unsure (a bare "Fax:" at the top of a page, a letter's
    sentence): any other reading of it, a fax server's banner too, that differs may be
    the right one."""
    return best.priority <= 1 and best.field in DIGIT_FIELDS - {"provider_npi"}


def _review_below(best: Found, readings: list[Found]) -> float:
    """The OCR confidence a reading needs to be trusted, by the evidence behind it.

    A value that passed a check a misread rarely survives (an NPI's check digit, a birth
    date that reads one way only, codes whose titles name the reason's condition) under a
    label, or that a second, independent reading agrees with (another page, another place
    on the page), needs less of the engine's trust than a value read once with nothing to
    check it by: the engine's confidence falls on faxed pages for specks and ruling beside
    a value as much as for misread letters."""
    floor = REVIEW_BELOW
    if best.checked and best.priority >= 1:
        if best.agrees:
            floor = AGREEING_REVIEW_BELOW
        elif best.field in NAME_FIELDS:
            # Read wholly in words the engine knows: a lesser check than a check digit.
            floor = AGREED_REVIEW_BELOW
        elif best.field != "icd10_codes" and not best.repaired:
            # Codes in the code set are no such check alone: a misread code is often
            # another real one. Their titles agreeing with the fax's words is.
            floor = CHECKED_REVIEW_BELOW
    if best.priority >= 1 and any(_independent(best, f) for f in readings):
        floor = min(floor, AGREED_REVIEW_BELOW)
    if best.field in DIGIT_FIELDS and any(
        _independent(best, f) and f.page != best.page for f in readings
    ):
        floor = DIGITS_ALIKE_REVIEW_BELOW
    if best.priority >= 1 and best.agrees and best.field == "reason":
        floor = min(floor, AGREED_REVIEW_BELOW)
    return floor


def _independent(best: Found, other: Found) -> bool:
    """`other` reads the same value elsewhere: another page, or apart on the same one."""
    if other is best or other.value != best.value:
        return False
    if other.page != best.page or best.box is None or other.box is None:
        return other.page != best.page
    a, b = best.box, other.box
    return a.x1 < b.x0 or b.x1 < a.x0 or a.y1 < b.y0 or b.y1 < a.y0


def _field(
    value: str, confidence: float, review: bool, page: int | None, box: Box | None = None
) -> dict:
    return {
        "value": value,
        "confidence": round(confidence, 3),
        "review": review,
        "page": page,
        "box": [round(v, 4) for v in (box.x0, box.y0, box.x1, box.y1)] if box else None,
    }
