"""Page clean-up before OCR, and the page's drawn geometry (ruled cells, checkboxes).

A fax's grey table headers arrive as dither dots, its underlines and boxes touch the text,
its pages are skewed and speckled; the OCR engine drops text in all of those. This module
straightens the page, flattens shading, removes specks and ruling lines, and reports the
table cells and checkboxes it saw on the way. OpenCV morphology throughout, with every size
stated in inches (or millimetres) through the page's resolution, so it holds for any scan.
"""

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from refloop.intake.reading import Box, Mark

STEPS = ("streaks", "deskew", "inverse", "shading", "despeckle", "rules")

MAX_SKEW_DEGREES = 5.0
MIN_ROTATION_DEGREES = 0.2  # below this a rotation blurs more than it straightens
SKEW_DPI = 150  # the angle is estimated on a smaller copy: cheaper, and precise enough
WHITE = 255
# Shading: a background darker than this is shaded; darker than SOLID, a black bar or a
# filled box, left alone.
SHADE_LEVEL = 235
SOLID_LEVEL = 60
DITHER_INCHES = 0.035  # a fax's dither repeats within this
BAND_RULE_INCHES = 0.02  # thicker than a ruling line: what an opening this wide keeps
BAND_MIN_INCHES = (1.0, 0.08)  # a band of white text is at least this wide and high
BAND_MAX_HIGH = 0.45  # inches: a band holds one line of text
BAND_INK = 0.6  # of a band's pixels black as printed (its white letters the rest)
BAND_EDGE_INCHES = 0.01  # the outline a band leaves, as thick as a ruling line
BAND_DOT_INCHES = 0.012  # a fax's dither dots are smaller than this
TEXT_ON_SHADE = 0.62  # of the local background: darker than this is ink on a shaded cell
SPECK_INCHES = 0.014  # a speck is at most this wide (about 3 px at 200 dpi)
SPECK_COMPANY_INCHES = 0.04  # a dot this near a larger mark is part of it (i, :, 11.65)
H_RULE_INCHES = 0.35  # longer than any letter's stroke at body sizes
V_RULE_INCHES = 0.25
V_RULE_ALONE_INCHES = 0.6  # shorter vertical rules count only where they meet a horizontal one
RULE_GAP_INCHES = 0.035
# Broken rules: segments this long (longer than a letter's straight stroke at body sizes),
# joined across breaks this short, wandering this many pixels off a straight row.
RULE_SEGMENT_INCHES = 0.1
RULE_BREAK_INCHES = 0.03
RULE_WANDER_PX = 1
# A banner (white text on a black bar) is mostly ink over a text line's height; it is left
# whole, since whitening its solid parts would leave its letters as outlines.
BAR_WINDOW_INCHES = (0.3, 0.08)
BAR_DENSITY = 0.55  # a stroke crossing a rule this thick is restored
MIN_CELL_INCHES = (0.12, 0.1)
CHECKBOX_MM = (2.3, 6.5)
MARKED_FILL = 0.05  # of a box's inside: less ink than this is a speck, not a mark
SURELY_MARKED_FILL = 0.15  # a tick or a cross fills this much and more
# Between the two, a box is marked only if it holds at least this share of the ink of the
# fullest box on its row: fax noise and a bold neighbour's overflow put 5-8% of ink into
# an empty box beside the one that was ticked.
MARKED_OF_ROW = 0.4
MM_PER_INCH = 25.4
# A line of text the OCR engine did not read: letters and words closer than the gap, a
# text line's height, longer than a short word, as dense as print (not specks, not a bar).
INK_FOR_LINES = 128
UNREAD_WORD_GAP_INCHES = 0.08
UNREAD_LINE_HEIGHT_INCHES = (0.06, 0.4)
UNREAD_LINE_WIDTH_INCHES = 0.15
UNREAD_DENSITY = (0.05, 0.7)  # bold print a fax made heavier is over half ink; a bar is all
# A scanner's streak: a column or two inked over most of the page's height, margins included
# (a speck of dirt on the glass or the sensor draws it as the paper feeds past). Printed
# rules stop at their table; a column of text is never this dense.
STREAK_COVERAGE = 0.5
STREAK_MARGIN = 0.05  # of the page's height: a streak reaches into both blank margins
STREAK_MAX_INCHES = 0.02  # wider than this, it is drawn content
# Ink this near a streak is a letter it runs through or along (a narrow i, an l): kept.
STREAK_LETTER_REACH_INCHES = 0.03


