"""Prose referrals: a letter on letterhead, a plain typed letter, and a hospital discharge
referral. The fields sit inside sentences whose wording is drawn per packet.
"""

import datetime as dt
import random

from .data import HOSPITALS, Referral, doctor, practice, show_date, show_phone
from .sheets import MONO, SANS, SERIF, Drawn, doctor_line, esc, page

PRONOUN = {"F": ("she", "her"), "M": ("he", "his")}


def _opening(rng: random.Random, ref: Referral, dob: str) -> str:
    p = ref.patient
    name = f"{p.first} {p.middle + '. ' if p.middle else ''}{p.last}"
    return rng.choice(
        [
            f"I am referring my patient {name}, DOB {dob}, for evaluation of {{reason}}.",
            f"I am writing to refer {name} (date of birth {dob}) to your practice for {{reason}}.",
            f"Thank you for seeing my patient, {name}, born {dob}, whom I am referring for {{reason}}.",
            f"Please see {name}, DOB: {dob}, regarding {{reason}}.",
        ]
    )


def _reason_phrase(ref: Referral) -> str:
    text = ref.reason.text
    first = text.split()[0]
    # "New onset ..." reads "for evaluation of new onset ...", but "CKD" and "BPH" stay.
    return text if first.isupper() or first[1:] != first[1:].lower() else text[0].lower() + text[1:]


def _contact(rng: random.Random, ref: Referral, phone: str) -> str:
    she, her = PRONOUN[ref.patient.sex]
    return rng.choice(
        [
            f"{she.capitalize()} can be reached at {phone}.",
            f"The best number to reach {'her' if she == 'she' else 'him'} is {phone}.",
            f"{her.capitalize()} phone number is {phone}.",
        ]
    )


def _insurance(rng: random.Random, ref: Referral) -> str:
    she, _ = PRONOUN[ref.patient.sex]
    return rng.choice(
        [
            f"{she.capitalize()} is insured through {ref.insurance}.",
            f"{she.capitalize()} is insured with {ref.insurance} (member ID {ref.patient.member_id}).",
            f"Insurance: {ref.insurance}, member ID {ref.patient.member_id}.",
        ]
    )


def _codes(rng: random.Random, ref: Referral) -> str:
    codes = ", ".join(ref.reason.codes)
    return rng.choice(
        [
            f"Relevant diagnoses: {codes}.",
            f"ICD-10: {codes}.",
            f"Diagnosis codes {codes}.",
        ]
    )


def _urgency(rng: random.Random, ref: Referral) -> tuple[str, str]:
    """A sentence saying how soon, and the value it means ("" when it says nothing)."""
    options = {
        "routine": [
            "This is a routine referral.",
            "There is no urgency; a routine appointment is fine.",
            "",
        ],
        "urgent": [
            "This is an urgent referral; please see her within the week.".replace(
                "her", "the patient"
            ),
            "Urgent: please schedule at your earliest availability.",
        ],
        "stat": ["STAT referral: please call my office today to arrange the visit."],
    }[ref.urgency]
    sentence = rng.choice(options)
    return sentence, ref.urgency if sentence else ""


def _letter_body(
    rng: random.Random, ref: Referral, date_style: str, phone_style: int
) -> tuple[list[str], str]:
    dob = show_date(ref.patient.dob, date_style)
    reason = _reason_phrase(ref)
    she, her = PRONOUN[ref.patient.sex]
    urgent_sentence, urgency = _urgency(rng, ref)
    first = _opening(rng, ref, dob).format(reason=reason)
    history = rng.choice(
        [
            f"{she.capitalize()} has been followed in our clinic for several years. ",
            f"{her.capitalize()} symptoms began about {rng.randrange(2, 9)} months ago. ",
            "",
        ]
    )
    paragraphs = [
        f"{first} {history}{_codes(rng, ref)}",
        f"{_contact(rng, ref, show_phone(ref.patient.phone, phone_style))} {_insurance(rng, ref)} {urgent_sentence}".strip(),
        rng.choice(
            [
                "Recent notes and labs are attached. Thank you for your help with this patient's care.",
                "Please do not hesitate to contact me with any questions. Thank you for seeing "
                f"{'her' if she == 'she' else 'him'}.",
                "I appreciate your assistance and look forward to your recommendations.",
            ]
        ),
    ]
    return paragraphs, urgency


