"""Whose a number or a name is on order, prior-authorization and boxed forms: the
referring provider's, the patient's, or another party's (a report's author, a payer, the
clinic the patient is sent to). Pages are placed by hand from a text grid (issue 18)."""

from dataclasses import replace

from tests.intake.test_layout import fields_of, page_of, values_of


def test_an_attached_reports_letterhead_numbers_are_not_the_referrers():
    form = page_of("Patient Name: Keisha Brooks\nReferring Physician: Elena Castillo, MD")
    report = page_of(
        """
ADVANCED IMAGING OF HARLOW
12 Main St, Harlow, TX    Tel (918) 234-4148    Fax (918) 478-9288
RADIOLOGY REPORT
Patient: Keisha Brooks
""",
        number=2,
    )
    fields = fields_of(form, report)
    for name in ("provider_phone", "provider_fax"):
        assert fields[name]["value"] == "" or fields[name]["review"]
    # The fax machine's banner names the sender: its number comes before the report's.
    banner = page_of(
        "05/20/2026 09:41 FROM: HARLOW FAMILY MEDICINE (815) 454-5365 P.1/2\n"
        "Patient Name: Keisha Brooks\nReferring Physician: Elena Castillo, MD"
    )
    fields = fields_of(banner, report)
    assert fields["provider_fax"]["value"] == "(815) 454-5365"
    assert fields["provider_fax"]["review"]


def test_a_letters_own_letterhead_numbers_stay_the_referrers():
    letter = page_of(
        """
HARLOW FAMILY MEDICINE
Tel (815) 599-1255    Fax (815) 454-5365
Dear Dr. Moreau,
"""
    )
    values = values_of(letter)
    assert values["provider_phone"] == "(815) 599-1255"
    assert values["provider_fax"] == "(815) 454-5365"


def test_a_payers_toll_free_fax_at_the_top_of_its_form_is_not_the_referrers():
    form = page_of(
        """
Acme Health Plan                             Utilization Management
                                             Fax: 800-555-0199
PRIOR AUTHORIZATION REQUEST FORM
Member Name: Keisha Brooks
Requesting Provider: Elena Castillo, MD
"""
    )
    fields = fields_of(form)
    assert fields["provider_fax"]["value"] == "" or fields["provider_fax"]["review"]


def test_a_role_row_reads_its_numbers_by_the_column_headings_over_them():
    # A shaded header row read with letters wrong; the phone misread past reading. The fax
    # stays the fax, and the numbers are the ordering provider's, not the referred-to's.
    table = page_of(
        """
Providers
Role                Name                       NPl         Prone             Fex
Ordering Provider   Sato, Oluwaseun FNP-BC     1622224305  {8715} 59-1255    (550) 850-3253
Referred To         Castillo, Deborah PA-C     2429549589  (433) 536-0247    (433) 453-8858
"""
    )
    fields = fields_of(table)
    assert fields["provider_name"]["value"] == "Oluwaseun Sato"
    assert fields["provider_npi"]["value"] == "1622224305"
    assert fields["provider_fax"]["value"] == "(550) 850-3253"
    # The misread phone is no number: shown as read at most, for a person to check.
    assert fields["provider_phone"]["value"] in {"", "8715591255"}
    assert fields["provider_phone"]["review"]


def test_an_npi_misread_with_a_digit_too_many_is_not_read_as_a_phone():
    row = page_of(
        """
Ordering Provider   Lockhart, Howard NP     12931054128    (659) 474-1019    (659) 312-0532
"""
    )
    fields = fields_of(row)
    assert fields["provider_phone"]["value"] == "(659) 474-1019"
    assert fields["provider_fax"]["value"] == "(659) 312-0532"
    # Placed by the order rows give them, not by a heading: shown to a person.
    assert fields["provider_phone"]["review"] and fields["provider_fax"]["review"]


def test_a_clinicians_block_whose_heading_was_lost_is_no_patients():
    # Boxed form: the shaded "Referring Provider" and "Receiving Provider" bands read as
    # nothing, so both blocks' labels sit under the patient's section.
    form = page_of(
        """
PATIENT NAME                           SEX
Stroud, Wendell                        F
DOB                                    CELL
09/23/1997                             580-306-7911
NAME                                   NPI
Rebecca Moreau, MD                     2907378451
PHONE                                  FAX
561-814-0313                           561-792-7018
NAME                                   SPECIALTY
Yusuf Hassan, FNP-BC                   Breast Surgery
PHONE                                  FAX
682-565-1190                           682-214-6731
"""
    )
    fields = fields_of(form)
    assert (fields["patient_first_name"]["value"], fields["patient_last_name"]["value"]) == (
        "Wendell",
        "Stroud",
    )
    assert fields["patient_phone"]["value"] == "(580) 306-7911"
    assert not fields["patient_phone"]["review"]
    # The first clinician is likely the referrer, but nothing said so: shown, flagged.
    expected = {
        "provider_name": "Rebecca Moreau",
        "provider_npi": "2907378451",
        "provider_phone": "(561) 814-0313",
        "provider_fax": "(561) 792-7018",
    }
    for name, value in expected.items():
        assert fields[name]["value"] == value
        assert fields[name]["review"]


def test_the_service_requested_is_the_reason_only_where_no_clinical_reason_is_given():
    form = page_of(
        """
Service Requested                          CPT / HCPCS
Endocrinology consultation and treatment   99243
Clinical Reason for Request
Type 2 diabetes with hyperglycemia
"""
    )
    fields = fields_of(form)
    assert fields["reason"]["value"] == "Type 2 diabetes with hyperglycemia"
    assert not fields["reason"]["review"]
    alone = page_of("Service Requested: Endocrinology consultation and treatment")
    assert values_of(alone)["reason"] == "Endocrinology consultation and treatment"