# cv2.connectedComponentsWithStats: count, labels, stats (x, y, w, h, area), centroids.
Components = tuple[int, np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Cleaned:
    image: Image.Image  # what the OCR engine reads
    upright: Image.Image  # the page straightened, otherwise as received (for review)
    angle: float  # degrees the page was turned counter-clockwise, as PIL's rotate counts
    cells: list[Box] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


def clean(image: Image.Image, *, dpi: float, steps: tuple[str, ...] = STEPS) -> Cleaned:
    """The page ready for OCR, with its cells and marks in fractions of the upright image."""
    gray = np.asarray(image.convert("L"))
    if "streaks" in steps:
        gray = _remove_streaks(gray, dpi)
    angle = 0.0
    if "deskew" in steps:
        angle = _skew_angle(gray, dpi)
        if abs(angle) >= MIN_ROTATION_DEGREES:
            gray = _rotate(gray, -angle)
    upright = gray
    bars = _bars(gray <= _ink_level(gray), dpi)
    if "inverse" in steps:
        gray = _invert_bands(gray, dpi)
        bars = _bars(gray <= _ink_level(gray), dpi)
    out = _flatten_shading(gray, bars, dpi) if "shading" in steps else gray.copy()
    ink = out <= _ink_level(out)
    horizontal, vertical = _rules(ink, dpi)
    rules = horizontal | vertical
    drawn = ink.copy()
    if "rules" in steps:
        # A bar's rows are long runs, whitened they would leave its letters as outlines;
        # a bar is one line high, no vertical rule, and a vertical rule beside a bold label
        # (which passes for a bar) would be left as a tick ("«DOB:").
        removed = _rule_pixels(ink, horizontal, vertical, dpi) & ~(bars & ~vertical)
        out[removed] = WHITE
        ink &= ~removed
    # After the rules, so that what is left of a rule's ragged edge goes too.
    components = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if "despeckle" in steps:
        specks = _specks(ink, components, dpi)
        out[specks] = WHITE
        ink &= ~specks
    height, width = gray.shape
    cells = [_box(x, y, w, h, width, height) for x, y, w, h in _cells(rules, dpi)]
    boxes = _checkboxes(ink & ~rules, dpi)
    marks = [Mark(_box(x, y, w, h, width, height), marked, "ink") for (x, y, w, h), marked in boxes]
    circles = _circles(ink, components, dpi, [b for b, _ in boxes])
    if "rules" in steps and removed.any():
        # A wide ring's flat top and bottom can pass for short rules and be whitened above;
        # as drawn, it is whole.
        whole = cv2.connectedComponentsWithStats(drawn.astype(np.uint8), connectivity=8)
        circles += [
            ring
            for ring in _circles(drawn, whole, dpi, [b for b, _ in boxes])
            if not any(_overlaps(ring, other) for other in circles)
        ]
    marks += [Mark(_box(x, y, w, h, width, height), True, "circle") for x, y, w, h in circles]
    marks += [
        Mark(_box(x, y, w, h, width, height), True, "x")
        for x, y, w, h in _crosses(ink, components, dpi, [b for b, _ in boxes])
    ]
    return Cleaned(
        image=Image.fromarray(out),
        upright=Image.fromarray(upright),
        angle=angle,
        cells=cells,
        marks=marks,
    )


def unread_lines(image: Image.Image, read: list[Box], *, dpi: float) -> list[Box]:
    """Lines of ink on the cleaned page that no word read covers, in fractions of the page:
    where the OCR engine's page layout dropped a line (a value on an underline, a line
    between two rules), for a second look at that line alone."""
    ink = (np.asarray(image.convert("L")) < INK_FOR_LINES).astype(np.uint8)
    height, width = ink.shape
    for box in read:
        ink[
            max(0, int(box.y0 * height) - 1) : int(box.y1 * height) + 2,
            max(0, int(box.x0 * width) - 1) : int(box.x1 * width) + 2,
        ] = 0
    # The letters of a line, and its words, joined into one blob.
    joined = cv2.dilate(ink, _rect(_px(UNREAD_WORD_GAP_INCHES, dpi), 3))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    least_h, most_h = (_px(inches, dpi) for inches in UNREAD_LINE_HEIGHT_INCHES)
    least_w = _px(UNREAD_LINE_WIDTH_INCHES, dpi)
    found = []
    for label in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[label])
        if not (least_h <= h <= most_h and w >= least_w):
            continue
        density = float(ink[y : y + h, x : x + w].mean())
        if not UNREAD_DENSITY[0] <= density <= UNREAD_DENSITY[1]:
            continue  # a few specks, or a black bar
        found.append((x, y, w, h))
    return [_box(x, y, w, h, width, height) for x, y, w, h in found]


