"""Printed referral forms: a one-column underlined form, a two-column boxed form, a form
filled in by hand, and a payer's prior-authorization request.

Each draw(rng, ref) returns the patient's pages as HTML; wordings, fonts, date and phone
styles, heading case and colons are drawn per packet so no two packets look alike.
"""

import random

from .data import Referral, show_date, show_phone
from .sheets import HANDS, SANS, SERIF, Drawn, checkboxes, doctor_line, esc, page

URGENCY_WORDS = {
    "routine": ["Routine", "Urgent", "STAT"],
    "standard": ["Standard", "Urgent", "Emergent"],
}
INDEX = {"routine": 0, "urgent": 1, "stat": 2}


class Look:
    """Per-packet choices: font, heading case, colons, date and phone styles."""

    def __init__(self, rng: random.Random, fonts: list[str]):
        self.font = rng.choice(fonts)
        self.upper = rng.random() < 0.5
        self.colon = ":" if rng.random() < 0.6 else ""
        self.date_style = rng.choice(["%m/%d/%Y", "%b %d,%Y", "%d-%b-%Y", "%Y-%m-%d", "%m-%d-%Y"])
        self.phone_style = rng.randrange(5)

    def heading(self, text: str) -> str:
        return text.upper() if self.upper else text

    def label(self, text: str) -> str:
        return f"{text}{self.colon}"

    def date(self, day) -> str:
        return show_date(day, self.date_style)

    def phone(self, digits: str) -> str:
        return show_phone(digits, self.phone_style)


def _name_rows(rng: random.Random, ref: Referral) -> list[tuple[str, str]]:
    p = ref.patient
    middle = f" {p.middle}" if p.middle else ""
    return rng.choice(
        [
            [("Patient Name", f"{p.first}{middle} {p.last}")],
            [("Pt Name", f"{p.last}, {p.first}{middle}")],
            [("Name (Last, First)", f"{p.last}, {p.first}")],
            [("Last Name", p.last), ("First Name", p.first)],
            [("Patient", f"{p.first} {p.last}")],
        ]
    )


# ---- a. one-column form with underlined fields ------------------------------------------


def underlined_form(rng: random.Random, ref: Referral) -> Drawn:
    look = Look(rng, SANS + SERIF)
    p, doc, to = ref.patient, ref.referrer, ref.receiver
    how = rng.choice(["x", "fill", "tick", "circle"])
    words = URGENCY_WORDS["routine"]

    def row(label: str, value: str, width: str = "4.4in") -> str:
        return (
            f'<div style="margin:7px 0"><span style="display:inline-block;width:1.9in">'
            f"{esc(look.label(label))}</span>"
            f'<span style="display:inline-block;min-width:{width};border-bottom:1px solid #000;'
            f'padding:0 4px">{esc(value)}</span></div>'
        )

    def section(title: str) -> str:
        return (
            f'<h3 style="margin:16px 0 6px;font-size:11.5pt;border-bottom:2px solid #000">'
            f"{esc(look.heading(title))}</h3>"
        )

    phone_label = rng.choice(["Phone", "Cell", "Phone #", "Home Phone", "Contact Number"])
    ins_label = rng.choice(["Insurance", "Ins. Plan", "Carrier", "Insurance Plan"])
    doc_label = rng.choice(["Referring Physician", "Referring Provider", "Physician Name"])
    reason_label = rng.choice(["Reason for Referral", "Reason", "Referral Reason"])
    codes = ", ".join(ref.reason.codes) if rng.random() < 0.6 else "; ".join(ref.reason.codes)
    body = [
        f'<h1 style="font-size:17pt;text-align:center;margin:8px 0 2px">'
        f"{esc(look.heading(rng.choice(['Referral Form', 'Specialty Referral', 'Outpatient Referral Request'])))}</h1>",
        f'<p style="text-align:center;margin:0 0 8px">{esc(doc.practice.name)}</p>',
        section("Patient Information"),
        *(row(k, v) for k, v in _name_rows(rng, ref)),
        row(rng.choice(["Date of Birth", "DOB", "Birth Date"]), look.date(p.dob), "1.6in"),
        row(phone_label, look.phone(p.phone), "1.8in"),
        row(ins_label, ref.insurance),
        row(rng.choice(["Member ID", "Policy #", "Subscriber ID"]), p.member_id, "2in"),
        row("Group #", p.group, "1.5in"),
        section(rng.choice(["Referring Provider", "Referred By", "From"])),
        row(doc_label, doctor_line(doc)),
        row("NPI", doc.npi, "1.8in"),
        row(rng.choice(["Phone", "Office Phone", "Tel"]), look.phone(doc.practice.phone), "1.8in"),
        row("Fax", look.phone(doc.practice.fax), "1.8in"),
        section(rng.choice(["Referred To", "Specialist", "Consultant"])),
        row("Provider", f"Dr. {to.first} {to.last} ({ref.reason.specialty})"),
        row("Phone", look.phone(to.practice.phone), "1.8in"),
        row("Fax", look.phone(to.practice.fax), "1.8in"),
        section("Referral Details"),
        row(reason_label, ref.reason.text, "4.6in"),
        row(rng.choice(["Diagnosis (ICD-10)", "ICD-10 Codes", "Dx Code(s)"]), codes),
        f'<div style="margin:9px 0"><span style="display:inline-block;width:1.9in">'
        f"{esc(look.label(rng.choice(['Priority', 'Urgency', 'Referral Priority'])))}</span>"
        f"{checkboxes(words, INDEX[ref.urgency], how)}</div>",
        row(
            rng.choice(["Referral Date", "Date", "Date of Request"]),
            look.date(ref.referral_date),
            "1.6in",
        ),
        row("Signature", "", "3in"),
    ]
    return Drawn(
        [page(f"<div style=\"font-family:'{look.font}';font-size:10.5pt\">{''.join(body)}</div>")]
    )


