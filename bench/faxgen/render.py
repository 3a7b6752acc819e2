"""HTML to a faxed file: Chromium prints the packet to PDF, pypdfium2 rasterises each page at
fax resolution (204x196 dpi has non-square pixels), numpy and Pillow degrade it the way a
fax line does, and the pages are saved image-only (a PDF of images, or a Group 4 TIFF).

Rendered packets are cached under bench/.faxcache/<generator hash>/ (or $REFLOOP_FAXCACHE),
so a run renders only what the generator changed; Chromium is started only when something is missing.
"""

import functools
import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter

from .packets import Faxing, Packet, generator_hash
from .sheets import HANDS, MONO, SANS, SERIF

# REFLOOP_FAXCACHE lets several checkouts of the same generator share one rendering.
CACHE_DIR = Path(
    os.environ.get("REFLOOP_FAXCACHE") or Path(__file__).resolve().parent.parent / ".faxcache"
)


def chromium_path() -> str:
    path = os.environ.get("REFLOOP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise RuntimeError(
            "The evaluation set is drawn by Chromium: `apt-get install chromium` (Debian) or "
            "set REFLOOP_CHROMIUM to a Chromium binary."
        )
    return path


class Printer:
    """One headless Chromium for a whole run, started on first use."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None

    def pdf(self, html: str) -> bytes:
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=chromium_path(),
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            )
        tab = self._browser.new_page()
        try:
            tab.set_content(html, wait_until="load")
            tab.evaluate("document.fonts.ready")
            return tab.pdf(prefer_css_page_size=True, print_background=True)
        finally:
            tab.close()

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
            self._browser = self._playwright = None


def degrade(
    image: Image.Image, faxing: Faxing, page_index: int, rng: np.random.Generator
) -> Image.Image:
    """A clean grey page as it comes out of a fax machine: 1-bit, skewed, specked, streaked."""
    grey = image.convert("L")
    if faxing.stroke == "thick":
        grey = grey.filter(ImageFilter.MinFilter(3))
    grey = grey.rotate(faxing.skews[page_index], resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = np.asarray(grey, dtype=np.int16).copy()
    if faxing.stroke == "broken":
        # Dropouts: ink pixels that the scanner missed, in short runs along the stroke.
        holes = rng.random(pixels.shape) < 0.10
        pixels[holes & (pixels < 128)] = 255
    if faxing.dither:
        bits = Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).convert("1")
        ink = ~np.asarray(bits)
    else:
        ink = pixels < faxing.threshold
    specks = rng.random(ink.shape) < faxing.specks
    ink |= specks
    ink &= ~(rng.random(ink.shape) < faxing.specks / 4)  # white specks inside strokes
    height, width = ink.shape
    for _ in range(faxing.streaks):
        if rng.random() < 0.6:
            x = int(rng.integers(0, width - 3))
            run = rng.random(height) < 0.85  # a streak with gaps where the sensor caught up
            ink[:, x : x + int(rng.integers(1, 3))] |= run[:, None]
        else:
            y = int(rng.integers(0, height - 3))
            ink[y : y + int(rng.integers(1, 4)), :] |= rng.random(width) < 0.7
    return Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).convert("1")


def fax_pages(pdf: bytes, faxing: Faxing, seed: int) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    rng = np.random.default_rng(seed)
    dpi_x, dpi_y = faxing.dpi
    pages = []
    for index in range(len(document)):
        image = document[index].render(scale=dpi_x / 72, grayscale=True).to_pil()
        if dpi_y != dpi_x:
            # Fine mode: 196 lines per inch down the page, 204 dots across.
            image = image.resize(
                (image.width, round(image.height * dpi_y / dpi_x)), Image.Resampling.LANCZOS
            )
        pages.append(degrade(image, faxing, index, rng))
    document.close()
    return pages


def save(pages: list[Image.Image], faxing: Faxing) -> bytes:
    buffer = io.BytesIO()
    if faxing.file == "tif":
        pages[0].save(
            buffer,
            "TIFF",
            compression="group4",
            save_all=True,
            append_images=pages[1:],
            dpi=faxing.dpi,
        )
    else:
        pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], dpi=faxing.dpi)
    return buffer.getvalue()


@functools.cache
def missing_fonts() -> list[str]:
    """The typefaces the layouts ask for that this machine lacks. Chromium would quietly
    draw those pages in a fallback face (a hand-filled form in plain sans), so a set drawn
    without them is not the set the labels and the recorded figures are about."""
    listed = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=False
    ).stdout
    families = {name.strip() for line in listed.splitlines() for name in line.split(",")}
    return [font for font in [*SANS, *SERIF, *MONO, *HANDS] if font not in families]


def cached_file(packet: Packet) -> Path:
    return CACHE_DIR / generator_hash() / f"{packet.seed}.{packet.faxing.file}"


def render(packet: Packet, printer: Printer) -> bytes:
    """The packet as a faxed file, from the cache or drawn now."""
    path = cached_file(packet)
    if path.exists():
        return path.read_bytes()
    if missing_fonts():
        raise RuntimeError(
            f"The evaluation set needs the fonts {', '.join(missing_fonts())}; `./run bench` "
            "installs them (Debian: fonts-comic-neue fonts-humor-sans fonts-dkg-handwriting "
            "fonts-freefont-ttf fonts-liberation fonts-dejavu-core)."
        )
    pdf = printer.pdf(packet.html)
    printed = len(pdfium.PdfDocument(pdf))
    if printed != packet.pages:
        raise RuntimeError(
            f"seed {packet.seed} ({packet.layout}): Chromium printed {printed} pages, the "
            f"packet has {packet.pages}; a page overflows its sheet"
        )
    content = save(fax_pages(pdf, packet.faxing, packet.seed), packet.faxing)
    if not path.parent.exists():
        # A new generator: the packets an older one rendered will not be read again.
        for old in CACHE_DIR.glob("*"):
            shutil.rmtree(old, ignore_errors=True)
        path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return content


def preview(content: bytes, faxing: Faxing, folder: Path, seed: int) -> list[Path]:
    """The faxed file's pages as PNGs, to look at."""
    from PIL import ImageSequence

    folder.mkdir(parents=True, exist_ok=True)
    if faxing.file == "tif":
        images = [f.copy() for f in ImageSequence.Iterator(Image.open(io.BytesIO(content)))]
    else:
        document = pdfium.PdfDocument(content)
        images = [
            document[i].render(scale=faxing.dpi[0] / 72).to_pil() for i in range(len(document))
        ]
    paths = []
    for number, image in enumerate(images, start=1):
        path = folder / f"{seed}-{number}.png"
        image.save(path)
        paths.append(path)
    return paths