def skew_angle(image: Image.Image, *, dpi: float) -> float:
    """Degrees the text lines are turned counter-clockwise (PIL's rotate(-angle) undoes it)."""
    return _skew_angle(np.asarray(image.convert("L")), dpi)


def _px(inches: float, dpi: float, least: int = 1) -> int:
    return max(least, round(inches * dpi))


def _box(x: int, y: int, w: int, h: int, width: int, height: int) -> Box:
    return Box(x / width, y / height, (x + w) / width, (y + h) / height)


def _ink_level(gray: np.ndarray) -> float:
    """Otsu's threshold (a pixel at or below it is ink), never above mid-light grey: a
    nearly blank page has no fair split."""
    level, _ = cv2.threshold(gray, 0, WHITE, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return min(float(level), 160.0)


def _rect(width: int, height: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (width, height))


def _open(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)


# ---- scanner streaks ---------------------------------------------------------------------


def _remove_streaks(gray: np.ndarray, dpi: float) -> np.ndarray:
    """The page without the scanner's vertical streaks, in the page's frame as received
    (the paper may be skewed; the scanner's columns are not). Where a letter's stroke
    crosses a streak or runs along it (ink beside it), the stroke is kept whole."""
    ink = gray <= _ink_level(gray)
    height = ink.shape[0]
    margin = max(1, round(height * STREAK_MARGIN))
    columns = (
        (ink.mean(axis=0) >= STREAK_COVERAGE) & ink[:margin].any(axis=0) & ink[-margin:].any(axis=0)
    )
    if not columns.any():
        return gray
    widest = _px(STREAK_MAX_INCHES, dpi, 2)
    out = gray.copy()
    starts = np.flatnonzero(columns & ~np.r_[False, columns[:-1]])
    ends = np.flatnonzero(columns & ~np.r_[columns[1:], False]) + 1
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end - start > widest:
            continue
        # One column more each side: the streak's soft edge.
        left, right = max(0, start - 1), min(int(ink.shape[1]), end + 1)
        reach = _px(STREAK_LETTER_REACH_INCHES, dpi, 2)
        beside_left = ink[:, max(0, left - reach) : left].any(axis=1)
        beside_right = ink[:, right : right + reach].any(axis=1)
        out[~(beside_left | beside_right), left:right] = WHITE
    return out


# ---- deskew ------------------------------------------------------------------------------


def _skew_angle(gray: np.ndarray, dpi: float) -> float:
    """The angle whose projection of the ink onto the page's height is sharpest: text lines
    and rules line up into narrow peaks only when the projection follows them (Postl's
    projection-profile method), searched coarse then fine within +-5 degrees."""
    scale = min(1.0, SKEW_DPI / dpi)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    darkness = (WHITE - small.astype(np.float32)) / WHITE
    ys, xs = np.nonzero(darkness > 0.25)
    if len(xs) < 50:
        return 0.0
    weights = darkness[ys, xs]
    xs = xs - darkness.shape[1] / 2
    bins = darkness.shape[0] * 2 + 4

    def sharpness(degrees: float) -> float:
        # A shear instead of a rotation: the same projection within +-5 degrees, far cheaper.
        rows = ys + xs * np.tan(np.radians(degrees)) + darkness.shape[0] // 2 + 2
        profile = np.bincount(rows.astype(np.int64), weights=weights, minlength=bins)
        return float(np.dot(profile, profile))

    best = max(np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 0.25), key=sharpness)
    best = max(np.arange(best - 0.3, best + 0.31, 0.03), key=sharpness)
    if sharpness(0.0) >= 0.98 * sharpness(best):
        return 0.0  # a turn must earn the blur it costs; a few short lines hardly show one
    return round(float(best), 2)


