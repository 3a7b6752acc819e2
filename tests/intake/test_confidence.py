"""When a field is trusted and when a person checks it, on pages placed by hand (no OCR).

The OCR engine's confidence on a faxed page falls for specks and ruling beside a value as
much as for a misread letter, so it alone flags most fields. Stronger evidence lets a value
through at a lower engine confidence: a check a misread rarely survives beside the value's
own label, or a second reading elsewhere that agrees. Weak evidence still flags.
"""

import pytest

from refloop.intake import reading
from tests.intake.test_layout import fields_of, page_of

LOW = 0.45  # below the plain review line, as specks beside a value leave a word


def test_a_birth_date_that_reads_one_way_only_is_trusted_beside_its_label():
    fields = fields_of(page_of("Patient: Odalys Ferreira\nDate of birth: 1971-02-14", conf=LOW))
    assert fields["patient_date_of_birth"]["value"] == "1971-02-14"
    assert not fields["patient_date_of_birth"]["review"]


def test_a_birth_date_that_could_be_day_first_is_still_checked():
    fields = fields_of(page_of("Patient: Odalys Ferreira\nDate of birth: 02/04/1971", conf=LOW))
    assert fields["patient_date_of_birth"]["review"]


def test_codes_in_the_code_set_are_not_trusted_on_that_alone_and_repairs_never():
    # All in the code set as read, but a list whose other codes went unread would pass too
    # ("K80.20" of "K80.20, R10.13"): the engine's confidence decides, as for any value.
    assert fields_of(page_of("ICD-10: E11.65, I10", conf=0.6))["icd10_codes"]["review"]
    assert not fields_of(page_of("ICD-10: E11.65, I10", conf=0.9))["icd10_codes"]["review"]
    # Read only after turning 1 into I: a person looks.
    assert fields_of(page_of("ICD-10: 148.91", conf=0.6))["icd10_codes"]["review"]
    # A category with codes below it: likely cut short.
    assert fields_of(page_of("ICD-10: M54", conf=0.6))["icd10_codes"]["review"]


def test_a_name_read_alike_on_the_form_and_the_attached_note_is_trusted(monkeypatch):
    # Without the engine's dictionary to judge the name's words by.
    monkeypatch.setattr("refloop.intake.extraction.engine_words", lambda: frozenset())
    form = page_of("Patient name: Odalys Ferreira\nDOB: 1971-02-14", conf=0.6)
    note = page_of("OFFICE NOTE\nPatient: Odalys Ferreira", number=2, conf=0.6)
    fields = fields_of(form, note)
    assert fields["patient_last_name"]["value"] == "Ferreira"
    assert not fields["patient_last_name"]["review"]
    # The same name read once at that confidence: a person checks it.
    assert fields_of(form)["patient_last_name"]["review"]


def test_one_option_marked_among_options_read_unmarked_is_trusted():
    fields = fields_of(page_of("Priority: [ ] Routine [X] Urgent [ ] STAT", conf=0.6))
    assert fields["urgency"]["value"] == "urgent"
    assert not fields["urgency"]["review"]


def test_a_phone_number_read_once_at_a_low_confidence_is_still_flagged():
    # No check digit and nothing else read it: the engine's doubt stands.
    fields = fields_of(page_of("Patient: Odalys Ferreira\nPhone: (217) 555-0142", conf=LOW))
    assert fields["patient_phone"]["value"] == "(217) 555-0142"
    assert fields["patient_phone"]["review"]


def test_codes_whose_titles_the_reason_names_are_trusted_whatever_the_engine_says():
    # Specks beside "ICD10:" pull a code's confidence to nothing; a code misread into
    # another real code would name another condition than the reason does.
    page = page_of(
        "Reason for referral: Type 2 diabetes, poorly controlled\nICD-10: E11.65", conf=0.2
    )
    assert fields_of(page)["icd10_codes"]["value"] == "E11.65"
    assert not fields_of(page)["icd10_codes"]["review"]
    # M16.9 is osteoarthritis of the hip: not what the reason says.
    page = page_of(
        "Reason for referral: Type 2 diabetes, poorly controlled\nICD-10: M16.9", conf=0.6
    )
    assert fields_of(page)["icd10_codes"]["review"]


def test_a_description_beside_the_code_is_agreement_too():
    page = page_of("Diagnosis: I10 Essential hypertension", conf=0.3)
    assert not fields_of(page)["icd10_codes"]["review"]


def test_codes_are_not_trusted_while_another_code_on_the_page_went_unread_into_the_list():
    reason = "Reason for referral: Gallbladder stones with epigastric pain"
    whole = page_of(f"{reason}\nICD-10: K80.20, R10.13", conf=0.3)
    assert not fields_of(whole)["icd10_codes"]["review"]
    # "R10.13" written where the list's pairing did not reach: the list read is partial.
    partial = page_of(f"{reason}\nICD-10: K80.20\n\n\nAlso documented: R10.13", conf=0.3)
    assert fields_of(partial)["icd10_codes"]["value"] == "K80.20"
    assert fields_of(partial)["icd10_codes"]["review"]


