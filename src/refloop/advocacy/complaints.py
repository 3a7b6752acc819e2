"""Does a comment read as a complaint, and about what? A small word-and-phrase reader, not a
model: it opens a case a person then reads, so it leans towards yes on real grievances and
knows the common ways people say there was none ("no complaints", "not rude at all").
"""

import re

from refloop.advocacy.models import CaseCategory

# Phrases that are complaints with their negation built in ("never called back").
_NEGATIVE_PHRASES = [
    r"never (?:\w+ )?(?:called|call|got|get|heard|returned)(?: \w+)? back",
    r"(?:nobody|no one|no-one) (?:\w+ )?(?:called|call|returned|got back|answered|explained|will|would|helped|listened)",
    r"(?:did not|didn't|does not|doesn't|would not|wouldn't|never) (?:\w+ )?(?:listen|explain|answer|respond|return|help|care)",
    r"(?:could not|couldn't|can't|cannot|can not|unable to) (?:\w+ )?(?:get|reach|book|schedule)",
    r"not (?:\w+ )?(?:helpful|happy|satisfied|pleased|acceptable|professional)",
    r"without (?:any )?(?:notice|warning|explanation|calling)",
    r"(?:not|never) (?:be )?(?:coming|come|going) back",
    r"(?:charged|billed) twice",
    r"bill (?:was|is) wrong",
    r"long wait",
]

# Words and phrases of complaint, which a nearby "not", "no", "never", "barely" cancels.
_CUES = [
    r"rude\w*",
    r"waited",
    r"billing (?:error|mistake|problem|issue)s?",
    r"overcharg\w*",
    r"dismissive",
    r"disappoint\w*",
    r"unprofessional",
    r"terribl[ey]",
    r"horribl[ey]",
    r"awful",
    r"worst",
    r"cancel+ed",
    r"dirty",
    r"filthy",
    r"unhappy",
    r"upset",
    r"frustrat\w*",
    r"complain\w*",
    r"problems?",
    r"issues?",
    r"ignored",
    r"lost my",
    r"mistakes?",
    r"poor\w*",
    r"bad",
]

_NEGATORS = {
    "not",
    "no",
    "never",
    "barely",
    "hardly",
    "nothing",
    "without",
    "zero",
    "isn't",
    "wasn't",
    "weren't",
    "didn't",
    "don't",
    "aren't",
    "nor",
}
# How many words before a cue a negator still reaches ("never had a billing problem").
_REACH = 3

_CLAUSES = re.compile(r"[.,;:!?()]+|\bbut\b|\bhowever\b|\bthough\b")
_NEGATIVE = re.compile(r"\b(?:" + "|".join(_NEGATIVE_PHRASES) + r")\b")
_CUE = re.compile(r"\b(?:" + "|".join(_CUES) + r")\b")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").lower().replace("’", "'").replace("‘", "'"))


def _negated(clause: str, start: int) -> bool:
    before = clause[:start].split()[-_REACH:]
    return any(word in _NEGATORS for word in before)


def reads_as_complaint(text: str) -> bool:
    """Whether `text` (a survey comment, a message) says something went wrong."""
    for clause in _CLAUSES.split(_normal(text)):
        if _NEGATIVE.search(clause):
            return True
        for cue in _CUE.finditer(clause):
            if not _negated(clause, cue.start()):
                return True
    return False


# The first category whose words the text uses, in this order: a dirty waiting room is about
# the facility, not the wait; a late call back is communication.
_CATEGORY_WORDS: list[tuple[str, str]] = [
    (CaseCategory.BILLING, r"bill\w*|charged?|overcharg\w*|invoice|statement|copay|insurance"),
    (CaseCategory.FACILITY, r"waiting room|dirty|filthy|clean\w*|parking|bathroom|restroom"),
    (CaseCategory.WAIT, r"wait\w*|delay\w*|late|hours?|minutes"),
    (CaseCategory.ACCESS, r"appointments?|schedul\w*|book\w*|get in|cancel+ed|reschedul\w*"),
    (
        CaseCategory.COMMUNICATION,
        r"call\w* (?:me )?back|called|returned|explain\w*|told|informed|phone|messages?",
    ),
    (
        CaseCategory.CLINICAL,
        r"misdiagnos\w*|diagnos\w*|treatment|doctor|dr|nurse|surgery|pain|medication|therap\w*",
    ),
    (CaseCategory.STAFF, r"rude\w*|receptionist|front desk|staff|unprofessional|attitude"),
]


def guess_category(text: str) -> str:
    """The case category `text` most likely belongs to; "other" when nothing says."""
    normal = _normal(text)
    for category, words in _CATEGORY_WORDS:
        if re.search(r"\b(?:" + words + r")\b", normal):
            return str(category)
    return str(CaseCategory.OTHER)
