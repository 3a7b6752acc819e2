"""Values read back from a fax's text the way a person types them, and checked as they are read.

Dates in every common US style, ICD-10-CM codes checked against the real code set (the
simple-icd-10-cm package, CMS's April 2026 release), phone numbers and NPIs. OCR's usual
confusions (O/0, l/1, S/5, G/6) are repaired only where the result is the one valid
reading: a code is repaired against the code set when exactly one repair is a real code;
anything that still fails its check comes back marked so a person looks at it.
"""

import datetime as dt
import functools
import importlib.metadata
import itertools
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from refloop.network.npi import is_valid_npi

# ---- dates ------------------------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
# No one referred today was born more than this many years ago.
OLDEST_YEARS = 120
# Letters OCR reads for digits, repaired only inside a run that is otherwise a date.
DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "i": "1", "|": "1", "S": "5",
     "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6"}
)  # fmt: skip
_DIGITISH = r"[\dOoDlIi|SsBZzG]"
# A run of digits, lookalikes and date separators, between spaces or punctuation.
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9])[\dOoDlIi|SsBZzG/.\-]+(?![A-Za-z0-9])")
_MONTH_SPECK = re.compile(
    r"(?i)\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?[!|'](?=\s*\d)"
)
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4}|\d{2})"
DATE_PATTERNS = [
    # 07/14/1996, 7-14-96, 07.14.1996, 07 / 14 / 1996
    re.compile(r"(?<![\d/.\-])(?P<a>\d{1,2})\s*([/.\-])\s*(?P<b>\d{1,2})\s*\2\s*" + _YEAR + r"\b"),
    # 1996-07-14, 1996/07/14
    re.compile(r"\b(?P<year>\d{4})([/.\-])(?P<month>\d{1,2})\2(?P<day>\d{1,2})\b"),
    # Jul 14,1996; July 14th, 1996; JUL-14-1996
    re.compile(rf"\b{_MONTH}[\s\-]*{_DAY}\s*[,\-]?\s*{_YEAR}\b"),
    # 14 Jul 1996; 14-Jul-96; 14 July, 1996
    re.compile(rf"\b{_DAY}[\s\-]*{_MONTH}[\s\-,]*{_YEAR}\b"),
]
# 071496, 07141996 or 19960714: a date only where a label says one is there.
COMPACT = re.compile(r"(?<![\dA-Za-z])(\d{6}|\d{8})(?![\dA-Za-z])")


@dataclass(frozen=True)
class DateRead:
    iso: str  # YYYY-MM-DD, or the text as read where it is no date
    plausible: bool  # a real date, not in the future and not too long ago
    # Read one way only: a month by name, year first, a day above 12, or a four-digit year
    # after a month and day that are the same number. 03/04/1990 (March or April?), a
    # two-digit year and bare digits ("031490") could be read another way.
    one_style: bool = field(default=False, compare=False)
    # Read with digits after a gap as its last ones ("1936-11-1 1"): shown for a check.
    doubtful: bool = field(default=False, compare=False)


def read_date(text: str, *, today: dt.date, compact: bool = False) -> DateRead | None:
    """The first date in `text`, as ISO, and whether it can be a birth date."""
    text = _repair_digits(text)
    matches = _date_matches(text)
    if matches:
        match = min(matches, key=lambda m: (m.start(), -len(m.group())))
        # A date's last digit or two split off by a gap OCR put in ("1936-11-1 1"): read
        # whole where the digits make the same date longer, and doubted.
        split = re.match(r" (\d{1,2})(?!\d)", text[match.end() :])
        if split:
            joined = text[: match.end()] + split.group(1) + text[match.end() + split.end() :]
            longer = [
                m
                for m in _date_matches(joined)
                if m.start() == match.start() and m.end() == match.end() + len(split.group(1))
            ]
            if longer and (read := _date(longer[0], today)).plausible:
                return replace(read, one_style=False, doubtful=True)
        read = _date(match, today)
        if YEAR_FIRST_SHORT.fullmatch(match.group()):
            return replace(read, one_style=False, doubtful=True)
        return read
    if compact and (digits := COMPACT.search(text)):
        return _compact_date(digits.group(1), today)
    return None


