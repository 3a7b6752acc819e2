"""The words forms use for their labels and section headings, kept as data.

Each label wording maps to a slot the field reader knows: a field ("dob", "reason"), a
generic one the section resolves ("name", "phone": the patient's or the provider's), a party
("to", "from") or "other", a label nobody reads here whose only job is to end the value
before it (member IDs, group numbers, MRNs, dates other than the birth date). Add wordings
here, not rules in the reader. Matching ignores case, spaces and punctuation between words.
"""

import functools
import re

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

LABELS: dict[str, tuple[str, ...]] = {
    "patient_name": (
        "patient name", "patient's name", "name of patient", "pt name", "patient full name",
        "patient", "pt", "member name", "client name", "re", "patient / member name",
    ),
    "last_first": (
        "name (last, first)", "name last, first", "name (last, first, mi)", "last / first",
        "last, first", "last/first/mi", "last, first, mi", "lname, fname", "lname/fname",
        "patient (last, first)", "patient name (last, first)", "last name, first name",
        "member name (last, first)",
    ),
    "last_name": ("last name", "patient last name", "lname", "surname", "family name"),
    "first_name": ("first name", "patient first name", "fname", "given name"),
    "dob": (
        "date of birth", "birth date", "birthdate", "dob", "d.o.b.", "pt dob", "patient dob",
        # As a fax reads its O: "DGB", "DQB", "DCB" (a 0 is folded to o already).
        "dgb", "dqb", "dcb",
        "patient date of birth",
    ),
    "patient_phone": (
        "patient phone", "patient phone #", "patient phone number", "patient tel", "pt phone",
        "home phone", "home #", "home", "cell phone", "cell", "cell #", "mobile", "mobile phone",
        "primary phone", "contact phone", "best contact number", "patient contact",
        "member phone", "patient telephone",
    ),
    "provider_phone": (
        "office phone", "clinic phone", "provider phone", "practice phone", "physician phone",
        "office tel", "office telephone", "office #", "referring phone", "callback number",
        "attending phone", "requesting provider phone", "ordering provider phone",
    ),
    "provider_fax": (
        "office fax", "clinic fax", "provider fax", "practice fax", "physician fax",
        "return fax", "referring fax", "fax back to", "attending fax",
        "requesting provider fax", "ordering provider fax",
    ),
    "phone": (
        "phone", "phone #", "phone number", "phone no", "ph", "ph #", "tel", "telephone",
        "telephone number", "tel #", "contact number", "contact #", "contact no",
        "contact tel", "office",
    ),
    "fax": ("fax", "fax #", "fax number", "fax no"),
    "npi": (
        "npi", "npi #", "npi number", "npi no", "provider npi", "referring npi", "ordering npi",
        "attending npi", "requesting npi", "physician npi",
    ),
    "provider_name": (
        "referring provider", "referring provider name", "referring physician",
        "referring physician name", "referring doctor", "referring clinician", "referring md",
        "referring practitioner", "ordering provider", "ordering physician", "ordering clinician",
        "requesting provider", "requesting physician", "referred by", "primary care physician",
        "attending physician", "attending provider", "attending", "discharging physician",
        "pcp", "doctor's name and signature", "physician name", "provider name", "provider",
        "physician", "electronically signed by", "signed by", "signature of provider",
    ),
    "reason": (
        "reason for referral", "reason for consult", "reason for consultation",
        "reason for visit", "reason for request", "referral reason", "reference reason",
        "reason", "clinical reason", "clinical indication", "indication", "indications",
        "services requested", "service requested", "consult requested for", "clinical reason for request",
        "reason for referral / clinical question", "clinical question", "diagnosis / reason",
        "reason / diagnosis", "diagnosis / reason for referral", "reason for referral / diagnosis",
    ),
    "chief_complaint": ("chief complaint", "cc", "presenting complaint"),
    "codes": (
        "diagnosis", "diagnoses", "diagnosis code", "diagnosis codes", "diagnosis/icd-10",
        "diagnosis / icd-10", "icd-10", "icd10", "icd 10", "icd-10 code", "icd-10 codes",
        "icd-10-cm", "icd", "dx", "dx code", "dx codes", "primary diagnosis", "diagnosis (icd-10)",
        "discharge diagnosis", "discharge diagnoses", "diagnosis code(s)", "diagnosis codes icd-10",
        "diagnosis code(s) icd-10",
    ),
    "urgency": (
        "urgency", "priority", "referral priority", "referral urgency", "urgency level",
        "appointment priority", "priority level", "scheduling priority",
        # A payer's prior-authorization form: "Request Type [x] Standard [ ] Expedited".
        "request type", "type of request", "review type", "request priority",
    ),
    "insurance": (
        "insurance", "primary insurance", "insurance plan", "insurance carrier",
        "insurance company", "insurance name", "ins. plan", "ins plan", "ins", "payer", "payor",
        "primary payer", "carrier", "health plan", "plan name", "member", "coverage",
    ),
    "name": ("name", "full name"),
    "from": ("from",),
    "to": (
        "to", "attn", "attention", "referred to", "refer to", "referral to", "referring to",
        "consultant", "specialist", "receiving provider", "recipient", "specialty clinic",
        "follow up with", "follow-up with", "servicing provider", "rendering provider",
        "servicing provider / facility", "servicing facility",
        # An attached report's author: another clinician, never the one referring.
        "interpreted by", "read by", "dictated by", "reading radiologist", "radiologist",
        "reading physician", "pathologist", "transcribed by",
    ),
    "city": ("city",),
    "other": (
        "member id", "member #", "member number", "member no", "subscriber id", "subscriber",
        "subscriber no", "subscriber number", "subscriber #", "policy", "policy id",
        "policy number", "policy #", "policy no", "group", "group #", "group number", "group no",
        "id", "id #", "mrn", "medical record number", "medical record #", "mr #", "account",
        "account #", "acct #", "sex", "gender", "address", "street", "state", "zip",
        "visit date", "date", "referral date", "date of referral", "fax date", "date sent",
        "service date", "date of service", "appointment date", "order date", "pages", "page",
        "signature", "notes", "comments", "clinical notes", "assessment", "plan", "email",
        "e-mail", "dept", "department", "specialty", "practice", "facility", "auth",
        "authorization", "authorization #", "risk", "risk level", "language", "ssn", "age",
        "height", "weight", "allergies", "medications", "order #", "referral #",
        "referral number", "subject", "encounter", "cover", "total pages", "number of pages",
    ),
}  # fmt: skip

