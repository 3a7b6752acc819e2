"""Labels found on a page and the words of their values, paired by where they sit.

A value follows its label in the same segment ("DOB: 07/14/1996"), or sits right of it on
the line, in the same ruled cell under it, in the cell beside it (a shaded label cell), or
on the next line under it (a label above its box, a column header over its row). Values of
free text and code lists run on over the following lines until the next label. A label
without a colon counts where nothing else reads the same: at the start of its segment and
followed by what its field looks like, or standing alone.
"""

import re
from dataclasses import dataclass, field

from refloop.intake import values, vocabulary
from refloop.intake.layout import Layout, Line, Segment, heading_shaped
from refloop.intake.reading import Word

# Slots whose values are numbers: "DOB 07/14/1996", "MRN 3165550199" need no colon.
NUMERIC_SLOTS = {
    "dob", "npi", "patient_phone", "provider_phone", "provider_fax", "phone", "fax", "codes",
    "other",
}  # fmt: skip
NAME_SLOTS = {"name", "patient_name", "provider_name", "last_first", "last_name", "first_name"}
# Slots whose value may wrap onto the lines below.
RUN_ON_SLOTS = {"reason", "chief_complaint", "codes", "insurance"}
# A ruled box taller than this many lines of text is a frame, not one field's box.
MAX_FIELD_LINES = 6
# A line starting with a word read below this confidence is no plan name going on.
UNREAD_BELOW = 0.40
# A value ending this close to the text's right margin (a fraction of the page) wraps.
WRAP_WITHIN = 0.15
RULE_GLYPH = re.compile(r"[iIl|!]")
# The most words a label's wording has ("Reason for Referral / Clinical Question").
MAX_LABEL_WORDS = 6
# A capital I may be read small or as an l: "Dubois, ingrid".
NAME_TOKEN = re.compile(r"(?:[A-Z]|[il](?=[a-z]{3}))[A-Za-z'\-]*[.,]?")
NAME_SEPARATORS = {"/", ",", "|"}
UNKNOWN_LABEL = re.compile(r"^[A-Za-z][A-Za-z /#&'()\-]{0,30}:")
CODE_DIGITS = re.compile(r"\d{2,3}(?:[.,]\d{1,4})?")
ENUMERATOR = re.compile(r"^\(?#?\d{1,2}[.),]?$")  # "2.", "(3)", "1," (its period a speck)
# "£66.01": E66.01; "RO43L": R94.31 with its point lost, a code's shape all the same.
CODE_START = re.compile(r"^[A-Z0-9$§£][0-9OIl][0-9A-Z]{1,2}(?:[.:,]|$|[0-9A-Z]{1,3}$)")


@dataclass
class Item:
    """A label on the page and its value's words (empty where none was found)."""

    slot: str
    label: list[Word]
    segment: Segment
    words: list[Word]
    weak: bool = False
    # The segments read as (part of) the value, beyond the label's own segment.
    value_segments: tuple[Segment, ...] = ()
    # Words later on the label's row that no label claims: a table row's other columns.
    row: list[Word] = field(default_factory=list)


def items_in(segment: Segment) -> list[Item]:
    """The labels in one segment, each with the words up to the next label."""
    words = segment.words
    found = _exact_labels(segment)
    for label in _misread_labels(segment):
        first, after = label[0], label[1]
        overlapping = [f for f in found if f[0] < after and first < f[1]]
        # A misread wording counts where no wording read right covers more of its words.
        if all(f[0] == first and f[1] < after for f in overlapping):
            found = sorted([f for f in found if f not in overlapping] + [label])
    items = []
    for index, (first, after, slot, weak) in enumerate(found):
        stop = found[index + 1][0] if index + 1 < len(found) else len(words)
        items.append(Item(slot, words[first:after], segment, words[after:stop], weak))
    return items


