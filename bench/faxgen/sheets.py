"""Pieces every layout shares: the page, the fax banner, checkboxes, a cover sheet, and the
attachments that follow a form (an office note, an imaging report) with their distractors.

A page is a <section class="page"> of exactly one US Letter sheet; render.py checks that
Chromium printed as many pages as the packet has sections.
"""

import datetime as dt
import html
import random
from dataclasses import dataclass, field

from .data import Doctor, Referral, doctor, practice, show_date, show_phone

SANS = [
    "Liberation Sans",
    "DejaVu Sans",
    "FreeSans",
    "Liberation Sans Narrow",
    "DejaVu Sans Condensed",
]
SERIF = ["Liberation Serif", "DejaVu Serif", "FreeSerif"]
MONO = ["Liberation Mono", "FreeMono", "DejaVu Sans Mono"]
HANDS = ["Comic Neue", "Humor Sans", "DkgHandwriting"]

BASE_CSS = """
@page { size: 8.5in 11in; margin: 0; }
* { box-sizing: border-box; }
body { margin: 0; color: #000; }
.page { width: 8.5in; height: 11in; padding: 0.35in 0.6in 0.5in; overflow: hidden;
        position: relative; page-break-after: always; break-after: page; }
.page:last-child { page-break-after: auto; break-after: auto; }
.banner { font-family: 'Liberation Mono', monospace; font-size: 8pt; white-space: pre;
          margin: -0.2in 0 0.15in; }
.box { display: inline-block; width: 11px; height: 11px; border: 1.3px solid #000;
       vertical-align: -1px; margin-right: 4px; position: relative; }
.box.x::after { content: 'X'; position: absolute; left: 1px; top: -3px; font: bold 11px sans-serif; }
.box.fill { background: #000; }
.box.tick::after { content: '\\2713'; position: absolute; left: 0; top: -6px;
                   font: bold 15px 'DejaVu Sans'; }
.circled { border: 1.6px solid #000; border-radius: 50%; padding: 1px 6px; margin: -3px -7px; }
table { border-collapse: collapse; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


@dataclass
class Drawn:
    """One patient's pages as HTML, and the fields those pages do not carry at all."""

    pages: list[str]
    blank: set[str] = field(default_factory=set)
    # Where the page says a field otherwise than the referral holds it (a letter's reason in
    # lower case, a form that only knows "expedited"), the value as this page gives it.
    values: dict[str, str] = field(default_factory=dict)


def page(body: str, css_class: str = "") -> str:
    # The packet puts the fax machine's banner where {BANNER} stands.
    return f'<section class="page {css_class}">{{BANNER}}{body}</section>'


def fax_banner(rng: random.Random, ref: Referral, sent: dt.datetime) -> str:
    """The line a fax machine prints atop each page: time, sender's fax, page n of m."""
    fax = show_phone(ref.referrer.practice.fax, rng.randrange(5))
    name = ref.referrer.practice.name.upper()[:28]
    stamp = sent.strftime(rng.choice(["%b-%d-%Y %I:%M%p", "%m/%d/%Y %H:%M", "%d %b %Y %H:%M"]))
    return f'<div class="banner">{esc(stamp)}   FROM: {esc(name)}  {esc(fax)}   P.{{PAGE}}/{{PAGES}}</div>'


def checkboxes(
    options: list[str], chosen: int | None, how: str, sep: str = "&nbsp;&nbsp;&nbsp;"
) -> str:
    """Options with one marked: an X in its box, a filled box, a tick, or the word circled."""
    parts = []
    for index, text in enumerate(options):
        on = index == chosen
        if how == "circle":
            parts.append(f'<span class="circled">{esc(text)}</span>' if on else esc(text))
        else:
            mark = {"x": "x", "fill": "fill", "tick": "tick"}[how] if on else ""
            parts.append(f'<span class="box {mark}"></span>{esc(text)}')
    return sep.join(parts)


def cover_sheet(rng: random.Random, ref: Referral, pages: int, font: str) -> str:
    """A fax cover sheet: its own To/From numbers and dates are distractors."""
    sender = ref.referrer
    to = ref.receiver
    when = show_date(ref.referral_date, rng.choice(["%m/%d/%Y", "%b %d, %Y", "%m/%d/%y"]))
    heading = rng.choice(["FAX", "FACSIMILE TRANSMITTAL", "Fax Cover Sheet", "CONFIDENTIAL FAX"])
    style = rng.randrange(5)
    rows = [
        ("To", f"Dr. {to.first} {to.last} / {to.practice.name}"),
        ("Fax", show_phone(to.practice.fax, style)),
        ("Phone", show_phone(to.practice.phone, style)),
        ("From", sender.practice.name),
        ("Fax", show_phone(sender.practice.fax, style)),
        ("Phone", show_phone(sender.practice.phone, style)),
        ("Date", when),
        ("Pages", f"{pages} (including cover)"),
        (
            "Re",
            rng.choice(["Referral", "New patient referral", "Consult request", "Referral packet"]),
        ),
    ]
    body = "".join(
        f'<tr><td style="padding:6px 14px 6px 0;font-weight:bold">{esc(k)}:</td>'
        f'<td style="padding:6px 0;border-bottom:1px solid #000;width:4.6in">{esc(v)}</td></tr>'
        for k, v in rows
    )
    notice = (
        "The documents accompanying this facsimile contain confidential health information "
        "that is legally privileged. If you have received this fax in error, please notify "
        "the sender immediately and destroy the documents."
    )
    return page(
        f"<div style=\"font-family:'{font}';font-size:12pt\">"
        f'<h1 style="font-size:30pt;margin:0.4in 0 0.3in;letter-spacing:2px">{esc(heading)}</h1>'
        f"<table>{body}</table>"
        f'<p style="margin-top:0.5in">{checkboxes(["Urgent", "For Review", "Please Reply"], None, "x")}</p>'
        f'<p style="margin-top:0.6in;font-size:9pt;border:1px solid #000;padding:8px">{notice}</p>'
        "</div>"
    )


