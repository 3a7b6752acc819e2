"""Fusing a second OCR pass into the first by position (reading.fuse)."""

import pytest

from refloop.intake.reading import Word, fuse


def line(*words: Word) -> list[Word]:
    return list(words)


def texts(lines: list[list[Word]]) -> list[list[str]]:
    return [[w.text for w in row] for row in lines]


def test_a_word_the_first_pass_missed_joins_the_line_it_sits_on():
    first = [line(Word("NPI:", 0.9, 0.10, 0.20, 0.15, 0.22))]
    second = [Word("1234567893", 0.85, 0.20, 0.201, 0.35, 0.221)]

    assert texts(fuse(first, second)) == [["NPI:", "1234567893"]]


def test_a_word_far_from_every_line_is_a_line_of_its_own_in_reading_order():
    first = [line(Word("Payer", 0.9, 0.10, 0.50, 0.18, 0.52))]
    second = [Word("Aetna", 0.8, 0.10, 0.30, 0.18, 0.32)]

    assert texts(fuse(first, second)) == [["Aetna"], ["Payer"]]


def test_a_much_surer_reading_replaces_the_word_in_the_same_place():
    first = [
        line(Word("Name", 0.9, 0.1, 0.1, 0.2, 0.12), Word("Br0oks", 0.31, 0.25, 0.1, 0.4, 0.12))
    ]
    second = [Word("Brooks", 0.93, 0.25, 0.1, 0.4, 0.12)]

    assert texts(fuse(first, second)) == [["Name", "Brooks"]]


def test_a_reading_about_as_sure_or_unsure_changes_nothing():
    first = [line(Word("Urgent", 0.80, 0.1, 0.1, 0.2, 0.12))]
    second = [
        Word("Urgant", 0.85, 0.1, 0.1, 0.2, 0.12),  # not much surer
        Word("~~", 0.95, 0.6, 0.1, 0.62, 0.12),  # no letter or digit: noise
        Word("Stat", 0.30, 0.7, 0.1, 0.8, 0.12),  # too unsure to add
    ]

    assert texts(fuse(first, second)) == [["Urgent"]]


def _tsv(*words: tuple[str, float]) -> str:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        f"5\t1\t1\t1\t1\t{n}\t{100 * n}\t50\t80\t20\t{conf}\t{text}"
        for n, (text, conf) in enumerate(words, start=1)
    ]
    return "\n".join([header, *rows])


def test_a_blank_line_or_a_box_side_glued_to_a_word_is_not_part_of_it():
    from refloop.intake.reading import _tsv_lines

    tsv = _tsv(("Carrier:", 91), ("_Tricare", 80), ("Select|", 85), ("___", 40), ("|", 30))

    assert texts(_tsv_lines(tsv, (1000, 100))) == [["Carrier:", "Tricare", "Select"]]


def test_a_line_the_page_pass_left_unread_is_read_on_a_second_look():
    from PIL import Image, ImageDraw, ImageFont

    from refloop.intake.reading import second_look

    page = Image.new("L", (1400, 300), 255)
    draw = ImageDraw.Draw(page)
    face = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 31)
    draw.text((40, 100), "Last Name:", font=face, fill=0)
    draw.text((600, 100), "Blackwood", font=face, fill=0)
    # The page pass read the label and dropped the value beside it.
    first = [
        line(
            Word("Last", 0.95, 40 / 1400, 0.33, 110 / 1400, 0.43),
            Word("Name:", 0.95, 120 / 1400, 0.33, 230 / 1400, 0.43),
        )
    ]

    lines = second_look(page, first, dpi=200)

    assert texts(lines) == [["Last", "Name:", "Blackwood"]]
    blackwood = lines[0][2]
    assert blackwood.x0 == pytest.approx(600 / 1400, abs=0.02)


def test_a_passs_own_words_do_not_stand_in_each_others_way():
    # The engine boxed "Reason" over the whole "Reason for referral:".
    first = [line(Word("Priority:", 0.9, 0.07, 0.70, 0.12, 0.72))]
    second = [
        Word("Reason", 0.96, 0.07, 0.50, 0.19, 0.52),
        Word("for", 0.96, 0.12, 0.50, 0.14, 0.52),
        Word("referral:", 0.96, 0.15, 0.50, 0.19, 0.52),
    ]

    assert texts(fuse(first, second)) == [["Reason", "for", "referral:"], ["Priority:"]]


def test_a_line_read_on_a_second_look_keeps_its_doubtful_words():
    from pathlib import Path

    from PIL import Image

    from refloop.intake.reading import ocr_lines, second_look

    # Rows of a faxed discharge summary (faxgen seed 7014) in a condensed bold face the
    # fax blotted: the page pass read the rows around "Reason for referral: Exertional
    # chest pain with abnormal ECG" and not it. Read alone, the engine boxed "Reason" over
    # the whole label and doubted "Exertional"; a value cut to "chest pain with abnormal
    # ECG" would look whole.
    page = Image.open(Path(__file__).parent / "data" / "discharge_rows_heavy_bold.png")
    page = page.convert("L")
    first = ocr_lines(page)
    assert not any("abnormal" in w.text for row in first for w in row)

    read = [" ".join(w.text for w in row) for row in second_look(page, first, dpi=200)]

    assert "Reason for referral: Exertional chest pain with abnormal ECG" in read
