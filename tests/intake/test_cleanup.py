"""Page clean-up before OCR, from the failure kinds of issue 18: shaded and ruled cells
that vanished in OCR, skew, specks, and checkboxes read by the word next to them.

Pages are drawn here with Pillow at fax resolution (about 200 dpi), small enough to be quick.
"""

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from refloop.intake import cleanup, reading

DPI = 200
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def font(size_pt: float, path: str = SANS) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, round(size_pt * DPI / 72))


def fax(image: Image.Image) -> Image.Image:
    """As a fax machine sends it: 1-bit, greys dithered into dots."""
    return image.convert("1").convert("L")


def words_read(image: Image.Image) -> list[str]:
    return [word.text for line in reading.ocr_lines(image) for word in line]


def ink(image: Image.Image) -> np.ndarray:
    return np.asarray(image) < 128


# ---- shaded and ruled cells reach the OCR engine -----------------------------------------


def test_text_in_a_grey_shaded_header_cell_reaches_ocr():
    page = Image.new("L", (900, 260), 255)
    draw = ImageDraw.Draw(page)
    # A two-row table: the header row shaded grey, as an EHR printout draws it.
    draw.rectangle((40, 40, 860, 110), fill=185)
    draw.rectangle((40, 40, 860, 200), outline=0, width=2)
    draw.line((40, 110, 860, 110), fill=0, width=2)
    draw.line((330, 40, 330, 200), fill=0, width=2)
    draw.line((600, 40, 600, 200), fill=0, width=2)
    for x, text in ((60, "NPI"), (350, "Payer"), (620, "Phone")):
        draw.text((x, 58), text, font=font(11), fill=0)
    for x, text in ((60, "1234567893"), (350, "Aetna"), (620, "5550142")):
        draw.text((x, 138), text, font=font(11), fill=0)
    cleaned = cleanup.clean(fax(page), dpi=DPI)

    read = words_read(cleaned.image)

    for word in ("NPI", "Payer", "Phone", "1234567893", "Aetna"):
        assert word in read
    # The shade is gone, not just lightened: the header row is white around the words.
    header = np.asarray(cleaned.image)[45:105, 45:325]
    assert (header > 200).mean() > 0.9


def test_an_underlined_value_reads():
    page = Image.new("L", (900, 140), 255)
    draw = ImageDraw.Draw(page)
    draw.text((30, 40), "Patient:", font=font(11), fill=0)
    # The value's descenders cross the line it is written on.
    draw.text((200, 40), "Gregory Pyle", font=font(11), fill=0)
    baseline = 40 + font(11).getmetrics()[0]
    draw.line((190, baseline + 1, 860, baseline + 1), fill=0, width=3)
    cleaned = cleanup.clean(fax(page), dpi=DPI)

    read = words_read(cleaned.image)

    assert "Gregory" in read
    assert "Pyle" in read
    # The underline itself is gone to the right of the words.
    assert not ink(cleaned.image)[baseline - 2 : baseline + 5, 600:860].any()


def test_ruling_lines_are_removed_but_thin_letters_are_not():
    page = Image.new("L", (700, 300), 255)
    draw = ImageDraw.Draw(page)
    draw.line((20, 150, 680, 150), fill=0, width=2)  # a rule across the page
    draw.line((350, 20, 350, 280), fill=0, width=2)  # a column rule
    draw.text((60, 60), "l1l1 Il", font=font(14), fill=0)
    draw.text((400, 190), "1l1l", font=font(14), fill=0)
    before = ink(page)

    after = ink(cleanup.clean(page, dpi=DPI).image)

    assert not after[149:152, 20:340].any()
    assert not after[20:140, 349:352].any()
    assert after[50:130, 50:330].sum() == pytest.approx(before[50:130, 50:330].sum(), rel=0.02)
    assert after[180:270, 390:680].sum() == pytest.approx(before[180:270, 390:680].sum(), rel=0.02)