def _rotate(gray: np.ndarray, degrees: float) -> np.ndarray:
    """Turned counter-clockwise about the centre, same size, the corners filled white."""
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(
        gray,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=WHITE,
    )


# ---- shading -----------------------------------------------------------------------------


def _bars(ink: np.ndarray, dpi: float) -> np.ndarray:
    """Where the page is mostly ink across a text line's height: black bars and banners."""
    width, height = (_px(inches, dpi, 3) for inches in BAR_WINDOW_INCHES)
    density = cv2.boxFilter(ink.astype(np.float32), -1, (width, height))
    dense = (density > BAR_DENSITY).astype(np.uint8)
    return cv2.dilate(dense, _rect(width // 2 | 1, height // 2 | 1)).astype(bool)


def _invert_bands(gray: np.ndarray, dpi: float) -> np.ndarray:
    """White text on a black band ("REFERRING PROVIDER" as a form's section heading) made
    black on white, so that OCR reads it.

    A dither's white dots are closed up and strokes as thin as a ruling line opened away
    first; what is left black in unbroken runs an inch long is a band's rows above, below and beside its
    letters (no word of black text is solid that far), joined into one shape around them. A
    shape one line high whose box was mostly black as printed is a band (heavy ruling lines
    make shapes too, but thin ones).
    """
    ink = gray <= _ink_level(gray)
    # A band a fax dithered is black with white dots: closed up, it is solid again (its
    # letters too, which only finding it needs).
    dots = _px(BAND_DOT_INCHES, dpi, 2)
    solid = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE, _rect(dots, dots)) > 0
    thin = _px(BAND_RULE_INCHES, dpi, 3)
    runs = _open(_open(solid, _rect(thin, thin)), _rect(_px(BAND_MIN_INCHES[0], dpi), 1))
    if not runs.any():
        return gray
    count, _, stats, _ = cv2.connectedComponentsWithStats(runs.astype(np.uint8), connectivity=8)
    out = gray
    for x, y, w, h, _area in stats[1:count]:
        if not BAND_MIN_INCHES[1] * dpi <= h <= BAND_MAX_HIGH * dpi:
            continue
        # Rows the box takes in beyond the band (a slanted rule joined to its edge) stay.
        rows = np.flatnonzero(solid[y : y + h, x : x + w].mean(axis=1) >= BAND_INK)
        if not rows.size:
            continue
        y, h = y + rows[0], rows[-1] - rows[0] + 1
        if h < BAND_MIN_INCHES[1] * dpi or solid[y : y + h, x : x + w].mean() < BAND_INK:
            continue
        if out is gray:
            out = gray.copy()
        # Its letters (lighter than ink) black, the band white: as crisp as printed text;
        # a dither's white dots, too small for a stroke, are no letters.
        white = (~ink[y : y + h, x : x + w]).astype(np.uint8)
        _, labels, sizes, _ = cv2.connectedComponentsWithStats(white, connectivity=8)
        strokes = np.flatnonzero(sizes[:, cv2.CC_STAT_AREA] > dots * dots)
        letters = np.isin(labels, strokes[strokes > 0])
        out[y : y + h, x : x + w] = np.where(letters, 0, WHITE)
        # Its edges kept as ruling lines: a band divides a form's table as a rule does, so
        # the cells above and below stay apart (the rules step then takes them off).
        edge = _px(BAND_EDGE_INCHES, dpi, 2)
        for across, down in (
            (slice(y, y + edge), slice(x, x + w)),
            (slice(y + h - edge, y + h), slice(x, x + w)),
            (slice(y, y + h), slice(x, x + edge)),
            (slice(y, y + h), slice(x + w - edge, x + w)),
        ):
            out[across, down] = 0
    return out


def _flatten_shading(gray: np.ndarray, bars: np.ndarray, dpi: float) -> np.ndarray:
    """Shaded areas (solid grey, or a fax's dither dots) become white with their text black.

    Blurring turns dither dots into their grey; a closing wider than any stroke removes the
    text and leaves each area's background; where that background is grey, a pixel is ink
    only if it is much darker than its background. Unshaded areas are left exactly as they
    were, so thin strokes on white lose nothing.
    """
    smooth = cv2.GaussianBlur(gray, (0, 0), max(0.8, dpi / 200))
    width = _px(0.12, dpi, 5) | 1
    # A light dither is sparse black dots on white: only averaged over a few of its periods
    # does it read as the grey it stands for (a light blur leaves white between the dots,
    # and the closing below keeps the white).
    period = _px(DITHER_INCHES, dpi, 3)
    background = cv2.morphologyEx(
        cv2.blur(gray, (period, period)), cv2.MORPH_CLOSE, _rect(width, width)
    )
    shaded = (background < SHADE_LEVEL) & (background > SOLID_LEVEL) & ~bars
    if not shaded.any():
        return gray.copy()
    # A shaded area is wider than a stroke in both directions, not the rim of a black shape.
    shaded = _open(shaded, _rect(width, width))
    text = smooth.astype(np.float32) < background.astype(np.float32) * TEXT_ON_SHADE
    out = gray.copy()
    out[shaded] = np.where(text[shaded], 0, WHITE)
    return out


# ---- specks ------------------------------------------------------------------------------


def _specks(ink: np.ndarray, components: Components, dpi: float) -> np.ndarray:
    """Tiny marks with nothing larger near them: noise, unlike the dot of an i or a decimal
    point, which always sit beside a letter."""
    count, labels, stats, _ = components
    side = _px(SPECK_INCHES, dpi)
    small_labels = np.flatnonzero(
        (stats[:, cv2.CC_STAT_WIDTH] <= side) & (stats[:, cv2.CC_STAT_HEIGHT] <= side)
    )
    small_labels = small_labels[small_labels != 0]
    if not len(small_labels):
        return np.zeros_like(ink)
    small = _labelled(labels, count, small_labels)
    reach = _px(SPECK_COMPANY_INCHES, dpi) * 2 + 1
    near_large = cv2.dilate((ink & ~small).astype(np.uint8), _rect(reach, reach)).astype(bool)
    accompanied = np.unique(labels[small & near_large])
    return small & ~_labelled(labels, count, accompanied)


def _labelled(labels: np.ndarray, count: int, chosen) -> np.ndarray:
    """The pixels of the chosen components (a lookup table: far quicker than np.isin)."""
    table = np.zeros(count, dtype=bool)
    table[np.asarray(list(chosen), dtype=np.int64)] = True
    table[0] = False
    return table[labels]


# ---- ruling lines and the cells they make ------------------------------------------------


def _rules(ink: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling lines: runs of ink longer than any letter's stroke."""
    horizontal = _lines(ink, dpi, H_RULE_INCHES, vertical=False)
    vertical = _lines(ink, dpi, V_RULE_INCHES, vertical=True)
    if vertical.any():
        # A short vertical run is a rule only where it meets a horizontal one (a box's
        # side); alone it may be the stem of a large letter.
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            vertical.astype(np.uint8), connectivity=8
        )
        meets = cv2.dilate(horizontal.astype(np.uint8), _rect(5, 5)).astype(bool)
        long_enough = stats[:, cv2.CC_STAT_HEIGHT] >= _px(V_RULE_ALONE_INCHES, dpi)
        keep = set(np.flatnonzero(long_enough)) | set(np.unique(labels[vertical & meets]))
        vertical = _labelled(labels, count, keep)
    return horizontal, vertical


def _lines(ink: np.ndarray, dpi: float, least_inches: float, *, vertical: bool) -> np.ndarray:
    """Straight runs at least `least_inches` long, found on a fax's broken rules too.

    A 1-bit rule, turned back from a skew, wanders between pixel rows and has gaps where
    the dither or the transmission dropped dots, so no single row holds a long run. The
    ink is first thickened across the rule by a pixel each side, straight segments longer
    than a letter's stroke are taken, and segments in line with small gaps between them
    joined; only then must the run be rule-long. Text is not joined this way: its strokes
    are shorter than a segment, and a word's letters never line up into one.
    """

    def shape(along: int, across: int) -> np.ndarray:
        return _rect(across, along) if vertical else _rect(along, across)

    thick = cv2.dilate(ink.astype(np.uint8), shape(1, RULE_WANDER_PX * 2 + 1))
    segments = cv2.morphologyEx(thick, cv2.MORPH_OPEN, shape(_px(RULE_SEGMENT_INCHES, dpi), 1))
    joined = cv2.morphologyEx(segments, cv2.MORPH_CLOSE, shape(_px(RULE_BREAK_INCHES, dpi), 1))
    runs = cv2.morphologyEx(joined, cv2.MORPH_OPEN, shape(_px(least_inches, dpi), 1))
    # Back to the rule's own thickness, so the letters that sit on it keep their feet.
    return cv2.erode(runs, shape(1, RULE_WANDER_PX * 2 + 1)).astype(bool) | (
        runs.astype(bool) & ink
    )


def _rule_pixels(
    ink: np.ndarray, horizontal: np.ndarray, vertical: np.ndarray, dpi: float
) -> np.ndarray:
    """The rules' pixels to whiten, except where a letter's stroke crosses a rule (a
    descender through an underline), which is kept so the letter stays whole."""
    rest = ink & ~(horizontal | vertical)
    gap = _px(RULE_GAP_INCHES, dpi, 3) | 1
    across_h = cv2.morphologyEx(rest.astype(np.uint8), cv2.MORPH_CLOSE, _rect(1, gap))
    across_v = cv2.morphologyEx(rest.astype(np.uint8), cv2.MORPH_CLOSE, _rect(gap, 1))
    crossing = (horizontal & across_h.astype(bool)) | (vertical & across_v.astype(bool))
    return (horizontal | vertical) & ~crossing


def _cells(rules: np.ndarray, dpi: float) -> list[tuple[int, int, int, int]]:
    """The white areas the rules close in on every side (x, y, w, h in pixels)."""
    if not rules.any():
        return []
    grid = cv2.dilate(rules.astype(np.uint8), _rect(3, 3))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (1 - grid).astype(np.uint8), connectivity=4
    )
    height, width = rules.shape
    min_w, min_h = (_px(inches, dpi) for inches in MIN_CELL_INCHES)
    cells = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue  # open to the page's edge: outside every box
        if w < min_w or h < min_h or area < 0.6 * w * h or w * h > 0.5 * width * height:
            continue
        cells.append((x - 2, y - 2, w + 4, h + 4))  # to the rules' middle, not their inner edge
    return cells