def _exact_labels(segment: Segment) -> list[tuple[int, int, str, bool]]:
    """(first word, word after the label, slot, weak) of the wordings read letter for letter."""
    words = segment.words
    text = segment.text
    starts, position = [], 0
    for word in words:
        starts.append(position)
        position += len(word.text) + 1
    found: list[tuple[int, int, str, bool]] = []
    for match in vocabulary.LABEL_RE.finditer(text):
        if match.start() not in starts:
            continue
        first = starts.index(match.start())
        end_char = match.end()
        slot = vocabulary.slot_of(match.group())
        # "Diagnosis Code(s) ICD-10": two wordings of one label side by side are one label.
        while True:
            gap = re.match(r"\s+", text[end_char:])
            following = gap and vocabulary.LABEL_RE.match(text, end_char + gap.end())
            if not following or vocabulary.slot_of(following.group()) != slot:
                break
            end_char = following.end()
        # "ICD-10 Code(s)" read "ICD-10 Codes):": a bracket left over before the colon.
        colon = re.match(r"\s*[)}\]]?[:#]", text[end_char:])
        if not colon and match.start() == 0:
            # OCR reads a label's colon as a semicolon ("Reason for referral; ...").
            colon = re.match(r";", text[end_char:])
        if colon:
            end_char += colon.end()
        after = next((i for i, s in enumerate(starts) if s >= end_char), len(words))
        # A label ending inside a word is part of a longer word, unless a colon follows
        # (a speck read as a comma after it is nothing: "Referred To,").
        last_word_end = starts[after - 1] + len(words[after - 1].text)
        if text[end_char:last_word_end].strip(":#.-,;") and not colon:
            continue
        rest = words[after:]
        label_text = text[match.start() : end_char]
        # Specks read as a character before a label ("4 LAST NAME.") do not move it off
        # the start of its segment.
        leads = 0 if all(_speck(w) for w in words[:first]) else first
        if not colon and not _stands_without_colon(slot, label_text, leads, rest):
            continue
        if found and first < found[-1][1]:
            continue
        found.append((first, after, slot, vocabulary.normalized(label_text) in vocabulary.WEAK))
    return found


def _misread_labels(segment: Segment) -> list[tuple[int, int, str, bool]]:
    """Wordings OCR misread a letter or two of ("Reason tor Referral:", "Insurence"), where
    a label stands: before a colon, or leading its segment as a label without one does."""
    words = segment.words
    found: list[tuple[int, int, str, bool]] = []
    first = 0
    while first < len(words):
        for after in range(min(len(words), first + MAX_LABEL_WORDS), first, -1):
            phrase = words[first:after]
            texts = [w.text for w in phrase]
            colon = texts[-1][-1:] in {":", ";"} and (texts[-1][-1] == ":" or first == 0)
            if not colon and first != 0:
                continue  # inside a line only a colon says "label" of a misread wording
            # Digits are a value's, unless a colon ends them ("1CD10:" is "ICD10:"), or the
            # segment is the wording alone with a letter read as its look-alike digit (a
            # table's heading "Member 1D").
            digits = any(ch.isdigit() for t in texts for ch in t)
            heading = first == 0 and after == len(words) and vocabulary.folded_slot(" ".join(texts))
            if (digits and not texts[-1].endswith(":") and not heading) or any(
                ":" in t for t in texts[:-1]
            ):
                continue
            label = " ".join(texts).rstrip(":;")
            slot = vocabulary.misread_slot(label)
            if slot is None and first == 0 and after == len(words) == 1:
                # A short label of a number alone in its cell, one letter off ("NPE"):
                # its value, beside or below, must fit the slot to be read.
                slot = vocabulary.clipped_slot(label, NUMERIC_SLOTS - {"other", "codes", "dob"})
            if slot is None:
                continue
            if not colon and not _stands_without_colon(slot, label, first, words[after:]):
                continue
            found.append((first, after, slot, False))
            first = after - 1
            break
        first += 1
    return found


def _speck(word: Word) -> bool:
    return len(re.sub(r"[^A-Za-z0-9]", "", word.text)) <= 1


def _stands_without_colon(slot: str, label: str, first: int, rest: list[Word]) -> bool:
    if not rest:
        return first == 0  # the whole segment is the label: its value is elsewhere
    following = rest[0].text
    if slot in NUMERIC_SLOTS and any(ch.isdigit() for ch in following):
        return True
    # "Re", "To", "Pt" start sentences and stamps too: without a colon they are words.
    if first != 0 or following[:1].islower() or len(re.sub(r"[^A-Za-z]", "", label)) < 4:
        return False
    if slot == "urgency":
        # An option follows, or its box: "Priority [ ] Routine", "Request Type MStandard".
        return bool(vocabulary.urgency_level(following)) or (
            following in vocabulary.EMPTY_TOKENS | vocabulary.MARKED_TOKENS
            and len(rest) > 1
            and bool(vocabulary.urgency_level(rest[1].text))
        )
    if slot in NAME_SLOTS:
        # A first and a last name at least: "PATIENT REFERRAL" is a heading, not a name.
        # "Last / First Lindqvist / Shonda": the form's own separator between them.
        names = [w for w in rest if w.text not in NAME_SEPARATORS]
        return 2 <= len(names) <= 5 and all(NAME_TOKEN.fullmatch(w.text) for w in names)
    if slot == "insurance":
        # "Insurance Anthem Blue Cross HMO" on a form's line: a plan's name says it is one.
        return values.read_plan(" ".join(w.text for w in rest)).known
    return len(re.findall(r"[A-Za-z]+", label)) >= 2