# ---- d. two-column boxed form --------------------------------------------------------------


def boxed_form(rng: random.Random, ref: Referral) -> Drawn:
    look = Look(rng, SANS)
    p, doc, to = ref.patient, ref.referrer, ref.receiver
    inside = rng.random() < 0.5  # small labels inside the top of each box, else shaded cells
    shade = rng.choice(["#d0d0d0", "#bbbbbb", "#e2e2e2"])

    def cell(label: str, value: str, span: int = 1) -> str:
        if inside:
            return (
                f'<td colspan="{span * 2}" style="border:1px solid #000;padding:2px 5px 5px;'
                f'vertical-align:top;height:0.48in"><div style="font-size:6.5pt">{esc(label.upper())}</div>'
                f'<div style="font-size:10.5pt;margin-top:3px">{esc(value)}</div></td>'
            )
        return (
            f'<td style="border:1px solid #000;background:{shade};padding:5px;font-weight:bold;'
            f'font-size:8.5pt;width:1.25in">{esc(look.label(label))}</td>'
            f'<td colspan="{span * 2 - 1}" style="border:1px solid #000;padding:5px;font-size:10pt">'
            f"{esc(value)}</td>"
        )

    def band(title: str) -> str:
        return (
            f'<tr><td colspan="4" style="background:#000;color:#fff;font-weight:bold;padding:3px 6px;'
            f'font-size:9.5pt">{esc(look.heading(title))}</td></tr>'
        )

    names = rng.choice(
        [
            [("Last Name", p.last), ("First Name", p.first)],
            [("Patient Name", f"{p.last}, {p.first}"), ("Sex", p.sex)],
        ]
    )
    codes = ", ".join(ref.reason.codes)
    how = rng.choice(["x", "fill", "tick"])
    rows = [
        band("Patient"),
        "<tr>" + "".join(cell(k, v) for k, v in names) + "</tr>",
        "<tr>"
        + cell("DOB", look.date(p.dob))
        + cell(rng.choice(["Phone", "Cell", "Home Phone"]), look.phone(p.phone))
        + "</tr>",
        "<tr>"
        + cell(rng.choice(["Payer", "Insurance", "Ins. Plan"]), ref.insurance)
        + cell("Member ID", p.member_id)
        + "</tr>",
        "<tr>" + cell("Address", f"{p.street}, {p.city}, {p.state} {p.zip}", 2) + "</tr>",
        band(rng.choice(["Referring Provider", "Ordering Provider", "Requesting Physician"])),
        "<tr>" + cell("Name", doctor_line(doc)) + cell("NPI", doc.npi) + "</tr>",
        "<tr>"
        + cell("Phone", look.phone(doc.practice.phone))
        + cell("Fax", look.phone(doc.practice.fax))
        + "</tr>",
        band(rng.choice(["Referred To", "Receiving Provider"])),
        "<tr>"
        + cell("Name", f"{to.first} {to.last}, {to.credential}")
        + cell("Specialty", ref.reason.specialty)
        + "</tr>",
        "<tr>"
        + cell("Phone", look.phone(to.practice.phone))
        + cell("Fax", look.phone(to.practice.fax))
        + "</tr>",
        band("Clinical"),
        "<tr>"
        + cell(rng.choice(["Reason for Referral", "Diagnosis / Reason"]), ref.reason.text, 2)
        + "</tr>",
        "<tr>"
        + cell(rng.choice(["ICD-10", "ICD-10 Code(s)", "Dx Codes"]), codes)
        + cell("Referral Date", look.date(ref.referral_date))
        + "</tr>",
        f'<tr><td colspan="4" style="border:1px solid #000;padding:6px">'
        f"<b>{esc(look.label(rng.choice(['Priority', 'Urgency'])))}</b>&nbsp;&nbsp; "
        f"{checkboxes(URGENCY_WORDS['routine'], INDEX[ref.urgency], how)}</td></tr>",
    ]
    title = rng.choice(
        ["Referral Authorization Form", "Consultation Request", "Specialty Referral Form"]
    )
    return Drawn(
        [
            page(
                f"<div style=\"font-family:'{look.font}'\">"
                f'<div style="display:flex;justify-content:space-between;align-items:end;margin-bottom:8px">'
                f'<div style="font-size:15pt;font-weight:bold">{esc(look.heading(title))}</div>'
                f'<div style="font-size:8.5pt;text-align:right">{esc(doc.practice.name)}<br>'
                f"{esc(doc.practice.street)}, {esc(doc.practice.city)} {esc(doc.practice.state)}</div></div>"
                f'<table style="width:100%;table-layout:fixed">{"".join(rows)}</table></div>'
            )
        ]
    )


