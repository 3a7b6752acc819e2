"""Words for the Health Care Provider Taxonomy codes (NUCC) that referring offices most often
carry. No maintained package ships the code set, and NUCC publishes it for download only, so
this names the common ones; any other code is kept as it is, without words."""

SPECIALTIES = {
    # Primary care and general medicine
    "207Q00000X": "Family Medicine",
    "207QA0505X": "Adult Medicine (Family Medicine)",
    "207QG0300X": "Geriatric Medicine (Family Medicine)",
    "207QS1201X": "Sports Medicine (Family Medicine)",
    "207R00000X": "Internal Medicine",
    "207RG0300X": "Geriatric Medicine (Internal Medicine)",
    "207RS0010X": "Sports Medicine (Internal Medicine)",
    "208D00000X": "General Practice",
    "208000000X": "Pediatrics",
    "207V00000X": "Obstetrics & Gynecology",
    "207P00000X": "Emergency Medicine",
    # Internal medicine subspecialties
    "207RC0000X": "Cardiovascular Disease",
    "207RE0101X": "Endocrinology, Diabetes & Metabolism",
    "207RG0100X": "Gastroenterology",
    "207RH0003X": "Hematology & Oncology",
    "207RI0200X": "Infectious Disease",
    "207RN0300X": "Nephrology",
    "207RP1001X": "Pulmonary Disease",
    "207RR0500X": "Rheumatology",
    "207RX0202X": "Medical Oncology",
    "207K00000X": "Allergy & Immunology",
    # Surgery and the musculoskeletal specialties
    "208600000X": "Surgery",
    "2086S0129X": "Vascular Surgery",
    "208G00000X": "Thoracic Surgery",
    "208200000X": "Plastic Surgery",
    "207T00000X": "Neurological Surgery",
    "207X00000X": "Orthopaedic Surgery",
    "207XS0114X": "Adult Reconstructive Orthopaedic Surgery",
    "207XX0004X": "Orthopaedic Foot and Ankle Surgery",
    "207XS0106X": "Orthopaedic Hand Surgery",
    "207XS0117X": "Orthopaedic Surgery of the Spine",
    "207XX0801X": "Orthopaedic Trauma",
    "207XX0005X": "Sports Medicine (Orthopaedic Surgery)",
    "208100000X": "Physical Medicine & Rehabilitation",
    "2081S0010X": "Sports Medicine (Physical Medicine & Rehabilitation)",
    "2081P2900X": "Pain Medicine (Physical Medicine & Rehabilitation)",
    "207LP2900X": "Pain Medicine (Anesthesiology)",
    "208VP0000X": "Pain Medicine",
    "208VP0014X": "Interventional Pain Medicine",
    "207L00000X": "Anesthesiology",
    # Other physician specialties
    "2084N0400X": "Neurology",
    "2084P0800X": "Psychiatry",
    "207N00000X": "Dermatology",
    "207W00000X": "Ophthalmology",
    "207Y00000X": "Otolaryngology",
    "208800000X": "Urology",
    "2085R0202X": "Diagnostic Radiology",
    # Non-physician clinicians
    "363L00000X": "Nurse Practitioner",
    "363LF0000X": "Nurse Practitioner, Family",
    "363LA2200X": "Nurse Practitioner, Adult Health",
    "363A00000X": "Physician Assistant",
    "363AM0700X": "Physician Assistant, Medical",
    "363AS0400X": "Physician Assistant, Surgical",
    "225100000X": "Physical Therapist",
    "225X00000X": "Occupational Therapist",
    "111N00000X": "Chiropractor",
    "213E00000X": "Podiatrist",
    "152W00000X": "Optometrist",
    "122300000X": "Dentist",
    "1223G0001X": "General Practice Dentistry",
    # Organizations
    "193200000X": "Multi-Specialty Group",
    "193400000X": "Single Specialty Group",
    "261QP2300X": "Primary Care Clinic",
}


def specialty(code: str) -> str:
    """The words for a taxonomy code, or '' when this table does not know it."""
    return SPECIALTIES.get(code, "")