def test_cells_of_a_ruled_three_by_three_table_are_found():
    page = Image.new("L", (800, 500), 255)
    draw = ImageDraw.Draw(page)
    xs, ys = (100, 300, 450, 700), (80, 160, 280, 400)
    for x in xs:
        draw.line((x, ys[0], x, ys[-1]), fill=0, width=2)
    for y in ys:
        draw.line((xs[0], y, xs[-1], y), fill=0, width=2)
    draw.text((120, 100), "Name", font=font(10), fill=0)
    draw.text((320, 190), "Value", font=font(10), fill=0)

    cells = cleanup.clean(page, dpi=DPI).cells

    assert len(cells) == 9
    expected = [
        (x0 / 800, y0 / 500, x1 / 800, y1 / 500)
        for y0, y1 in zip(ys, ys[1:], strict=False)
        for x0, x1 in zip(xs, xs[1:], strict=False)
    ]
    found = sorted((c.y0, c.x0, c.x1, c.y1) for c in cells)
    for (x0, y0, x1, y1), (fy0, fx0, fx1, fy1) in zip(expected, found, strict=True):
        assert (fx0, fy0, fx1, fy1) == pytest.approx((x0, y0, x1, y1), abs=0.01)


def test_a_lone_underline_makes_no_cell():
    page = Image.new("L", (800, 200), 255)
    ImageDraw.Draw(page).line((100, 120, 700, 120), fill=0, width=2)

    assert cleanup.clean(page, dpi=DPI).cells == []


# ---- skew and specks -------------------------------------------------------------------------


def _paragraph(width: int = 1000, height: int = 700) -> Image.Image:
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    lines = [
        "Reason for referral: new onset atrial fibrillation",
        "Date of birth: 07/14/1996   Phone: (555) 123-4567",
        "Insurance: Blue Cross Blue Shield PPO, member 88213",
        "Referring provider: Elena Castillo, MD  NPI 1234567893",
        "Diagnosis: E11.65, I48.91   Urgency: routine",
        "Please see the patient within two weeks. Thank you.",
    ]
    for row, text in enumerate(lines):
        draw.text((60, 80 + row * 80), text, font=font(11, SERIF), fill=0)
    return page


@pytest.mark.parametrize("degrees", [2.0, -2.0, 4.5])
def test_a_skewed_page_is_straightened(degrees):
    skewed = _paragraph().rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)

    estimate = cleanup.skew_angle(skewed, dpi=DPI)
    cleaned = cleanup.clean(skewed, dpi=DPI)

    assert estimate == pytest.approx(degrees, abs=0.3)
    assert cleaned.angle == pytest.approx(degrees, abs=0.3)
    assert cleanup.skew_angle(cleaned.upright, dpi=DPI) == pytest.approx(0, abs=0.3)


def test_a_straight_page_is_left_as_it_is():
    page = _paragraph()

    cleaned = cleanup.clean(page, dpi=DPI)

    assert cleaned.angle == pytest.approx(0, abs=0.2)


def test_specks_are_removed_but_dots_of_i_and_decimal_points_stay():
    page = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(page)
    draw.text((40, 40), "ICD-10: E11.65 limb ischemia", font=font(9), fill=0)
    clean_text = ink(page)
    noisy = np.asarray(page).copy()
    rng = random.Random(18)
    for _ in range(400):  # salt-and-pepper, one to four pixels each, away from the words
        x, y = rng.randrange(0, 898), rng.randrange(120, 298)
        noisy[y : y + rng.choice((1, 2)), x : x + rng.choice((1, 2))] = 0
    noisy_page = Image.fromarray(noisy)

    cleaned = cleanup.clean(noisy_page, dpi=DPI)

    after = ink(cleaned.image)
    assert after[120:, :].sum() < 0.05 * (np.asarray(noisy)[120:, :] < 128).sum()
    # Every speck of the words (the dots of i, the decimal point) is still there.
    assert after[:120, :].sum() == pytest.approx(clean_text[:120, :].sum(), rel=0.01)
    assert "E11.65" in words_read(cleaned.image)


# ---- checkboxes --------------------------------------------------------------------------------


