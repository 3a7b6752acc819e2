"""The yearly compliance report of the gift ledger as a CSV file and a PDF (drawn with fpdf2
on the one-pager's page, as the analytics PDFs are)."""

import csv
import io
from decimal import Decimal

from refloop.core.pdf import ACCENT, FONT, INK, MUTED, OnePager
from refloop.outreach.ledger import Report, money

HEADERS = [
    "year",
    "name",
    "credentials or role",
    "physician",
    "NPI",
    "practice",
    "items",
    "given",
    "repaid",
    "total",
    "limit",
    "state",
    "overage excess",
    "repay by",
    "repaid on",
    "repaid amount",
    "overage state",
]
RULE = (
    "Physicians (42 USC 1395nn(h)(1), 42 CFR 411.351: MD, DO, DDS, DMD, DPM, OD, DC) are held to "
    "the non-monetary compensation limit of 42 CFR 411.357(k); an excess of up to 50% of the "
    "limit repaid by the earlier of 180 days or the year's end, once every 3 years, is within "
    "it (411.357(k)(3)). Cash and cash equivalents are never given."
)


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in report.physicians:
        p = row.person
        base = [
            report.year,
            p.name,
            p.role,
            "yes",
            row.npi,
            row.practice,
            p.items,
            _amount(p.given),
            _amount(p.repaid),
            _amount(p.total),
            _amount(p.limit),
            p.state,
        ]
        if not row.overages:
            writer.writerow(base + ["", "", "", "", ""])
        for overage, state in row.overages:
            writer.writerow(
                base
                + [
                    _amount(overage.excess),
                    overage.repay_by.isoformat(),
                    overage.repaid_on.isoformat() if overage.repaid_on else "",
                    _amount(overage.repaid_amount),
                    state,
                ]
            )
    for p in report.others:
        writer.writerow(
            [report.year, p.name, p.role, "no", p.provider.npi if p.provider else "", ""]
            + [p.items, _amount(p.given), _amount(p.repaid), _amount(p.total), "", "no limit"]
            + ["", "", "", "", ""]
        )
    return out.getvalue()


def report_pdf(report: Report, organization: str) -> bytes:
    pdf = OnePager(f"{organization} · Gift and meal ledger {report.year}")
    pdf.set_title(f"Gift and meal ledger: compliance report {report.year}")
    pdf.set_author(organization)
    pdf.add_page()
    pdf.line_of(f"Gift and meal ledger: {report.year}", size=16, style="B", height=8)
    limit = money(report.limit) if report.limit is not None else "not entered"
    pdf.line_of(
        f"{organization} · limit per physician {limit} · as of {report.on:%b %-d, %Y}",
        size=9.5,
        color=MUTED,
        height=5,
    )
    pdf.ln(2)
    pdf.line_of(RULE, size=8.5, height=4.3)
    pdf.ln(3)
    pdf.line_of("Physicians", size=12, style="B", color=ACCENT, height=6.5)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    widths = [width * w for w in (0.34, 0.1, 0.14, 0.14, 0.14, 0.14)]
    _row(pdf, ["Physician", "Items", "Given", "Repaid", "Total", "State"], widths, bold=True)
    for row in report.physicians:
        p = row.person
        _row(
            pdf,
            [
                f"{p.name}, {p.role}",
                str(p.items),
                money(p.given),
                money(p.repaid),
                money(p.total),
                p.state,
            ],
            widths,
        )
        for overage, state in row.overages:
            paid = (
                f", {money(overage.repaid_amount)} repaid on {overage.repaid_on:%b %-d, %Y}"
                if overage.repaid_on
                else ""
            )
            pdf.line_of(
                f"    Overage under the repayment exception: excess {money(overage.excess)}, "
                f"repay by {overage.repay_by:%b %-d, %Y}{paid}: {state}.",
                size=8.5,
                color=ACCENT,
                height=4.5,
            )
    if not report.physicians:
        pdf.line_of("No gifts or meals to physicians this year.", size=9, color=MUTED)
    pdf.ln(4)
    pdf.line_of("Others (tracked, no limit)", size=12, style="B", color=ACCENT, height=6.5)
    _row(pdf, ["Person", "Items", "Given", "", "Total", ""], widths, bold=True)
    for p in report.others:
        _row(
            pdf,
            [f"{p.name}, {p.role}", str(p.items), money(p.given), "", money(p.total), ""],
            widths,
        )
    if not report.others:
        pdf.line_of("None this year.", size=9, color=MUTED)
    return bytes(pdf.output())


def _row(pdf: OnePager, texts: list[str], widths: list[float], *, bold: bool = False) -> None:
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B" if bold else "", 9)
    for i, (text, width) in enumerate(zip(texts, widths, strict=True)):
        while pdf.get_string_width(text) > width - 1 and len(text) > 4:
            text = text[:-2] + "…"
        pdf.cell(width, 6, text, align="L" if i == 0 else "R")
    pdf.ln(6)