# ---- c. a printed blank form filled in by hand ---------------------------------------------


def handwritten_form(rng: random.Random, ref: Referral) -> Drawn:
    look = Look(rng, SANS + SERIF)
    hand = rng.choice(HANDS)
    p, doc, to = ref.patient, ref.referrer, ref.receiver
    size = rng.choice([12, 13, 14])
    short_year = rng.random() < 0.3

    def written(value: str) -> str:
        tilt = rng.uniform(-1.8, 1.8)
        shift = rng.randrange(-3, 3)
        return (
            f"<span style=\"font-family:'{hand}';font-size:{size}pt;display:inline-block;"
            f'transform:rotate({tilt:.1f}deg) translateY({shift}px)">{esc(value)}</span>'
        )

    def blank(label: str, value: str, width: str) -> str:
        printed = f"{esc(look.label(label))} " if label else ""
        return (
            f'<span style="display:inline-block;margin:9px 14px 9px 0">{printed}'
            f'<span style="display:inline-block;min-width:{width};border-bottom:1px solid #000;'
            f'padding-left:6px">{written(value)}</span></span>'
        )

    dob = f"{p.dob.month}/{p.dob.day}/{p.dob:%y}" if short_year else look.date(p.dob)
    how = rng.choice(["x", "tick", "circle"])
    body = [
        f'<h2 style="text-align:center;margin:6px 0">{esc(look.heading("Patient Referral"))}</h2>',
        f'<p style="text-align:center;font-size:9pt;margin:0 0 12px">{esc(doc.practice.name)} &middot; '
        f"Tel {esc(look.phone(doc.practice.phone))} &middot; Fax {esc(look.phone(doc.practice.fax))}</p>",
        f"<div>{blank('Last / First', f'{p.last} / {p.first}', '3.2in')}{blank('DOB', dob, '1.3in')}</div>",
        f"<div>{blank('Phone', look.phone(p.phone), '1.9in')}{blank('Insurance', ref.insurance, '2.6in')}</div>",
        f"<div>{blank('Ins. ID', p.member_id, '1.9in')}{blank('Group', p.group, '1.2in')}</div>",
        f'<h4 style="margin:14px 0 0">{esc(look.heading("Referring Provider"))}</h4>',
        f"<div>{blank('Name', f'Dr. {doc.first} {doc.last}', '2.8in')}{blank('NPI', doc.npi, '1.8in')}</div>",
        f"<div>{blank('Phone', look.phone(doc.practice.phone), '1.8in')}{blank('Fax', look.phone(doc.practice.fax), '1.8in')}</div>",
        f'<h4 style="margin:14px 0 0">{esc(look.heading("Refer To"))}</h4>',
        f"<div>{blank('Specialist', f'{to.first} {to.last}', '2.6in')}{blank('Specialty', ref.reason.specialty, '1.6in')}</div>",
        f'<h4 style="margin:14px 0 0">{esc(look.heading("Reason for Referral"))}</h4>',
        f"<div>{blank('', ref.reason.text, '6.2in')}</div>",
        f"<div>{blank('ICD-10', ', '.join(ref.reason.codes), '2.4in')}</div>",
        f'<div style="margin:12px 0">{esc(look.label("Priority"))}&nbsp;&nbsp; '
        f"{checkboxes(URGENCY_WORDS['routine'], INDEX[ref.urgency], how)}</div>",
        f"<div>{blank('Date', look.date(ref.referral_date), '1.6in')}{blank('Signature', doc.last, '2.4in')}</div>",
    ]
    drawn = Drawn(
        [page(f"<div style=\"font-family:'{look.font}';font-size:10.5pt\">{''.join(body)}</div>")]
    )
    if hand == "Humor Sans":
        # Block capitals: free text is typed as written; names are names in any case.
        drawn.values.update(reason=ref.reason.text.upper(), insurance=ref.insurance.upper())
    return drawn