# A year-first date with a one-digit month or day ("1936-11-1"): a digit lost.
YEAR_FIRST_SHORT = re.compile(r"\d{4}[/.\-](?:\d[/.\-]\d{1,2}|\d{2}[/.\-]\d)")


def _date_matches(text: str) -> list[re.Match]:
    matches = [m for pattern in DATE_PATTERNS for m in pattern.finditer(text)]
    return [m for m in matches if _month_of(m) is not None]


def date_spans(text: str) -> list[tuple[int, int]]:
    """Where in `text` dates are written (any style, read or not as a birth date)."""
    text = _repair_digits(text)
    return [m.span() for pattern in DATE_PATTERNS for m in pattern.finditer(text) if _month_of(m)]


def _repair_digits(text: str) -> str:
    """'O7/l4/I996' -> '07/14/1996': lookalikes inside digit runs, never in words."""

    def repair(match: re.Match) -> str:
        run = match.group()
        if not any(c.isdigit() for c in run):
            return run  # a word ("DOB", "SS"), not a number
        return run.translate(DIGIT_LOOKALIKES)

    # A handwritten slash read as a bracket between digits, beside a slash read right:
    # "3(23/06".
    text = re.sub(r"(?<=\d)[()](?=\d{1,2}/\d)|(?:(?<=/\d)|(?<=/\d\d))[()](?=\d)", "/", text)
    # A speck glued to a month's name: "Jul!11,2003", "May! 18".
    text = _MONTH_SPECK.sub(r"\1 ", text)
    return _DIGIT_RUN.sub(repair, text)


def _month_of(match: re.Match) -> int | None:
    groups = match.groupdict()
    month = groups.get("month")
    if month is None:  # numeric: month/day/year
        return int(groups["a"])
    if month.isdigit():
        return int(month)
    return MONTHS.get(month.lower())


def _date(match: re.Match, today: dt.date) -> DateRead:
    groups = match.groupdict()
    if "a" in groups:
        month, day = int(groups["a"]), int(groups["b"])
        if month > 12 >= day:  # 14/07/1996 can only be day first
            month, day = day, month
        one_style = month == day or max(month, day) > 12
    else:
        month, day = _month_of(match) or 0, int(groups["day"])
        one_style = True
    read = _checked(match.group().strip(), groups["year"], month, day, today)
    return replace(read, one_style=one_style and len(groups["year"]) == 4 and read.plausible)


def _compact_date(digits: str, today: dt.date) -> DateRead | None:
    if len(digits) == 8 and digits[:2] in {"19", "20"}:
        year, month, day = digits[:4], int(digits[4:6]), int(digits[6:])
    else:
        month, day, year = int(digits[:2]), int(digits[2:4]), digits[4:]
    return _checked(digits, year, month, day, today)


def _checked(text: str, year: str, month: int, day: int, today: dt.date) -> DateRead:
    try:
        if len(year) == 2:
            # A birth date is never in the future: '24 is 2024, '27 is 1927.
            value = dt.date(2000 + int(year), month, day)
            if value > today:
                value = value.replace(year=value.year - 100)
        else:
            value = dt.date(int(year), month, day)
    except ValueError:
        return DateRead(text, False)
    oldest = today.replace(year=today.year - OLDEST_YEARS, day=min(today.day, 28))
    return DateRead(value.isoformat(), oldest <= value <= today)


# ---- ICD-10-CM codes ----------------------------------------------------------------------

