"""A second OCR engine for the words Tesseract is unsure of: PP-OCR's text recogniser, run
through RapidOCR on ONNX Runtime with the models its wheel ships (nothing is downloaded).

Tesseract reads print well and handwriting barely (a filled-in form's entries come back at
confidences near 0.1: "C760>5SU464" for "(760)531-4464"). PP-OCR's recogniser, a neural
line reader, reads the same crops nearly letter for letter. It costs about 30-130 ms a
crop on one core, so it reads only the stretches of a line holding a word Tesseract was
unsure of, each cropped from the cleaned page as one line. Where Tesseract doubted a word
and the recogniser is clearly surer, its reading replaces Tesseract's; where Tesseract
half-trusted a word, the two readings are compared, and a word both read alike counts as
surer, one they read differently as less sure ("Carlas" against "Carlos"). Its detector
(a whole-page pass, 6-8 s a page on one core) is not used: Tesseract's word boxes say
where to look.
"""

import difflib
import importlib.util
import threading
import unicodedata
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from refloop.intake.reading import Word

# A word Tesseract read below this is doubted: the second engine's reading may replace it.
DOUBT_BELOW = 0.6
# The second engine's reading replaces a run only when it is at least this sure, and surer
# than Tesseract was by this margin (the two scales differ: PP-OCR's scores run high).
TRUST_FROM = 0.85
SURER_BY = 0.25
# Its scores run high, also on its misreadings ("M10.9" read "M0.9" at 0.95, "Kaiser" read
# "aiser" at 0.89): a word only it read, where Tesseract read another, counts just below
# the confidence a field is trusted at on its own (extraction.REVIEW_BELOW, 0.80), so a
# value resting on it is trusted only by the field's own evidence (a check digit, the code
# set, a date that reads one way only, a name in the dictionary, a plan in plan words).
CONFIDENCE_CAP = 0.79
# A word Tesseract read below this is checked against the second engine's reading: read
# alike, it counts AGREED sure; read otherwise, DISAGREED (a field resting on it is then
# checked by a person unless a check a misread rarely survives passes). Words shorter than
# MIN_CHECKED_LETTERS are left as they are ("1" is inside any reading).
CHECK_BELOW = 0.9
AGREED = 0.9
DISAGREED = 0.5
MIN_CHECKED_LETTERS = 3
# A word Tesseract read at this or above anchors the stretch: the second reading must keep it.
ANCHOR_FROM = CHECK_BELOW
# Doubted words further apart than this many line heights are separate runs (another
# column of the form); a run is cropped with this much of a line height around it.
GAP_HEIGHTS = 2.0
PAD_HEIGHTS = 0.35
MAX_RUNS = 40  # a page of noise must not cost a minute
MIN_PIXELS_HIGH = 8
CHECK_MARKS = "☐☑☒✓✔"


@dataclass(frozen=True)
class Run:
    line: int
    start: int
    end: int  # exclusive


def available() -> bool:
    return all(importlib.util.find_spec(name) for name in ("rapidocr", "onnxruntime"))


_local = threading.local()


