"""Reading a packet's pages: a PDF's text layer where there is one, OCR (tesseract) otherwise.

Every page comes back as lines of words with their boxes (fractions of the page) and a
confidence 0..1 (1.0 for a text layer), plus a PNG of the page for the review screen.
Problems a coordinator can act on raise ReadError with a sentence saying what to do.
"""

import functools
import io
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pypdfium2 as pdfium
from PIL import Image, ImageFilter, ImageOps, ImageSequence, UnidentifiedImageError

TESSERACT = os.environ.get("REFLOOP_TESSERACT", "tesseract")
OCR_TIMEOUT_SECONDS = 120
# A page with fewer characters than this in its text layer is a scan inside a PDF.
MIN_TEXT_LAYER_CHARS = 20
OCR_DPI = 204  # fax resolution: enough for the engine, cheaper than 300
REVIEW_IMAGE_WIDTH = 1020  # about 120 dpi across a letter page
MAX_OCR_WIDTH = 2600  # a 600 dpi scan is read at about 300 dpi
MAX_PAGES = 200
# A scan's resolution from its width: a letter or A4 page is about 8.5 inches across.
PAGE_WIDTH_INCHES = 8.5
# The clean-up steps before OCR (refloop.intake.cleanup.STEPS when None); the OCR bench
# turns them off one at a time to measure each one's gain.
CLEANUP_STEPS: tuple[str, ...] | None = None
# Tesseract's page segmentation modes, one pass each: 6 reads the page as one block of
# lines; a later pass's words are fused in by position (see fuse).
OCR_PASSES: tuple[int, ...] = (6,)
FUSE_MIN_CONF = 0.5
FUSE_OVERLAP = 0.3
FUSE_BETTER_BY = 0.3
# A second look, one line at a time (Tesseract's mode 7, the crop enlarged: the engine
# reads small print better larger), at the lines of ink the page pass read nothing on.
# Re-reading the words it read with low confidence the same way did not pay: as often
# worse as better ("Tricare" -> "Ticare"), the two confidences not being comparable.
SECOND_LOOK = True
REREAD_PAD_INCHES = 0.04
REREAD_RIM_INCHES = 0.01  # above and below the line's ink
# (enlargement, strokes thinned, segmentation mode) tried in turn until a word reads with
# confidence: a single line (7), then a raw line without the engine's line-finding (13).
REREAD_TRIES = ((2, False, 7), (3, False, 13), (2, True, 7))
MAX_REREADS = 20  # a page of noise must not cost a minute
# The words Tesseract doubts read again by a second engine (refloop.intake.recognizer),
# where it is installed.
SECOND_ENGINE = True
PDF_POINTS_PER_INCH = 72