CODE_PACKAGE = "simple-icd-10-cm"
# A code is a letter, a digit, a digit or letter, then up to four more after a dot.
CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")
# Candidate tokens: letters, digits, dots and the symbols OCR reads for S; a ":" or "/"
# ends one ("ICD10:E11.65").
_TOKEN = re.compile(r"[A-Za-z0-9.$§|£]+")
# OCR reads a code's dot as a colon ("M16:12"); a label's colon ("ICD10:E11.65") is not one.
_COLON_FOR_DOT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9$][0-9OoIl|][0-9A-Za-z]):(?=[0-9A-Za-z])")
# A code's dot read as a comma: "F41,1". Only where the category before it is no code a
# referral bills and the whole is one: "I10,E11.65" is a list.
_COMMA_FOR_DOT = re.compile(
    r"(?<![A-Za-z0-9])([A-Z][0-9OoIl][0-9A-Z]),([0-9][0-9A-Z]{0,3})(?![0-9A-Za-z.])"
)
# A numbered list's number glued to its code: "1.E11.65".
_LIST_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d{1,2}[.)](?=[A-Za-z$§][0-9OoIl|])")
# A list's item standing alone: at the start, or after a comma, up to the end or a comma
# ("2.500 mg" in a sentence is a number).
_LISTED_DIGITS = re.compile(r"(?:^|(?<=[,;]))\s*\d[.)](\d{3})(?=\.?\s*(?:[,;]|$))", re.MULTILINE)
# What each character may have been before OCR misread it (the first character of a code
# is always a letter, the second always a digit).
AS_LETTER = {"1": "I", "5": "S", "$": "S", "§": "S", "0": "O", "8": "B", "2": "Z", "6": "G",
             "£": "E"}  # fmt: skip
AS_DIGIT = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "|": "1", "S": "5", "$": "5",
            "B": "8", "Z": "2", "G": "6", "T": "7", "A": "4"}  # fmt: skip
AS_EITHER = {**AS_DIGIT, **{k: v for k, v in AS_LETTER.items() if k.isdigit()}}
# Look-alikes in small type that a letter's more usual one above does not cover: a 1 with
# its flag read as a t ("Mt7.12" for M17.12). Tried too, so a code may have two repairs; a
# description beside it that names one's condition chooses it.
ALSO_AS_DIGIT = {"T": "1", "Y": "4"}  # and a 4 written open at the top read as a y
ALSO_AS_LETTER = {"1": "J"}  # a J with a short hook: "145.909" for J45.909


@dataclass
class CodesRead:
    codes: list[str] = field(default_factory=list)  # in the order read, dotted
    unknown: list[str] = field(default_factory=list)  # of a code's shape, not in the set
    repaired: list[str] = field(default_factory=list)  # read only after an OCR repair
    ambiguous: list[str] = field(default_factory=list)  # tokens with several valid repairs
    # Categories with codes below them ("M54" of "M54.12"): a code a referral bills is a
    # leaf, so one of these was likely read cut short.
    short: list[str] = field(default_factory=list)


@functools.cache
def _code_set() -> frozenset[str]:
    """ICD-10-CM's categories and subcategories, dotted, from the package's code list.

    Read from the list the package ships rather than through its API: importing it builds
    a tree of every code from CMS's tabular XML (3 to 15 seconds on a loaded core, at a
    worker's first fax), while the list alone takes a fraction of a second and holds
    exactly the codes its API reports as categories and subcategories.
    """
    listing = _package_file(r"simple_icd_10_cm/data/code-list-[\w-]+\.txt", "code lists")
    text = listing.read_text(encoding="utf-8")
    bare = (line.split(" ")[0].strip() for line in text.splitlines())
    return frozenset(_dotted(code) for code in bare if CODE_SHAPE.match(code))


def _package_file(pattern: str, what: str) -> Path:
    """The one file of the code package whose path matches `pattern`."""
    found = [
        path
        for path in importlib.metadata.distribution(CODE_PACKAGE).files or []
        if re.fullmatch(pattern, str(path))
    ]
    if len(found) != 1:
        raise RuntimeError(f"{CODE_PACKAGE} ships {len(found)} {what}; expected one.")
    return Path(str(found[0].locate()))


@functools.cache
def _has_codes_below() -> frozenset[str]:
    bare = {code.replace(".", "") for code in _code_set()}
    return frozenset(_dotted(code[:n]) for code in bare for n in range(3, len(code)))


def is_known_code(code: str) -> bool:
    """Whether `code` (dotted or not) is a category or subcategory of ICD-10-CM."""
    return _dotted(code.upper()) in _code_set()


