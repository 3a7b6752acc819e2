"""Referral letters read from their sentences (issue 18, item 5): "I am referring my patient
NAME, DOB …", "she can be reached at …", "insured through …", "for evaluation of …",
the signature. Each letter is worded differently, and each carries the distractors letters
have: the receiving doctor ("Dear Dr. …"), a primary care physician named in passing, the
office's own phone, "urgent care" as a place.
"""

import datetime as dt

import pytest

from refloop.intake import prose
from refloop.intake.extraction import merge, read_page
from refloop.intake.reading import PageText, Word

TODAY = dt.date(2026, 6, 1)
CHAR_W, ROW_H, TEXT_H = 0.0085, 0.02, 0.012


def letter(text: str, *, conf: float = 0.93) -> PageText:
    """A page whose words sit where the text's characters are: one line per text line."""
    lines = []
    for row, line in enumerate(text.strip("\n").splitlines()):
        words, col = [], 0
        for token in line.split(" "):
            if token:
                x0, y0 = 0.08 + col * CHAR_W, 0.05 + row * ROW_H
                words.append(Word(token, conf, x0, y0, x0 + len(token) * CHAR_W, y0 + TEXT_H))
            col += len(token) + 1
        if words:
            lines.append(words)
    return PageText(number=1, method="ocr", lines=lines)


def found_by_field(page: PageText) -> dict[str, prose.Found]:
    found = {}
    for reading in prose.read_prose(page, TODAY):
        assert reading.field not in found, f"{reading.field} read twice"
        found[reading.field] = reading
    return found


def values_of(page: PageText) -> dict[str, str]:
    return {name: read.value for name, read in found_by_field(page).items()}


def words_in_box(page: PageText, box) -> str:
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    inside = [
        w.text
        for w in page.words
        if w.x0 >= x0 - 1e-9 and w.x1 <= x1 + 1e-9 and w.y0 >= y0 - 1e-9 and w.y1 <= y1 + 1e-9
    ]
    return " ".join(inside)


CASTILLO = letter(
    """
Riverside Family Medicine
1200 Oak Street, Wichita, KS 67202
Phone (316) 555-0100     Fax (316) 555-0101
June 1, 2026
Dr. Helen Park
Heartland Cardiology
400 Main Street, Topeka, KS 66603  Phone (785) 555-0170
Dear Dr. Park,
I am referring my patient Keisha K Brooks, DOB 07/14/1996, for evaluation of new onset
atrial fibrillation. She can be reached at (316) 555-0142. She is insured through Blue
Cross Blue Shield of Kansas, member ID XYZ123456. Her primary care physician, Dr. Omar
Haddad, has followed her for years; she was seen in urgent care last week. Please see her
at your earliest convenience, and do not hesitate to call our office at (316) 555-0100.
Sincerely,
Elena Castillo, MD
NPI 1234567893
"""
)


def test_a_letter_names_the_patient_the_reason_the_contact_and_the_signer():
    assert values_of(CASTILLO) == {
        "patient_first_name": "Keisha",
        "patient_last_name": "Brooks",
        "patient_date_of_birth": "1996-07-14",
        "patient_phone": "(316) 555-0142",
        "insurance": "Blue Cross Blue Shield of Kansas",
        "reason": "new onset atrial fibrillation",
        "provider_name": "Elena Castillo",
        "provider_npi": "1234567893",
        "provider_phone": "(316) 555-0100",
        # A courtesy, not a deadline: "at your earliest convenience" asks for routine care.
        "urgency": "routine",
    }


def test_the_receiving_doctor_and_the_pcp_named_in_passing_are_not_the_referrer():
    fields = merge([read_page(CASTILLO, today=TODAY)])
    assert fields["provider_name"]["value"] == "Elena Castillo"
    assert fields["patient_phone"]["value"] == "(316) 555-0142"
    assert fields["insurance"]["value"] == "Blue Cross Blue Shield of Kansas"