def _checkbox_row(side_mm: float = 4.0) -> tuple[Image.Image, list[int]]:
    side = round(side_mm / 25.4 * DPI)
    page = Image.new("L", (1100, 160), 255)
    draw = ImageDraw.Draw(page)
    lefts = [40, 300, 560, 820]
    top = 60
    for left, label in zip(lefts, ("Routine", "Urgent", "STAT", "Other"), strict=True):
        draw.rectangle((left, top, left + side, top + side), outline=0, width=2)
        draw.text((left + side + 12, top), label, font=font(11), fill=0)
    inset = 6
    # An X, a tick that overflows its box, and a filled box; the first is left empty.
    x0, x1 = lefts[1] + inset, lefts[1] + side - inset
    draw.line((x0, top + inset, x1, top + side - inset), fill=0, width=3)
    draw.line((x0, top + side - inset, x1, top + inset), fill=0, width=3)
    t = lefts[2]
    draw.line((t + 5, top + side // 2, t + side // 2, top + side - 4), fill=0, width=3)
    draw.line((t + side // 2, top + side - 4, t + side + 8, top - 10), fill=0, width=3)
    draw.rectangle((lefts[3] + 4, top + 4, lefts[3] + side - 4, top + side - 4), fill=0)
    return page, lefts


@pytest.mark.parametrize("side_mm", [2.8, 4.0, 5.5])
def test_checkboxes_are_found_with_whether_they_are_marked(side_mm):
    page, lefts = _checkbox_row(side_mm)

    marks = sorted(cleanup.clean(fax(page), dpi=DPI).marks, key=lambda m: m.box.x0)

    assert [m.marked for m in marks] == [False, True, True, True]
    assert {m.how for m in marks} == {"ink"}
    for mark, left in zip(marks, lefts, strict=True):
        assert mark.box.x0 == pytest.approx(left / page.width, abs=0.01)


def test_letters_and_table_cells_are_not_checkboxes():
    page = Image.new("L", (1000, 400), 255)
    draw = ImageDraw.Draw(page)
    draw.text((40, 40), "DOB 0 O D 8 ID # Q", font=font(12), fill=0)
    draw.text((40, 110), "MEMO  HOLD  OLD", font=font(16, SERIF), fill=0)
    # A ruled table whose small cells are square-ish, and a long box around a field.
    for x in range(100, 400, 40):
        draw.line((x, 200, x, 240), fill=0, width=2)
    draw.line((100, 200, 380, 200), fill=0, width=2)
    draw.line((100, 240, 380, 240), fill=0, width=2)
    draw.rectangle((450, 200, 950, 260), outline=0, width=2)

    assert cleanup.clean(fax(page), dpi=DPI).marks == []


def test_a_circled_word_is_a_mark():
    page = Image.new("L", (900, 200), 255)
    draw = ImageDraw.Draw(page)
    for x, word in ((60, "Routine"), (330, "Urgent"), (600, "STAT")):
        draw.text((x, 80), word, font=font(11), fill=0)
    draw.ellipse((310, 55, 490, 135), outline=0, width=3)  # "Urgent" circled by hand

    marks = cleanup.clean(fax(page), dpi=DPI).marks

    circled = [m for m in marks if m.how == "circle"]
    assert len(circled) == 1
    assert circled[0].marked
    assert circled[0].box.x0 == pytest.approx(310 / 900, abs=0.02)
    assert circled[0].box.x1 == pytest.approx(490 / 900, abs=0.02)


def test_the_review_image_and_the_ocr_image_share_coordinates():
    skewed = _paragraph().rotate(3, resample=Image.Resampling.BILINEAR, fillcolor=255)

    cleaned = cleanup.clean(skewed, dpi=DPI)

    assert cleaned.upright.size == cleaned.image.size == skewed.size


def test_white_text_on_a_black_band_is_read_and_the_rule_below_still_goes():
    page = Image.new("L", (900, 160), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((40, 40, 860, 90), fill=0)  # a section heading in reverse video
    draw.text((60, 48), "Referring Provider", font=font(12), fill=255)
    draw.line((40, 130, 860, 130), fill=0, width=2)

    cleaned = cleanup.clean(fax(page), dpi=DPI)
    after = ink(cleaned.image)

    assert {"Referring", "Provider"} <= set(words_read(cleaned.image))
    # Black on white now: the band's corners are white, its letters black.
    assert not after[42:46, 42:50].any() and after[48:88, 60:400].any()
    assert not after[129:132, 40:861].any()


def test_a_dark_band_a_fax_dithered_into_dots_is_read_without_its_dots():
    page = Image.new("L", (900, 160), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((40, 40, 860, 90), fill=55)  # dark grey: a fax sends it as dots
    draw.text((60, 50), "Receiving Provider", font=font(12), fill=255)

    cleaned = cleanup.clean(fax(page), dpi=DPI)

    assert {"Receiving", "Provider"} <= set(words_read(cleaned.image))
    # The band's dots are gone with it: right of its words it is white.
    assert not ink(cleaned.image)[50:80, 500:850].any()


def test_a_band_joined_to_a_tables_rules_is_read_but_bold_black_text_is_left_alone():
    page = Image.new("L", (1000, 330), 255)
    draw = ImageDraw.Draw(page)
    # A boxed form: the band is a row of the ruled table, its borders touching the grid's.
    draw.rectangle((40, 20, 960, 310), outline=0, width=2)
    draw.rectangle((40, 120, 960, 165), fill=0)
    draw.line((500, 165, 500, 310), fill=0, width=2)
    draw.line((40, 240, 960, 240), fill=0, width=2)
    draw.text((60, 126), "REFERRED TO", font=font(11), fill=255)
    # A form's title in large bold type: dense ink, but no band.
    draw.text((60, 30), "CONSULTATION REQUEST", font=font(20, BOLD), fill=0)
    draw.text((60, 180), "Marcus Webb", font=font(11), fill=0)

    cleaned = cleanup.clean(fax(page), dpi=DPI)

    read = words_read(cleaned.image)
    assert {"REFERRED", "TO", "Marcus", "Webb"} <= set(read)
    assert {"CONSULTATION", "REQUEST"} <= set(read)


def test_an_x_drawn_beside_a_word_is_a_mark_but_the_letter_x_is_not():
    page = Image.new("L", (1000, 240), 255)
    draw = ImageDraw.Draw(page)
    for x, word in ((100, "Routine"), (420, "Urgent"), (740, "STAT")):
        draw.text((x, 60), word, font=font(11), fill=0)
    draw.line((372, 58, 402, 92), fill=0, width=3)  # an X by hand, left of "Urgent"
    draw.line((372, 92, 402, 58), fill=0, width=3)
    draw.text((100, 150), "Austin TX 78701  X-ray  Sex: X", font=font(12), fill=0)

    marks = [m for m in cleanup.clean(fax(page), dpi=DPI).marks if m.how == "x"]

    assert len(marks) == 1
    assert marks[0].marked
    assert marks[0].box.x0 == pytest.approx(372 / 1000, abs=0.01)
    assert marks[0].box.y1 == pytest.approx(92 / 240, abs=0.02)


# ---- a fax's own damage: streaks, broken rules, dotted boxes -------------------------------


def _faxed(page: Image.Image, degrees: float, specks: int = 400, seed: int = 5) -> Image.Image:
    """Fed skewed, sent in 1 bit (the rules' grey edges dithered into broken dots), specked."""
    pixels = np.asarray(
        fax(page.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=255))
    ).copy()
    rng = np.random.default_rng(seed)
    pixels[rng.integers(0, pixels.shape[0], specks), rng.integers(0, pixels.shape[1], specks)] = 0
    return Image.fromarray(pixels)


def test_a_scanner_streak_down_the_page_is_removed_and_the_words_it_crosses_read():
    page = Image.new("L", (1000, 1300), 255)
    draw = ImageDraw.Draw(page)
    draw.text((60, 300), "Insurance: Ambetter Balanced Care", font=font(12), fill=0)
    draw.text((60, 700), "Phone: 885.603.7859", font=font(12), fill=0)
    pixels = np.asarray(_faxed(page, 1.2, specks=0)).copy()
    # Dirt on the scanner glass: dotted columns from the top edge to the bottom one, in the
    # scanner's frame (the paper fed skewed past them), through letters of both lines.
    for x in (180, 420):
        pixels[np.arange(pixels.shape[0]) % 4 < 3, x] = 0
    streaked = Image.fromarray(pixels)

    cleaned = cleanup.clean(streaked, dpi=DPI)

    after = ink(cleaned.upright)
    assert after[:250].sum() < 20  # the blank top of the page is blank again
    read = words_read(cleaned.image)
    assert {"Ambetter", "Balanced"} <= set(read)
    # Beside a letter the streak is kept (cutting it cut an i's stem): a dot may cling on.
    assert any(word.startswith("885.603.7859") for word in read)


def test_the_cells_of_a_skewed_noisy_one_bit_table_are_found():
    page = Image.new("L", (1100, 700), 255)
    draw = ImageDraw.Draw(page)
    xs, ys = (80, 560, 1020), (100, 240, 380, 520)
    for x in xs:
        draw.line((x, ys[0], x, ys[-1]), fill=0, width=2)
    for y in ys:
        draw.line((xs[0], y, xs[-1], y), fill=0, width=2)
    for row, (left, right) in enumerate(
        (("DOB", "CELL"), ("INS. PLAN", "MEMBER ID"), ("NPI", "FAX"))
    ):
        draw.text((xs[0] + 10, ys[row] + 10), left, font=font(7), fill=0)
        draw.text((xs[1] + 10, ys[row] + 10), right, font=font(7), fill=0)
        draw.text((xs[0] + 10, ys[row] + 60), "03-30-1943", font=font(11), fill=0)

    cells = cleanup.clean(_faxed(page, 1.6), dpi=DPI).cells

    assert len(cells) == 6
    for cell in cells:
        assert cell.x1 - cell.x0 == pytest.approx(480 / 1100, abs=0.03)
        assert cell.y1 - cell.y0 == pytest.approx(140 / 700, abs=0.03)


def test_a_skewed_underline_leaves_no_junk_under_its_value():
    page = Image.new("L", (1100, 200), 255)
    draw = ImageDraw.Draw(page)
    draw.text((40, 60), "Carrier:", font=font(11), fill=0)
    draw.text((260, 60), "Tricare Select", font=font(11), fill=0)
    baseline = 60 + font(11).getmetrics()[0]
    draw.line((250, baseline + 2, 1060, baseline + 2), fill=0, width=3)

    cleaned = cleanup.clean(_faxed(page, 1.8, specks=0), dpi=DPI)

    # Right of the words, where only the underline was, nothing is left for OCR to read.
    assert ink(cleaned.image)[:, 700:1050].sum() < 30
    assert {"Tricare", "Select"} <= set(words_read(cleaned.image))


def test_checkboxes_drawn_in_broken_dots_are_found_with_the_marked_one():
    page, lefts = _checkbox_row(4.0)

    marks = sorted(
        cleanup.clean(_faxed(page, -1.3, specks=0), dpi=DPI).marks, key=lambda m: m.box.x0
    )

    assert [m.marked for m in marks] == [False, True, True, True]
    for mark, left in zip(marks, lefts, strict=True):
        assert mark.box.x0 == pytest.approx(left / page.width, abs=0.015)


def test_a_wide_flat_ring_round_a_word_is_still_a_circle():
    page = Image.new("L", (1100, 200), 255)
    draw = ImageDraw.Draw(page)
    for x, word in ((60, "Routine"), (400, "Expedited"), (800, "Urgent")):
        draw.text((x, 80), word, font=font(11), fill=0)
    draw.ellipse((370, 60, 690, 130), outline=0, width=3)  # flat enough to pass for rules

    marks = [m for m in cleanup.clean(fax(page), dpi=DPI).marks if m.how == "circle"]

    assert len(marks) == 1
    assert marks[0].box.x0 == pytest.approx(370 / 1100, abs=0.02)


# ---- lines the OCR engine left unread --------------------------------------------------------


def test_a_line_of_print_no_word_covers_is_unread_but_specks_and_bars_are_not():
    page = Image.new("L", (1000, 500), 255)
    draw = ImageDraw.Draw(page)
    draw.text((60, 60), "Reason for Referral:", font=font(11), fill=0)
    draw.text((420, 60), "COPD with frequent exacerbations", font=font(11), fill=0)
    draw.text((60, 200), "Provider: Dr. Marcus Nwosu", font=font(11), fill=0)
    draw.rectangle((60, 330, 940, 370), fill=0)  # a black bar: no text to read
    # Bold print a fax made heavier: over half its line's box is ink, and it is text.
    heavy = ImageFont.truetype(BOLD, round(10 * DPI / 72))
    draw.text((60, 420), "Insurance: Aetna Choice", font=heavy, fill=0, stroke_width=2)
    noisy = _faxed(page, 0, specks=300)
    # The engine read the first line's label and the third line, not the rest.
    read = [reading.Box(60 / 1000, 55 / 500, 400 / 1000, 100 / 500)]
    read.append(reading.Box(55 / 1000, 195 / 500, 500 / 1000, 240 / 500))

    unread = sorted(cleanup.unread_lines(noisy, read, dpi=DPI), key=lambda box: box.y0)

    assert len(unread) == 2
    assert unread[0].x0 == pytest.approx(420 / 1000, abs=0.02)
    assert unread[0].y0 == pytest.approx(60 / 500, abs=0.03)
    assert unread[1].y0 == pytest.approx(420 / 500, abs=0.03)


def test_an_empty_box_with_a_little_fax_noise_beside_a_ticked_one_is_not_marked():
    page = Image.new("L", (900, 140), 255)
    draw = ImageDraw.Draw(page)
    side, top, lefts = 32, 50, (60, 330, 600)
    for left, label in zip(lefts, ("Routine", "Urgent", "STAT"), strict=True):
        draw.rectangle((left, top, left + side, top + side), outline=0, width=2)
        draw.text((left + side + 12, top), label, font=font(11), fill=0)
    # The middle box ticked with a cross; in the first, a few dots of line noise (about 7%
    # of its inside), as a fax leaves them.
    x0, x1 = lefts[1] + 6, lefts[1] + side - 6
    draw.line((x0, top + 6, x1, top + side - 6), fill=0, width=3)
    draw.line((x0, top + side - 6, x1, top + 6), fill=0, width=3)
    for dy in (9, 16, 23):
        draw.rectangle((lefts[0] + 9, top + dy, lefts[0] + 12, top + dy + 2), fill=0)

    marks = sorted(cleanup.clean(fax(page), dpi=DPI).marks, key=lambda m: m.box.x0)

    assert [m.marked for m in marks] == [False, True, False]


DATA = Path(__file__).parent / "data"


def test_light_dithered_label_cells_are_flattened_and_the_rule_beside_each_label_goes():
    # A boxed form from the independent fax set (faxgen seed 6614, a 200-dpi rendering,
    # skewed 2.3 degrees): its label cells are a light grey a fax dithered into sparse
    # dots, each bold label close to its cell's left rule. OCR read "«DOB:", "(Reason",
    # and lost whole rows to the dots.
    page = Image.open(DATA / "boxed_form_dithered_label_cells.png").convert("L")
    cleaned = np.asarray(cleanup.clean(page, dpi=DPI).image)

    # Right of the labels, the label cells are white: no dots left (a fifth was grey).
    assert (cleaned[40:250, 170:300] < 230).mean() < 0.03
    # Left of the labels, no tick of the rule is left (it stood in a sixth of the rows).
    assert (cleaned[40:250, 33:38] < 128).mean() < 0.02
