"""The second engine (PP-OCR's recogniser through RapidOCR) re-reads what Tesseract doubted."""

import re

import pytest
from PIL import Image, ImageDraw, ImageFont

from refloop.intake import recognizer
from refloop.intake.reading import Word
from tests.intake.helpers import DEJAVU

WIDTH, HEIGHT = 1400, 200


def word(text: str, conf: float, x0: int, x1: int, top: int = 70, bottom: int = 110) -> Word:
    return Word(text, conf, x0 / WIDTH, top / HEIGHT, x1 / WIDTH, bottom / HEIGHT)


def texts(lines: list[list[Word]]) -> list[list[str]]:
    return [[w.text for w in line] for line in lines]


def drawn(*pieces: tuple[int, str]) -> Image.Image:
    page = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(page)
    face = ImageFont.truetype(DEJAVU, 34)
    for x, text in pieces:
        draw.text((x, 70), text, font=face, fill=0)
    return page


def test_a_stretch_with_a_doubted_word_is_cut_at_wide_gaps_and_read_whole():
    line = [
        word("Phone:", 0.93, 40, 160),
        word("(760>5SU464", 0.05, 175, 420),  # doubted
        word("Insurance:", 0.95, 700, 880),  # another column: a gap of 7 line heights
        word("KAISER", 0.96, 895, 1010),
    ]
    confident = [word("Group:", 0.96, 40, 160), word("810109", 0.91, 175, 300)]

    runs = recognizer.doubted_runs([line, confident], aspect=HEIGHT / WIDTH)

    # The label beside the doubted number is read again with it; the other column is not.
    assert runs == [recognizer.Run(line=0, start=0, end=2)]


def test_a_doubted_entry_is_replaced_by_the_surer_reading_of_the_second_engine():
    page = drawn((40, "Phone: (760) 531-4464"), (800, "Insurance: Aetna"))
    # Tesseract's reading of a hand-filled entry: the label right, the number garbled.
    lines = [
        [
            word("Phone:", 0.93, 40, 160),
            word("C760>5SU464", 0.08, 175, 470),
            word("Insurance:", 0.95, 800, 985),
            word("Aetna", 0.96, 1000, 1100),
        ]
    ]

    read = recognizer.reread(page, lines)

    first_column = "".join(w.text for w in read[0] if w.x1 < 600 / WIDTH)
    assert re.sub(r"\D", "", first_column) == "7605314464"
    # The column Tesseract was sure of is kept as it was read.
    assert [w.text for w in read[0] if w.x0 > 600 / WIDTH] == ["Insurance:", "Aetna"]
    # Every word stays on its line and inside the stretch that was read again.
    number = [w for w in read[0] if any(c.isdigit() for c in w.text)]
    assert number and all(40 / WIDTH - 0.02 < w.x0 < w.x1 < 600 / WIDTH for w in number)
    # As high as the words read again, not the crop with its margin, which reaches into
    # the lines above and below: a word that tall would join a neighbour's line.
    assert all(w.y0 == 70 / HEIGHT and w.y1 == 110 / HEIGHT for w in read[0])
    # The second engine's own score is not taken at face value.
    assert all(w.conf <= recognizer.CONFIDENCE_CAP for w in number)


def test_a_reading_no_surer_than_tesseracts_changes_nothing():
    page = Image.new("L", (WIDTH, HEIGHT), 255)  # nothing there for the engine to read
    lines = [[word("Phone:", 0.93, 40, 160), word("(760>5SU464", 0.3, 175, 420)]]

    assert texts(recognizer.reread(page, lines)) == texts(lines)


def test_a_page_tesseract_was_sure_of_is_not_read_again(monkeypatch):
    def refuse():
        raise AssertionError("the second engine was started")

    monkeypatch.setattr(recognizer, "_engine", refuse)
    lines = [[word("Phone:", 0.93, 40, 160), word("(217)", 0.9, 175, 260)]]

    assert recognizer.reread(drawn((40, "Phone: (217)")), lines) is lines


@pytest.mark.parametrize(
    ("text", "plain"),
    [("ＡＢＣ１２３", "ABC123"), ("Dr.王 Smith", "Dr. Smith"), ("☑Urgent", "☑Urgent")],
)
def test_what_the_second_engine_reads_is_kept_in_a_us_forms_characters(text, plain):
    assert recognizer._plain(text) == plain


def test_a_half_trusted_word_is_surer_where_both_engines_read_it_and_less_where_not():
    page = drawn((40, "Name: Carlos Vandermeer"))
    # Tesseract half-trusted both names and misread the first one's vowel.
    lines = [
        [
            word("Name:", 0.95, 40, 150),
            word("Carlas", 0.75, 165, 290),
            word("Vandermeer", 0.8, 305, 520),
        ]
    ]

    [[name, first, last]] = recognizer.reread(page, lines)

    assert [name.text, first.text, last.text] == ["Name:", "Carlas", "Vandermeer"]
    assert first.conf == recognizer.DISAGREED
    assert last.conf == recognizer.AGREED
    assert name.conf == 0.95


def test_the_second_reading_is_laid_over_tesseracts_word_for_word():
    tesseract = [
        word("Priority:", 0.95, 40, 200),
        word("(J", 0.2, 210, 240),  # a checkbox read as letters
        word("Routine", 0.7, 250, 380),  # half-trusted
        word("OUrgent", 0.4, 420, 560),  # a box glued to its option
        word("STAT", 0.95, 580, 640),
        word("weight-loss", 0.45, 660, 800),
    ]
    second = [
        word("Priority:", 0.78, 45, 205),
        word("Routine", 0.79, 255, 385),
        word("Urgent", 0.79, 430, 560),
        word("STAT", 0.79, 580, 640),
        word("weight", 0.79, 660, 720),
        word("loss", 0.79, 730, 800),
    ]

    laid = recognizer._aligned(tesseract, second)

    assert [w.text for w in laid] == ["Priority:", "Routine", "Urgent", "STAT", "weight", "loss"]
    # Read alike: Tesseract's word and box, as sure as it was or surer.
    assert laid[0].x0 == tesseract[0].x0 and laid[1].x0 == tesseract[2].x0
    assert laid[0].conf == 0.95 and laid[1].conf == recognizer.AGREED
    # Read differently, one word each: the second reading's text in Tesseract's box.
    assert (laid[2].x0, laid[2].conf) == (tesseract[3].x0, 0.79)
    # A speck only Tesseract read, and in doubt, is gone; words split differently are the
    # second reading's.
    assert (laid[4].x0, laid[5].x1) == (second[4].x0, second[5].x1)
