"""Values as faxes write them, read back the way a person would type them (issue 18, item 6).

Each case is a failure kind seen on faxes drawn by other generators: dates in every US
style and with OCR's letter-for-digit confusions, ICD-10-CM codes misread or glued to
words, words and member numbers taken for codes, phones with extensions.
"""

import datetime as dt

import pytest

from refloop.intake import values

TODAY = dt.date(2026, 6, 1)


# ---- dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "07/14/1996",
        "7/14/96",
        "07-14-1996",
        "07.14.1996",
        "1996-07-14",
        "1996/07/14",
        "Jul 14,1996",
        "Jul 14, 1996",
        "Jul. 14 1996",
        "July 14th 1996",
        "July 14th, 1996",
        "14-Jul-1996",
        "14 Jul 1996",
        "14 July 1996",
        "JUL-14-1996",
        "JULY 14, 1996",
        "14-Jul-96",
        "07 / 14 / 1996",
        "DOB: 07/14/1996 (29 y.o.)",
        "born on July 14, 1996 in Ohio",
    ],
)
def test_a_birth_date_in_any_common_us_style_reads_as_iso(text):
    assert values.read_date(text, today=TODAY) == values.DateRead("1996-07-14", True)


@pytest.mark.parametrize(
    "text",
    ["O7/14/1996", "07/l4/1996", "07/14/l996", "O7/I4/I996", "07/14/199G", "07/|4/1996"],
)
def test_ocr_letters_for_digits_in_a_date_are_repaired(text):
    assert values.read_date(text, today=TODAY) == values.DateRead("1996-07-14", True)


def test_a_two_digit_year_of_a_birth_date_is_never_in_the_future():
    assert values.read_date("03/02/24", today=TODAY).iso == "2024-03-02"
    # 2027 would be in the future: a person born in '27 was born in 1927.
    assert values.read_date("03/02/27", today=TODAY).iso == "1927-03-02"
    assert values.read_date("12/31/26", today=TODAY).iso == "1926-12-31"
    assert values.read_date("05/31/26", today=TODAY).iso == "2026-05-31"


def test_a_day_above_twelve_first_is_read_day_month():
    assert values.read_date("14/07/1996", today=TODAY) == values.DateRead("1996-07-14", True)


@pytest.mark.parametrize("text", ["02/30/1990", "13/13/1990", "Feb 30, 1990"])
def test_an_impossible_date_is_returned_as_read_and_not_plausible(text):
    read = values.read_date(text, today=TODAY)
    assert read is not None and not read.plausible
    assert read.iso == text


@pytest.mark.parametrize("text", ["07/14/2031", "01/01/1850"])
def test_a_birth_date_in_the_future_or_too_long_ago_is_not_plausible(text):
    read = values.read_date(text, today=TODAY)
    assert read is not None and not read.plausible


@pytest.mark.parametrize("text", ["071496", "07141996", "19960714"])
def test_digits_without_separators_are_a_date_only_where_a_label_says_so(text):
    assert values.read_date(text, today=TODAY) is None
    assert values.read_date(text, today=TODAY, compact=True) == values.DateRead("1996-07-14", True)


@pytest.mark.parametrize(
    "text", ["(316) 555-0142", "Member ID 07141996X", "Low", "N/A", "1/2 tab daily", "May"]
)
def test_what_is_not_a_date_is_not_read_as_one(text):
    assert values.read_date(text, today=TODAY) is None


# ---- ICD-10-CM codes ------------------------------------------------------------------


def test_every_code_of_a_field_is_read_in_order():
    read = values.read_codes("E11.65, I48.91; M54.16 and Z79.4")
    assert read.codes == ["E11.65", "I48.91", "M54.16", "Z79.4"]
    assert read.unknown == [] and read.repaired == []


