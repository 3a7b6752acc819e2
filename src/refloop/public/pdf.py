"""The printable "How to refer to us" one-pager (PDF), from the same guide as the web page."""

import io
import logging

from fpdf.enums import XPos, YPos

from refloop.core.pdf import ACCENT, FONT, INK, OnePager
from refloop.public.selectors import ReferralGuide

log = logging.getLogger(__name__)


def _logo(pdf: OnePager, organization) -> bool:
    """Place the practice's logo top left; False when there is none or it cannot be read."""
    if not organization.logo:
        return False
    try:
        with organization.logo.open("rb") as handle:
            data = io.BytesIO(handle.read())
        pdf.image(data, x=pdf.l_margin, y=pdf.t_margin, h=14)
    except (OSError, ValueError, RuntimeError) as error:
        # A missing or unreadable logo file should not cost the practice its one-pager.
        log.warning("One-pager printed without the logo (%s).", type(error).__name__)
        return False
    return True


def one_pager(guide: ReferralGuide, *, page_url: str, form_url: str, portal_url: str) -> bytes:
    org = guide.organization
    pdf = OnePager(f"{org.name} · How to refer · {page_url}")
    pdf.set_title(f"How to refer to {org.name}")
    pdf.set_author(org.name)
    pdf.add_page()

    indent = 18 if _logo(pdf, org) else 0
    pdf.set_x(pdf.l_margin + indent)
    pdf.set_font(FONT, "B", 16)
    pdf.set_text_color(*INK)
    pdf.cell(0, 8, f"How to refer to {org.name}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + indent)
    contacts = [f"Phone {org.phone}" if org.phone else "", f"Fax {org.fax}" if org.fax else ""]
    pdf.set_font(FONT, "", 10)
    pdf.cell(0, 6, "   ·   ".join(c for c in contacts if c), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3 if not indent else 4)

    pdf.line_of("Three ways to send a referral", size=11, style="B", color=ACCENT, height=6)
    ways = [
        f"Fax the referral and records to {org.fax}." if org.fax else "",
        f"Referring practices with an account: the portal, {portal_url}",
        f"Patients and providers without an account: the online form, {form_url}",
    ]
    for way in (w for w in ways if w):
        pdf.line_of(f"•  {way}")
    targets = ", ".join(f"{within} ({label.lower()})" for label, within in guide.first_contact)
    pdf.line_of(f"We contact the patient within {targets} of receiving the referral.", style="I")
    pdf.ln(2)

    for department in guide.departments:
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.set_draw_color(210, 215, 222)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1.5)
        pdf.line_of(department.name, size=12, style="B", color=ACCENT, height=6)
        if department.treats:
            pdf.line_of(department.treats)
        if department.specialties:
            pdf.labelled("Specialties", ", ".join(department.specialties))
        if department.accepted_conditions:
            pdf.labelled("Conditions we accept (ICD-10)", ", ".join(department.accepted_conditions))
        not_fit = []
        if department.excluded_conditions:
            not_fit.append("conditions " + ", ".join(department.excluded_conditions))
        if department.excluded_keywords:
            not_fit.append(", ".join(department.excluded_keywords))
        if department.has_age_limit:
            not_fit.append(f"patients outside {department.ages.lower()}")
        pdf.labelled("Not a fit", "; ".join(not_fit) if not_fit else "no exclusions listed")
        pdf.labelled(
            "Insurance",
            "only " + ", ".join(department.insurances) if department.insurances else "all plans",
        )
        pdf.labelled("Ages", department.ages)
        pdf.labelled(
            "Send with the referral",
            ", ".join(department.required_documents) or "the referral and recent notes",
        )
        if department.contact_name:
            pdf.labelled("Your contact", department.contact_name)
        for place in department.places:
            parts = [
                place.address,
                f"phone {place.phone}" if place.phone else "",
                f"fax {place.fax}" if place.fax else "",
            ]
            pdf.labelled(place.name, " · ".join(p for p in parts if p) or "—")
        pdf.ln(1.5)

    return bytes(pdf.output())
