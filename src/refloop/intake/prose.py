"""Referral fields read from a letter's sentences, where no label names them.

"I am referring my patient NAME, DOB …", "she can be reached at …", "insured through …",
"for evaluation of …", the name under "Sincerely,". A letter's lines wrap mid-sentence, so
the page's lines are read as one text and each value keeps the box of its words. Readings
rank below an explicit label's: where a form on the same page labels a field, the label
wins. The receiving doctor ("Dear Dr. …", the inside address) and anyone named in passing
(a PCP, a doctor seen in the ED) are never the referrer: only the signer is.

Urgency in prose is read only from how the patient should be seen ("see him urgently",
"seen today, stat", "this is not urgent"); a form's urgency words are its checkboxes' and
its labels', and "urgent care" is a place. "At your earliest convenience" is a courtesy
formula, not a deadline: routine.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace

from refloop.intake import values
from refloop.intake.extraction import (
    UNSURE,
    Found,
    known_name,
    name_confidence,
    name_text,
    parse_person,
    respell_words,
)
from refloop.intake.reading import Box, PageText, Word

# Below an explicit label (3) for the fields a label states outright (the patient, the
# NPI), and below a form's labelled reason, insurance, phone and urgency (2). A signature
# ranks with the other ways a form names its referrer (2).
STRONG = 2
WEAK = 1
# How far after a patient's name a "DOB"/"born" still belongs to that patient.
DOB_REACH = 40

# An initial's period may be read as a colon: "Tobias V: Castellanos".
NAME_WORD = r"(?:(?:St|Ste|Mt)\.|[A-Z][A-Za-z'\-]+|[A-Z][.:]?)"
# Lower-case words inside a surname: "Van der Graaf", "de la Cruz".
NAME_PARTICLE = r"(?:van|von|der|den|de|del|della|da|di|du|la|le|dos|das|ter|ten)"
# "Keisha K Brooks", "BROOKS, KEISHA", "Wilhelmina Van der Graaf", "Dolores St. Clair".
NAME = rf"(?P<name>{NAME_WORD}(?:,?\s+(?:{NAME_PARTICLE}\s+){{0,2}}{NAME_WORD}){{1,3}})"
# "I am" as a fax reads it: "lam", "Iam", "1 am".
I_ = r"[Il1|]"
TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+)?"
PATIENT_INTRO = re.compile(
    # "I" may be lost to a speck or the line above: "am referring my patient ..."
    rf"(?i:(?<![A-Za-z])(?:(?:{I_}\s*)?am|{I_}'m|we\s+are|{I_}\s+would\s+like\s+to|{I_}'d\s+like\s+to"
    rf"|we\s+would\s+like\s+to|this\s+letter\s+is\s+to|{I_}\s*am\s+writing\s+to|writing\s+to)"
    r"\s+(?:refer(?:ring)?|send(?:ing)?)"
    r"|thank\s+you\s+for\s+(?:seeing|evaluating|agreeing\s+to\s+see)"
    # "Please see the attached notes" names no one: only "please see my patient NAME".
    r"|p[li1]ease\s+(?:see|evaluate)(?=\s+(?:my|our|this)\s+(?:mutual\s+)?patient))"
    r"\s+(?i:to\s+you\s+)?(?i:(?:my|our|a|the|this)\s+)?(?i:(?:mutual\s+)?patient,?\s+)?"
    + TITLE
    + NAME
)
SUBJECT = re.compile(
    r"\b(?:Re|RE|Regarding|REGARDING)\s*:\s*(?i:referral\s+for\s+|patient\s*:?\s*)?" + TITLE + NAME
)
# "Please see Keisha Brooks, DOB: …": a birth date right after the name says it is a patient.
PLEASE_SEE = re.compile(
    r"(?i:p[li1]ease\s+(?:see|evaluate))\s+"  # "Piease": its l read as an i
    + TITLE
    + NAME
    + r"(?=,?\s*\(?(?i:D[O0Q]?B\b|D\.O\.B|date\s+of\s+birth|born))"
)
# Words a name runs into on a subject line: "Re: Marcus Webb DOB: 3/9/58".
NOT_NAME = {"dob", "d.o.b.", "d.o.b", "dob:", "mrn", "mrn:", "date", "age", "born", "sex", "id"}
# What a surname may begin with: a name read up to one of these was cut short.
PARTICLES = {"st", "ste", "saint", "mc", "mac", "de", "da", "di", "du", "van", "von", "la", "le"}
# "DOB" as a fax reads it too: "DB:", "D0B".
BIRTH = re.compile(
    r"(?i:\bD[O0Q]?B\b|\bD\.O\.B\.?|date\s+of\s+birth|birth\s*date|\bborn(?:\s+on)?\b)"
)
PATIENT_PHONE = re.compile(
    r"(?i:(?:she|he|they|the\s+patient|patient)\s+(?:can|may|could)\s+be\s+(?:reached|contacted)"
    r"(?:\s+by\s+phone)?\s+(?:at|on)"
    r"|(?:her|his|their|the\s+patient's|patient's)[.,]?\s+(?:cell(?:\s*phone)?|mobile|home(?:\s+phone)?"
    r"|phone|telephone|contact)(?:\s+(?:number|no\.?|#))?\s+is"
    r"|(?:reach|contact|call)\s+(?:her|him|them|the\s+patient)\s+(?:at|on)"
    # "to" as a fax reads it: "ta", "t0".
    r"|(?:best\s+)?(?:number|phone)\s+t[oa0]\s+reach\s+(?:her|him|them|the\s+patient)\W{0,2}\s+is)"
    r"\b"
)
OFFICE_PHONE = re.compile(
    r"(?i:(?:call|contact|reach)\s+(?:me|us|our\s+office|my\s+office|the\s+office)\s+(?:at|on)"
    r"|(?:our|my)\s+(?:office|direct\s+line)(?:\s+(?:phone|number|phone\s+number))?\s+is)\b"
)
# Only in a sentence: a "Fax:" label on a cover sheet may be the receiver's.
OFFICE_FAX = re.compile(
    r"(?i:\bfax\s+(?:records|notes|reports|results|them|it)\s+(?:to|at)"
    r"|[;,]\s*fax|\b(?:our|my)\s+(?:office\s+)?fax(?:\s+number)?\s+is)\b"
)
INSURANCE = re.compile(
    r"(?i:insured\s+(?:th[rn]ough|with|by|under)"  # "thnough": its r read as an n
    r"|(?:her|his|their|the\s+patient's|patient's)\s+(?:primary\s+)?(?:insurance(?:\s+(?:carrier"
    r"|plan|company))?|insurer|health\s+plan|coverage)\s+is(?:\s+with)?"
    r"|covered\s+(?:by|under|through)|(?:coverage|insurance)\s+(?:through|with|from))\s+"
    r"(?P<value>[A-Z][^,;()]*?)"
    r"(?=\s*(?:[,;()]|\.(?:\s|$)|$|\s+(?i:and|member|policy|id|group|under|with|for|but|who"
    r"|which|since|as|through)\b))"
)
REASON = re.compile(
    r"(?i:for\s+(?:further\s+|a\s+|an\s+)?(?:evaluation|consultation|management|assessment"
    r"|treatment)(?:\s+and\s+(?:management|treatment|evaluation|recommendations))?"
    r"\s+(?:of|for|regarding)"
    # A speck read as a period after the verb: "whom I am referring. for iron …".
    r"|referred[.,]?\s+(?:to\s+you\s+)?for"
    r"|referring[.,]?\s+(?:(?:him|her|them)\s+)?(?:to\s+you\s+)?for"
    r"|\bto\s+(?:you|your\s+(?:clinic|practice|office|service|department))\s+for"
    r"|(?:consult(?:ation)?|evaluation)\s+regarding"
    # "Please see NAME, DOB: 07/14/1996, regarding …"
    # (the date may hold a comma itself: "DOB: March 9, 1962, regarding …")
    r"|(?:\bDOB\b|date\s+of\s+birth|\bborn\b)[^,]{0,30}(?:,\s*\d{4})?,\s+(?:regarding|for))"
    # A space read as a period: "referring her for.knee pain".
    r"(?:\s+|\.(?=[a-z]))"
    # A sentence's period read as a colon ("… pain: His symptoms began …") ends it too,
    # and read as a comma before a label of the letter's own ("…, Relevant diagnoses: …").
    # A period before a word in lower case is a speck, not the sentence's end ("chronic
    # migraine. not responding to two preventives"; "iCD-10:" is a label misread).
    r"(?P<value>.+?)(?=\.(?:\s+(?![a-z]+\s)|$)|:\s+[A-Z][a-z]|,\s+[A-Z][a-z]+(?:\s+[a-z]+){0,2}:|$)"
)
# "referred for evaluation of X": the reason is X.
REASON_LEAD = re.compile(
    r"^(?i:(?:further\s+|an?\s+)?(?:evaluation|consultation|management|assessment|treatment)"
    r"(?:\s+and\s+(?:management|treatment|evaluation|recommendations))?"
    r"\s+(?:of|for|regarding)\s+)"
)
# "Diagnosis codes E11.65, I10." inside a sentence.
CODES = re.compile(
    r"(?i:\bdiagnos[ie]s(?:\s+codes?)?|\bICD-?\s?10(?:-CM)?(?:\s+codes?)?)\s*[:.;]?\s+"
    r"(?P<value>.+?)(?=\.(?:\s|$)|$)"
)
URGENCY = [
    (
        "stat",
        re.compile(
            r"(?i:\b(?:seen|see|evaluated?|scheduled?)\b[^.]{0,40}?"
            r"\b(?:stat|emergently|same[\s-]day|within\s+24\s+hours))\b"
            r"|(?i:\bstat\s+(?:re\w{0,3}rr?al|consult(?:ation)?|request)\b)|\bSTAT\b\s*:"
        ),
    ),
    (
        "urgent",
        re.compile(
            r"(?i:\burgently\b|\b(?:seen|see|evaluated?|scheduled?|appointment)\b[^.]{0,40}?"
            r"\b(?:as\s+soon\s+as\s+possible|asap|within\s+(?:the\s+next\s+)?(?:a|one|1|two|2"
            r"|a\s+few)\s+(?:days|weeks?)|this\s+week|within\s+the\s+week)\b"
            r"|\b(?:this|it|the\s+referral)\s+is\s+(?:an\s+)?(?:urgent|time[\s-]sensitive)\b"
            r"|\burgent\s*:\s*please\b)"
        ),
    ),
    (
        "routine",
        re.compile(
            r"(?i:\b(?:this|it|the\s+referral)\s+is\s+(?:an?\s+)?(?:not\s+urgent|non-?urgent"
            r"|routine)\b|\bno\s+urgency\b|\broutine\s+(?:referral|appointment|visit)\b"
            r"|\bat\s+your\s+(?:earliest\s+)?convenience\b)"
        ),
    ),
]
CLOSING = re.compile(
    r"^(?i:sincerely|respectfully|regards|best\s+regards|kind\s+regards|warm\s+regards"
    r"|best|with\s+thanks|thank\s+you|yours\s+truly|cordially)\b[\s,.]*$"
)
SIGNED = re.compile(r"(?i:(?:electronically\s+)?signed(?:\s+by)?\s*:?|/s/)\s+")
SALUTATION = re.compile(r"^(?i:dear)\s+(?i:(?:dr\.?|doctor)\s+)?(?P<name>[A-Z][\w'\-. ]*?)\s*[,:]")
NPI = re.compile(r"\bNPI\s*(?:#|:|number|no\.?)?\s*", re.IGNORECASE)
# A letter greets or signs off; an attached note's "Electronically signed by" is the note's.
LETTER = re.compile(
    r"(?im:^\s*dear\b|^\s*(?:sincerely|respectfully|regards|best\s+regards|kind\s+regards)\b)"
)


@dataclass
class Text:
    """A page's words as one text, and where each word sits in it."""

    text: str
    words: list[Word]
    starts: list[int]
    line_of: list[int]

    def words_from(self, offset: int) -> list[Word]:
        return [w for w, s in zip(self.words, self.starts, strict=True) if s >= offset]

    def words_after(self, offset: int) -> list[Word]:
        """The words from `offset` on, with the rest of a word it falls inside: "is.209"
        (a space read as a period) goes on with "209"."""
        out = []
        for w, s in zip(self.words, self.starts, strict=True):
            if s >= offset:
                out.append(w)
            elif s + len(w.text) > offset and (rest := w.text[offset - s :].lstrip(".,:;")):
                out.append(replace(w, text=rest))
        return out

    def words_in(self, start: int, end: int) -> list[Word]:
        return [
            w
            for w, s in zip(self.words, self.starts, strict=True)
            if s < end and s + len(w.text) > start
        ]

    def line_at(self, offset: int) -> int:
        index = max((i for i, s in enumerate(self.starts) if s <= offset), default=0)
        return self.line_of[index] if self.line_of else 0