# Words of a code's title that say nothing of the condition: "Other and unspecified ...".
_TITLE_FILLER = {
    "other", "unspecified", "specified", "with", "without", "and", "due", "the", "for", "of",
    "not", "elsewhere", "classified", "site", "region", "part", "type", "stage", "encounter",
    "initial", "subsequent", "sequela", "left", "right", "bilateral", "unilateral", "disease",
    "disorder", "disorders", "conditions", "condition", "acute", "chronic", "primary",
    "secondary", "status", "history", "personal", "family", "finding", "findings", "abnormal",
}  # fmt: skip


@functools.cache
def _code_titles() -> dict[str, str]:
    """Each code's title, from the tabular list the package ships (parsed once, about a
    second): a fax often writes a code's condition beside it or as the reason."""
    import xml.etree.ElementTree as ET  # noqa: N817, S405  # the package's own file

    tabular = _package_file(r"simple_icd_10_cm/data/icd10c-tabular-[\w-]+\.xml", "tabular lists")
    titles = {}
    for _, element in ET.iterparse(str(tabular), events=("end",)):  # noqa: S314
        if element.tag == "diag":
            name, desc = element.findtext("name"), element.findtext("desc")
            if name and desc:
                titles[_dotted(name.strip())] = desc
    return titles


def code_title(code: str) -> str | None:
    """ICD-10-CM's title of `code` ("I10": "Essential (primary) hypertension"), or None."""
    return _code_titles().get(_dotted(code.upper()))


def title_agrees(code: str, text: str) -> bool:
    """Whether `text` names the condition of `code`'s title: a word of the title that says
    something of the condition (not "unspecified", "other", a side) is in it, allowing for
    endings ("depressive" for "depression"). A misread code is another condition."""
    title = code_title(code)
    if not title:
        return False
    said = set(re.findall(r"[a-z]{4,}", text.lower()))
    meant = {w for w in re.findall(r"[a-z]{4,}", title.lower()) if w not in _TITLE_FILLER}
    return any(_same_word(a, b) for a in meant for b in said)


@functools.cache
def _medical_words() -> frozenset[str]:
    """The words ICD-10-CM's titles are written in: what a reason for referral says."""
    return frozenset(
        word
        for title in _code_titles().values()
        for word in re.findall(r"[a-z]{4,}", title.lower())
    )


def is_medical_word(word: str) -> bool:
    return word.lower() in _medical_words()


@functools.lru_cache(maxsize=2)
def _by_length(known: frozenset[str]) -> dict[int, tuple[str, ...]]:
    """The dictionary's words by length: a word is compared only with those near its own
    (a tenth of the work of comparing it with all)."""
    lengths: dict[int, list[str]] = {}
    for word in known:
        lengths.setdefault(len(word), []).append(word)
    return {length: tuple(words) for length, words in lengths.items()}


def respelled(word: str, known: frozenset[str]) -> str | None:
    """The one word of `known` (a dictionary, lower case) that `word`, which is in it in no
    case, is a misreading of: the nearest by Levenshtein's distance (one letter off up to six
    letters, two beyond); where several are as near, one of the word's length, then a
    condition's word (of ICD-10-CM's titles); None where none is, or several still are.
    Cased like `word`."""
    key = word.lower()
    if len(key) < 4 or not key.isalpha() or key in known:
        return None
    if key.endswith("s") and key[:-1] in known:
        return None  # a plural ("topicals")
    allowed = 1 if len(key) <= 6 else 2
    by_length = _by_length(known)
    near = [
        found
        for length in range(len(key) - allowed, len(key) + allowed + 1)
        for found in process.extract(
            key, by_length.get(length, ()), scorer=Levenshtein.distance,
            score_cutoff=allowed, limit=None,
        )
    ]  # fmt: skip
    if not near:
        return None
    best = min(d for _, d, _ in near)
    closest = [w for w, d, _ in near if d == best]
    # A letter misread keeps the word's length ("aprea" is apnea, not area); then a
    # condition's word before any other.
    for prefer in (lambda w: len(w) == len(key), lambda w: w in _medical_words()):
        if len(closest) > 1:
            closest = [w for w in closest if prefer(w)] or closest
    if len(closest) != 1:
        return None
    meant = closest[0]
    if word.isupper():
        return meant.upper()
    return meant.capitalize() if word[:1].isupper() else meant


