"""The page every PDF refloop prints is drawn on (the how-to-refer one-pager, the analytics
scorecard and report, fax and letter documents): Letter size, DejaVu fonts with a Helvetica
fallback, a footer with page numbers, and the house colours."""

import logging
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

log = logging.getLogger(__name__)
# fpdf2's font subsetting logs every glyph table at INFO; one PDF would fill a screen.

# A Unicode font, so names such as "Peña" or "Łukasz" print as typed.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"
INK = (33, 37, 41)
MUTED = (79, 91, 103)
ACCENT = (29, 78, 216)


class OnePager(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="Letter")
        self.footer_text = footer_text
        self.set_margins(14, 12, 14)
        self.set_auto_page_break(auto=True, margin=14)
        self.unicode_font = (FONT_DIR / "DejaVuSans.ttf").exists()
        if self.unicode_font:
            self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
            self.add_font(FONT, "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
        else:
            log.warning("DejaVu fonts not found (fonts-dejavu-core); the one-pager uses Helvetica.")

    def set_font(self, family=None, style="", size=0):
        # Without DejaVu, the built-in Helvetica (Latin-1 only) stands in.
        super().set_font(
            "helvetica" if family == FONT and not self.unicode_font else family, style, size
        )

    def normalize_text(self, text):
        if not self.unicode_font:
            text = text.replace("·", "-").replace("•", "-").replace("–", "-")
            text = text.encode("latin-1", "replace").decode("latin-1")
        return super().normalize_text(text)

    def drawable(self, text: str) -> str:
        """`text` with the characters the current font lacks replaced by "?": fpdf2 would
        log each missing glyph, and a text written from a received mail is patient data."""
        cmap = getattr(self.current_font, "cmap", None)
        if cmap is None:  # the Latin-1 fallback: normalize_text replaces what it lacks
            return text
        return "".join(ch if ch == "\n" or ord(ch) in cmap else "?" for ch in text)

    def footer(self):
        self.set_y(-11)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.footer_text, align="L")
        self.cell(0, 5, f"Page {self.page_no()}", align="R")

    def line_of(self, text: str, *, size: float = 9, style: str = "", color=INK, height=4.6):
        self.set_font(FONT, style, size)
        self.set_text_color(*color)
        self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def labelled(self, label: str, text: str):
        """A line starting with a bold label."""
        self.set_text_color(*INK)
        self.set_font(FONT, "B", 9)
        self.write(4.6, f"{label}: ")
        self.set_font(FONT, "", 9)
        self.write(4.6, text)
        self.ln(5)