# Wordings that say less than the field's name: a nurse signs, "Provider" may be anyone's.
WEAK_LABELS = {
    "electronically signed by", "signed by", "provider", "physician", "member", "pcp",
    "primary care physician",
    # The service asked for ("Cardiology consultation"), not why: a reason only if no other.
    "services requested", "service requested", "consult requested for",
}  # fmt: skip

SECTIONS: dict[str, tuple[str, ...]] = {
    "patient": (
        "patient", "patient information", "patient info", "patient demographics",
        "patient details", "demographics", "member information", "patient data",
    ),
    "provider": (
        "referring provider", "referring physician", "referring provider information",
        "referring physician information", "referring office", "referring practice",
        "ordering provider", "requesting provider", "referred by", "provider information",
        "physician information", "from", "sender",
    ),
    "recipient": (
        "referred to", "refer to", "referral to", "referring to", "consultant", "specialist",
        "receiving provider", "receiving practice", "to", "recipient", "referred to provider",
        "servicing provider", "servicing provider / facility", "rendering provider", "follow-up",
        "follow up",
    ),
    "insurance": (
        "insurance", "insurance information", "coverage", "payer information",
        "insurance carrier", "primary insurance", "utilization management",
        "utilization review", "prior authorization department",
    ),
    "note": (
        "progress note", "office note", "clinic note", "visit note", "office visit",
        "consult note", "consultation note", "history and physical", "radiology report",
        "imaging report", "lab report", "laboratory results", "discharge summary",
        "operative report", "pathology report",
    ),
    "cover": ("fax cover sheet", "fax cover", "cover sheet", "facsimile", "fax transmittal"),
}  # fmt: skip
NOTE_ENDINGS = ("note", "report", "summary", "results", "findings", "impression")