def test_codes_among_their_descriptions_and_prefixes_are_read():
    text = "ICD10:E11.65 Type 2 diabetes mellitus with hyperglycemia / ICD-10: I48.91 Unsp AF"
    assert values.read_codes(text).codes == ["E11.65", "I48.91"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("148.91", "I48.91"),  # I read as 1
        ("E11.G5", "E11.65"),  # 6 read as G
        ("M1O.9", "M10.9"),  # 0 read as O
        ("572.001A", "S72.001A"),  # S read as 5
        ("$72.001A", "S72.001A"),
        ("E1165", "E11.65"),  # the dot lost
        ("M16:12", "M16.12"),  # the dot read as a colon
        ("e11.65", "E11.65"),
        ("I1O", "I10"),
        ("Z79.O1", "Z79.01"),
    ],
)
def test_ocr_confusions_are_repaired_against_the_code_set(text, code):
    read = values.read_codes(text)
    assert read.codes == [code]
    assert read.unknown == []


def test_a_repair_is_named_so_the_field_can_say_so():
    read = values.read_codes("148.91, E11.65")
    assert read.repaired == ["I48.91"]


@pytest.mark.parametrize(
    "text", ["Low", "High", "N/A", "None", "W123456789", "XJH8812345", "Risk: Low", "2", "ICD10"]
)
def test_words_and_member_numbers_are_not_codes(text):
    read = values.read_codes(text)
    assert read.codes == [] and read.unknown == []


def test_a_code_of_the_right_shape_missing_from_the_set_is_kept_and_flagged():
    # E11.9 is a code and E11.9x is not: a person must choose what was meant.
    read = values.read_codes("E11.99, E11.65")
    assert read.codes == ["E11.99", "E11.65"]
    assert read.unknown == ["E11.99"]


def test_a_numbered_list_of_codes_is_read_without_its_numbers():
    assert values.read_codes("1.E11.65 2.I10 3) M16.12").codes == ["E11.65", "I10", "M16.12"]


def test_codes_are_not_repeated():
    assert values.read_codes("E11.65 E11.65 E1165").codes == ["E11.65"]


def test_is_known_code_uses_the_real_code_set():
    assert values.is_known_code("I48.91")
    assert values.is_known_code("E11")  # a category
    assert not values.is_known_code("E11.99")
    assert not values.is_known_code("A00-A09")  # a block is not a code


# ---- phones and NPIs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "(316) 555-0142",
        "316-555-0142",
        "316.555.0142",
        "316 555 0142",
        "3165550142",
        "1-316-555-0142",
        "+1 (316) 555-0142",
        "(316) 555-0142 ext. 204",
        "316-555-0142 x12",
        "(3l6) 555-O142",
        "Cell: 316-555-0142",
        # Separators a hand-filled form's OCR misreads: a bracket as ">", a dot as a comma.
        "(316>555-0142",
        "316,555;0142",
    ],
)
def test_a_phone_in_any_style_reads_as_one_format_without_its_extension(text):
    assert values.read_phone(text) == ("(316) 555-0142", True)


@pytest.mark.parametrize(
    "text",
    # Digits scattered across a line are not put together into a number.
    ["555-0142", "(016) 555-0142", "316-555-01", "ext 5 316 5550 142"],
)
def test_a_phone_that_cannot_be_dialled_is_not_valid(text):
    read = values.read_phone(text)
    assert read is not None and not read[1]


def test_no_digits_no_phone():
    assert values.read_phone("on file") is None


def test_an_npi_is_read_with_its_check_digit_checked():
    assert values.read_npi("NPI: 1234567893") == ("1234567893", True)
    assert values.read_npi("NPI l234567893") == ("1234567893", True)
    assert values.read_npi("1234 567 893") == ("1234567893", True)
    assert values.read_npi("1234567890") == ("1234567890", False)
    assert values.read_npi("none") is None


@pytest.mark.parametrize(
    "text", ["Seen 11/04/2025 for 2026 follow-up", "Visits: 1015", "ZIP 60614"]
)
def test_bare_numbers_are_not_codes_whose_letter_was_misread(text):
    # A year, a count or a ZIP code is no Z02.6, I01.5 or G06.14; with its dot, 148.91 is.
    assert values.read_codes(text).codes == []


def test_a_category_with_codes_below_it_is_named_as_likely_cut_short():
    read = values.read_codes("M54, I10, E11.65")
    assert read.codes == ["M54", "I10", "E11.65"]
    assert read.short == ["M54"]  # I10 has nothing below it; E11.65 is a leaf