class ReadError(Exception):
    """The packet cannot be read; `reason` tells a coordinator what to do about it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OcrUnavailable(ReadError):
    pass


@dataclass
class Word:
    text: str
    conf: float  # 0..1
    x0: float  # fractions of the page's width and height
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Box:
    """A rectangle drawn on the page (a table cell, a checkbox), in fractions of the page."""

    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Mark:
    """A checkbox or tick target found in the page image, and whether it is marked."""

    box: Box
    marked: bool
    how: str = ""  # "ink" inside the box, "circle" around a word, "x" beside it


@dataclass
class PageText:
    number: int  # 1-based
    method: str  # "text" or "ocr"
    lines: list[list[Word]]
    image_png: bytes = b""
    confidence: float | None = None
    # The page's drawn geometry, where the image was analysed: ruled table cells and
    # checkboxes. Empty for a text layer or where nothing was found.
    cells: list[Box] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(" ".join(word.text for word in line) for line in self.lines)

    @property
    def words(self) -> list[Word]:
        return [word for line in self.lines for word in line]


def ocr_available() -> bool:
    return shutil.which(TESSERACT) is not None


# ---- the packet's pages -----------------------------------------------------------------


def count_pages(content: bytes, content_type: str) -> int:
    if content_type == "application/pdf":
        document = _open_pdf(content)
        try:
            return _checked_count(len(document))
        finally:
            document.close()
    image = _open_image(content)
    return _checked_count(getattr(image, "n_frames", 1))


def read_pages(content: bytes, content_type: str) -> Iterator[PageText]:
    """Each page in order, read as it is reached (so the caller can report progress)."""
    if content_type == "application/pdf":
        yield from _read_pdf(content)
    else:
        yield from _read_images(content)


def _checked_count(count: int) -> int:
    if count == 0:
        raise ReadError("The document has no pages.")
    if count > MAX_PAGES:
        raise ReadError(
            f"The document has {count} pages; intake reads at most {MAX_PAGES}. "
            "Ask the sender to split it."
        )
    return count


def _open_pdf(content: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise ReadError(
                "The PDF is password-protected; ask the sender for an unprotected copy."
            ) from None
        raise ReadError(
            "The PDF is damaged and cannot be opened; ask the sender to send it again."
        ) from None


def _read_pdf(content: bytes) -> Iterator[PageText]:
    document = _open_pdf(content)
    try:
        for index in range(_checked_count(len(document))):
            try:
                page = document[index]
            except pdfium.PdfiumError:
                raise ReadError(
                    f"Page {index + 1} of the PDF is damaged; ask the sender to send it again."
                ) from None
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                try:
                    lines = _text_layer_lines(textpage, width, height)
                finally:
                    textpage.close()
                if sum(len(w.text) for line in lines for w in line) >= MIN_TEXT_LAYER_CHARS:
                    image = _render(page, REVIEW_IMAGE_WIDTH / width * PDF_POINTS_PER_INCH)
                    yield PageText(
                        number=index + 1,
                        method="text",
                        lines=lines,
                        image_png=_png(image),
                        confidence=1.0,
                    )
                else:
                    yield _ocr_page(index + 1, _render(page, OCR_DPI))
            finally:
                page.close()
    finally:
        document.close()


def _render(page, dpi: float) -> Image.Image:
    bitmap = page.render(scale=dpi / PDF_POINTS_PER_INCH, grayscale=True)
    return bitmap.to_pil().convert("L")


def _text_layer_lines(textpage, width: float, height: float) -> list[list[Word]]:
    """Words with their boxes from a PDF text layer, in the layer's line order."""
    count = textpage.count_chars()
    text = textpage.get_text_range(0, count) if count else ""
    lines: list[list[Word]] = []
    line: list[Word] = []
    chars: list[str] = []
    box: list[float] = []

    def end_word():
        if chars:
            x0, bottom, x1, top = box
            line.append(
                Word(
                    "".join(chars),
                    1.0,
                    x0 / width,
                    1 - top / height,
                    x1 / width,
                    1 - bottom / height,
                )
            )
            chars.clear()
            box.clear()

    for index, char in enumerate(text[:count]):
        if char in "\r\n":
            end_word()
            if line:
                lines.append(line)
                line = []
            continue
        if char.isspace():
            end_word()
            continue
        left, bottom, right, top = textpage.get_charbox(index, loose=True)
        if chars and left - box[2] > (top - bottom) * 0.9:  # a gap with no space character
            end_word()
        if not chars:
            box[:] = [left, bottom, right, top]
        else:
            box[:] = [min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top)]
        chars.append(char)
    end_word()
    if line:
        lines.append(line)
    return lines