# ---- checkboxes and circled words --------------------------------------------------------


def _checkboxes(ink: np.ndarray, dpi: float) -> list[tuple[tuple[int, int, int, int], bool]]:
    """Small squares drawn with four straight sides, and whether each is marked: ink inside,
    and where that ink is faint, not much less than in the fullest box of its row.

    The sides are found as straight runs (an X or a tick is diagonal and is left out), so a
    tick that overflows its box does not hide the box; a letter's straight strokes never
    close all four sides of a square. A fax draws a box in broken dots, so the sides are
    looked for in the ink as sent and again with its pinholes closed (which can also join
    a box to the letter beside it: hence both).
    """
    least, most = (_px(mm / MM_PER_INCH, dpi) for mm in CHECKBOX_MM)
    run = max(3, round(least * 0.6))
    found = _squares(ink, ink, least, most, run)
    solid = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE, _rect(3, 3)).astype(bool)
    found += [
        box
        for box in _squares(solid, ink, least, most, run)
        if not any(_overlaps(box[0], other[0]) for other in found)
    ]
    # A box filled in solid shows a square inside its square: one box.
    found = [box for box in found if not any(_within(box[0], other[0]) for other in found)]
    return [(box, _marked(fill, _row_fills(box, found))) for box, fill in found]


def _row_fills(box: tuple[int, int, int, int], found: list[tuple[tuple, float]]) -> list[float]:
    """The ink inside each box on the same row as `box` (itself included)."""
    _, y, _, h = box
    return [fill for (_, oy, _, oh), fill in found if abs((oy + oh / 2) - (y + h / 2)) < h / 2]