def test_a_code_read_only_after_a_repair_is_trusted_on_agreement_alone():
    agreeing = page_of("Reason: Atrial fibrillation\nICD-10: 148.91", conf=0.3)
    assert fields_of(agreeing)["icd10_codes"]["value"] == "I48.91"
    assert not fields_of(agreeing)["icd10_codes"]["review"]
    assert fields_of(page_of("Reason: Palpitations\nICD-10: 148.91", conf=0.6))["icd10_codes"][
        "review"
    ]


def test_a_code_sets_name_a_list_number_or_a_date_beside_codes_cast_no_doubt():
    reason = "Reason: Cataract, decreased vision"
    for line in ("CD-10 H25.9", "1. H25.9", "H25.9 05/17/2026"):
        fields = fields_of(page_of(f"{reason}\nDiagnosis: {line}", conf=0.3))
        assert fields["icd10_codes"]["value"] == "H25.9", line
        assert not fields["icd10_codes"]["review"], line
    # A number that is neither: a code misread, or another code's remains.
    assert fields_of(page_of(f"{reason}\nDiagnosis: H25.9 4471", conf=0.9))["icd10_codes"]["review"]


def test_the_reason_that_names_the_codes_condition_wins_over_a_service_requested():
    page = page_of(
        "Service requested: Endocrinology consultation and treatment\n"
        "ICD-10: E11.65\n"
        "Reason for referral: Type 2 diabetes with hyperglycemia",
        conf=0.6,
    )
    fields = fields_of(page)
    assert fields["reason"]["value"] == "Type 2 diabetes with hyperglycemia"
    assert not fields["reason"]["review"]
    # Without a code to agree with, the clinical reason still wins: the service requested
    # is a weaker wording of the reason (tests/intake/test_parties.py).
    unagreed = page_of(
        "Service requested: Endocrinology consultation and treatment\n"
        "Reason for referral: Type 2 diabetes with hyperglycemia",
        conf=0.9,
    )
    assert fields_of(unagreed)["reason"]["value"] == "Type 2 diabetes with hyperglycemia"


def test_numbers_atop_a_page_holding_an_attached_report_are_shown_not_trusted():
    report = page_of(
        "ASHBY IMAGING CENTER\n"
        "Tel (619) 225-5144      Fax (619) 234-6438\n"
        "RADIOLOGY REPORT\n"
        "Patient: ST. CLAIR, COLLEEN   DOB: 12/11/1947\n"
        "FINDINGS: No acute abnormality.",
        conf=0.95,
    )
    fields = fields_of(report)
    assert fields["provider_fax"]["value"] == "(619) 234-6438"
    assert fields["provider_fax"]["review"]
    # The same lines atop a page with no report below them: the referrer's letterhead.
    letterhead = page_of(
        "ASHBY FAMILY MEDICINE\nTel (619) 225-5144      Fax (619) 234-6438\n", conf=0.95
    )
    assert not fields_of(letterhead)["provider_fax"]["review"]


def test_a_number_whose_section_is_unsure_is_contested_by_the_fax_banner():
    banner = "May-31-2026 02:59PM FROM: NORTHGATE HEALTH 798.559.1671 P.1/1\n"
    letterhead = "NORTHGATE HEALTH\nTel (798) 761-8440      Fax (918) 478-9288\n"
    fields = fields_of(page_of(banner + letterhead, conf=0.95))
    assert fields["provider_fax"]["value"] == "(918) 478-9288"
    assert fields["provider_fax"]["review"]
    agreeing = letterhead.replace("(918) 478-9288", "(798) 559-1671")
    assert not fields_of(page_of(banner + agreeing, conf=0.95))["provider_fax"]["review"]


def test_digits_read_alike_on_two_pages_are_trusted_whatever_the_engine_says():
    form = page_of("Patient: Odalys Ferreira\nPhone: (217) 555-0142", conf=0.2)
    note = page_of("OFFICE NOTE\nPatient phone: (217) 555-0142", number=2, conf=0.2)
    assert not fields_of(form, note)["patient_phone"]["review"]
    assert fields_of(form)["patient_phone"]["review"]


def test_a_mark_beside_an_option_garbled_past_reading_is_shown_not_trusted():
    # A circle is ink over its word: the option garbled ("CRoutine>") is likely the one
    # marked, and the mark found beside another option may be the circle's edge.
    garbled = page_of(
        "Priority:  CRoutiné>   Urgent   STAT",
        marks=[(0, 23, True), (0, 32, False)],
    )
    assert fields_of(garbled)["urgency"]["value"] == "urgent"
    assert fields_of(garbled)["urgency"]["review"]
    whole = page_of(
        "Priority:  Routine   Urgent   STAT",
        marks=[(0, 11, False), (0, 21, True), (0, 30, False)],
    )
    assert fields_of(whole)["urgency"]["value"] == "urgent"
    assert not fields_of(whole)["urgency"]["review"]