def _open_image(content: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(content))
        image.load()
    except Image.DecompressionBombError:
        raise ReadError(
            "The image is too large to read (over the pixel limit); scan it at 300 dpi or less."
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ReadError(
            "The image file is damaged and cannot be opened; ask the sender to send it again."
        ) from None
    return image


def _read_images(content: bytes) -> Iterator[PageText]:
    image = _open_image(content)
    _checked_count(getattr(image, "n_frames", 1))
    try:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            yield _ocr_page(index + 1, _upright(frame))
    except (OSError, ValueError, SyntaxError):
        raise ReadError(
            "A page of the image file is damaged; ask the sender to send it again."
        ) from None


def _upright(frame: Image.Image) -> Image.Image:
    """Greyscale with square pixels (a fax at 204x98 dpi is stretched back to its shape)."""
    page = frame.convert("L")
    try:
        xdpi, ydpi = (float(v) for v in frame.info.get("dpi", (0, 0)))
    except (TypeError, ValueError, ZeroDivisionError):
        xdpi = ydpi = 0.0
    if xdpi > 0 and ydpi > 0 and abs(xdpi / ydpi - 1) > 0.1:
        page = page.resize((page.width, round(page.height * xdpi / ydpi)))
    return page


# ---- OCR ----------------------------------------------------------------------------------


def _ocr_page(number: int, image: Image.Image) -> PageText:
    # Imported here: the clean-up module builds this module's Box and Mark.
    from refloop.intake import cleanup, recognizer

    if image.width > MAX_OCR_WIDTH:
        image = image.resize((MAX_OCR_WIDTH, round(image.height * MAX_OCR_WIDTH / image.width)))
    steps = cleanup.STEPS if CLEANUP_STEPS is None else CLEANUP_STEPS
    cleaned = cleanup.clean(image, dpi=image.width / PAGE_WIDTH_INCHES, steps=steps)
    dpi = image.width / PAGE_WIDTH_INCHES
    lines = ocr_lines(cleaned.image)
    if SECOND_LOOK:
        lines = second_look(cleaned.image, lines, dpi=dpi)
    if SECOND_ENGINE and recognizer.available():
        lines = recognizer.reread(cleaned.image, lines)
    words = [word for line in lines for word in line]
    confidence = sum(w.conf for w in words) / len(words) if words else None
    # The review image is the straightened page, so the words', cells' and marks' boxes
    # fall where they were read.
    review = cleaned.upright.resize(
        (REVIEW_IMAGE_WIDTH, round(image.height * REVIEW_IMAGE_WIDTH / image.width)),
        Image.Resampling.BOX,
    )
    return PageText(
        number=number,
        method="ocr",
        lines=lines,
        image_png=_png(review),
        confidence=confidence,
        cells=cleaned.cells,
        marks=cleaned.marks,
    )


def tesseract_tsv(image: Image.Image, *, psm: int = 6) -> str:
    """The engine's TSV output for one page image, on one core.

    Tesseract runs in this process through tesserocr (its wheel carries libtesseract; the
    model is Debian's): loaded once per thread rather than once per page, it read the
    bench's pages in half the time the `tesseract` command took.
    """
    api = _engine()
    api.SetPageSegMode(psm)
    try:
        api.SetImage(image)
        finished = api.Recognize(timeout=OCR_TIMEOUT_SECONDS * 1000)
    except RuntimeError:
        raise ReadError(
            "The OCR engine could not read a page image; the scan may be damaged."
        ) from None
    if not finished:
        raise ReadError(
            f"Reading a page took longer than {OCR_TIMEOUT_SECONDS} s; the scan may be "
            "unusually dense or damaged. Ask the sender for a clearer copy."
        )
    return api.GetTSVText(0)


_engines = threading.local()


def _engine():
    """This thread's Tesseract, started on first use (a model load costs a few tenths of a
    second; an engine is not safe to share between threads)."""
    if not ocr_available():
        raise OcrUnavailable("OCR engine not installed: apt-get install tesseract-ocr")
    api = getattr(_engines, "api", None)
    if api is None:
        import tesserocr

        data = _tessdata()
        if not os.path.exists(os.path.join(data, "eng.traineddata")):
            raise OcrUnavailable(
                "OCR engine's English data is missing: apt-get install tesseract-ocr-eng"
            )
        api = _engines.api = tesserocr.PyTessBaseAPI(path=data, lang="eng")
    return api


@functools.cache
def _tessdata() -> str:
    """Where Debian's tesseract keeps its models (REFLOOP_TESSDATA or TESSDATA_PREFIX
    override), as the command itself reports it."""
    override = os.environ.get("REFLOOP_TESSDATA") or os.environ.get("TESSDATA_PREFIX")
    if override:
        return override
    listing = subprocess.run(  # noqa: S603 - fixed arguments
        [TESSERACT, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    first = listing.splitlines()[0] if listing else ""
    return first.split('"')[1] if first.count('"') >= 2 else "/usr/share/tesseract-ocr/5/tessdata"


@functools.cache
def engine_words() -> frozenset[str]:
    """The words of the OCR engine's own English dictionary, lower case: names and medical
    words among them ("hollis", "bergstrom", "mammogram"). Unpacked from its model once per
    process (about a second, with the tools Debian's tesseract-ocr ships); empty where they
    are missing, and then no word is judged by it."""
    combine, unpack = shutil.which("combine_tessdata"), shutil.which("dawg2wordlist")
    model = os.path.join(_tessdata(), "eng.traineddata")
    if not (combine and unpack and os.path.exists(model)):
        return frozenset()
    with tempfile.TemporaryDirectory(prefix="refloop-dawg-") as folder:
        prefix = os.path.join(folder, "eng.")
        listing = prefix + "words"
        try:
            subprocess.run(  # noqa: S603 - fixed arguments
                [combine, "-u", model, prefix], capture_output=True, timeout=60, check=True
            )
            subprocess.run(  # noqa: S603 - fixed arguments
                [unpack, prefix + "lstm-unicharset", prefix + "lstm-word-dawg", listing],
                capture_output=True,
                timeout=60,
                check=True,
            )
            with open(listing, encoding="utf-8") as words:
                return frozenset(words.read().lower().split())
        except (OSError, subprocess.SubprocessError):
            return frozenset()


def ocr_lines(image: Image.Image, passes: tuple[int, ...] | None = None) -> list[list[Word]]:
    """The page's words in lines: the first pass's reading, with the words of later passes
    (other segmentation modes) filling the places where it read nothing or much worse."""
    passes = passes or OCR_PASSES
    lines = _tsv_lines(tesseract_tsv(image, psm=passes[0]), image.size)
    for psm in passes[1:]:
        extra = [
            word for line in _tsv_lines(tesseract_tsv(image, psm=psm), image.size) for word in line
        ]
        lines = fuse(lines, extra)
    return lines


def second_look(image: Image.Image, lines: list[list[Word]], *, dpi: float) -> list[list[Word]]:
    """The page pass's lines with the lines of ink it left unread, each read alone (fused
    as another pass's words are: a word only where none was)."""
    from refloop.intake import cleanup

    read = [Box(w.x0, w.y0, w.x1, w.y1) for line in lines for w in line]
    unread = cleanup.unread_lines(image, read, dpi=dpi)
    # A line read with at least one word the engine trusts is taken whole: its doubtful
    # words ("Exertional" at 0.1 before "chest pain ...") are shown doubtful, not dropped
    # to leave a shorter value that looks whole. A line of no trusted word is noise.
    extra = [
        word
        for words in (_read_region(image, box, dpi) for box in unread[:MAX_REREADS])
        if _trusted(words)
        for word in words
    ]
    return fuse(lines, extra, least_conf=0.0) if extra else lines


def _trusted(words: list[Word]) -> bool:
    return any(w.conf >= FUSE_MIN_CONF and any(c.isalnum() for c in w.text) for w in words)


def _read_region(image: Image.Image, box: Box, dpi: float) -> list[Word]:
    """The words of one region read as a single line, in fractions of the whole page.

    The crop is cut at the line's own ink above and below (a neighbour line's descenders
    in it made the engine read nothing) and set on a white margin. Where the engine reads
    nothing it can trust, it tries again larger, then with the strokes thinned: heavy bold
    print a fax blotted ("Insurance:" in a condensed bold face) reads only so."""
    width, height = image.size
    pad = round(REREAD_PAD_INCHES * dpi)
    rim = round(REREAD_RIM_INCHES * dpi)
    left, right = max(0, round(box.x0 * width) - pad), min(width, round(box.x1 * width) + pad)
    top, bottom = max(0, round(box.y0 * height) - rim), min(height, round(box.y1 * height) + rim)
    crop = ImageOps.expand(image.crop((left, top, right, bottom)), border=pad, fill=255)
    words: list[Word] = []
    for scale, thin, psm in REREAD_TRIES:
        larger = crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.LANCZOS)
        if thin:
            larger = larger.filter(ImageFilter.MaxFilter(3))
        words = [
            w for line in _tsv_lines(tesseract_tsv(larger, psm=psm), larger.size) for w in line
        ]
        if _trusted(words):
            break
    # Back from the enlarged, bordered crop to fractions of the page.
    span_x, span_y = crop.width / width, crop.height / height
    origin_x, origin_y = (left - pad) / width, (top - pad) / height
    return [
        Word(
            w.text,
            w.conf,
            origin_x + w.x0 * span_x,
            origin_y + w.y0 * span_y,
            origin_x + w.x1 * span_x,
            origin_y + w.y1 * span_y,
        )
        for w in words
    ]


def _tsv_lines(tsv: str, size: tuple[int, int]) -> list[list[Word]]:
    width, height = size
    lines: dict[tuple[str, str, str], list[Word]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12:
            continue
        # A form's blank line or a box's side read as "_" or "|" glued to the word on it.
        text = cols[11].strip().strip("_|")
        if not text:
            continue
        try:
            conf = float(cols[10])
            left, top, w, h = (int(v) for v in cols[6:10])
        except ValueError:
            continue
        if conf < 0:
            continue
        key = (cols[2], cols[3], cols[4])
        lines.setdefault(key, []).append(
            Word(
                text,
                conf / 100,
                left / width,
                top / height,
                (left + w) / width,
                (top + h) / height,
            )
        )
    return [sorted(line, key=lambda w: w.x0) for line in lines.values()]


def fuse(
    lines: list[list[Word]], extra: list[Word], *, least_conf: float = FUSE_MIN_CONF
) -> list[list[Word]]:
    """The lines with another pass's words added by position: a word where the lines have
    none, or in place of the one word there that was read with much less confidence. The
    pass's own words do not stand in each other's way: the engine may box a word over its
    neighbours ("Reason" boxed over "Reason for referral:")."""
    lines = [list(line) for line in lines]
    added: set[int] = set()
    for word in extra:
        if word.conf < least_conf or not any(c.isalnum() for c in word.text):
            continue
        hits = [
            (line, index)
            for line in lines
            for index, mine in enumerate(line)
            if id(mine) not in added and _overlap(word, mine) > FUSE_OVERLAP
        ]
        if not hits:
            _place(lines, word)
            added.add(id(word))
        elif len(hits) == 1 and hits[0][0][hits[0][1]].conf < word.conf - FUSE_BETTER_BY:
            line, index = hits[0]
            line[index] = word
    for line in lines:
        line.sort(key=lambda w: w.x0)
    return sorted(lines, key=lambda line: min(w.y0 for w in line))


def _overlap(a: Word, b: Word) -> float:
    """The shared area as a share of the smaller box."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a.x1 - a.x0) * (a.y1 - a.y0), (b.x1 - b.x0) * (b.y1 - b.y0))
    return w * h / smaller if smaller > 0 else 0.0


def _place(lines: list[list[Word]], word: Word) -> None:
    """Into the line it sits on (most of its height shared), else as a line of its own."""
    height = word.y1 - word.y0
    best, shared = None, 0.5 * height
    for line in lines:
        top, bottom = min(w.y0 for w in line), max(w.y1 for w in line)
        overlap = min(bottom, word.y1) - max(top, word.y0)
        if overlap > shared:
            best, shared = line, overlap
    if best is None:
        lines.append([word])
    else:
        best.append(word)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()