# ---- b. letter on letterhead ---------------------------------------------------------------


def letterhead_letter(rng: random.Random, ref: Referral) -> Drawn:
    doc, to = ref.referrer, ref.receiver
    font = rng.choice(SERIF + SANS)
    date_style = rng.choice(["%B %d, %Y", "%m/%d/%Y", "%b %d,%Y", "%d-%b-%Y"])
    phone_style = rng.randrange(5)
    paragraphs, urgency = _letter_body(rng, ref, date_style, phone_style)
    office = doc.practice
    head = (
        f'<div style="text-align:center;border-bottom:2px solid #000;padding-bottom:6px">'
        f'<div style="font-size:19pt;font-variant:small-caps;letter-spacing:1px">{esc(office.name)}</div>'
        f'<div style="font-size:9pt">{esc(office.street)} &middot; {esc(office.city)}, {esc(office.state)} '
        f"{esc(office.zip)}</div>"
        f'<div style="font-size:9pt">{rng.choice(["Phone", "Tel", "Office"])} '
        f"{esc(show_phone(office.phone, phone_style))} &nbsp;&middot;&nbsp; Fax "
        f"{esc(show_phone(office.fax, phone_style))}</div></div>"
    )
    receiver = (
        f"<p>Dr. {esc(to.first)} {esc(to.last)}<br>{esc(to.practice.name)}<br>{esc(to.practice.street)}"
        f"<br>{esc(to.practice.city)}, {esc(to.practice.state)} {esc(to.practice.zip)}</p>"
    )
    p = ref.patient
    re_line = rng.choice(
        [
            f"<p><b>Re: {esc(p.first)} {esc(p.last)}</b></p>",
            f"<p><b>RE: Referral for {esc(p.last)}, {esc(p.first)}</b></p>",
            "",
        ]
    )
    sign = (
        f"<p style='margin-top:0.3in'>Sincerely,</p><p style='margin-top:0.45in'>{esc(doctor_line(doc))}"
        + (f"<br>NPI {esc(doc.npi)}" if rng.random() < 0.7 else "")
        + "</p>"
    )
    blank = set() if "NPI" in sign else {"provider_npi"}
    body = (
        head
        + f"<p style='margin-top:0.3in'>{esc(show_date(ref.referral_date, '%B %d, %Y').replace(' 0', ' '))}</p>"
        + receiver
        + re_line
        + f"<p>Dear Dr. {esc(to.last)},</p>"
        + "".join(f"<p style='text-align:justify'>{esc(x)}</p>" for x in paragraphs)
        + sign
    )
    drawn = Drawn(
        [page(f"<div style=\"font-family:'{font}';font-size:11pt;line-height:1.35\">{body}</div>")],
        blank,
    )
    drawn.values.update(urgency=urgency, reason=_reason_phrase(ref))
    return drawn


# ---- i. plain typed letter, no letterhead --------------------------------------------------


def plain_letter(rng: random.Random, ref: Referral) -> Drawn:
    doc, to = ref.referrer, ref.receiver
    font = rng.choice(MONO + SERIF)
    date_style = rng.choice(["%m/%d/%Y", "%m-%d-%Y", "%Y-%m-%d", "%b %d, %Y"])
    phone_style = rng.randrange(5)
    paragraphs, urgency = _letter_body(rng, ref, date_style, phone_style)
    office = doc.practice
    contact = rng.choice(
        [
            f"You can reach my office at {show_phone(office.phone, phone_style)} or fax records to "
            f"{show_phone(office.fax, phone_style)}.",
            f"My office phone is {show_phone(office.phone, phone_style)}; fax "
            f"{show_phone(office.fax, phone_style)}.",
        ]
    )
    paragraphs.insert(2, contact)
    body = (
        f"<p>{esc(show_date(ref.referral_date, date_style))}</p>"
        f"<p>To: Dr. {esc(to.first)} {esc(to.last)}, {esc(to.practice.name)}</p>"
        f"<p>Dear Dr. {esc(to.last)}:</p>"
        + "".join(f"<p>{esc(x)}</p>" for x in paragraphs)
        + f"<p style='margin-top:0.3in'>Regards,<br><br>{esc(doctor_line(doc))}<br>{esc(office.name)}</p>"
    )
    drawn = Drawn(
        [
            page(
                f"<div style=\"font-family:'{font}';font-size:11pt;line-height:1.4;"
                f'padding-top:0.5in">{body}</div>'
            )
        ],
        {"provider_npi"},
    )
    drawn.values.update(urgency=urgency, reason=_reason_phrase(ref))
    return drawn