@pytest.mark.parametrize(
    ("text", "one_style"),
    [
        ("1990-03-04", True),  # year first
        ("Mar 4, 1990", True),
        ("4 March 1990", True),
        ("03/14/1990", True),  # 14 can only be the day
        ("05/05/1990", True),
        ("03/04/1990", False),  # March the 4th or the 3rd of April
        ("03/14/90", False),  # which century is read from today, not from the page
        ("031490", False),
    ],
)
def test_a_date_says_whether_it_reads_one_way_only(text, one_style):
    assert values.read_date(text, today=TODAY, compact=True).one_style is one_style


@pytest.mark.parametrize(
    ("text", "iso"),
    [("1936-11-1 1 Home Phone", "1936-11-11"), ("03/04/19 60", "1960-03-04")],
)
def test_a_dates_last_digits_split_off_by_a_gap_are_read_with_it_and_doubted(text, iso):
    read = values.read_date(text, today=TODAY)
    assert (read.iso, read.doubtful, read.one_style) == (iso, True, False)
    # A number after a whole date is not part of it.
    assert values.read_date("05/02/1984 42 y", today=TODAY).iso == "1984-05-02"
    assert not values.read_date("1984-05-02 42 y", today=TODAY).doubtful
    # Year first is written with two-digit months and days: one digit is one lost, the
    # other far away in a box the engine drew wide.
    lost = values.read_date("1936-11-1", today=TODAY)
    assert (lost.iso, lost.doubtful, lost.one_style) == ("1936-11-01", True, False)


# ---- insurance plans -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("Kaiser Perrnanente Gold", "Kaiser Permanente Gold"),  # rn for m
        ("Ambetter Balanced Gare", "Ambetter Balanced Care"),
        ("UnitedHeaIthcare Choice Plus", "UnitedHealthcare Choice Plus"),
        ("HumanaGoldPlusHMO", "Humana Gold Plus HMO"),  # the spaces lost
        ("Molina Marketplace SiIver", "Molina Marketplace Silver"),
        ("BLUE CROSS BLUE SHIELD PP0", "BLUE CROSS BLUE SHIELD PPO"),  # capitals stay capitals
        ("Medicare Part B", "Medicare Part B"),
        ("Blue Cross Blue Shield of Kansas", "Blue Cross Blue Shield of Kansas"),
        ("Highmark BCBS Community iBlue", "Highmark BCBS Community Blue"),  # a box's side
        ("|Cross Blue Shield", "Cross Blue Shield"),
    ],
)
def test_a_plan_name_is_repaired_against_the_words_payers_use(read, meant):
    assert values.read_plan(read).value == meant


def test_a_plan_read_as_printed_is_known_and_a_repaired_one_says_so():
    assert values.read_plan("Aetna Choice POS II").known
    repaired = values.read_plan("Aetna Chioce POS II")
    assert (repaired.value, repaired.known, repaired.repaired) == (
        "Aetna Choice POS II",
        False,
        True,
    )


def test_a_plan_the_lexicon_does_not_know_is_kept_as_read():
    read = values.read_plan("Zephyr Mutual StrideSM Value")
    assert read.value == "Zephyr Mutual StrideSM Value"
    assert not read.known and not read.repaired


def test_junk_after_a_plan_is_cut():
    assert values.read_plan("Tricare Select ie eee ss").value == "Tricare Select"
    assert values.read_plan("Oscar Silver EPO SO*~CS~=CS").value == "Oscar Silver EPO"


def test_a_short_word_is_not_bent_into_a_payer_word():
    # One letter off a four-letter word is another word: "Bold" is not "Gold".
    assert values.read_plan("Bold Health Partners").value == "Bold Health Partners"


# ---- code titles --------------------------------------------------------------------------


