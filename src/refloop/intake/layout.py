"""The page as a reader sees it: lines rebuilt from where the words sit, cut into segments
at wide gaps, two columns where the page has them, ruled cells and checkboxes placed on the
words, and headings in any case.

The field reader pairs a label with its value by these positions (right of it, below it,
in the same or the neighbouring cell), not by the order an OCR engine printed its text in.
A skewed scan keeps its lines whole: rows are compared after taking out the page's slant.
"""

import re
import statistics
from dataclasses import dataclass, field

from refloop.intake.reading import Box, Mark, PageText, Word

# Words further apart than this (a fraction of the page width, or three characters of the
# page's own type where it is smaller) belong to different form columns.
SEGMENT_GAP = 0.03
GAP_IN_CHARACTERS = 3.0
MAX_SLOPE = 0.1
JUNK = "‘’“”'`\"|\\_~«»—•·"
# A label's first letter may come out as a digit ("1CD10:M48.061"); two letters make a label.
GLUED_LABEL = re.compile(
    r"^((?=[^:#;]*[A-Za-z][^:#;]*[A-Za-z])[A-Za-z1][A-Za-z0-9\-/']*[A-Za-z0-9][:#;])[.,\-:;]*(\S+)$"
)
# A word, a period or comma, perhaps a speck, then a number: "NPI.1180994562".
GLUED_BEFORE_NUMBER = re.compile(r"^([A-Za-z]{2,})[.,][{}\[\]]?(\(?\d{3}\S*)$")
SMALL_WORDS = {"of", "for", "and", "to", "the", "a", "an", "in", "on", "by", "&", "/", "or"}


@dataclass
class Segment:
    """Words of one line with no wide gap between them: a label, a value, or both."""

    words: list[Word]
    line: int
    index: int = 0  # position in Layout.segments (reading order)
    top: float = 0.0  # with the page's slant taken out
    bottom: float = 0.0
    cell: int | None = None

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1


@dataclass
class Line:
    segments: list[Segment]
    top: float
    bottom: float