def test_each_value_carries_the_box_of_the_words_it_was_read_from():
    found = found_by_field(CASTILLO)
    assert words_in_box(CASTILLO, found["patient_date_of_birth"].box) == "07/14/1996,"
    assert words_in_box(CASTILLO, found["patient_first_name"].box) == "Keisha"
    assert words_in_box(CASTILLO, found["patient_last_name"].box) == "Brooks,"
    assert words_in_box(CASTILLO, found["patient_phone"].box) == "(316) 555-0142."
    assert words_in_box(CASTILLO, found["provider_npi"].box) == "1234567893"
    # A value over two lines: the box spans both.
    insurance = words_in_box(CASTILLO, found["insurance"].box)
    assert "Blue" in insurance and "Kansas," in insurance


def test_prose_gives_way_to_an_explicit_label():
    page = letter(
        """
Patient name: Ana Lee        DOB: 01/02/1990
Dear Colleague,
I am referring my patient Ann Leigh, born 02/01/1990, for assessment of chronic cough.
"""
    )
    assert all(read.priority < 3 for read in prose.read_prose(page, TODAY))
    fields = merge([read_page(page, today=TODAY)])
    assert fields["patient_first_name"]["value"] == "Ana"
    assert fields["patient_last_name"]["value"] == "Lee"
    assert fields["patient_date_of_birth"]["value"] == "1990-01-02"
    assert fields["reason"]["value"] == "chronic cough"


def test_a_re_line_and_a_letter_signed_by_doctor_without_credentials():
    page = letter(
        """
Re: Marcus Webb   DOB: 3/9/58
Dear Colleague,
Thank you for seeing Mr. Webb, whom I am referring for management of uncontrolled type 2
diabetes despite two oral agents. His cell number is 316.555.0199. His insurance is Aetna
Medicare Advantage PPO (ID W998877). I would appreciate it if you could see him urgently.
Best regards,
Dr. Priya Natarajan
"""
    )
    assert values_of(page) == {
        "patient_first_name": "Marcus",
        "patient_last_name": "Webb",
        "patient_date_of_birth": "1958-03-09",
        "patient_phone": "(316) 555-0199",
        "insurance": "Aetna Medicare Advantage PPO",
        "reason": "uncontrolled type 2 diabetes despite two oral agents",
        "provider_name": "Priya Natarajan",
        "urgency": "urgent",
    }


def test_a_letter_to_refer_signed_electronically():
    page = letter(
        """
Dear Neurology Clinic,
This letter is to refer Ana Lucia Torres (born December 2nd, 1971) to your clinic. Ms.
Torres is referred for chronic migraine with aura. She can be contacted at 316-555-0123
(home). She is insured with Kansas Medicaid. This is not urgent.
Electronically signed by: Samuel O'Neil, DO   NPI: 1245319599
"""
    )
    assert values_of(page) == {
        "patient_first_name": "Ana",
        "patient_last_name": "Torres",
        "patient_date_of_birth": "1971-12-02",
        "patient_phone": "(316) 555-0123",
        "insurance": "Kansas Medicaid",
        "reason": "chronic migraine with aura",
        "provider_name": "Samuel O'Neil",
        "provider_npi": "1245319599",
        "urgency": "routine",
    }


def test_stat_in_prose_and_a_phone_given_as_her_mobile():
    page = letter(
        """
Dear Dr. Abbott,
I would like to refer Jordan Ellis, D.O.B. 11-23-1984, for consultation regarding a
suspected retinal detachment. Her mobile is (620) 555-0111. She needs to be seen today,
stat. Her insurance carrier is UnitedHealthcare Choice Plus.
Respectfully,
Maria Gomez, NP
"""
    )
    read = values_of(page)
    assert read["urgency"] == "stat"
    assert read["patient_phone"] == "(620) 555-0111"
    assert read["reason"] == "a suspected retinal detachment"
    assert read["insurance"] == "UnitedHealthcare Choice Plus"
    assert (read["patient_first_name"], read["patient_last_name"]) == ("Jordan", "Ellis")
    assert read["provider_name"] == "Maria Gomez"


def test_attached_notes_and_an_earlier_referral_are_not_the_patient_or_the_reason():
    page = letter(
        """
Dear Dr. Lee,
Please see the attached Progress Notes. Please see my patient Tomas Reyes, DOB 5/5/1970,
for evaluation of chronic knee pain. He was previously referred for physical therapy.
Sincerely,
Ann Ruiz, PA-C
"""
    )
    read = values_of(page)
    assert (read["patient_first_name"], read["patient_last_name"]) == ("Tomas", "Reyes")
    assert read["reason"] == "chronic knee pain"
    assert read["provider_name"] == "Ann Ruiz"