def _marked(fill: float, row: list[float]) -> bool:
    if fill >= SURELY_MARKED_FILL:
        return True
    return fill > MARKED_FILL and fill >= MARKED_OF_ROW * max(row)


def _squares(
    ink: np.ndarray, inside_ink: np.ndarray, least: int, most: int, run: int
) -> list[tuple[tuple[int, int, int, int], float]]:
    sides = _open(ink, _rect(run, 1)) | _open(ink, _rect(1, run))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        sides.astype(np.uint8), connectivity=8
    )
    found = []
    for label in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[label])
        if not (least <= w <= most and least <= h <= most and max(w, h) <= 1.2 * min(w, h)):
            continue
        frame = labels[y : y + h, x : x + w] == label
        band = max(2, round(min(w, h) * 0.15))
        covered = (
            frame[:band].any(axis=0).mean(),
            frame[-band:].any(axis=0).mean(),
            frame[:, :band].any(axis=1).mean(),
            frame[:, -band:].any(axis=1).mean(),
        )
        if min(covered) < 0.85:
            continue
        inside = inside_ink[y + band + 1 : y + h - band - 1, x + band + 1 : x + w - band - 1]
        filled = float(inside.mean()) if inside.size else 0.0
        if _border(frame) > 0.2 * min(w, h) and filled < 0.5:
            continue  # sides as thick as a bold letter's strokes round a small counter: O, D, 0
        found.append(((x, y, w, h), filled))
    return found


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _border(frame: np.ndarray) -> int:
    """How thick the square's sides are drawn: rows or columns from each edge that are
    mostly ink, the thickest side."""

    def run(profile: np.ndarray) -> int:
        covered = profile >= 0.6
        return len(covered) if covered.all() else int(np.argmin(covered))

    rows, cols = frame.mean(axis=1), frame.mean(axis=0)
    return max(run(rows), run(rows[::-1]), run(cols), run(cols[::-1]))


