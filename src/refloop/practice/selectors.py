"""Reads about this practice shared by pages and the API: which department a referral belongs to."""

import re

from refloop.practice.models import Department

# Words that say nothing about which service line fits ("hand surgery" vs "spine surgery").
_GENERIC_WORDS = {
    "and",
    "the",
    "for",
    "with",
    "surgery",
    "medicine",
    "care",
    "clinic",
    "adult",
    "interventional",
    "reconstruction",
    "pain",
    "arthroplasty",
}

# Everyday words a referrer uses for a body region, mapped to the word departments use.
_SYNONYMS = {
    "back": "spine",
    "lumbar": "spine",
    "lumbago": "spine",
    "neck": "spine",
    "cervical": "spine",
    "thoracic": "spine",
    "sciatica": "spine",
    "disc": "spine",
    "radiculopathy": "spine",
    "scoliosis": "spine",
    "wrist": "hand",
    "finger": "hand",
    "fingers": "hand",
    "thumb": "hand",
    "carpal": "hand",
    "hips": "hip",
    "knees": "knee",
    "ankles": "ankle",
    "feet": "foot",
    "shoulders": "shoulder",
    "elbows": "elbow",
    "sport": "sports",
}


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 3]


def _department_words(department: Department) -> set[str]:
    texts = [department.name, *department.accepted_specialties]
    return {w for text in texts for w in _words(text)} - _GENERIC_WORDS


def _compact(code: str) -> str:
    return code.replace(".", "").strip().upper()


def suggest_department(*, reason: str, icd10_codes: list[str]) -> tuple[Department | None, str]:
    """The department a referral most likely belongs to, and why (a sentence for the user).

    An ICD-10 code matching a department's accepted condition prefixes wins (the
    longest prefix, so 'M25.56' beats 'M25'); then the longest of a department's
    accepted keywords found in the reason; otherwise words of the reason that name a
    department or one of its specialties.
    """
    departments = list(Department.objects.order_by("name", "pk"))
    best: tuple[int, Department, str, str] | None = None
    for code in icd10_codes:
        compact = _compact(code)
        for department in departments:
            for prefix in department.accepted_conditions:
                length = len(_compact(prefix))
                if length and compact.startswith(_compact(prefix)):
                    if best is None or length > best[0]:
                        best = (length, department, code, prefix)
    if best is not None:
        _, department, code, prefix = best
        return department, f"{code} matches {department.name} ({prefix})"

    text = (reason or "").lower()
    phrases = [
        (len(keyword), -order, department, keyword)
        for order, department in enumerate(departments)
        for keyword in department.accepted_keywords
        if keyword.strip() and re.search(rf"\b{re.escape(keyword.lower())}\b", text)
    ]
    if phrases:
        _, _, department, keyword = max(phrases, key=lambda row: (row[0], row[1]))
        return department, f"“{keyword}” in the reason is a keyword of {department.name}"

    reason_words = _words(reason or "")
    scored: list[tuple[int, int, Department, str, str]] = []
    for order, department in enumerate(departments):
        vocabulary = _department_words(department)
        hits = []
        for word in reason_words:
            canonical = _SYNONYMS.get(word, word)
            if canonical in vocabulary and canonical not in _GENERIC_WORDS:
                hits.append((word, canonical))
        distinct = {canonical for _, canonical in hits}
        if distinct:
            scored.append((len(distinct), -order, department, *hits[0]))
    if not scored:
        return None, ""
    scored.sort(key=lambda row: (row[0], row[1]), reverse=True)
    _, _, department, word, canonical = scored[0]
    if word == canonical:
        return department, f"“{word}” in the reason matches {department.name}"
    return department, f"“{word}” in the reason suggests {department.name} ({canonical})"