def test_a_subject_line_last_name_first_and_a_consultation_and_management():
    page = letter(
        """
RE: BROOKS, KEISHA   DOB 07/14/1996
Dear Dr. Nguyen,
I am writing to refer the above patient to your practice for consultation and management
of persistent atrial fibrillation. Please see her within the next two weeks.
Sincerely,
Elena Castillo, MD
"""
    )
    read = values_of(page)
    assert (read["patient_first_name"], read["patient_last_name"]) == ("Keisha", "Brooks")
    assert read["patient_date_of_birth"] == "1996-07-14"
    assert read["reason"] == "persistent atrial fibrillation"
    assert read["urgency"] == "urgent"


def test_please_see_with_a_birth_date_regarding_and_codes_in_a_sentence():
    page = letter(
        """
June 1, 2026
To: Dr. Ravi Shah, Lakeside Nephrology
RE: Referral for Okafor, Grace
Dear Dr. Shah:
Please see Grace Okafor, DOB: 1958-11-03, regarding CKD stage 4 with rising creatinine.
Diagnosis codes N18.4, I10. The best number to reach her is 316 555 0177. This is a
routine referral. My office phone is (316) 555-0100; fax (316) 555-0101.
Regards,
Tom Baker, DO
"""
    )
    assert values_of(page) == {
        "patient_first_name": "Grace",
        "patient_last_name": "Okafor",
        "patient_date_of_birth": "1958-11-03",
        "reason": "CKD stage 4 with rising creatinine",
        "icd10_codes": "N18.4, I10",
        "patient_phone": "(316) 555-0177",
        "urgency": "routine",
        "provider_phone": "(316) 555-0100",
        "provider_fax": "(316) 555-0101",
        "provider_name": "Tom Baker",
    }


def test_urgent_and_stat_as_the_letter_heads_its_request():
    urgent = letter("Urgent: please schedule at your earliest availability.\nSincerely,")
    stat = letter("STAT referral: please call my office today to arrange the visit.")
    assert values_of(urgent)["urgency"] == "urgent"
    assert values_of(stat)["urgency"] == "stat"
    # "referral" with a letter too many or a letter misread by OCR.
    for slip in ("refierral", "reterral", "referal"):
        misread = letter(f"STAT {slip}, please call my office today to arrange the visit.")
        assert values_of(misread)["urgency"] == "stat", slip
    within = letter("This is an urgent referral; please see the patient within the week.")
    assert values_of(within)["urgency"] == "urgent"


def test_a_phone_number_glued_to_the_word_before_it_is_read_whole():
    page = letter(
        """
Dear Dr. Carrington,
I am referring my patient Dolores Gallagher, DOB 12/27/1941, for memory loss.
Her phone number is.209 882.2278, She is insured with Aetna Choice POS II.
Sincerely,
"""
    )
    assert values_of(page)["patient_phone"] == "(209) 882-2278"


def test_ocr_slips_in_a_letter_are_read_through():
    page = letter(
        """
Dear Dr. Carrington,
iam referring my patient Dolores Gallagher, DOB Dec 27,1941, for evaluation of memory
loss. The best number to reach her} is 423-727-5631.
Sincerely,
Raymond M, Raghunathan, NP,
"""
    )
    read = values_of(page)
    assert (read["patient_first_name"], read["patient_last_name"]) == ("Dolores", "Gallagher")
    assert read["patient_date_of_birth"] == "1941-12-27"
    assert read["patient_phone"] == "(423) 727-5631"
    assert read["provider_name"] == "Raymond Raghunathan"


def test_a_surname_with_a_particle_is_not_cut_short():
    page = letter(
        """
Dear Dr. Lee,
I am referring my patient Gloria St. Clair, DOB 03/04/1950, for evaluation of dizziness.
"""
    )
    read = values_of(page)
    assert "patient_last_name" not in read or read["patient_last_name"] != "St"


def test_an_attached_notes_signer_is_not_read_as_the_referrer():
    note = letter(
        """
OFFICE VISIT NOTE
Patient seen for follow-up. Plan: continue current medications.
Electronically signed by Rebecca Kaplan, PA-C   NPI: 1234567893
"""
    )
    assert "provider_name" not in values_of(note)
    assert "provider_npi" not in values_of(note)