# ---- g. payer prior-authorization request --------------------------------------------------


def prior_auth(rng: random.Random, ref: Referral) -> Drawn:
    look = Look(rng, SANS + SERIF)
    p, doc, to = ref.patient, ref.referrer, ref.receiver
    payer = ref.insurance.split()[0]

    def grid(title: str, pairs: list[tuple[str, str]]) -> str:
        cells = "".join(
            f'<td style="border:1px solid #000;padding:3px 5px;width:50%"><span style="font-size:7.5pt">'
            f"{esc(k)}</span><br>{esc(v)}</td>" + ("</tr><tr>" if i % 2 else "")
            for i, (k, v) in enumerate(pairs)
        )
        return (
            f'<div style="margin-top:10px;font-weight:bold;background:#c8c8c8;padding:2px 5px;'
            f'border:1px solid #000">{esc(look.heading(title))}</div>'
            f'<table style="width:100%;font-size:10pt"><tr>{cells}</tr></table>'
        )

    member = [
        ("Member Name (Last, First)", f"{p.last}, {p.first}"),
        ("Date of Birth", look.date(p.dob)),
        ("Member ID", p.member_id),
        ("Group Number", p.group),
        ("Health Plan", ref.insurance),
        ("Member Phone", look.phone(p.phone)),
    ]
    requesting = [
        ("Requesting Provider", doctor_line(doc)),
        ("NPI", doc.npi),
        ("Phone", look.phone(doc.practice.phone)),
        ("Fax", look.phone(doc.practice.fax)),
    ]
    servicing = [
        (
            "Servicing Provider / Facility",
            f"{to.first} {to.last}, {to.credential} - {to.practice.name}",
        ),
        ("Servicing NPI", to.npi),
        ("Phone", look.phone(to.practice.phone)),
        ("Fax", look.phone(to.practice.fax)),
    ]
    service = [
        ("Service Requested", f"{ref.reason.specialty} consultation and treatment"),
        ("CPT / HCPCS", rng.choice(["99204", "99244", "99205", "99243"])),
        ("Diagnosis Code(s) ICD-10", ", ".join(ref.reason.codes)),
        ("Start Date", look.date(ref.referral_date)),
    ]
    kind = 0 if ref.urgency == "routine" else 1
    how = rng.choice(["x", "fill"])
    body = (
        f'<div style="display:flex;justify-content:space-between;border-bottom:3px solid #000">'
        f'<div style="font-size:20pt;font-weight:bold">{esc(payer)}</div>'
        f'<div style="text-align:right;font-size:9pt">Utilization Management<br>Fax: '
        f"{esc(look.phone('8005550199'))}</div></div>"
        f'<h2 style="font-size:14pt;margin:8px 0">{esc(look.heading("Prior Authorization Request Form"))}</h2>'
        f'<div style="font-size:10pt">{esc(look.label("Request Type"))} &nbsp; '
        f"{checkboxes(['Standard', 'Expedited / Urgent'], kind, how)}</div>"
        + grid("Member Information", member)
        + grid("Requesting Provider", requesting)
        + grid("Servicing Provider", servicing)
        + grid("Service Information", service)
        + f'<div style="margin-top:10px;font-size:10pt"><b>{esc(look.label("Clinical Reason for Request"))}</b><br>'
        f"{esc(ref.reason.text)}</div>"
        f'<p style="font-size:8pt;margin-top:18px">Expedited requests: the standard time frame '
        f"could seriously jeopardize the life or health of the member. Incomplete forms will be "
        f"returned.</p>"
    )
    drawn = Drawn([page(f"<div style=\"font-family:'{look.font}'\">{body}</div>")])
    if ref.urgency == "stat":
        drawn.values["urgency"] = "urgent"  # the form only knows standard and expedited
    return drawn
