"""When a field is trusted and when a person checks it, on pages placed by hand (no OCR).

The OCR engine's confidence on a faxed page falls for specks and ruling beside a value as
much as for a misread letter, so it alone flags most fields. Stronger evidence lets a value
through at a lower engine confidence: a check a misread rarely survives beside the value's
own label, or a second reading elsewhere that agrees. Weak evidence still flags.
"""

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


def test_a_name_read_alike_on_the_form_and_the_attached_note_is_trusted():
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