def _same_word(a: str, b: str) -> bool:
    """One word with another ending: "psoriasis" and "psoriatic", not "gastro" (of
    "gastro-esophageal") and "gastroenterology"."""
    common = len(os.path.commonprefix([a, b]))
    return common >= min(5, len(a), len(b)) and max(len(a), len(b)) - common <= 3


def _dotted(code: str) -> str:
    bare = code.replace(".", "")
    return f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare


def read_codes(text: str, *, about: tuple[str, ...] = ()) -> CodesRead:
    """Every ICD-10-CM code in `text`, in order, repaired against the code set; of several
    repairs, the one whose title the first of `about` (texts near the codes, nearest first:
    a description beside them, the page) that names one names."""
    read = CodesRead()
    text = _COMMA_FOR_DOT.sub(_comma_for_dot, _COLON_FOR_DOT.sub(r"\1.", text))
    text = _LIST_NUMBER.sub("", text)
    guessed: list[str] = []
    text = _LISTED_DIGITS.sub(functools.partial(_listed_code, guessed=guessed), text)
    previous_end = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        code, how = _read_code(token, about)
        # A code after a code and a comma is a code, bare digits too: "N18.4, 110." is I10
        # (and "N18.4; 110": a semicolon between them).
        listed = previous_end is not None and text[previous_end : match.start()].strip() in {
            ",",
            ";",
        }
        if code is None and listed and re.fullmatch(r"\d{3}\.?", token):
            letter = AS_LETTER.get(token[0])
            if letter and is_known_code(letter + token[1:3]):
                code, how = letter + token[1:3], "repaired"
        previous_end = match.end() if code else None
        if code is None or code in read.codes:
            continue
        if code in guessed:
            how = "repaired"
        read.codes.append(code)
        if code in _has_codes_below():
            read.short.append(code)
        if how == "unknown":
            read.unknown.append(code)
        elif how == "repaired":
            read.repaired.append(code)
        elif how == "ambiguous":
            read.ambiguous.append(code)
    return read


def _listed_code(match: re.Match, guessed: list[str]) -> str:
    """ "1.110": a list's number glued to a three-character code read as digits (I10)."""
    letter = AS_LETTER.get(match.group(1)[0])
    code = letter + match.group(1)[1:] if letter else ""
    if not code or not is_known_code(code):
        return match.group()
    guessed.append(code)
    return code


def _comma_for_dot(match: re.Match) -> str:
    category, rest = match.groups()
    # Its second character is always a digit: "RO7,9" is R07.9.
    category = category[0] + AS_DIGIT.get(category[1].upper(), category[1]) + category[2]
    if category in _has_codes_below() and is_known_code(category + rest):
        return f"{category}.{rest}"
    return match.group()