@dataclass
class Layout:
    lines: list[Line]
    segments: list[Segment]
    cells: list[Box] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    slope: float = 0.0
    split: float = 0.5  # x of the gap between the page's two columns
    text_height: float = 0.012
    char_width: float = 0.01

    def column(self, segment: Segment) -> str:
        if segment.x0 < self.split < segment.x1:
            return "both"
        return "left" if segment.x1 <= self.split else "right"

    def row(self, word: Word) -> float:
        """The word's vertical centre with the page's slant taken out."""
        return (word.y0 + word.y1) / 2 - self.slope * (word.x0 + word.x1) / 2

    def in_cell(self, cell: int) -> list[Segment]:
        return [s for s in self.segments if s.cell == cell]

    def cell_beside(self, cell: int) -> int | None:
        """The ruled cell directly right of `cell`, sharing its rows (a value box)."""
        box = self.cells[cell]
        best, best_gap = None, 3 * self.char_width
        for index, other in enumerate(self.cells):
            overlap = min(box.y1, other.y1) - max(box.y0, other.y0)
            gap = other.x0 - box.x1
            if index != cell and -self.char_width <= gap < best_gap and overlap > 0:
                if overlap >= 0.5 * min(box.y1 - box.y0, other.y1 - other.y0):
                    best, best_gap = index, gap
        return best

    def mark_of(self, word: Word) -> Mark | None:
        """The checkbox that belongs to the word: just left of it on its row, or drawn
        around it (a circled option; a ring belongs to no other word)."""
        centre_x, centre_y = (word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2
        best, best_gap = None, 4 * self.char_width
        for mark in self.marks:
            box = mark.box
            if box.x0 <= centre_x <= box.x1 and box.y0 <= centre_y <= box.y1:
                return mark
            if mark.how == "circle":
                continue  # a ring marks the word inside it, not the one after it
            if not (box.y0 - self.text_height / 2 <= centre_y <= box.y1 + self.text_height / 2):
                continue
            if box.x0 - self.char_width / 2 <= word.x0 <= box.x1:
                return mark  # OCR read the box as the word's first letters: "ClUrgent"
            gap = word.x0 - box.x1
            if -self.char_width / 2 <= gap < best_gap:
                best, best_gap = mark, gap
        return best


def build(page: PageText) -> Layout:
    cleaned = [c for c in (_clean(word) for word in page.words) if c is not None]
    words = [w for word in cleaned for w in (_clean(p) for p in _unglue(word)) if w]
    if words:
        # A sliver of a ruling line read as a letter with no confidence at all ("a", a
        # pixel high) is no word, and would pull a line's words apart.
        high = statistics.median(w.y1 - w.y0 for w in words)
        words = [w for w in words if w.conf > 0 or w.y1 - w.y0 >= high / 4]
    if not words:
        return Layout([], [], list(page.cells), list(page.marks))
    heights = [w.y1 - w.y0 for w in words]
    widths = [(w.x1 - w.x0) / len(w.text) for w in words if len(w.text) >= 3]
    model = Layout(
        [],
        [],
        list(page.cells),
        list(page.marks),
        slope=_slope(page.lines),
        text_height=statistics.median(heights),
        char_width=statistics.median(widths) if widths else 0.01,
    )
    gap = min(SEGMENT_GAP, GAP_IN_CHARACTERS * model.char_width)
    for row in _rows(words, model):
        index = len(model.lines)
        groups: list[list[Word]] = []
        for word in sorted(row, key=lambda w: w.x0):
            if groups and word.x0 - groups[-1][-1].x1 <= gap:
                groups[-1].append(word)
            else:
                groups.append([word])
        segments = [Segment(g, index) for g in groups]
        for segment in segments:
            rows = [model.row(w) for w in segment.words]
            half = statistics.median(w.y1 - w.y0 for w in segment.words) / 2
            segment.top, segment.bottom = min(rows) - half, max(rows) + half
            segment.index = len(model.segments)
            segment.cell = _cell_of(segment, model.cells)
            model.segments.append(segment)
        model.lines.append(
            Line(segments, min(s.top for s in segments), max(s.bottom for s in segments))
        )
    model.split = _column_split(model)
    return model


def _clean(word: Word) -> Word | None:
    text = word.text.strip(JUNK).lstrip(".,;:")
    if text.startswith("(") and ")" not in text:
        text = text[1:]  # a bracket opened around several words: "(Attending physician:"
    if not any(ch.isalnum() for ch in text) and text not in {"&", "/", "[", "]", "[]"}:
        return None
    return Word(text, word.conf, word.x0, word.y0, word.x1, word.y1)


def _unglue(word: Word) -> list[Word]:
    """OCR sometimes loses the space after a colon: "NPI:-1036426215" is two words, and so
    is "ICD10;E66.01" (a colon read as a semicolon), "NPI.1180994562" and "Phone.{(755)"
    (the space read as a period, a speck after it)."""
    match = GLUED_LABEL.match(word.text) or GLUED_BEFORE_NUMBER.match(word.text)
    if not match:
        return [word]
    label, value = match.groups()
    split = word.x0 + (word.x1 - word.x0) * len(label) / len(word.text)
    return [
        Word(label, word.conf, word.x0, word.y0, split, word.y1),
        Word(value, word.conf, split, word.y0, word.x1, word.y1),
    ]


def _slope(lines: list[list[Word]]) -> float:
    """The page's slant (rise per width), from the engine's own lines of three words or more."""
    slopes = []
    for line in lines:
        if len(line) < 3 or line[-1].x1 - line[0].x0 < 0.2:
            continue
        xs = [(w.x0 + w.x1) / 2 for w in line]
        ys = [(w.y0 + w.y1) / 2 for w in line]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if spread > 0:
            slopes.append(
                sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
            )
    if not slopes:
        return 0.0
    return max(-MAX_SLOPE, min(MAX_SLOPE, statistics.median(slopes)))


def _rows(words: list[Word], model: Layout) -> list[list[Word]]:
    """Words grouped into text lines by their (slant-corrected) vertical centres."""
    rows: list[tuple[float, list[Word]]] = []
    for word in sorted(words, key=model.row):
        centre = model.row(word)
        high = word.y1 - word.y0
        # A box much thinner than the text (only a comma's or a stroke's height read) says
        # little of where its word's middle is: it joins the line its box overlaps.
        thin = high < model.text_height / 2
        tolerance = (model.text_height + high) / 2 if thin else max(model.text_height, high) / 2
        if rows and abs(centre - rows[-1][0]) <= tolerance:
            mean, members = rows[-1]
            members.append(word)
            rows[-1] = ((mean * (len(members) - 1) + centre) / len(members), members)
        else:
            rows.append((centre, [word]))
    return [members for _, members in rows]


def _cell_of(segment: Segment, cells: list[Box]) -> int | None:
    x = (segment.x0 + segment.x1) / 2
    y = (min(w.y0 for w in segment.words) + max(w.y1 for w in segment.words)) / 2
    inside = [
        (box.x1 - box.x0) * (box.y1 - box.y0)
        if box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1
        else None
        for box in cells
    ]
    options = [(area, i) for i, area in enumerate(inside) if area is not None]
    return min(options)[1] if options else None


def _column_split(model: Layout) -> float:
    """The x of a gap that many multi-segment lines share in the page's middle: two columns."""
    wide = [line for line in model.lines if len(line.segments) >= 2]
    best, best_count = 0.5, 1
    for step in range(30, 71):
        x = step / 100
        count = sum(
            1
            for line in wide
            if all(not (s.x0 < x < s.x1) for s in line.segments)
            and any(s.x1 <= x for s in line.segments)
            and any(s.x0 >= x for s in line.segments)
        )
        if count > best_count or (count == best_count and abs(x - 0.5) < abs(best - 0.5)):
            best, best_count = x, count
    return best


def is_heading(segment: Segment, line: Line) -> bool:
    """A short line standing alone in upper or title case ("PATIENT", "Referring Provider");
    two such side by side head two columns."""
    return segment in line.segments and all(heading_shaped(s.text) for s in line.segments)


def heading_shaped(text: str) -> bool:
    # A band's or a box's edge read as a bracket before it: "[REFERRING PROVIDER".
    text = text.rstrip(":").strip().lstrip("[|({!«‘'\"\\")
    if text.endswith(".") and text.upper() == text:
        text = text[:-1]  # a speck after a heading in capitals: "OFFICE VISIT NOTE."
    words = text.split()
    if not 1 <= len(words) <= 6 or ":" in text or text.endswith((",", ".", ";")):
        return False
    letters = [w for w in words if w.isalpha() or w.rstrip(",.&/").isalpha()]
    # One token of digits beside two words is a stamp's date bleeding into the heading.
    if not letters or len(words) - len(letters) > (1 if len(letters) >= 2 else 0):
        return False
    if all(w.upper() == w for w in letters):
        return True
    return all(w[0].isupper() or w.lower() in SMALL_WORDS or not w[0].isalpha() for w in letters)