def _within(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return inner != outer and ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _circles(
    ink: np.ndarray, components: Components, dpi: float, checkboxes: list[tuple[int, int, int, int]]
) -> list[tuple[int, int, int, int]]:
    """A ring drawn around a word: a thin closed loop, wider than tall, with ink inside."""
    count, labels, stats, _ = components
    least, most = _px(0.15, dpi), _px(0.8, dpi)
    found = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if not (least <= h <= most and h * 1.2 <= w <= h * 8) or (x, y, w, h) in checkboxes:
            continue
        ring = (labels[y : y + h, x : x + w] == label).astype(np.uint8)
        filled = ring.copy()
        # Flood the outside from a padded border; what is not reached is the ring and its hole.
        padded = cv2.copyMakeBorder(filled, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        mask = np.zeros((h + 4, w + 4), np.uint8)
        cv2.floodFill(padded, mask, (0, 0), 1)
        hole = padded[1:-1, 1:-1] == 0
        if hole.sum() < 0.4 * w * h or area > 0.35 * w * h:
            continue
        if (ink[y : y + h, x : x + w] & hole).sum() < 0.02 * hole.sum():
            continue  # an empty loop (a large O) circles nothing
        found.append((x, y, w, h))
    return found


def _crosses(
    ink: np.ndarray, components: Components, dpi: float, checkboxes: list[tuple[int, int, int, int]]
) -> list[tuple[int, int, int, int]]:
    """An X drawn by hand beside a word: two crossing strokes, larger than a printed
    letter, with nothing touching its sides (the letter X sits between other letters)."""
    count, labels, stats, _ = components
    least, most, clear = _px(0.13, dpi), _px(0.4, dpi), _px(0.04, dpi)
    found = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if not (least <= h <= most and 0.6 * h <= w <= 1.6 * h) or area > 0.35 * w * h:
            continue
        if any(_within((x, y, w, h), box) or _within(box, (x, y, w, h)) for box in checkboxes):
            continue
        shape = labels[y : y + h, x : x + w] == label
        near = cv2.dilate(shape.astype(np.uint8), _rect(5, 5)).astype(bool)
        steps = np.linspace(0, 1, max(w, h))
        rows = (steps * (h - 1)).round().astype(np.int64)
        cols = (steps * (w - 1)).round().astype(np.int64)
        if near[rows, cols].mean() < 0.8 or near[rows, w - 1 - cols].mean() < 0.8:
            continue
        m = max(1, min(w, h) // 5)
        middles = (
            shape[:m, w // 2 - m : w // 2 + m],
            shape[-m:, w // 2 - m : w // 2 + m],
            shape[h // 2 - m : h // 2 + m, :m],
            shape[h // 2 - m : h // 2 + m, -m:],
        )
        if any(middle.any() for middle in middles):
            continue  # ink at the middle of a side: a box, a star or a letter, not an X
        band = ink[y : y + h]
        if band[:, max(0, x - clear) : x].any() or band[:, x + w : x + w + clear].any():
            continue
        found.append((x, y, w, h))
    return found