def normalized(text: str) -> str:
    return re.sub(r"[^a-z0-9#]", "", text.lower())


SLOT_OF = {normalized(w): slot for slot, wordings in LABELS.items() for w in wordings}
SECTION_OF = {normalized(w): kind for kind, wordings in SECTIONS.items() for w in wordings}
WEAK = {normalized(w) for w in WEAK_LABELS}


def _pattern(wording: str) -> str:
    """A wording as a regex: OCR drops spaces and reads specks as periods between words."""
    parts = []
    for ch in wording:
        if ch == " ":
            # "Reason for-referral", "Attending)physician": a space read as a hyphen or a
            # bracket.
            parts.append(r"(?:[\s.,]*|-|\s*[()]\s*)")
        elif ch == ",":
            parts.append("[,;.]?")  # a comma read as a semicolon or a period: "Lname; Fname"
        elif ch == ".":
            parts.append(r"[.;,]?")  # "Ins; Plan": a period read as a semicolon or a comma
        elif ch in "()":
            parts.append(r"[({\[]?" if ch == "(" else r"[)}\]]?")  # "Code(s}": a brace read
        elif ch == "'":
            parts.append("['’]?")
        elif ch == "/":
            parts.append(r"\s*(?:/\s*){0,2}")  # "Last/ / First": a slash read twice
        elif ch in "#-":
            parts.append(r"\s*" + re.escape(ch) + r"?\s*")
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


_ALL = sorted({w for wordings in LABELS.values() for w in wordings}, key=lambda w: (-len(w), w))
LABEL_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    + "|".join(_pattern(w) for w in _ALL)
    # A qualifier in brackets ("Phone (home)") has a letter; "Phone (839) 555-…" is a number.
    + r")(?:\s*\((?=[^)]*[A-Za-z])[^)]{1,24}\))?(?![A-Za-z0-9])",
    re.IGNORECASE,
)


# What OCR makes of letters on a fax, folded away on both sides before wordings are compared:
# "Narne" is "Name", "Reason tor Referral" one letter off "Reason for Referral".
OCR_FOLDS = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("i", "l"), ("5", "s"))


def folded(key: str) -> str:
    for seen, meant in OCR_FOLDS:
        key = key.replace(seen, meant)
    return key


SHORT_LABEL = 5  # letters: "Phone", "Cell", "NPI", "Fax"


def edits_allowed(key: str) -> int:
    """Letters OCR may get wrong in a wording of this length and it still reads as the label:
    none below eight, where one letter off is another word ("Carrie", "Police", "Season")."""
    return 0 if len(key) < 8 else 1 if len(key) < 13 else 2


class _Tolerant:
    """Wordings found again with a few letters misread: the folded wordings within the allowed
    number of edits of the folded key, by Levenshtein's distance."""

    def __init__(self, wordings: dict[str, str]) -> None:
        self.kinds = {folded(k): kind for k, kind in wordings.items()}
        self.wordings = list(self.kinds)
        self.longest = max(len(k) for k in self.kinds)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - two instances, for the process' life
    def nearest(self, key: str) -> str | None:
        """The slot or section of the wording `key` is a misreading of; None where there is
        none, or where the nearest wordings disagree."""
        key = folded(key)
        if key in self.kinds:
            return self.kinds[key]
        if len(key) > self.longest + 2:
            return None
        allowed = edits_allowed(key)
        found = process.extract(
            key, self.wordings, scorer=Levenshtein.distance, score_cutoff=allowed + 1, limit=None
        )
        near = {o: d for o, d, _ in found if d <= min(edits_allowed(o), allowed + 1)}
        if not near:
            return None
        best = min(near.values())
        kinds = {self.kinds[o] for o, d in near.items() if d == best}
        return kinds.pop() if len(kinds) == 1 else None


