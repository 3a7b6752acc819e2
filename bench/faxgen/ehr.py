"""EHR printouts: an order printout in 7-8 pt type with a patient banner, key/value grids and
tables with shaded header cells; and a referral printout with "Lname, Fname" blocks,
"ICD10:" prefixes, labels without colons and the referred-to clinic's numbers first.
"""

import random

from .data import Referral, show_date, show_phone
from .sheets import SANS, Drawn, esc, page

SHADES = ["#cfcfcf", "#dddddd", "#b8b8b8"]


def _th(text: str, shade: str) -> str:
    return (
        f'<th style="background:{shade};border:1px solid #000;padding:2px 4px;text-align:left;'
        f'font-weight:bold">{esc(text)}</th>'
    )


def _td(text: str) -> str:
    return f'<td style="border:1px solid #000;padding:2px 4px">{esc(text)}</td>'


# ---- e. EHR order printout -----------------------------------------------------------------


def order_printout(rng: random.Random, ref: Referral) -> Drawn:
    p, doc, to = ref.patient, ref.referrer, ref.receiver
    font = rng.choice(
        ["Liberation Sans", "DejaVu Sans Condensed", "Liberation Sans Narrow", "FreeSans"]
    )
    size = rng.choice([7, 7.5, 8])
    shade = rng.choice(SHADES)
    date_style = rng.choice(["%m/%d/%Y", "%d-%b-%Y", "%Y-%m-%d"])
    phone_style = rng.randrange(5)
    ph = lambda digits: show_phone(digits, phone_style)  # noqa: E731
    age = (ref.referral_date - p.dob).days // 365
    banner = (
        f'<table style="width:100%;border:1.5px solid #000;background:{shade}"><tr>'
        f'<td style="padding:4px;font-size:{size + 3}pt"><b>{esc(p.last.upper())}, {esc(p.first.upper())}</b></td>'
        f"<td>DOB: {esc(show_date(p.dob, date_style))} ({age} yo {esc(p.sex)})</td>"
        f"<td>MRN: {esc(p.mrn)}</td><td>Ph: {esc(ph(p.phone))}</td></tr></table>"
    )

    def grid(pairs: list[tuple[str, str]], columns: int = 2) -> str:
        cells = ""
        for i, (k, v) in enumerate(pairs):
            if i % columns == 0:
                cells += "<tr>"
            cells += (
                f'<td style="padding:1px 6px 1px 0;color:#000;font-weight:bold;white-space:nowrap">'
                f"{esc(k)}</td><td style='padding:1px 14px 1px 0'>{esc(v)}</td>"
            )
        return f'<table style="margin:3px 0">{cells}</table>'

    def title(text: str) -> str:
        return f'<div style="margin-top:9px;font-weight:bold;border-bottom:1px solid #000">{esc(text)}</div>'

    order_no = rng.randrange(10**8, 10**9)
    priority = {"routine": "Routine", "urgent": "Urgent", "stat": "STAT"}[ref.urgency]
    dx_rows = "".join(
        f"<tr>{_td(str(i + 1))}{_td(code)}{_td(ref.reason.text if i == 0 else 'Secondary diagnosis')}</tr>"
        for i, code in enumerate(ref.reason.codes)
    )
    body = (
        f'<div style="display:flex;justify-content:space-between"><b style="font-size:{size + 4}pt">'
        f"{esc(doc.practice.name)}</b><span>Printed {esc(show_date(ref.referral_date, date_style))} "
        f"by {rng.choice(['jsmith', 'mhernandez', 'front.desk', 'kpatel2'])}</span></div>"
        + banner
        + title("Order Details")
        + grid(
            [
                ("Order #", str(order_no)),
                ("Order Date", show_date(ref.referral_date, date_style)),
                ("Order", f"REF{rng.randrange(100, 999)} Referral to {ref.reason.specialty}"),
                ("Priority", priority),
                ("Status", rng.choice(["Signed", "Active", "Pending scheduling"])),
                ("Class", "External referral"),
            ]
        )
        + title("Patient Demographics")
        + grid(
            [
                ("Patient", f"{p.last}, {p.first}"),
                ("Sex", p.sex),
                ("DOB", show_date(p.dob, date_style)),
                ("Home Phone", ph(p.phone)),
                ("Address", f"{p.street}, {p.city}, {p.state} {p.zip}"),
                ("Language", "English"),
            ]
        )
        + title("Coverage")
        + f'<table style="width:100%;margin-top:3px"><tr>{_th("Payer", shade)}{_th("Member ID", shade)}'
        f"{_th('Group', shade)}{_th('Subscriber', shade)}</tr><tr>{_td(ref.insurance)}{_td(p.member_id)}"
        f"{_td(p.group)}{_td('Self')}</tr></table>"
        + title("Diagnoses")
        + f'<table style="width:100%;margin-top:3px"><tr>{_th("#", shade)}{_th("ICD-10", shade)}'
        f"{_th('Description', shade)}</tr>{dx_rows}</table>"
        + title("Providers")
        + f'<table style="width:100%;margin-top:3px"><tr>{_th("Role", shade)}{_th("Name", shade)}'
        f"{_th('NPI', shade)}{_th('Phone', shade)}{_th('Fax', shade)}</tr>"
        f"<tr>{_td('Ordering Provider')}{_td(f'{doc.last}, {doc.first} {doc.credential}')}{_td(doc.npi)}"
        f"{_td(ph(doc.practice.phone))}{_td(ph(doc.practice.fax))}</tr>"
        f"<tr>{_td('Referred To')}{_td(f'{to.last}, {to.first} {to.credential}')}{_td(to.npi)}"
        f"{_td(ph(to.practice.phone))}{_td(ph(to.practice.fax))}</tr></table>"
        + title("Order Comments")
        + f"<p style='margin:3px 0'>Reason for referral: {esc(ref.reason.text)}</p>"
        + f"<p style='margin:3px 0'>Number of visits: {rng.randrange(1, 7)} &nbsp; Expires: "
        f"{esc(show_date(ref.referral_date.replace(year=ref.referral_date.year + 1), date_style))}</p>"
        + f"<p style='margin-top:14px'>Electronically signed by: {esc(doc.first)} {esc(doc.last)}, "
        f"{esc(doc.credential)} on {esc(show_date(ref.referral_date, date_style))}</p>"
    )
    return Drawn([page(f"<div style=\"font-family:'{font}';font-size:{size}pt\">{body}</div>")])


