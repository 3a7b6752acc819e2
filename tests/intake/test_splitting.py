"""Cutting a packet into patients, on page readings built here (no OCR, no faxgen output).

Each packet plants one way a real packet misleads: a cover sheet from a practice that never
calls it one, an attached note naming the patient another way, a second patient's form
whose name was not read, a document's own page numbers.
"""

from refloop.intake.extraction import Found, PageReading
from refloop.intake.splitting import Identity, is_cover, same_patient, split


def page(
    number: int,
    *,
    first: str = "",
    last: str = "",
    dob: str = "",
    form: bool = False,
    text: str = "",
    cover: bool = False,
) -> PageReading:
    """A page's readings: the patient's name and birth date under labels, and for a form the
    referral's own reason and urgency."""
    found = [
        Found(name, value, 0.9, number, 3)
        for name, value in (
            ("patient_first_name", first),
            ("patient_last_name", last),
            ("patient_date_of_birth", dob),
        )
        if value
    ]
    if form:
        found += [
            Found("reason", "Chronic knee pain", 0.9, number, 2),
            Found("urgency", "routine", 0.9, number, 3),
        ]
    return PageReading(number, found, cover, text=text)


def pages_of(groups: list[list[PageReading]]) -> list[list[int]]:
    return [[r.number for r in group] for group in groups]


# A cover sheet that never says "cover": a different practice's template.
TRANSMISSION = """TRANSMISSION
To: New Patient Intake                From: Lakeside Family Practice
Re: referral
CONFIDENTIAL: the information in this transmission is intended only for the named
recipient. If you received this message in error, call us."""


def test_a_cover_sheet_that_does_not_call_itself_one_opens_the_next_patients_pages():
    packet = [
        page(1, text=TRANSMISSION),
        page(2, first="Odalys", last="Ferreira", dob="1971-02-14", form=True),
        page(3, text=TRANSMISSION),
        page(4, first="Bartholomew", last="Nakagawa", dob="1958-11-30", form=True),
    ]
    assert pages_of(split(packet)) == [[1, 2], [3, 4]]


def test_a_cover_sheet_is_known_by_its_page_count_alone():
    assert is_cover(page(1, text="Practice of Dr. Ames\nNo. of pages (incl. this one): 4"))
    assert is_cover(page(1, text="4 pages including cover"))


def test_a_form_with_a_confidentiality_footer_is_no_cover_sheet():
    footer = "To: Ortho clinic  From: Dr. Ames\nConfidential. Re: referral"
    assert not is_cover(page(1, form=True, text=footer))


def test_an_attached_note_naming_the_patient_another_way_stays_with_the_form():
    packet = [
        page(1, first="Imani", last="Winslow", dob="1967-04-29", form=True),
        # Only the surname and birth date on the note's header.
        page(2, last="Winslow", dob="1967-04-29"),
        # "WINSLOW, IMANI" read the other way round, the birth date unread.
        page(3, first="Winslow", last="Imani"),
        # A middle initial glued to the first name; one digit of the birth date misread.
        page(4, first="ImaniR", last="Winslow", dob="1967-04-28"),
        # The first name only with a birth date: still her.
        page(5, first="Imani", dob="1967-04-29"),
    ]
    assert pages_of(split(packet)) == [[1, 2, 3, 4, 5]]


def test_a_note_with_the_first_name_missing_joins_the_patient_read_in_full():
    form = Identity("", "winslow", "1967-04-29")
    note = Identity("imani", "winslow", "")
    assert same_patient(form, note)


def test_relatives_with_one_surname_are_two_patients():
    mother = Identity("maria", "delgado", "1980-05-02")
    son = Identity("mateo", "delgado", "2012-09-17")
    assert not same_patient(mother, son)
    # Without a first name on one page, a different birth date is a different patient.
    assert not same_patient(Identity("", "delgado", "1980-05-02"), son)


def test_a_second_patients_form_whose_name_was_not_read_starts_the_next_patient():
    packet = [
        page(1, text="FAX\nPages: 3"),
        page(2, form=True),  # the first patient's form: no name could be read
        page(3, first="Augustin", last="Huang", dob="1995-01-18", form=True),
    ]
    assert pages_of(split(packet)) == [[1, 2], [3]]


def test_an_unnamed_form_after_a_named_patients_form_waits_for_its_own_patient():
    packet = [
        page(1, first="Odalys", last="Ferreira", dob="1971-02-14", form=True),
        page(2, form=True),  # the second patient's form, name unread
        page(3, first="Bartholomew", last="Nakagawa", dob="1958-11-30"),  # their note
    ]
    assert pages_of(split(packet)) == [[1], [2, 3]]


def test_an_unnamed_page_that_is_no_form_stays_with_the_patient_before_it():
    packet = [
        page(1, first="Odalys", last="Ferreira", dob="1971-02-14", form=True),
        page(2, text="IMPRESSION: no acute fracture."),
        page(3, first="Bartholomew", last="Nakagawa", dob="1958-11-30", form=True),
    ]
    assert pages_of(split(packet)) == [[1, 2], [3]]


def test_a_documents_page_numbers_tie_its_pages_whatever_name_is_read_on_them():
    packet = [
        page(
            1,
            first="Odalys",
            last="Ferreira",
            dob="1971-02-14",
            form=True,
            text="Referral request   Page 1 of 2",
        ),  # fmt: skip
        # Page 2 prints the guarantor, read as if it were the patient.
        page(2, first="Renato", last="Ferreira", dob="1969-08-03", text="Page 2 of 2"),
        page(
            3, first="Bartholomew", last="Nakagawa", dob="1958-11-30", form=True, text="Page 1 of 1"
        ),  # fmt: skip
    ]
    assert pages_of(split(packet)) == [[1, 2], [3]]