def starts_with_label(segment: Segment, items: dict[int, list[Item]]) -> bool:
    found = items.get(segment.index, [])
    return bool(found) and found[0].label[0] is segment.words[0]


def candidates(item: Item, model: Layout, items: dict[int, list[Item]]) -> list[list[Segment]]:
    """Where a label's value may be when it does not follow the label in its segment, most
    likely first; the reader takes the first that reads as the field's value."""
    segment = item.segment
    line = model.lines[segment.line]
    found: list[list[Segment]] = []
    if segment.cell is not None and _field_sized(segment.cell, model):
        inside = [
            s
            for s in model.in_cell(segment.cell)
            if s.index > segment.index and not starts_with_label(s, items)
        ]
        if inside:
            found.append(inside)
    beyond = line.segments[line.segments.index(segment) + 1 :]
    # A table's ruling line read as a letter between a label and its value ("Name | Mei").
    while len(beyond) > 1 and RULE_GLYPH.fullmatch(beyond[0].text):
        beyond = beyond[1:]
    right = beyond[0] if beyond else None
    beside = model.cell_beside(segment.cell) if segment.cell is not None else None
    if beside is not None and not _field_sized(beside, model):
        beside = None
    sideways: list[list[Segment]] = []
    if right is not None and not _labelish(right, line, items):
        if segment.cell is None or right.cell in (segment.cell, beside):
            sideways.append([right])
    if beside is not None:
        inside = model.in_cell(beside)
        if inside and not starts_with_label(inside[0], items):
            sideways.append(inside)
    header = _header_row(line, model, items)
    below = _below(segment, model, items, header)
    found.extend([below, *sideways] if header else [*sideways, below])
    return [c for c in found if c]


def _field_sized(cell: int, model: Layout) -> bool:
    """A box that holds one field, not a frame drawn around a whole form or section."""
    box = model.cells[cell]
    return box.y1 - box.y0 <= MAX_FIELD_LINES * 2 * model.text_height


def _labelish(segment: Segment, line: Line, items: dict[int, list[Item]]) -> bool:
    """A label, or a section heading beside this one ("PATIENT    REFERRING PROVIDER")."""
    if starts_with_label(segment, items):
        return True
    return heading_shaped(segment.text) and vocabulary.section_of(segment.text) is not None


def _header_row(line: Line, model: Layout, items: dict[int, list[Item]]) -> bool:
    """A row of column headings ("Name   DOB   Phone") whose values are on the row below:
    two bare labels or more, or headings each with a value starting right under it."""
    segments = line.segments
    if len(segments) < 2 or any(ch.isdigit() for s in segments for ch in s.text):
        return False
    bare = [
        s
        for s in segments
        if starts_with_label(s, items) and not any(i.words for i in items[s.index])
    ]
    # "Last Name  Garcia   First Name  Beatriz": each label has its value right beside it.
    beside = [segments[segments.index(s) + 1] for s in bare if s is not segments[-1]]
    if bare and len(beside) == len(bare) and not any(_labelish(s, line, items) for s in beside):
        return False
    if len(bare) >= 2 and 2 * len(bare) >= len(segments):
        return True
    number = segments[0].line + 1
    if not bare or number >= len(model.lines):
        return False
    below = model.lines[number]
    if below.top - line.bottom > 1.6 * model.text_height:
        return False
    starts = [s.x0 for s in below.segments]
    # A colon says the value follows on the line ("Insurance:   Wellcare"), not under it.
    return all(
        heading_shaped(s.text)
        and not s.text.endswith(":")
        and any(abs(x - s.x0) < 2 * model.char_width for x in starts)
        for s in segments
    )


def _below(
    segment: Segment, model: Layout, items: dict[int, list[Item]], header: bool
) -> list[Segment]:
    line = model.lines[segment.line]
    tolerance = model.char_width
    x0, x1 = segment.x0 - tolerance, segment.x1 + tolerance
    if header:
        after = [s.x0 for s in line.segments if s.x0 > segment.x0]
        x1 = max(x1, min(after) - tolerance) if after else 1.0
    for below in model.lines[segment.line + 1 : segment.line + 3]:
        if below.top - segment.bottom > 1.6 * model.text_height:
            return []
        overlapping = [s for s in below.segments if min(s.x1, x1) - max(s.x0, x0) > 0]
        if not overlapping:
            continue
        best = max(overlapping, key=lambda s: min(s.x1, x1) - max(s.x0, x0))
        if starts_with_label(best, items) or UNKNOWN_LABEL.match(best.text):
            return []
        if header:
            words = [w for w in best.words if x0 <= (w.x0 + w.x1) / 2 <= x1]
            if words and len(words) < len(best.words):
                return [Segment(words, best.line, best.index, best.top, best.bottom, best.cell)]
        return [best]
    return []