# ---- f. EHR referral printout --------------------------------------------------------------


def referral_printout(rng: random.Random, ref: Referral) -> Drawn:
    p, doc, to = ref.patient, ref.referrer, ref.receiver
    font = rng.choice(SANS)
    shade = rng.choice(SHADES)
    date_style = rng.choice(["%m/%d/%Y", "%b %d,%Y", "%m/%d/%Y"])
    phone_style = rng.randrange(5)
    ph = lambda digits: show_phone(digits, phone_style)  # noqa: E731

    def block(title: str, rows: list[tuple[str, str]]) -> str:
        cells = "".join(
            f'<tr><td style="width:1.6in;padding:2px 6px;color:#000;vertical-align:top">{esc(k)}</td>'
            f'<td style="padding:2px 6px">{v}</td></tr>'
            for k, v in rows
        )
        return (
            f'<div style="background:{shade};font-weight:bold;padding:3px 6px;margin-top:10px">'
            f"{esc(title)}</div><table style='width:100%'>{cells}</table>"
        )

    middle = f" {p.middle}" if p.middle else ""
    codes = "<br>".join(f"ICD10:{esc(c)}" for c in ref.reason.codes)
    risk = rng.choice(["Low", "Moderate", "High"])
    body = (
        f'<div style="display:flex;justify-content:space-between;align-items:start">'
        f'<div style="font-size:17pt">Referral</div><div style="text-align:right;font-size:8.5pt">'
        f"{esc(doc.practice.name)}<br>{esc(doc.practice.street)}<br>{esc(doc.practice.city)}, "
        f"{esc(doc.practice.state)} {esc(doc.practice.zip)}</div></div>"
        + block(
            "Referred To",
            [
                ("Provider", esc(f"{to.last}, {to.first}")),
                ("Facility", esc(to.practice.name)),
                ("Phone", esc(ph(to.practice.phone))),
                ("Fax", esc(ph(to.practice.fax))),
                ("Specialty", esc(ref.reason.specialty)),
            ],
        )
        + block(
            "Patient",
            [
                ("Name", esc(f"{p.first}{middle} {p.last}")),
                ("Date of Birth", esc(show_date(p.dob, date_style))),
                ("Gender", "Female" if p.sex == "F" else "Male"),
                ("Phone", esc(ph(p.phone))),
                ("Address", esc(f"{p.street}, {p.city}, {p.state} {p.zip}")),
                ("Primary Insurance", esc(ref.insurance)),
                ("Subscriber No", esc(p.member_id)),
            ],
        )
        + block(
            "Referring Provider",
            [
                ("Lname, Fname", esc(f"{doc.last}, {doc.first}")),
                ("NPI", esc(doc.npi)),
                ("Phone", esc(ph(doc.practice.phone))),
                ("Fax", esc(ph(doc.practice.fax))),
            ],
        )
        + block(
            "Referral Details",
            [
                ("Referral Date", esc(show_date(ref.referral_date, date_style))),
                (
                    "Urgency",
                    {"routine": "Routine", "urgent": "Urgent", "stat": "STAT"}[ref.urgency],
                ),
                ("Risk Level", risk),
                ("Diagnosis", codes),
                ("Reference Reason", esc(ref.reason.text)),
                ("Visits", str(rng.randrange(1, 5))),
            ],
        )
        + f'<p style="margin-top:30px">Doctor\'s name and signature &nbsp; {esc(doc.first)} {esc(doc.last)}</p>'
    )
    return Drawn([page(f"<div style=\"font-family:'{font}';font-size:9.5pt\">{body}</div>")])
