"""Where one packet holds several patients: cut it where the patient changes.

Each page's patient is its best-read name and birth date. A page that names nobody belongs
to the patient before it, except a fax cover sheet, which belongs to the pages after it.
"""

from difflib import SequenceMatcher

from refloop.intake.extraction import PageReading


def _identity(reading: PageReading) -> tuple[str, str] | None:
    last = reading.best("patient_last_name")
    first = reading.best("patient_first_name")
    dob = reading.best("patient_date_of_birth")
    if last is None and dob is None:
        return None
    name = " ".join(f.value.lower() for f in (first, last) if f is not None)
    return name, dob.value if dob else ""


def same_patient(a: tuple[str, str], b: tuple[str, str]) -> bool:
    name_a, dob_a = a
    name_b, dob_b = b
    similarity = SequenceMatcher(None, name_a, name_b).ratio() if name_a and name_b else None
    if dob_a and dob_b and dob_a == dob_b:
        return similarity is None or similarity >= 0.5
    if dob_a and dob_b:
        # Different birth dates: the same patient only if the name agrees closely (one
        # date misread).
        return similarity is not None and similarity >= 0.9
    return similarity is None or similarity >= 0.8


def split(readings: list[PageReading]) -> list[list[PageReading]]:
    """The pages grouped by patient, in order; every page belongs to exactly one group."""
    groups: list[list[PageReading]] = []
    current: tuple[str, str] | None = None
    waiting: list[PageReading] = []  # cover sheets, waiting for the patient they announce
    for reading in readings:
        identity = _identity(reading)
        if identity is None:
            if reading.is_cover and any(not r.is_cover for r in waiting):
                # Pages no one could be read on, then a new cover: they were a packet of their own.
                groups.append(waiting)
                waiting, current = [], None
            if reading.is_cover or not groups:
                waiting.append(reading)
            else:
                groups[-1].append(reading)
            continue
        if groups and not waiting and current is not None and same_patient(current, identity):
            groups[-1].append(reading)
            # Prefer the fuller identity for the next comparison.
            current = (current[0] or identity[0], current[1] or identity[1])
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