def _as_text(page: PageText) -> Text:
    parts, words, starts, line_of, position = [], [], [], [], 0
    for number, line in enumerate(page.lines):
        for word in line:
            words.append(word)
            starts.append(position)
            line_of.append(number)
            parts.append("".join(_unaccented(c) for c in word.text))
            position += len(word.text) + 1
    return Text(" ".join(parts), words, starts, line_of)


def _unaccented(char: str) -> str:
    """A letter without the accent a speck gave it ("réached"), one character for one so
    the text's offsets still find its words."""
    base = unicodedata.normalize("NFKD", char)[0]
    return base if base.isascii() else char


def read_prose(page: PageText, today: dt.date) -> list[Found]:
    """The fields a letter on this page states in its sentences and signature."""
    text = _as_text(page)
    if not text.words:
        return []
    recipient_lines = _recipient_lines(page)
    found: list[Found] = []
    found += _patient(text, page.number, today)
    found += _phones(text, page.number, recipient_lines)
    found += _insurance(text, page.number)
    found += _reason(text, page.number)
    found += _urgency(text, page.number)
    if LETTER.search(page.text):
        # A letter's signer, codes and NPI; on a form or a note, its labels give them.
        found += _signer(page)
        found += _codes(text, page.number)
        found += _npi(text, page.number, recipient_lines)
    return found