def test_a_form_without_sentences_gives_prose_nothing_to_read():
    page = letter(
        """
REFERRAL FORM
Patient: Ana Lee   DOB: 01/02/1990   Phone: (316) 555-0142
Insurance: Aetna   Urgency: Routine
Referring provider: Alan Abbott, MD   NPI: 1234567893
"""
    )
    assert prose.read_prose(page, TODAY) == []


def test_a_labelled_plan_in_a_letter_ends_with_its_sentence():
    page = letter(
        """
I am referring my patient Keisha Brooks, DOB 07/14/1996, for evaluation of palpitations.
Insurance: Aetna Choice POS II. Please see her urgently. She can be
reached at (316) 555-0142.
Sincerely,
Elena Castillo, MD
"""
    )
    fields = merge([read_page(page, today=TODAY)])
    assert fields["insurance"]["value"] == "Aetna Choice POS II"
    assert fields["urgency"]["value"] == "urgent"


# ---- what OCR makes of a letter -------------------------------------------------------


def test_an_ocr_read_of_i_am_still_introduces_the_patient():
    # "I am" comes through a fax as "lam", "Iam" or "1 am".
    for intro in ("lam referring", "Iam referring", "1 am referring", "l'm referring"):
        page = letter(f"{intro} my patient Ondine Harrowgate, DOB 3/4/1958, to you.")
        read = values_of(page)
        assert (read["patient_first_name"], read["patient_last_name"]) == (
            "Ondine",
            "Harrowgate",
        ), intro
        assert read["patient_date_of_birth"] == "1958-03-04"


def test_a_surname_with_a_particle_is_read_whole():
    page = letter(
        "Thank you for seeing my patient, Wilhelmina Van der Graaf, born 2 May 1950, "
        "for a rotator cuff tear.\nThank you for seeing my patient, Tobias St. Aubyn."
    )
    read = values_of(page)
    assert (read["patient_first_name"], read["patient_last_name"]) == (
        "Wilhelmina",
        "Van der Graaf",
    )
    assert read["patient_date_of_birth"] == "1950-05-02"


def test_a_particle_with_a_period_keeps_it():
    read = values_of(letter("Please see my patient Tobias St. Aubyn, DOB 11/30/1971, today."))
    assert read["patient_last_name"] == "St. Aubyn"


def test_a_reason_after_a_birth_date_written_with_a_comma():
    page = letter("Kindly see Perpetua Lowndes; DOB: March 9, 1962, regarding worsening tremor.")
    assert values_of(page)["reason"] == "worsening tremor"


def test_a_reason_whose_space_was_read_as_a_period():
    page = letter("I am referring my patient Jory Pendleton, whom I am referring for.heel pain.")
    assert values_of(page)["reason"] == "heel pain"


def test_diagnosis_codes_after_a_period_read_for_a_colon():
    page = letter(
        "Dear Dr. Amsel,\nPlease see my patient Ines Calloway. Diagnosis codes. G43.909, "
        "R51.9.\nSincerely,\nTheron Blakeslee, DO"
    )
    assert values_of(page)["icd10_codes"] == "G43.909, R51.9"


def test_a_signature_with_a_credential_read_as_npi_keeps_only_the_name():
    page = letter(
        "Dear Dr. Amsel,\nPlease see my patient Ines Calloway, DOB 1/2/1970.\n"
        "Sincerely,\nRosamund K, Okonkwo-Bell, NPI"
    )
    assert values_of(page)["provider_name"] == "Rosamund Okonkwo-Bell"


def test_a_letterhead_phone_keeps_its_area_code_in_brackets():
    page = letter(
        "Quarry Hill Family Practice\n88 Mill Lane - Ashby, VT 05001\n"
        "Phone (802) 555-0147 · Fax (802) 555-0148\nDear Dr. Amsel,\n"
        "Please see my patient Ines Calloway, DOB 1/2/1970.\nSincerely,\nTheron Blakeslee, DO"
    )
    fields = merge([read_page(page, today=TODAY)])
    assert fields["provider_phone"]["value"] == "(802) 555-0147"
    assert fields["provider_fax"]["value"] == "(802) 555-0148"