def _read_code(token: str, about: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """(code, how): how is "known", "repaired", "unknown" or "ambiguous"."""
    raw = token.strip(".").upper()
    bare = raw.replace(".", "")
    # Words ("Low", "N/A") and long numbers (member IDs) are no codes: a code has digits,
    # or at least a code's dot after three characters ("Lyo.o", handwritten L40.0).
    dotted_shape = re.fullmatch(r"[A-Z]{3}\.[A-Z0-9]{1,4}", raw)
    if not 3 <= len(bare) <= 7 or not (any(c.isdigit() for c in bare) or dotted_shape):
        return None, ""
    # Bare digits are a number (a year, a count, a ZIP code), not a code whose letter OCR
    # read as a digit: "2026" is no Z02.6. With a code's dot, "148.91" is I48.91.
    if bare.isdigit() and "." not in raw:
        return None, ""
    # A digit lost from a category ("M0.9" for M10.9): any digit may be the one, so only
    # what the text around names decides.
    lost = re.fullmatch(r"([A-Z])(\d)\.(\d\w*)", raw)
    if lost:
        letter, digit, rest = lost.groups()
        repairs = sorted(
            code
            for extra in "0123456789"
            for code in {letter + extra + digit + rest, letter + digit + extra + rest}
            if is_known_code(code)
        )
        repairs = _named(repairs, about)
        return (_dotted(repairs[0]), "repaired") if len(repairs) == 1 else (None, "")
    if raw.count(".") > 1 or ("." in raw and raw.index(".") != 3):
        return None, ""
    if CODE_SHAPE.match(bare) and is_known_code(bare):
        return _dotted(bare), "known"
    repairs = sorted({c for c in _variants(bare) if is_known_code(c)})
    if len(repairs) > 1:
        # Unnamed, a 1 is an I before it is a J ("120.9" is I20.9, not J20.9).
        unusual = ALSO_AS_LETTER.get(bare[0])
        usual = [c for c in repairs if c[0] != unusual] if unusual else repairs
        repairs = _named(repairs, about) or usual
    if not repairs and CODE_SHAPE.match(bare):
        # A code's shape the code set lacks, no look-alike of it one: a digit misread as
        # another ("N16.4" for N18.4), put right where the text around names one's condition.
        repairs = _named(
            sorted(
                code
                for position, char in enumerate(bare)
                if position and char.isdigit()
                for digit in "0123456789"
                if is_known_code(code := bare[:position] + digit + bare[position + 1 :])
            ),
            about,
        )
    if len(repairs) == 1:
        return _dotted(repairs[0]), "repaired"
    if CODE_SHAPE.match(bare):
        return _dotted(bare), "ambiguous" if repairs else "unknown"
    return None, ""


def _named(codes: list[str], about: tuple[str, ...]) -> list[str]:
    """The one code of `codes` whose title the first text of `about` that names one of them
    names; none where no text names exactly one."""
    for text in about:
        named = [c for c in codes if title_agrees(_dotted(c), text)]
        if named:
            return named if len(named) == 1 else []
    return []


def _variants(bare: str) -> list[str]:
    options = []
    for position, char in enumerate(bare):
        also = ALSO_AS_LETTER if position == 0 else ALSO_AS_DIGIT
        if position == 0:
            swaps = AS_LETTER
        elif position == 1:
            swaps = AS_DIGIT
        else:
            swaps = AS_EITHER
        options.append({char, swaps.get(char, char), also.get(char, char)})
    return [
        "".join(chars) for chars in itertools.product(*options) if CODE_SHAPE.match("".join(chars))
    ]


# ---- phones and NPIs -------------------------------------------------------------------

# A fax reads a dash as a plus now and then: "(853) 418+4468".
_PHONE = re.compile(
    rf"(?:\+?1[\s.\-]*)?\(?{_DIGITISH}{{3}}\)?[\s.\-:]*{_DIGITISH}{{3}}[\s.\-+]*{_DIGITISH}{{4}}"
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(DIGIT_LOOKALIKES))


_MISREAD_PHONE = re.compile(r"(?<!\d)\(?\d{3}[^\w\s]{0,2} ?\d{3}[^\w\s]{0,2} ?\d{4}(?!\d)")


def read_phone(text: str) -> tuple[str, bool] | None:
    """('(316) 555-0142', True) from the first phone number in `text`; an extension after it
    is dropped. Digits that cannot be a US number come back as read, marked not valid."""
    # At least seven real digits: "BOSS-DOB-ZOOS" is no number.
    match = next(
        (m for m in _PHONE.finditer(text) if sum(c.isdigit() for c in m.group()) >= 7), None
    )
    # Or a number whose separators were misread ("(760>531-4464", "288,216.0195").
    match = match or _MISREAD_PHONE.search(text)
    if not match:
        groups = re.findall(rf"{_DIGITISH}*\d{_DIGITISH}*", text)
        digits = _digits(" ".join(groups))
        # Handwriting spaced apart, nothing else between: "288.216.019 5", "69 1635.6 462".
        if len(digits) == 10 and re.fullmatch(r"[\d\s().\-/]+", text.strip()):
            return _formatted(digits)
        return (digits, False) if digits else None
    return _formatted(_digits(match.group()))


def _formatted(digits: str) -> tuple[str, bool]:
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":
        return digits, False
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", True


def read_phones(text: str) -> list[str]:
    """Every whole US phone number in `text`, in order, as '(316) 555-0142'."""
    out = []
    for match in _PHONE.finditer(text):
        read = read_phone(match.group())
        if read and read[1]:
            out.append(read[0])
    return out


_NPI = re.compile(rf"(?<![\dA-Za-z]){_DIGITISH}(?:[\s\-]?{_DIGITISH}){{9}}(?![\dA-Za-z])")


def npi_undoubled(digits: str) -> str | None:
    """An NPI read with one digit doubled ("16811820472" for 1681820472): the one ten-digit
    number, a doubled digit taken out, whose check digit holds; None if none or several."""
    if len(digits) != 11:
        return None
    meant = {digits[:i] + digits[i + 1 :] for i in range(1, 11) if digits[i] == digits[i - 1]}
    valid = [n for n in meant if is_valid_npi(n)]
    return valid[0] if len(valid) == 1 else None


def read_npi(text: str) -> tuple[str, bool] | None:
    """The first ten-digit number in `text` and whether its check digit holds."""
    for match in _NPI.finditer(_repair_digits(text)):
        digits = _digits(match.group())
        if len(digits) == 10:
            return digits, is_valid_npi(digits)
    digits = _digits(" ".join(re.findall(r"\d+", text)))
    return (digits, False) if digits else None


# ---- insurance plans ----------------------------------------------------------------------

# Letters a fax confuses one for the other, which a short word may be misread by: "Gare" is
# "Care", but "Bold" is not "Gold".
_CONFUSABLE = [set("cgeo"), set("il1|!"), set("o0dq"), set("s5"), set("b8"), set("z2"), set("uv")]
# Not part of a plan's name: a symbol OCR made of a rule or a speck, or a lower-case scrap.
_JUNK_WORD = re.compile(r"[^A-Za-z0-9\-&'/.,()]|^(?!(?:of|and|the|for|de)$)[a-z]{1,3}$")


_GLUED_MARK = re.compile(r"^[|!il1]([A-Z][a-z]{2,})$")


@dataclass(frozen=True)
class PlanRead:
    value: str
    known: bool  # every word is a plan word as read: little room for a misread
    repaired: bool  # a word was bent to the nearest plan word by more than a common misread


def read_plan(text: str) -> PlanRead:
    """An insurance plan's name with its words checked against the words plans are named
    with: a misread word is replaced by the plan word it is a misreading of ("Perrnanente",
    "SiIver", "Chioce"), words run together are parted ("HumanaGoldPlusHMO"), and junk after
    the name is cut. A word no plan word is near is kept as read (the lexicon is not every
    payer), and then the plan is not `known`."""
    out: list[str] = []
    known, repaired, seen_plan_word = True, False, False
    tokens = text.split()
    cut = False
    # A speck read as a short word at either end of a name that has plan words: "so Kaiser
    # Permanente Gold" (a box's corner), "Humana Gold Plus HMO 7".
    numeral = False
    if (
        len(tokens) > 1
        and tokens[-2].strip(",;:.").upper() in NETWORK_TYPES
        and _NUMERAL_MISREAD.fullmatch(tokens[-1].strip(",;:."))
        and tokens[-1].strip(",;:.") not in {"II", "III"}
    ):
        # "POS il": the option's numeral with its I's read as other strokes.
        tokens[-1], numeral = "I" * len(tokens[-1].strip(",;:.")), True
    if any(t.strip(",;:.").lower() in _plan_words() for t in tokens):
        while len(tokens) > 1 and _speck_word(tokens[0]):
            tokens.pop(0)
        while len(tokens) > 1 and _speck_word(tokens[-1]) and not _numbered(tokens):
            # A speck, or the name's last part misread ("POS I" for POS II): shown, flagged.
            cut = cut or bool(re.fullmatch(r"[IVXl|1]+", tokens[-1]))
            tokens.pop()
    # "Open-Access": plan words joined by a speck read as a hyphen.
    tokens = [
        part
        for token in tokens
        for part in (
            token.split("-")
            if all(p.lower() in _plan_words() for p in token.split("-"))
            else [token]
        )
    ]
    for token in tokens:
        if seen_plan_word and _JUNK_WORD.search(token):
            break
        core = token.strip(",;:")
        # A box's side or a speck read as a letter glued to the word: "iBlue", "|Cross".
        glued = _GLUED_MARK.match(core)
        if glued and glued.group(1).lower() in _plan_words():
            core = glued.group(1)
        if core.lower() in _plan_words():
            out.append(core)
            seen_plan_word = True
            continue
        known = False
        fixed = _plan_word(core) or _parted(core)
        if fixed is None:
            out.append(core)
            continue
        words, bent = fixed
        out.extend(w.upper() if core.isupper() and len(core) > 1 else w for w in words)
        repaired = repaired or bent
        seen_plan_word = True
    return PlanRead(" ".join(out), known and bool(out), repaired or cut or numeral)


NETWORK_TYPES = {"POS", "HMO", "PPO", "EPO"}
_NUMERAL_MISREAD = re.compile(r"[IiLl1|!]{2,3}")


def _numbered(tokens: list[str]) -> bool:
    """The name ends in a part's or an option's letter or number: "Medicare Part B"."""
    return tokens[-2].strip(",;:.").lower() in {"part", "plan", "option", "tier", "level"}


def _speck_word(token: str) -> bool:
    core = token.strip(",;:.")
    return len(core) <= 2 and core.lower() not in _plan_words()


@functools.cache
def _plan_words() -> dict[str, str]:
    from refloop.intake.vocabulary import PLAN_WORDS

    return {word.lower(): word for word in PLAN_WORDS}


def _plan_word(token: str) -> tuple[list[str], bool] | None:
    """([the plan word], bent) `token` misreads, or None: the same after folding common
    misreads (not bent), else one letter off (two in a long word; a short word only by a
    confusable letter), and no other plan word as near."""
    from refloop.intake.vocabulary import folded

    key = token.lower().strip(".")
    if len(key) < 3 or not any(c.isalpha() for c in key):
        return None
    words = _plan_words()
    same = {w for w in words if folded(w) == folded(key)}
    if len(same) == 1:
        return [words[same.pop()]], False
    if len(key) == 3 and token.isupper():
        # A plan type's letters, one misread: "PRO" for PPO, "HMQ" for HMO; shown, flagged.
        types = [w for w in words if len(w) == 3 and words[w].isupper()]
        near_type = [w for w in types if sum(a != b for a, b in zip(key, w, strict=True)) == 1]
        if len(near_type) == 1:
            return [words[near_type[0]]], True
    if len(key) < 4:
        return None
    # Its first letter lost at a box's edge or to a stroke: "aiser" of Kaiser.
    headless = [w for w in words if w[1:] == key]
    if len(headless) == 1:
        return [words[headless[0]]], True
    allowed = 1 if len(key) < 9 else 2
    near = {w: OSA.distance(key, w) for w in words if abs(len(w) - len(key)) <= allowed}
    near = {w: d for w, d in near.items() if d <= allowed}
    if len(key) < 6:
        near = {w: d for w, d in near.items() if _confusable_only(key, w)}
    if not near:
        return None
    best = min(near.values())
    closest = [w for w, d in near.items() if d == best]
    return ([words[closest[0]]], True) if len(closest) == 1 else None


def _parted(token: str) -> tuple[list[str], bool] | None:
    """Plan words run together: "HumanaGoldPlusHMO" -> Humana Gold Plus HMO."""
    key = token.lower()
    if len(key) < 6 or not key.isalpha():
        return None
    words = _plan_words()
    best: dict[int, list[str]] = {0: []}
    for end in range(1, len(key) + 1):
        for start in range(max(0, end - 20), end):
            piece = key[start:end]
            if start in best and piece in words and len(piece) >= 2:
                candidate = best[start] + [words[piece]]
                if end not in best or len(candidate) < len(best[end]):
                    best[end] = candidate
    parts = best.get(len(key))
    return (parts, False) if parts and len(parts) >= 2 else None


def _confusable_only(a: str, b: str) -> bool:
    """Same length, and every differing letter is one a fax confuses with the other."""
    return len(a) == len(b) and all(
        x == y or any(x in group and y in group for group in _CONFUSABLE)
        for x, y in zip(a, b, strict=True)
    )