# ---- the patient ------------------------------------------------------------------------


def _patient(text: Text, page: int, today: dt.date) -> list[Found]:
    matches = [
        match
        for pattern in (PATIENT_INTRO, SUBJECT, PLEASE_SEE)
        for match in pattern.finditer(text.text)
    ]
    unnamed: list[Found] = []
    named: list[Found] = []
    for match in sorted(matches, key=lambda m: m.start()):
        span = match.span("name")
        words = text.words_in(*span)
        cut = next((i for i, w in enumerate(words) if w.text.lower() in NOT_NAME), len(words))
        if words[:cut] and words[cut - 1].text.lower().rstrip(".") in PARTICLES:
            continue  # "Gloria St. Clair" cut at "St": the labels say it whole, or a person
        # From the name's start: a subject line's name runs into its "DOB".
        born = _born(text, span, page, today)
        person = parse_person(words[:cut])
        if not person:
            # The name glued to what follows ("St. Clairi(date of birth 03/19/2004)"): the
            # date the sentence gives is still the patient's; the name, other lines say.
            unnamed = unnamed or born
            continue
        first, last = person
        if named:
            # "RE: Referral for Okonkwo, Priya" names her; "… my patient, Priya Okonkwo,
            # born Aug 20, 1993" gives her birth date: the same surname, the same patient.
            if born and _same_surname(named[1].value, name_text(last)):
                return named + born
            continue
        named = [
            _found("patient_first_name", name_text(first), first, page, STRONG),
            _found("patient_last_name", name_text(last), last, page, STRONG),
        ]
        named[0].confidence, named[1].confidence = name_confidence(first), name_confidence(last)
        named[0].checked, named[1].checked = known_name(first), known_name(last)
        if born:
            return named + born
    if named:
        # "RE: Referral for O'Donnell, Alonzo" … "my patient, Alonzo. O'Donnell, born August
        # 8, 1988": the one birth date the letter states is the patient it names.
        return named + _only_birth_date(text, page, today)
    return unnamed