def test_a_speck_after_his_does_not_hide_the_patients_phone():
    page = letter(
        "I am referring my patient Cyprian Holt, DOB 5/5/1960.\nHis. phone number is 603-555-0199."
    )
    assert values_of(page)["patient_phone"] == "(603) 555-0199"


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("Poorly controlled.asthma despite inhalers", "Poorly controlled asthma despite inhalers"),
        ("Worsening chronic.migraine", "Worsening chronic migraine"),  # the last word too
    ],
)
def test_a_speck_read_as_a_period_between_two_words_is_a_space(line, meant):
    page = letter(f"Reason for referral: {line}")
    assert merge([read_page(page, today=TODAY)])["reason"]["value"] == meant


def test_a_box_side_glued_to_a_word_is_not_part_of_it():
    page = letter("Patient: Rhoswen Tallis\nInsurance: Highmark BCBS Community iBlue")
    assert merge([read_page(page, today=TODAY)])["insurance"]["value"] == (
        "Highmark BCBS Community Blue"
    )


@pytest.mark.parametrize("gap", ["    ", ": "])
def test_a_role_row_gives_the_providers_npi_phone_and_fax_after_the_name(gap):
    # An EHR's provider table under a header OCR garbled: the row's label, then the values,
    # in columns (gap) or run on after a colon.
    columns = "    " if gap.strip() == "" else " "
    page = letter(
        "Patient: Marguerite Oyelaran DOB: 1950-02-03\n"
        + columns.join(
            ["Ordering Provider" + gap.rstrip(), "Ferreira, Anselm DNP", "1245319599",
             "(614)555-0132", "(614)555-0133"]
        )
        + "\n"
        + columns.join(
            ["Referred To" + gap.rstrip(), "Castellanos, Ruth MD", "1679576722",
             "(740)555-0199", "(740)555-0198"]
        )
    )  # fmt: skip
    fields = merge([read_page(page, today=TODAY)])
    assert fields["provider_name"]["value"] == "Anselm Ferreira"
    assert fields["provider_npi"]["value"] == "1245319599"
    assert not fields["provider_npi"]["review"]
    assert (fields["provider_phone"]["value"], fields["provider_fax"]["value"]) == (
        "(614) 555-0132",
        "(614) 555-0133",
    )
    assert fields["provider_phone"]["review"]  # their order is a convention: a person looks


def test_the_i_of_i_am_referring_lost_to_the_line_above():
    found = found_by_field(
        letter(
            "Dear Dr. Carrington:\nam referring my patient Dolores Gallagher, DOB Dec 27,1941, for"
        )
    )
    assert (found["patient_first_name"].value, found["patient_last_name"].value) == (
        "Dolores",
        "Gallagher",
    )
    assert found["patient_date_of_birth"].value == "1941-12-27"


def test_a_birth_date_is_kept_when_the_name_before_it_is_glued_to_it():
    # "St. Clair (date" read as one word: no name to take, but the date is the patient's.
    found = found_by_field(
        letter(
            "Dear Dr. Sato:\n"
            "I am writing to refer Xiomara H. St. Clairi(date of birth 03/19/2004) to your"
        )
    )
    assert "patient_last_name" not in found
    assert found["patient_date_of_birth"].value == "2004-03-19"


def test_a_dash_read_as_a_plus_in_the_offices_number():
    found = found_by_field(
        letter("Dear Dr. Sato:\nYou can reach my office at (853) 418+4468 or fax records to")
    )
    assert found["provider_phone"].value == "(853) 418-4468"
    assert found["provider_phone"].valid


def test_an_accent_a_speck_gave_a_letter_does_not_hide_the_sentence():
    found = found_by_field(letter("Dear Dr. Delgado:\nHe can be réached at 252-427-9173. He is"))
    assert found["patient_phone"].value == "(252) 427-9173"


def test_a_reason_ends_where_a_period_read_as_a_colon_ends_its_sentence():
    page = letter(
        "I am referring him for gallstones with recurrent epigastric pain: His symptoms\n"
        "began about 8 months ago."
    )
    assert values_of(page)["reason"] == "gallstones with recurrent epigastric pain"


def test_a_letters_reason_has_its_misread_words_put_right_and_checked():
    found = found_by_field(letter("I am referring him for a new systclic murmur, please evaluate."))
    assert found["reason"].value == "a new systolic murmur, please evaluate"
    assert found["reason"].confidence < 0.8