# A weak wording is not worth guessing at: "Providers" over a table is no label.
_TOLERANT_LABELS = _Tolerant({k: slot for k, slot in SLOT_OF.items() if k not in WEAK})
_TOLERANT_SECTIONS = _Tolerant(SECTION_OF)


# An i or an l that OCR read as punctuation ("NP!", "Emai|", "[CD-10", "NP}"), which
# normalized() drops.
LETTERS_READ_AS_PUNCTUATION = (
    str.maketrans({"!": "i", "|": "l", "[": "i", "]": "i", "}": "i"}),
    str.maketrans({"!": "l", "|": "i", "[": "l", "]": "l", "}": "l"}),  # "Te!" is "Tel"
)


def misread_slot(text: str) -> str | None:
    """The slot of the label wording `text` is with a few letters misread, if it is one."""
    key = normalized(text)
    if re.fullmatch(r"[Il|][A-Z]{2,}", text) and key[1:] in SLOT_OF and key not in SLOT_OF:
        return SLOT_OF[key[1:]]  # "INPI": a speck read as an I before a label in capitals
    for letters in LETTERS_READ_AS_PUNCTUATION:
        lettered = normalized(text.translate(letters))
        if lettered != key and lettered in SLOT_OF:
            return SLOT_OF[lettered]
    return None if key in SLOT_OF else _TOLERANT_LABELS.nearest(key)


def clipped_slot(text: str, slots: set[str]) -> str | None:
    """The slot among `slots` of a short label read one letter off, its first letter right
    ("NPE" for NPI, "Fa" for Fax, "Cel" for Cell), where no other short wording is as near;
    None otherwise. Three letters are too few to tell a misreading from another word, so
    the caller takes it only for a wording alone in its cell, and only a value that fits the
    slot (ten digits with the NPI's check digit, a phone number) confirms it."""
    key = folded(normalized(text))
    if not 2 <= len(key) <= SHORT_LABEL:
        return None
    near = {
        slot
        for wording, slot in SLOT_OF.items()
        if slot in slots
        and len(wording) <= SHORT_LABEL
        and wording[0] == key[0]
        and Levenshtein.distance(key, folded(wording)) == 1
    }
    return near.pop() if len(near) == 1 else None


def folded_slot(text: str) -> str | None:
    """The slot of the label wording `text` is once OCR's look-alikes are folded away, with
    no letter otherwise wrong ("Member 1D"); None for any other text."""
    return _TOLERANT_LABELS.kinds.get(folded(normalized(text)))


# Column headings of a table of numbers, which a shaded header row gets misread in.
COLUMN_HEADINGS = {
    "phone": "phone", "tel": "phone", "fax": "fax", "npi": "npi", "icd10": "codes",
    "icd10cm": "codes", "icd10code": "codes", "dxcode": "codes",
}  # fmt: skip


def header_slot(word: str) -> str | None:
    """The column a table's heading word names ("Phone", "Fax", "NPI"), read with a letter
    wrong ("Prone", "Fex", "NPL") where no other heading is as near; None for other words.
    Only for a heading over a column of numbers, which the caller has seen."""
    key = folded(normalized(word).rstrip("#"))
    if len(key) < 3:
        return None
    # A short word off by its first letter is another word ("Tax" is no "Fax"), but a
    # heading may lose its first letter: "(CD-10", its I read as a bracket, then dropped.
    near = {
        slot for heading, slot in COLUMN_HEADINGS.items() if _heading_misread(key, folded(heading))
    }
    if not near and re.fullmatch(r"[^\W\d_]{2,3}-10", word.strip("\"'‘“(")):
        return "codes"  # "Tep-10": ICD-10 with its letters lost in a shaded cell
    return near.pop() if len(near) == 1 else None