def _only_birth_date(text: Text, page: int, today: dt.date) -> list[Found]:
    """The birth date the page states, where it states one only (however often), shown for
    a check since no name stands right before it."""
    dates = [
        found
        for match in BIRTH.finditer(text.text)
        for found in _born(text, (match.start(), match.start()), page, today)
    ]
    if len({d.value for d in dates}) != 1:
        return []
    return [replace(dates[0], confidence=min(dates[0].confidence, UNSURE))]


def _same_surname(one: str, other: str) -> bool:
    def letters(name: str) -> str:
        return "".join(c for c in name.casefold() if c.isalpha())

    return letters(one) == letters(other)


def _born(text: Text, span: tuple[int, int], page: int, today: dt.date) -> list[Found]:
    """The birth date stated right after a patient's name ("…, DOB: 07/14/1996")."""
    born = BIRTH.search(text.text, span[0], span[1] + DOB_REACH)
    if not born:
        return []
    # The date may be glued to its label ("DB:1938-12-22,"): the word the label ends in,
    # from where it ends.
    glued = [
        replace(w, text=_after_label(w.text[born.end() - start :]))
        for w, start in zip(text.words, text.starts, strict=True)
        if start < born.end() < start + len(w.text) and _after_label(w.text[born.end() - start :])
    ]
    date_words = _leading(glued + text.words_from(born.end()), _is_date_part)
    read = values.read_date(" ".join(w.text for w in date_words), today=today)
    if not read:
        return []
    reading = _found("patient_date_of_birth", read.iso, date_words, page, STRONG)
    reading.valid = read.plausible
    return [reading]