def test_a_box_read_as_capitals_glued_to_stat_is_no_garbled_option():
    page = page_of(
        "Priority:  Routine   Urgent   CISTAT",
        marks=[(0, 11, False), (0, 21, False), (0, 30, True)],
    )
    assert fields_of(page)["urgency"]["value"] == "stat"
    assert not fields_of(page)["urgency"]["review"]


def test_a_name_the_engines_dictionary_lacks_read_with_its_doubt_is_flagged(monkeypatch):
    monkeypatch.setattr(
        "refloop.intake.extraction.engine_words", lambda: frozenset({"carlos", "odalys"})
    )
    page = "Referring provider: Carlas Vandermeer\nPatient name: Odalys Ferreira"
    # The engine knows Carlos, not "Carlas": read at 0.85 it is a misread as likely as not.
    fields = fields_of(page_of(page, conf=0.85))
    assert fields["provider_name"]["value"] == "Carlas Vandermeer"
    assert fields["provider_name"]["review"]
    # A name it lacks read with its full confidence ("Vandermeer" at 0.95) stands, unless
    # it is one letter off a word it knows ("Carlas" at 0.95 is still checked).
    rare = "Referring provider: Odalys Vandermeer"
    assert not fields_of(page_of(rare, conf=0.95))["provider_name"]["review"]
    assert fields_of(page_of(page, conf=0.95))["provider_name"]["review"]
    # A name it knows, read at 0.85: the engine's doubt was specks, not a letter.
    known = "Referring provider: Carlos Vandermeer"
    monkeypatch.setattr(
        "refloop.intake.extraction.engine_words", lambda: frozenset({"carlos", "vandermeer"})
    )
    assert not fields_of(page_of(known, conf=0.85))["provider_name"]["review"]


@pytest.mark.skipif(not reading.engine_words(), reason="tesseract's dictionary tools missing")
def test_the_engines_dictionary_holds_names_and_medical_words():
    words = reading.engine_words()
    assert {"hollis", "bergstrom", "mammogram"} <= words
    assert "hallis" not in words


def test_a_name_read_wholly_in_words_the_engine_knows_needs_less_of_its_confidence(
    monkeypatch,
):
    monkeypatch.setattr(
        "refloop.intake.extraction.engine_words",
        lambda: frozenset({"odalys", "ferreira", "li"}),
    )
    known = fields_of(page_of("Patient name: Odalys Ferreira", conf=0.6))
    assert not known["patient_last_name"]["review"]
    assert fields_of(page_of("Patient name: Odalys Ferreira", conf=0.45))["patient_last_name"][
        "review"
    ]
    # A word it lacks, or a short one (where letters are lost): the engine's doubt stands.
    assert fields_of(page_of("Patient name: Odalys Ferriera", conf=0.6))["patient_last_name"][
        "review"
    ]
    assert fields_of(page_of("Patient name: Odalys Li", conf=0.6))["patient_last_name"]["review"]


def test_an_npi_is_missing_unflagged_only_where_nothing_could_be_one():
    letter = (
        "Dear Dr. Hassan,\nPlease see Augustin Winslow regarding a murmur.\nCatherine Bergstrom, DO"
    )
    assert fields_of(page_of(letter))["provider_npi"] == {
        "value": "", "confidence": 0.0, "review": False, "page": None, "box": None,
    }  # fmt: skip
    # A label read, or misread, with its number lost; a number that may be one misread.
    for page in (letter + "\nNP! ....", letter + "\nINPI", letter + "\nID 29637860431"):
        assert fields_of(page_of(page))["provider_npi"]["review"], page


def test_a_prior_authorizations_request_type_is_its_urgency():
    page = page_of(
        "Patient Name: Keisha Brooks\nRequest Type   Standard    Expedited / Urgent",
        marks=[(1, 14, False), (1, 26, True)],
    )
    fields = fields_of(page)
    assert fields["urgency"]["value"] == "urgent"
    assert not fields["urgency"]["review"]
    # Each box read into its option as a capital, no colon after the label.
    glued = page_of(
        "Request Type OStandard MExpedited / Urgent", marks=[(0, 13, False), (0, 23, True)]
    )
    assert fields_of(glued)["urgency"]["value"] == "urgent"


def test_a_confident_name_one_letter_off_a_dictionary_word_is_flagged():
    fields = fields_of(page_of("Referring Provider: Deboreh Bergstrom\nNPI: 1234567893", conf=0.95))
    assert fields["provider_name"]["value"] == "Deboreh Bergstrom"
    assert fields["provider_name"]["review"]