def office_note(rng: random.Random, ref: Referral, font: str) -> str:
    """An attached office note: a chief complaint, vitals and its own signing doctor."""
    p = ref.patient
    visit = ref.referral_date - dt.timedelta(days=rng.randrange(3, 40))
    author = ref.referrer if rng.random() < 0.5 else doctor(rng, ref.referrer.practice)
    lines = [
        ("Chief complaint", ref.reason.complaint.capitalize()),
        (
            "HPI",
            f"{rng.randrange(19, 88)} y/o presents with {ref.reason.complaint}. Symptoms "
            f"for {rng.randrange(2, 12)} weeks. Denies fever or chills.",
        ),
        (
            "Vitals",
            f"BP {rng.randrange(110, 160)}/{rng.randrange(60, 95)}  HR {rng.randrange(55, 105)}  "
            f"Wt {rng.randrange(110, 260)} lb  SpO2 {rng.randrange(93, 100)}%",
        ),
        ("Assessment", rng.choice(["Stable", "Worsening", "Unchanged from last visit"])),
        (
            "Plan",
            rng.choice(
                [
                    "Labs ordered. Return in 4 weeks.",
                    "Refer to specialist.",
                    "Continue current medications; follow up in 3 months.",
                ]
            ),
        ),
    ]
    body = "".join(f"<p><b>{esc(k)}:</b> {esc(v)}</p>" for k, v in lines)
    return page(
        f"<div style=\"font-family:'{font}';font-size:10.5pt\">"
        f'<h2 style="font-size:14pt">{esc(ref.referrer.practice.name)}</h2>'
        f"<p><b>OFFICE VISIT NOTE</b> &nbsp; Date of service: {esc(show_date(visit, '%m/%d/%Y'))}</p>"
        f"<p>Patient: {esc(p.last)}, {esc(p.first)} &nbsp;&nbsp; MRN: {esc(p.mrn)}</p>"
        f"{body}"
        f"<p style='margin-top:0.4in'>Electronically signed by {esc(author.first)} "
        f"{esc(author.last)}, {esc(author.credential)} on {esc(show_date(visit, '%m/%d/%Y'))}</p>"
        "</div>"
    )


def imaging_report(rng: random.Random, ref: Referral, font: str) -> str:
    """An attached imaging report: a radiologist with an NPI and phone of their own."""
    p = ref.patient
    center = practice(rng, ["{city} Imaging Center", "Advanced Radiology of {city}"])
    reader = doctor(rng, center)
    study = rng.choice(
        [
            "XR KNEE 3 VIEWS",
            "CT ABDOMEN/PELVIS W CONTRAST",
            "MRI LUMBAR SPINE WO",
            "US THYROID",
            "ECHOCARDIOGRAM COMPLETE",
            "MAMMOGRAM DIAGNOSTIC BILAT",
        ]
    )
    done = ref.referral_date - dt.timedelta(days=rng.randrange(2, 30))
    return page(
        f"<div style=\"font-family:'{font}';font-size:10pt\">"
        f'<h2 style="margin-bottom:0">{esc(center.name.upper())}</h2>'
        f"<p style='margin-top:2px'>{esc(center.street)}, {esc(center.city)}, {esc(center.state)} "
        f"&nbsp; Tel {esc(show_phone(center.phone, 0))} &nbsp; Fax {esc(show_phone(center.fax, 0))}</p>"
        f"<hr><p><b>RADIOLOGY REPORT</b></p>"
        f"<p>Patient: {esc(p.last.upper())}, {esc(p.first.upper())} &nbsp; DOB: "
        f"{esc(show_date(p.dob, '%m/%d/%Y'))} &nbsp; Acc#: {rng.randrange(10**7, 10**8)}</p>"
        f"<p>Exam: {esc(study)} &nbsp;&nbsp; Exam date: {esc(show_date(done, '%m/%d/%Y'))}</p>"
        f"<p>Ordering: {esc(ref.referrer.first)} {esc(ref.referrer.last)}</p>"
        "<p><b>FINDINGS:</b> No acute abnormality. Mild degenerative change. No mass or "
        "fracture identified. Comparison: none available.</p>"
        "<p><b>IMPRESSION:</b> Findings as above; clinical correlation recommended.</p>"
        f"<p style='margin-top:0.4in'>Interpreted by: {esc(reader.first)} {esc(reader.last)}, MD "
        f"&nbsp; NPI {esc(reader.npi)}</p>"
        "</div>"
    )


def attachment(rng: random.Random, ref: Referral, font: str) -> list[str]:
    """Nothing, an office note, or an imaging report after the form (about a third each)."""
    pick = rng.random()
    if pick < 0.3:
        return [office_note(rng, ref, font)]
    if pick < 0.5:
        return [imaging_report(rng, ref, font)]
    return []


def doctor_line(doc: Doctor, with_credential: bool = True) -> str:
    middle = f" {doc.middle}." if doc.middle else ""
    tail = f", {doc.credential}" if with_credential else ""
    return f"{doc.first}{middle} {doc.last}{tail}"