def _after_label(rest: str) -> str:
    """What follows a label inside its word: "DB:1938-12-22," or "birthiMar", its colon
    read as an i."""
    return re.sub(r"^[il!|](?=[A-Z])", "", rest.lstrip(":. "))


def _is_date_part(word: Word) -> bool:
    token = word.text.strip(".,;:()").lower()
    return any(c.isdigit() for c in token) or token in values.MONTHS


def _leading(words: list[Word], keep, limit: int = 4) -> list[Word]:
    """The first words that are part of a value, up to the first that is not."""
    out = []
    for word in words[:limit]:
        if not keep(word):
            break
        out.append(word)
    return out


def _has_digit(word: Word) -> bool:
    return any(c.isdigit() for c in word.text)


def _phones(text: Text, page: int, recipient_lines: set[int]) -> list[Found]:
    out: list[Found] = []
    for field, pattern, priority in (
        ("patient_phone", PATIENT_PHONE, STRONG),
        ("provider_phone", OFFICE_PHONE, WEAK),
        ("provider_fax", OFFICE_FAX, WEAK),
    ):
        for match in pattern.finditer(text.text):
            if text.line_at(match.start()) in recipient_lines:
                continue
            words = _leading(text.words_after(match.end()), _has_digit)
            read = values.read_phone(" ".join(w.text for w in words))
            if read:
                reading = _found(field, read[0], words, page, priority)
                reading.valid = read[1]
                out.append(reading)
                break
    return out


def _insurance(text: Text, page: int) -> list[Found]:
    match = INSURANCE.search(text.text)
    if not match:
        return []
    value = match.group("value").strip()
    words = text.words_in(*match.span("value"))
    if not value or len(words) > 8:
        return []
    plan = values.read_plan(value)
    reading = _found("insurance", plan.value, words, page, WEAK)
    if plan.repaired:
        reading.confidence = min(reading.confidence, 0.5)
    reading.checked, reading.repaired = plan.known, plan.repaired
    return [reading]


def _reason(text: Text, page: int) -> list[Found]:
    match = REASON.search(text.text)
    if not match:
        return []
    value = REASON_LEAD.sub("", match.group("value").strip())
    # The speck read as a period the sentence went on past ("migraine. not responding").
    value = re.sub(r"(?<=[a-z]{3})\.(?=\s+[a-z]+\s)", "", value)
    words = text.words_in(*match.span("value"))
    if len(value) < 3 or len(words) > 30:
        return []
    found = _found("reason", value, words, page, WEAK)
    # Its misread words put right as a form's reason's are ("systclic"), and then checked.
    for word, spelled in zip(words, respell_words(words), strict=True):
        if spelled.text != word.text:
            found.value = re.sub(
                rf"(?<!\w){re.escape(word.text)}(?!\w)", spelled.text, found.value, count=1
            )
            found.confidence = min(found.confidence, UNSURE)
    return [found]