def _heading_misread(key: str, meant: str) -> bool:
    if Levenshtein.distance(key, meant) > 1:
        return False
    return len(key) >= 5 or key[0] == meant[0] or (len(key) >= 4 and key == meant[1:])


def slot_of(label_text: str) -> str:
    key = normalized(label_text)
    if key not in SLOT_OF:
        # "Date of Birth (MM/DD/YYYY)", "Phone (home)": the wording before the brackets.
        key = normalized(re.sub(r"\s*\([^)]*\)\s*$", "", label_text))
    return SLOT_OF.get(key, "other")


# Words of a practice's name: "Meadowlands Family Physicians" heads a letterhead, not the
# referring provider's section of the form below it.
PRACTICE_NAME = (
    r"\b(?:FAMILY|ASSOCIATES|GROUP|PARTNERS|CLINIC|CENTER|CENTRE|HEALTH|MEDICAL|CARE|"
    r"PLLC|LLC|INC|PC|PA|LLP)\b"
)


def section_of(heading: str) -> str | None:
    """The party a heading's section belongs to, or None for a heading of no party."""
    key = normalized(heading)
    if key in SECTION_OF:
        return SECTION_OF[key]
    misread = _TOLERANT_SECTIONS.nearest(key)
    if misread is not None:
        return misread
    words = heading.lower().rstrip(":").split()
    if words and words[-1].strip(".,") in NOTE_ENDINGS:
        return "note"
    upper = heading.upper()
    if re.search(r"\b(?:REFERRAL|FORM|REQUEST|ORDER)S?\b", upper) and not re.search(
        r"INFORMATION|DEMOGRAPHICS|DETAILS|REFERR?ED|REFERRING|TO\b", upper
    ):
        return None  # the document's title ("PATIENT REFERRAL FORM"), no party's section
    if re.search(
        r"REFERR?ED\s+TO|REFER\s+TO|CONSULTANT|SERVICING|RENDERING|FOLLOW|RECEIVING|RECIPIENT",
        upper,
    ):
        return "recipient"
    if re.search(r"PA[TI1L]{1,2}E?NT", upper):
        return "patient"
    if re.search(r"REFERRING|REFERRED\s+BY|ORDERING|REQUESTING", upper) or (
        re.search(r"PROVIDER|PHYSICIAN", upper) and not re.search(PRACTICE_NAME, upper)
    ):
        return "provider"
    if re.search(r"INSURANCE|COVERAGE|PAYER", upper):
        return "insurance"
    if re.search(r"COVER\s*SHEET|FAX\s+COVER", upper):
        return "cover"
    return None


URGENCY_WORDS = {
    "stat": "stat", "emergent": "stat", "emergency": "stat", "immediate": "stat",
    "asap": "urgent", "urgent": "urgent", "expedite": "urgent", "expedited": "urgent",
    "high": "urgent", "routine": "routine", "standard": "routine", "normal": "routine",
    "elective": "routine", "non-urgent": "routine", "nonurgent": "routine", "low": "routine",
}  # fmt: skip
# How a checkbox comes out of OCR when it is drawn as text: "[X] Urgent", "☐ Routine".
MARKED_TOKENS = {
    "[x]",
    "x",
    "[v]",
    "[/]",
    "☒",
    "☑",
    "✓",
    "✔",
    "✗",
    "✘",
    "■",
    "(x)",
    "|x|",
    "⊠",
    "[*]",
    "*",
    # A filled box or a filled circle read as a glyph: "@Routine", "© Urgent".
    "@",
    "©",
    "®",
    "●",
    "•",
}
EMPTY_TOKENS = {"[]", "[", "]", "☐", "□", "()", "o", "0", "|_|"}