# ---- h. hospital discharge referral --------------------------------------------------------


def discharge_referral(rng: random.Random, ref: Referral) -> Drawn:
    """The attending who discharges the patient refers; the PCP and the follow-up doctor are
    distractors, and so are the admission and discharge dates."""
    p, doc, to = ref.patient, ref.referrer, ref.receiver
    font = rng.choice(SANS + SERIF)
    date_style = rng.choice(["%m/%d/%Y", "%d-%b-%Y", "%Y-%m-%d", "%b %d,%Y"])
    phone_style = rng.randrange(5)
    hospital = practice(rng, HOSPITALS)
    pcp = doctor(rng, practice(rng, ["{city} Family Medicine"]))
    discharged = ref.referral_date - dt.timedelta(days=rng.randrange(0, 3))
    admitted = discharged - dt.timedelta(days=rng.randrange(1, 8))
    heading = rng.choice(
        ["DISCHARGE REFERRAL", "Discharge Summary and Referral", "TRANSITION OF CARE REFERRAL"]
    )

    def kv(label: str, value: str) -> str:
        return (
            f'<tr><td style="padding:2px 10px 2px 0;font-weight:bold;white-space:nowrap;'
            f'vertical-align:top">{esc(label)}:</td><td style="padding:2px 0">{esc(value)}</td></tr>'
        )

    priority = {"routine": "Routine", "urgent": "Urgent", "stat": "STAT"}[ref.urgency]
    body = (
        f'<div style="border-bottom:2px solid #000"><b style="font-size:15pt">{esc(hospital.name)}</b><br>'
        f'<span style="font-size:9pt">{esc(hospital.street)}, {esc(hospital.city)}, {esc(hospital.state)} '
        f"&middot; Main {esc(show_phone(hospital.phone, phone_style))}</span></div>"
        f'<h2 style="font-size:13pt">{esc(heading)}</h2><table style="font-size:10pt">'
        + kv("Patient", f"{p.last}, {p.first}")
        + kv("DOB", show_date(p.dob, date_style))
        + kv("MRN", p.mrn)
        + kv("Patient phone", show_phone(p.phone, phone_style))
        + kv("Insurance", ref.insurance)
        + kv("Admission date", show_date(admitted, date_style))
        + kv("Discharge date", show_date(discharged, date_style))
        + kv("Attending physician", doctor_line(doc))
        + kv("Attending NPI", doc.npi)
        + kv("Attending phone", show_phone(doc.practice.phone, phone_style))
        + kv("Attending fax", show_phone(doc.practice.fax, phone_style))
        + kv("Primary care physician", f"{pcp.first} {pcp.last}, {pcp.credential}")
        + "</table>"
        '<h3 style="font-size:11pt;margin-bottom:2px">Discharge Diagnoses</h3><ol style="margin-top:2px">'
        + "".join(f"<li>{esc(c)}</li>" for c in ref.reason.codes)
        + "</ol>"
        f'<h3 style="font-size:11pt;margin-bottom:2px">Hospital Course</h3><p style="margin-top:2px">Admitted '
        f"with {esc(ref.reason.complaint)}. Treated and improved; stable for discharge home.</p>"
        f'<h3 style="font-size:11pt;margin-bottom:2px">Follow-up</h3><table style="font-size:10pt">'
        + kv("Follow up with", f"Dr. {to.first} {to.last}, {ref.reason.specialty}")
        + kv("Clinic phone", show_phone(to.practice.phone, phone_style))
        + kv("Reason for referral", ref.reason.text)
        + kv("Priority", priority)
        + kv("Within", rng.choice(["7 days", "2 weeks", "1 month"]))
        + "</table>"
    )
    return Drawn([page(f"<div style=\"font-family:'{font}';font-size:10.5pt\">{body}</div>")])