def _codes(text: Text, page: int) -> list[Found]:
    """ "Diagnosis codes E11.65, I10." in a sentence, where no "Label:" line gives them."""
    for match in CODES.finditer(text.text):
        read = values.read_codes(match.group("value"))
        if not read.codes:
            continue
        words = [w for w in text.words_in(*match.span("value")) if values.read_codes(w.text).codes]
        reading = _found("icd10_codes", ", ".join(read.codes), words, page, WEAK)
        if read.unknown or read.ambiguous:
            reading.confidence = min(reading.confidence, 0.5)
        return [reading]
    return []


def _urgency(text: Text, page: int) -> list[Found]:
    # The most pressing wins: "at your earliest convenience; this is urgent" is urgent.
    for level, pattern in URGENCY:
        match = pattern.search(text.text)
        if match:
            words = text.words_in(*match.span())
            return [_found("urgency", level, words, page, WEAK)]
    return []


# ---- the referrer -----------------------------------------------------------------------


def _recipient_lines(page: PageText) -> set[int]:
    """The lines of the inside address: from the line naming the "Dear Dr. X" of the
    salutation down to the salutation. Phones and NPIs there are the receiver's."""
    lines = [" ".join(w.text for w in line) for line in page.lines]
    for dear_index, line in enumerate(lines):
        match = SALUTATION.match(line)
        if not match:
            continue
        surname = match.group("name").split()[-1].strip(".,")
        if len(surname) < 2:
            return set()
        for index in range(dear_index):
            if re.search(rf"\b{re.escape(surname)}\b", lines[index]):
                return set(range(index, dear_index + 1))
        return {dear_index}
    return set()


def _signer(page: PageText) -> list[Found]:
    out: list[Found] = []
    lines = page.lines
    for index, line in enumerate(lines):
        line_text = " ".join(w.text for w in line)
        if CLOSING.match(line_text):
            for below in lines[index + 1 : index + 4]:
                person = _person_at_start(below)
                if person:
                    out.append(person)
                    break
        signed = SIGNED.search(line_text)
        if signed:
            offset, after = 0, []
            for word in line:
                if offset >= signed.end():
                    after.append(word)
                offset += len(word.text) + 1
            person = _person_at_start(after)
            if person:
                out.append(person)
        if out:
            reading = out[0]
            reading.page = page.number
            return [reading]
    return []


def _person_at_start(words: list[Word]) -> Found | None:
    """A signature line's name: "Elena Castillo, MD", "Dr. Priya Natarajan"."""
    name_words = []
    for word in words[:5]:
        if _has_digit(word) or word.text.endswith(":"):
            break
        name_words.append(word)
    person = parse_person(name_words)
    if not person:
        return None
    first, last = person
    signer = _found(
        "provider_name", f"{name_text(first)} {name_text(last)}", first + last, 0, STRONG
    )
    signer.confidence = name_confidence(first + last)
    signer.checked = known_name(first + last)
    return signer


def _npi(text: Text, page: int, recipient_lines: set[int]) -> list[Found]:
    for match in NPI.finditer(text.text):
        if text.line_at(match.start()) in recipient_lines:
            continue
        words = _leading(text.words_from(match.end()), _has_digit, limit=3)
        read = values.read_npi(" ".join(w.text for w in words))
        if read:
            reading = _found("provider_npi", read[0], words, page, STRONG)
            reading.valid = read[1]
            return [reading]
    return []


# ---- shared -------------------------------------------------------------------------------


def _found(field: str, value: str, words: list[Word], page: int, priority: int) -> Found:
    confidence = min((w.conf for w in words), default=0.0)
    box = (
        Box(
            min(w.x0 for w in words),
            min(w.y0 for w in words),
            max(w.x1 for w in words),
            max(w.y1 for w in words),
        )
        if words
        else None
    )
    return Found(field, value, confidence, page, priority, box=box)