# Lab names a reason cites, as OCR reads their digit for a letter: "Aic 10.2" is A1c.
LAB_LOOKALIKES = {"aic": "A1c", "alc": "A1c", "hbaic": "HbA1c", "hbalc": "HbA1c"}


# A checkbox drawn as text that OCR glued to its option's word ("[x]Urgent", "@Routine"):
# the longest first; a lone letter ("x", "o") only apart from the word, never glued to it.
_GLUED_BOXES = sorted(
    (t for t in MARKED_TOKENS | EMPTY_TOKENS if len(t) > 1 or not t.isalnum()),
    key=len,
    reverse=True,
)


def glued_box(text: str) -> str | None:
    """The checkbox glued to the start of a word (lower case), if one is."""
    return next((t for t in _GLUED_BOXES if text.startswith(t) and len(text) > len(t)), None)


def urgency_level(text: str) -> str | None:
    """The urgency an option word names, its checkbox read into it or not."""
    bare = text.lower().strip(".,!:;()")
    bare = bare[len(glued_box(bare) or "") :]
    level = URGENCY_WORDS.get(bare.strip(".,!:;()[]"))
    # A checkbox read as a letter or two glued to its option ("ClUrgent", "ORoutine",
    # "CISTAT", whose box's side is a capital too): the option starts at a capital, and is
    # a word of four letters or more.
    for glue in (1, 2):
        glued = re.fullmatch(rf"\W*\w{{{glue}}}([A-Z][A-Za-z\-]{{3,}})\W*", text)
        if level is None and glued:
            level = URGENCY_WORDS.get(glued.group(1).lower())
    return level


# Payers' own names, which a plan's name starts with ("Highmark BCBS Community Blue").
PAYERS = frozenset(
    """
aetna anthem amerigroup amerihealth ambetter bcbs bluecross blue cigna humana kaiser medicare
medicaid tricare unitedhealthcare united molina centene wellcare wellpoint highmark oscar
optum oxford carefirst premera regence geisinger emblemhealth fidelis caresource coventry
magellan healthpartners horizon excellus moda pacificsource selecthealth devoted clover
sentara
""".split()
)
# The words US health plans are named with, as their payers write them: the payers, the
# metal levels and network types, Medicare's parts. A plan name read from a fax is
# repaired against them (values.read_plan) as ICD-10 codes are against the code set.
PLAN_WORDS = """
Aetna Anthem Amerigroup AmeriHealth Ambetter Blue Cross Shield BlueCross BlueShield BCBS
Cigna Humana Kaiser Permanente Medicare Medicaid Tricare UnitedHealthcare United Healthcare
Health HealthCare Molina Centene Wellcare Wellpoint Highmark Oscar Optum Oxford CareFirst
Premera Regence Geisinger EmblemHealth Emblem Fidelis CareSource Coventry Magellan Medica
HealthPartners Priority Independence Horizon Excellus Capital District Physicians
Presbyterian Providence Moda PacificSource SelectHealth Harvard Pilgrim Tufts Allina
Devoted Alignment Clover SCAN Sentara Optima Avera Sanford Bright Friday Curative
Gold Silver Bronze Platinum Catastrophic Plus Choice Select Prime Premier Preferred
Advantage Supplement Medigap Part HMO PPO EPO POS HDHP HSA PFFS SNP D-SNP Open Access
Community Care Plan Plans Value Script Balanced Essential Essentials Marketplace Managed
Network Classic Standard Basic Complete Secure Saver Core Connect Group Individual Family
Federal State Employee Employees Program Mutual Life Insurance Company Dual Special Needs
Liberty Freedom Signature Options National Direct Medi-Cal MassHealth CHIP Kids
Reserve Retired Military Veterans VA Commercial Employer Exchange Qualified Covered II III IV
California Texas Florida Georgia Ohio Michigan Illinois Pennsylvania Carolina Virginia
""".split()