def run_on(
    item: Item, last: Segment, model: Layout, items: dict[int, list[Item]], taken: set[int]
) -> list[Segment]:
    """The lines a reason or a code list continues on, until a label, a gap or a heading."""
    if item.slot == "codes":
        return _code_rows(item, last, model)
    right_margin = max(s.x1 for s in model.segments)
    if not item.value_segments and last.x1 < right_margin - WRAP_WITHIN:
        return []  # a value on its label's line goes on only where the line is full
    more: list[Segment] = []
    left = min(item.segment.x0, last.x0) - model.char_width
    right_edge = max(item.segment.x1, last.x1)
    while last.line + 1 < len(model.lines):
        below = model.lines[last.line + 1]
        if below.top - last.bottom > 1.0 * model.text_height:
            break
        candidates = [
            s for s in below.segments if left <= s.x0 <= right_edge and s.index not in taken
        ]
        if not candidates:
            break
        following = candidates[0]
        if starts_with_label(following, items) or UNKNOWN_LABEL.match(following.text):
            break  # a label, maybe one the vocabulary does not know ("Number of visits: 3")
        labels = items.get(following.index, [])
        if labels:
            # The value ends where the next label starts: "Shield PPO, member ID: ...".
            before = [w for w in following.words if w.x0 < labels[0].label[0].x0]
            more.append(Segment(before, following.line, following.index, following.top,
                                following.bottom, following.cell))  # fmt: skip
            break
        first_word = following.words[0].text
        if last.words[-1].text.endswith(".") and first_word[:1].isupper():
            break  # the value's sentence ended; a new one starts
        if item.slot == "insurance" and not first_word[:1].isupper():
            break  # a plan's name goes on in capitals, a sentence does not
        if item.slot == "insurance" and following.words[0].conf < UNREAD_BELOW:
            break  # a heading misread or specks ("Dhami Description" for "Diagnoses")
        if len(below.segments) > 1 and following.cell is None:
            break  # a form row of its own, not the paragraph going on
        more.append(following)
        last = following
    return more


def _code_rows(item: Item, last: Segment, model: Layout) -> list[Segment]:
    """A code list going on down its column, one code a row (a diagnosis table, or codes
    listed under each other), until a row whose first word in the column is no code."""
    x0 = min(item.segment.x0, last.x0) - model.char_width
    x1 = max(item.segment.x1, last.x1) + model.char_width
    more: list[Segment] = []
    bottom = last.bottom
    for number in range(last.line + 1, len(model.lines)):
        line = model.lines[number]
        if line.top - bottom > 1.6 * model.text_height:
            break
        words = [w for s in line.segments for w in s.words if x0 <= (w.x0 + w.x1) / 2 <= x1]
        if len(words) > 1 and (words[0].text.endswith(":") or ENUMERATOR.match(words[0].text)):
            words = words[1:]  # a prefix the list repeats ("ICD10:") or its number ("2.")
        if not words:
            continue  # specks beside the column read as a line of their own
        # A numbered row of the table with digits where its code stands ("2  10  Secondary
        # diagnosis": I10 with its letter lost) is a code misread, not the table's end.
        numbered = ENUMERATOR.match(line.segments[0].words[0].text)
        if not CODE_START.match(words[0].text.upper()) and not (
            numbered and CODE_DIGITS.fullmatch(words[0].text)
        ):
            break
        more.append(Segment(words, number, -1, line.top, line.bottom))
        bottom = line.bottom
    return more


def rest_of_row(
    item: Item, model: Layout, items: dict[int, list[Item]], taken: set[int]
) -> list[Word]:
    """The words of the segments after the item's value on its line that carry no label
    and were read as no other value: "Ordering Provider | Sato, Oluwaseun | 1622224305 |
    (550) 608-5588" gives the number columns."""
    last = item.value_segments[-1] if item.value_segments else item.segment
    line = model.lines[last.line]
    after = [s for s in line.segments if s.index > last.index]
    out: list[Word] = []
    for segment in after:
        if items[segment.index] or segment.index in taken:
            break
        out.extend(segment.words)
    return out