def test_a_code_title_agrees_with_words_naming_its_condition_in_another_form():
    assert values.code_title("I10") == "Essential (primary) hypertension"
    assert values.title_agrees("F32.A", "Depressive symptoms with anxiety")  # depression
    assert values.title_agrees("M10.9", "Recurrent gout flares")
    # Only the title's filler ("unspecified", "other") or a compound's head is no agreement.
    assert not values.title_agrees("M10.9", "Unspecified pain, other")
    assert not values.title_agrees("K21.9", "Gastroenterology consultation")  # gastro-esophageal
    assert not values.title_agrees("N13.4", "CKD stage 4")


def test_of_two_repairs_of_a_code_the_description_beside_it_chooses():
    # "Mt7.12": the 1 read as a t could be M17.12 or, with t as 7, M77.12 (an elbow).
    assert values.read_codes("Mt7.12").codes == []
    beside = values.read_codes("Mt7.12", about=("Left knee pain, primary osteoarthritis",))
    assert beside.codes == ["M17.12"]
    assert beside.repaired == ["M17.12"]
    # A description that names neither leaves it unread.
    assert values.read_codes("Mt7.12", about=("follow-up visit",)).codes == []


def test_a_handwritten_phone_number_spaced_apart_is_read_whole():
    assert values.read_phone("288.216.019 5") == ("(288) 216-0195", True)
    assert values.read_phone("69 1635.6 462") == ("(691) 635-6462", True)
    # Letters between the groups: two things, not one number spaced apart.
    assert values.read_phone("288 216 Ext 0195")[1] is False


def test_a_speck_read_as_a_short_word_at_either_end_of_a_plan_is_cut():
    assert values.read_plan("so Kaiser Permanente Gold").value == "Kaiser Permanente Gold"
    assert values.read_plan("Humana Gold Plus HMO 7").value == "Humana Gold Plus HMO"
    # A part's letter, a plan's roman numeral, and a name with no plan word stay as read.
    assert values.read_plan("Medicare Part B").value == "Medicare Part B"
    assert values.read_plan("Aetna Choice POS II").value == "Aetna Choice POS II"
    assert values.read_plan("Zz Qx 7").value == "Zz Qx 7"


def test_a_misread_word_of_free_text_is_put_right_only_where_one_word_is_meant():
    known = frozenset({"hyperthyroidism", "weight", "apnea", "area", "sleep", "bleep", "topical"})
    assert values.respelled("Hypecthyroidism", known) == "Hyperthyroidism"
    assert values.respelled("WEIPHT", known) == "WEIGHT"
    # As near as "area" by one letter dropped, but a misread keeps the word's length.
    assert values.respelled("aprea", known) == "apnea"
    # "bleep" and "sleep" both one letter off: the condition's word.
    assert values.respelled("oleep", known) == "sleep"
    # A plural of a known word, a word nothing is near, a short word: as read.
    assert values.respelled("TOPICALS", known) is None
    assert values.respelled("Xarelto", known) is None
    assert values.respelled("amd", known) is None


def test_a_digit_lost_from_a_codes_category_is_put_back_only_by_what_the_page_names():
    # "M0.9": any digit could be the one lost (M00.9, M10.9, M20.9 ...).
    assert values.read_codes("M0.9").codes == []
    read = values.read_codes("M0.9", about=("ICD-10: M0.9", "RECURRENT GOUT FLARES"))
    assert read.codes == ["M10.9"]
    assert read.repaired == ["M10.9"]
    # A handwritten 4 read as a y, the reason naming the code's condition.
    assert values.read_codes("Lyo.o", about=("PSORIASIS NOT CONTROLLED",)).codes == ["L40.0"]


def test_a_handwritten_slash_read_as_a_bracket_beside_a_slash_read_right():
    today = dt.date(2026, 5, 1)
    assert values.read_date("3(23/06", today=today).iso == "2006-03-23"
    assert values.read_date("3/23(06", today=today).iso == "2006-03-23"
    # A phone's area code in brackets is no date.
    assert values.read_date("(316) 555-0142", today=today) is None


def test_a_plan_word_that_lost_its_first_letter():
    read = values.read_plan("aiser Permanente Gold")
    assert read.value == "Kaiser Permanente Gold"
    assert read.repaired