def test_a_diagnosis_tables_code_column_under_a_misread_heading_is_read_and_a_repair_checked():
    table = page_of(
        """
Diagnoses
#    1cD-10     Description
1    £05.90     Hyperthyroidism with weight loss and tremor
Providers
"""
    )
    fields = fields_of(table)
    assert fields["icd10_codes"]["value"] == "E05.90"
    # "£" read as "E": a repair is trusted only because the code's title names the
    # condition written beside it (hyperthyroidism is thyrotoxicosis).
    assert not fields["icd10_codes"]["review"]
    # Its I read as a bracket ("(CD-10"), the heading is found too; a repair the row's
    # description does not name is shown for a check.
    misread = page_of("Diagnoses\n#    (CD-10     Description\n1    Mt7.12     Knee pain")
    assert values_of(misread)["icd10_codes"] == "M17.12"
    unnamed = page_of("Diagnoses\n#    (CD-10     Description\n1    Mt7.12     Chest pain")
    fields = fields_of(unnamed)
    assert fields["icd10_codes"]["value"] == "" or fields["icd10_codes"]["review"]
    # Its letters all misread in a shaded cell ("Tep-10"): the "-10" and a column of codes
    # below say what it was.
    garbled = page_of("Diagnoses\n#    Tep-10     Description\n1    RO1.1      New systolic murmur")
    assert values_of(garbled)["icd10_codes"] == "R01.1"
    # A word ending in 10 over no codes is no such heading.
    assert (
        values_of(page_of("Diagnoses\n#    Tep-10     Description\n1    Notes"))["icd10_codes"]
        == ""
    )


def test_a_fax_heading_misread_beside_a_phone_heading_still_leads_its_number():
    block = page_of(
        """
Requesting Provider                    NPI
Deborah Moreau, MD                     2312307590
Phone                                  Fex
906-301-8117                           906-227-3345
"""
    )
    values = values_of(block)
    assert values["provider_phone"] == "(906) 301-8117"
    assert values["provider_fax"] == "(906) 227-3345"
    # Another word one letter off is no heading: a tax ID is no fax number.
    taxed = page_of(
        """
Requesting Provider                    NPI
Deborah Moreau, MD                     2312307590
Phone                                  Tax
906-301-8117                           906-227-3345
"""
    )
    assert values_of(taxed)["provider_fax"] == ""


def test_an_urgency_label_glued_onto_the_segment_before_its_option_still_leads_it():
    # OCR ran "Priority" into the order's description; its option stands alone after a gap.
    order = page_of(
        """
Patient Name: Keisha Brooks
Order     REF994 Referral to Endocrinology Priority      STAT
"""
    )
    assert fields_of(order)["urgency"]["value"] == "stat"
    misread = page_of(
        """
Patient Name: Keisha Brooks
Order     REF398 Referral to Cardiology Prlortty      Routine
"""
    )
    assert fields_of(misread)["urgency"]["value"] == "routine"
    # A sentence ending in the word, followed by no option, is no label: nothing is read,
    # and the form's default is shown for a person to check.
    prose = page_of(
        """
Patient Name: Keisha Brooks
Please treat this as a priority      Thank you
"""
    )
    assert fields_of(prose)["urgency"]["review"]


def _doubted(page, text: str, conf: float):
    """The page with the engine's confidence in the word `text` lowered to `conf`."""
    for line in page.lines:
        for index, word in enumerate(line):
            if word.text == text:
                line[index] = replace(word, conf=conf)
    return page


def test_a_fax_a_digit_off_the_banners_sending_number_is_read_as_the_surer_of_the_two():
    grid = """
05/20/2026 09:41 FROM: HARLOW FAMILY MEDICINE (815) 454-5365 P.1/1
Patient Name: Keisha Brooks
Referring Physician: Elena Castillo, MD     Fax: (875) 454-5365
"""
    # Small type read unsure: the banner's reading is the number, shown for a person to check.
    fields = fields_of(_doubted(page_of(grid), "(875)", 0.6))
    assert fields["provider_fax"]["value"] == "(815) 454-5365"
    assert fields["provider_fax"]["review"]
    # The banner read unsure and the form sure: the form's reading stands.
    fields = fields_of(_doubted(page_of(grid), "(815)", 0.5))
    assert fields["provider_fax"]["value"] == "(875) 454-5365"
    # Numbers further apart are two numbers: the form's own stands, whatever the banner.
    other = grid.replace("(875) 454-5365", "(875) 460-4553")
    fields = fields_of(_doubted(page_of(other), "(875)", 0.6))
    assert fields["provider_fax"]["value"] == "(875) 460-4553"


def test_a_coverage_tables_heading_misread_with_a_digit_is_a_heading_not_the_plan():
    # "Member ID" read "Member 1D": a heading all the same, so the payer's plan is the cell
    # under "Payer", and the misread heading below the table ("Diagnoses" read as specks,
    # words the engine could not read) does not go on the plan's name.
    table = page_of(
        """
Coverage
Payer              Member 1D       Group       Subscriber
Tricare Select     H818738975      1607066     Self
Dhami Description  tn
1   J44.9   COPD with frequent exacerbations
"""
    )
    _doubted(table, "Dhami", 0.04)
    assert fields_of(table)["insurance"]["value"] == "Tricare Select"
    spelt = page_of(
        """
Coverage
Payer                         Member ID       Group       Subscriber
Highmark BCBS Community Blue  2028967553      4134995     Self
Dhami Description             tn
1   G43.909   Chronic migraine not responding to two preventives
"""
    )
    _doubted(spelt, "Dhami", 0.04)
    assert fields_of(spelt)["insurance"]["value"] == "Highmark BCBS Community Blue"