def test_a_patient_named_with_an_initials_period_and_dob_misread_opens_the_letter():
    page = letter("Please see Tobias V: Castellanos, DB:1938-12-22, regarding low back pain.")
    values = values_of(page)
    assert (values["patient_first_name"], values["patient_last_name"]) == ("Tobias", "Castellanos")
    assert values["patient_date_of_birth"] == "1938-12-22"


def test_the_subject_line_names_the_patient_and_the_sentence_below_gives_her_birth_date():
    page = letter(
        "RE: Referral for Okonkwo, Priya\n"
        "Dear Dr. Sato,\n"
        "Thank you for seeing my patient, Priya Okonkwo, born Aug 20,1993, whom I am\n"
        "referring for exertional chest pain."
    )
    values = values_of(page)
    assert (values["patient_first_name"], values["patient_last_name"]) == ("Priya", "Okonkwo")
    assert values["patient_date_of_birth"] == "1993-08-20"


def test_the_only_birth_date_a_letter_states_is_its_patients_shown_for_a_check():
    # The name in the sentence is garbled by a speck ("Alonzo. O'Donnell"), so the birth
    # date is not right after a name: the one the letter states is still the patient's.
    page = letter(
        "RE: Referral for O'Donnell, Alonzo\n"
        "Dear Dr. Ellsworth,\n"
        "Thank you for seeing my patient, Alonzo. O'Donnell, born August 8, 1988, whom I am\n"
        "referring for claudication."
    )
    found = found_by_field(page)
    assert found["patient_date_of_birth"].value == "1988-08-08"
    assert found["patient_date_of_birth"].confidence < 0.8
    # Two birth dates: whose is whose, the letter does not say.
    two = letter(
        "RE: Referral for O'Donnell, Alonzo\n"
        "Dear Dr. Ellsworth,\n"
        "I am writing about claudication. His mother, born March 2, 1950, and his brother,\n"
        "born May 5, 1985, have the same."
    )
    assert "patient_date_of_birth" not in values_of(two)


def test_a_speck_after_referring_and_to_read_as_ta_still_read_as_prose():
    page = letter(
        "I am referring. for iron deficiency anemia with melena. The best number ta reach\n"
        "her is 793.208.0972."
    )
    values = values_of(page)
    assert values["reason"] == "iron deficiency anemia with melena"
    assert values["patient_phone"] == "(793) 208-0972"


def test_a_reason_ends_before_a_label_its_period_read_as_a_comma_runs_into():
    page = letter(
        "I am referring him for suspected obstructive sleep apnea, Relevant diagnoses: G47.33."
    )
    assert values_of(page)["reason"] == "suspected obstructive sleep apnea"
    # A capital inside the reason is not a label without its colon.
    page = letter("I am referring her for anemia, Crohn disease and weight loss.")
    assert values_of(page)["reason"] == "anemia, Crohn disease and weight loss"


def test_a_birth_dates_colon_read_as_an_i_and_through_read_thnough():
    page = letter(
        "I am writing to refer Augustin Ferreira (date of birthiMar 25,1967) to your practice\n"
        "for first unprovoked seizure. He is insured thnough Highmark BCBS Community Blue."
    )
    values = values_of(page)
    assert values["patient_date_of_birth"] == "1967-03-25"
    assert values["insurance"] == "Highmark BCBS Community Blue"


def test_a_speck_read_as_a_period_inside_a_reason_does_not_end_it():
    page = letter(
        "I am referring my patient Delphine Szymanski, DOB 1961-08-20, for evaluation of\n"
        "chronic migraine. not responding to two preventives. Diagnosis codes G43.909."
    )
    assert values_of(page)["reason"] == "chronic migraine not responding to two preventives"
    # A label misread with a small letter after the period ends it.
    page = letter("I am referring her for anxiety, medication management. iCD-10: F41.1")
    assert values_of(page)["reason"] == "anxiety, medication management"


def test_a_plan_in_a_sentence_cut_of_its_numeral_is_flagged():
    page = letter("I am referring her for knee pain. She is insured with Aetna Choice POS I.")
    assert merge([read_page(page, today=TODAY)])["insurance"]["review"]