def test_a_codes_dot_read_as_a_comma_and_a_digit_misread_as_another():
    assert values.read_codes("ICD10:F41,1").codes == ["F41.1"]
    # A billable code, then a comma: a list, not a dot.
    assert values.read_codes("I10,E11.65").codes == ["I10", "E11.65"]
    # No N16.4 in the code set: one digit off, N18.4 is what the letter's words name.
    assert values.read_codes("N16.4").unknown == ["N16.4"]
    read = values.read_codes("N16.4", about=("N16.4", "chronic kidney disease, stage 4"))
    assert (read.codes, read.repaired) == (["N18.4"], ["N18.4"])


def test_plan_words_joined_by_a_hyphen_are_the_plans_words():
    read = values.read_plan("Cigna Open-Access Plus")
    assert (read.value, read.known) == ("Cigna Open Access Plus", True)
    # A hyphen inside a word no plan is named with stays.
    assert values.read_plan("Blue Cross Blue Shield Anthem-Xyz").value.endswith("Anthem-Xyz")


def test_bare_digits_listed_after_a_code_are_a_code_with_its_letter_misread():
    read = values.read_codes("N18.4, 110.")
    assert (read.codes, read.repaired) == (["N18.4", "I10"], ["I10"])
    # The list's comma written, or read, as a semicolon.
    read = values.read_codes("N18.4; 110")
    assert (read.codes, read.repaired) == (["N18.4", "I10"], ["I10"])
    # Not listed after a code: a number ("Room 110"), or a year after one.
    assert values.read_codes("Room 110").codes == []
    assert values.read_codes("E11.65, 2026").codes == ["E11.65"]


def test_a_code_read_as_digits_after_its_list_number_is_repaired_and_flagged():
    read = values.read_codes("1.110")
    assert (read.codes, read.repaired) == (["I10"], ["I10"])
    # A decimal number is no list: "2.5 mg", "10.110" stay numbers.
    assert values.read_codes("dose 2.500 mg").codes == []
    assert values.read_codes("10.110").codes == []


def test_a_speck_glued_to_a_months_name_is_no_part_of_the_date():
    today = dt.date(2026, 6, 1)
    assert values.read_date("Jul!11,2003", today=today).iso == "2003-07-11"
    assert values.read_date("May! 18,2026", today=today).iso == "2026-05-18"
    # A word that only begins like a month is not one.
    assert values.read_date("Mayo!1 2", today=today) is None


def test_a_codes_dot_read_as_a_comma_after_its_zero_read_as_a_letter_o():
    assert values.read_codes("RO7,9, R94.31").codes == ["R07.9", "R94.31"]
    # "I10,E11.65" stays a list.
    assert values.read_codes("I10,E11.65").codes == ["I10", "E11.65"]


def test_an_npi_read_with_a_digit_doubled_is_the_one_its_check_digit_confirms():
    assert values.npi_undoubled("16811820472") == "1681820472"
    assert values.npi_undoubled("1681820472") is None  # ten digits: nothing to take out
    assert values.npi_undoubled("12345678901") is None  # no doubled digit


def test_a_j_read_as_a_1_is_repaired_where_no_i_code_is_one_and_named_where_both_are():
    assert values.read_codes("145.909").codes == ["J45.909"]
    # Both I20.9 and J20.9 exist: a 1 is an I unless the text around names the J code's.
    assert values.read_codes("120.9").codes == ["I20.9"]
    assert values.read_codes("120.9", about=("acute bronchitis",)).codes == ["J20.9"]


def test_a_plans_numeral_misread_and_cut_as_a_speck_leaves_the_plan_flagged():
    cut = values.read_plan("Aetna Choice POS I")
    assert (cut.value, cut.repaired) == ("Aetna Choice POS", True)
    # A speck that is no numeral is cut as before, with nothing to check.
    assert values.read_plan("Humana Gold Plus HMO 7").repaired is False
    # Its two I's read as other strokes ("il", "ll", "11"): put back, and shown for a check.
    for read in ("il", "ll", "11", "I|"):
        plan = values.read_plan(f"Aetna Choice POS {read}")
        assert (plan.value, plan.repaired) == ("Aetna Choice POS II", True), read