def _engine():
    """This thread's recogniser, loaded on first use (about a second: a 21 MB model)."""
    engine = getattr(_local, "engine", None)
    if engine is None:
        from rapidocr import RapidOCR

        engine = _local.engine = RapidOCR(
            params={
                "Global.log_level": "warning",
                # One core per intake worker, as Tesseract runs (OMP_THREAD_LIMIT=1).
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
    return engine


def doubted_runs(lines: list[list[Word]], *, aspect: float = 1.0) -> list[Run]:
    """The stretches of a line that hold a word Tesseract was unsure of (read below
    CHECK_BELOW: doubted, or half-trusted), whole: a
    line is cut into stretches where a gap wider than GAP_HEIGHTS line heights parts two
    words (another column of the form), and a stretch is read again from its first word to
    its last, so the recogniser sees a whole entry rather than the pieces Tesseract cut.
    `aspect` is the page's height over its width (a word's box is in fractions of both)."""
    runs: list[Run] = []
    for index, line in enumerate(lines):
        start = 0
        for position in range(1, len(line) + 1):
            if position < len(line):
                previous, word = line[position - 1], line[position]
                height = max(word.y1 - word.y0, previous.y1 - previous.y0) * aspect
                if word.x0 - previous.x1 <= GAP_HEIGHTS * height:
                    continue
            if any(_unsure(w) for w in line[start:position]):
                runs.append(Run(index, start, position))
            start = position
    return runs


def _doubted(word: Word) -> bool:
    return word.conf < DOUBT_BELOW and any(c.isalnum() for c in word.text)


def _unsure(word: Word) -> bool:
    return word.conf < CHECK_BELOW and any(c.isalnum() for c in word.text)


def reread(image: Image.Image, lines: list[list[Word]]) -> list[list[Word]]:
    """The lines with each stretch Tesseract was unsure of read again by the second engine:
    a doubted stretch replaced by its reading where that is clearly surer; otherwise each
    word Tesseract half-trusted made surer where the two engines read it alike, and less
    sure where they do not."""
    runs = doubted_runs(lines, aspect=image.height / image.width)[:MAX_RUNS]
    if not runs:
        return lines
    page = np.asarray(image.convert("RGB"))
    lines = [list(line) for line in lines]
    # Right to left within a line, so a replaced run does not shift the next one's indexes.
    for run in sorted(runs, key=lambda r: (r.line, -r.start)):
        words = lines[run.line][run.start : run.end]
        reading = _recognise(page, words)
        if reading is not None:
            replaced = _replacement(words, reading)
            lines[run.line][run.start : run.end] = replaced or _checked(words, reading.text)
    return lines


@dataclass(frozen=True)
class Reading:
    text: str
    score: float
    info: object  # the recogniser's letters and the output columns they were read in
    left: float  # the crop's sides, in fractions of the page's width
    right: float


def _recognise(page: np.ndarray, words: list[Word]) -> Reading | None:
    """The second engine's reading of a stretch, where it is worth anything: sure enough,
    and keeping every word Tesseract was sure of."""
    height, width = page.shape[:2]
    x0, x1 = min(w.x0 for w in words), max(w.x1 for w in words)
    y0, y1 = min(w.y0 for w in words), max(w.y1 for w in words)
    pad = PAD_HEIGHTS * (y1 - y0) * height  # in pixels
    left, right = max(0, round(x0 * width - pad)), min(width, round(x1 * width + pad))
    top, bottom = max(0, round(y0 * height - pad)), min(height, round(y1 * height + pad))
    if bottom - top < MIN_PIXELS_HIGH or right - left < MIN_PIXELS_HIGH:
        return None
    result = _engine()(
        page[top:bottom, left:right],
        use_det=False,
        use_cls=False,
        use_rec=True,
        return_word_box=True,
    )
    if not result.txts or not result.word_results:
        return None
    text, score = result.txts[0], float(result.scores[0])
    if score < TRUST_FROM or not _keeps_anchors(words, text):
        return None
    return Reading(text, score, result.word_results[0], left / width, right / width)


def _replacement(words: list[Word], reading: Reading) -> list[Word] | None:
    """The second engine's reading laid over a stretch holding doubted words, where it is
    clearly surer of them than Tesseract was (the confident words around them were read
    again only to give the recogniser the whole entry)."""
    doubted = [w.conf for w in words if _doubted(w)]
    if not doubted or reading.score < sum(doubted) / len(doubted) + SURER_BY:
        return None
    # As high as the words they replace, not the crop: a crop's margin reaches into the
    # lines above and below, and words that tall are grouped into a neighbour's line.
    top, bottom = min(w.y0 for w in words), max(w.y1 for w in words)
    read = [
        Word(text, min(conf, CONFIDENCE_CAP), reading.left + a, top, reading.left + b, bottom)
        for text, conf, a, b in _words(reading.info, reading.right - reading.left)
    ]  # fmt: skip
    return _aligned(words, read) if read else None


def _aligned(words: list[Word], read: list[Word]) -> list[Word]:
    """Tesseract's words with the second engine's laid over them, word for word: where the
    two read alike, Tesseract's word (its box is exact; the recogniser's are estimated from
    its output columns), surer; where they read a word each differently, the recogniser's
    text in Tesseract's box; what only Tesseract read kept where it was not in doubt, and
    dropped where it was (specks, a box's side read as letters); the rest the recogniser's
    words."""
    ours, theirs = [_folded(w.text) for w in words], [_folded(w.text) for w in read]
    out: list[Word] = []
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        mine, other = words[i1:i2], read[j1:j2]
        if op == "equal":
            # Alike: Tesseract's word, as sure as the surer reading (a doubted word as sure
            # as the recogniser was of it).
            out += [_agreed(w) if w.conf >= DOUBT_BELOW else replace(w, conf=max(w.conf, r.conf))
                    for w, r in zip(mine, other, strict=True)]  # fmt: skip
        elif op == "delete":
            out += [w for w in mine if not _doubted(w)]
        elif op == "replace" and len(mine) == len(other):
            out += [replace(w, text=r.text, conf=r.conf) for w, r in zip(mine, other, strict=True)]
        else:
            out += other
    return out


def _agreed(word: Word) -> Word:
    if len(_folded(word.text)) < MIN_CHECKED_LETTERS:
        return word
    return replace(word, conf=max(word.conf, AGREED))


def _checked(words: list[Word], text: str) -> list[Word]:
    """Tesseract's words, each it half-trusted made surer where the second engine read it
    too, and less sure where it read something else there."""
    read = _folded(text)
    out = []
    for word in words:
        key = _folded(word.text)
        if DOUBT_BELOW <= word.conf < CHECK_BELOW and len(key) >= MIN_CHECKED_LETTERS:
            word = replace(word, conf=max(word.conf, AGREED) if key in read else
                           min(word.conf, DISAGREED))  # fmt: skip
        out.append(word)
    return out


def _keeps_anchors(words: list[Word], text: str) -> bool:
    """Whether the recogniser's reading still has every word Tesseract was sure of in the
    stretch (its label, the words around the doubted ones). Where it lost or changed one,
    it misread the stretch (a long line with letters dropped: "refeing" for "referring"),
    and its reading of the doubted words is not trusted either."""
    read = _folded(text)
    return all(_folded(w.text) in read for w in words if w.conf >= ANCHOR_FROM)


def _folded(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _words(info, span: float) -> list[tuple[str, float, float, float]]:
    """(text, confidence, left, right) per word of one recognised line, the left and right
    as fractions of the page from the crop's left edge, from the columns of the
    recogniser's output each word's letters were read in."""
    if not info.words or not info.line_txt_len:
        return []
    column = span / info.line_txt_len
    confidences = list(info.confs)
    found = []
    for letters, columns in zip(info.words, info.word_cols, strict=False):
        text = _plain("".join(letters))
        taken, confidences = confidences[: len(letters)], confidences[len(letters) :]
        if not text or not columns:
            continue
        conf = min(taken) if taken else 0.0
        found.append(
            (text, float(conf), max(0.0, columns[0] - 0.5) * column, (columns[-1] + 1) * column)
        )
    return found


def _plain(text: str) -> str:
    """The text in the characters a US form is written in, and ticked boxes: full-width
    forms folded to ASCII (NFKC), anything else (the model also knows Chinese) dropped."""
    folded = unicodedata.normalize("NFKC", text)
    kept = (c for c in folded if (c.isascii() and c.isprintable()) or c in CHECK_MARKS)
    return "".join(kept).strip()
