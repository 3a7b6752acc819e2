"""PDFs of the analytics: a referrer's one-page scorecard and the monthly management report.

Drawn with fpdf2 on the one-pager's page (DejaVu fonts, footer with page numbers); the bar
graphics are rectangles drawn here, not pictures of a browser's charts.
"""

from datetime import datetime

from fpdf.enums import XPos, YPos

from refloop.analytics import scorecards
from refloop.analytics.report import Bars, Report, Section, Table
from refloop.analytics.scorecards import Scorecard
from refloop.core.pdf import ACCENT, FONT, INK, MUTED, OnePager

BAR = (0, 114, 178)  # the charts' first colour (Okabe & Ito blue)
RULE = (210, 215, 222)
STRIPE = (244, 246, 249)
ROW_HEIGHT = 6.2


def _fit(pdf: OnePager, text: str, width: float, size: float, style: str = "") -> None:
    """Set the largest font size up to `size` at which `text` fits in `width`."""
    while size > 6:
        pdf.set_font(FONT, style, size)
        if pdf.get_string_width(text) <= width - 2:
            return
        size -= 0.5
    pdf.set_font(FONT, style, size)


def _cells(pdf: OnePager, texts: list[str], widths: list[float], *, style="", size=9.0, fill=False):
    for i, (text, width) in enumerate(zip(texts, widths, strict=True)):
        _fit(pdf, text, width, size, style)
        pdf.cell(width, ROW_HEIGHT, text, align="L" if i == 0 else "R", fill=fill)
    pdf.ln(ROW_HEIGHT)


def _rule(pdf: OnePager) -> None:
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())


# ---- the scorecard -----------------------------------------------------------------------


def scorecard_pdf(card: Scorecard) -> bytes:
    """One Letter page: the figures against all referrers, the 12-month trend, the meanings."""
    pdf = OnePager(f"{card.organization} · Referral scorecard for {card.practice}")
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"Referral scorecard: {card.practice}, {card.period_label}")
    pdf.set_author(card.organization)
    pdf.add_page()

    pdf.line_of("Referral scorecard", size=16, style="B", height=8)
    pdf.line_of(card.practice, size=13, style="B", color=ACCENT, height=6.5)
    pdf.line_of(
        f"{card.period_label}  ·  from {card.organization}  ·  numbers only, no patient names",
        size=9.5,
        color=MUTED,
        height=5,
    )
    pdf.ln(2)
    pdf.line_of(
        "What happened to the patients you sent us, next to the same figures for all the "
        "practices that refer to us.",
        size=9.5,
        height=4.8,
    )
    if card.note:
        pdf.ln(1)
        pdf.line_of(card.note, size=9.5, style="B", color=ACCENT, height=5)
    pdf.ln(3)

    width = pdf.w - pdf.l_margin - pdf.r_margin
    label_width = 52
    column = (width - label_width) / 4
    widths = [label_width, column, column, column, column]
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 9)
    pdf.cell(label_width, ROW_HEIGHT, "")
    for title in (card.period_label, f"12 months to {card.trend_labels[-1]}"):
        _fit(pdf, title, 2 * column, 9, "B")
        pdf.cell(2 * column, ROW_HEIGHT, title, align="C")
    pdf.ln(ROW_HEIGHT)
    pdf.set_fill_color(*STRIPE)
    headers = ["", "Your practice", "All referrers", "Your practice", "All referrers"]
    _cells(pdf, headers, widths, style="B", fill=True)
    for i, row in enumerate(card.rows):
        pdf.set_fill_color(*(STRIPE if i % 2 else (255, 255, 255)))
        pdf.set_text_color(*INK)
        _fit(pdf, row.label, label_width, 9.5, "B")
        pdf.cell(label_width, ROW_HEIGHT + 0.8, row.label, fill=True)
        for text in row.cells:
            _fit(pdf, text, column, 9.5)
            pdf.cell(column, ROW_HEIGHT + 0.8, text, align="R", fill=True)
        pdf.ln(ROW_HEIGHT + 0.8)
    _rule(pdf)
    pdf.ln(6)

    if card.shows_trend:
        pdf.line_of("Your referrals, month by month", size=11, style="B", color=ACCENT, height=6)
        _columns(pdf, card.trend_labels, [n for _, n in card.trend], height=38)
        partial = [card.trend_labels[i] for i in card.trend_partial]
        if partial:
            pdf.line_of(
                f"* Partial month: {', '.join(partial)}; only those days are counted.",
                size=8,
                color=MUTED,
                height=4,
            )
        pdf.ln(5)

    if card.shows_ratings:
        pdf.line_of(
            f"How you rated us  ·  {card.year_label}, {card.office_responses} answer"
            f"{'s' if card.office_responses != 1 else ''}, from 1 (poor) to 5 (excellent)",
            size=11,
            style="B",
            color=ACCENT,
            height=6,
        )
        for rating in card.office_ratings:
            pdf.line_of(f"{rating.question}  {rating.average}", size=9.5, height=4.8)
        pdf.ln(4)

    pdf.line_of("What the figures mean", size=10, style="B", height=5.5)
    for row in card.rows:
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "B", 8.5)
        pdf.write(4.3, f"{row.label}: ")
        pdf.set_font(FONT, "", 8.5)
        pdf.write(4.3, row.meaning)
        pdf.ln(4.6)
    pdf.ln(1)
    pdf.line_of(
        "Times are medians, in hours under two days and in days above. A percentage shows "
        "its count in brackets. Figures are as known on the day this page was made: a patient "
        "you sent last month and seen since counts as seen.",
        size=8,
        color=MUTED,
        height=4,
    )
    return bytes(pdf.output())


def scorecard_attachment(practice, month: str, *, now: datetime) -> tuple[str, bytes, str]:
    """(file name, PDF, type) of `practice`'s scorecard for `month` (YYYY-MM), for a message."""
    card = scorecards.build(practice, scorecards.parse_month(month), now=now)
    return (f"referral-scorecard-{month}.pdf", scorecard_pdf(card), "application/pdf")


def _columns(pdf: OnePager, labels: list[str], values: list[int], *, height: float) -> None:
    """Vertical bars with their value above and a two-line month label below."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    slot = width / max(len(values), 1)
    top = pdf.get_y() + 5
    base = top + height
    largest = max(values, default=0) or 1
    pdf.set_fill_color(*BAR)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = pdf.l_margin + i * slot
        bar = height * value / largest
        if value:
            pdf.rect(x + slot * 0.2, base - bar, slot * 0.6, bar, style="F")
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "B", 8)
        pdf.set_xy(x, base - bar - 4.5)
        pdf.cell(slot, 4, f"{value:,}", align="C")
        # "Dec 2026 (to 6 Dec)": a partial month is starred and named under the chart.
        month, year, *partial = label.split(" ", 2)
        month += "*" if partial else ""
        pdf.set_font(FONT, "", 7.5)
        pdf.set_text_color(*MUTED)
        pdf.set_xy(x, base + 1)
        pdf.cell(slot, 3.6, month, align="C")
        pdf.set_xy(x, base + 4.4)
        pdf.cell(slot, 3.6, year, align="C")
    pdf.set_draw_color(*MUTED)
    pdf.line(pdf.l_margin, base, pdf.l_margin + width, base)
    pdf.set_xy(pdf.l_margin, base + 9)


# ---- the management report ---------------------------------------------------------------


def report_pdf(report: Report) -> bytes:
    """The cover, then each section (tables, bars, sentences), several pages long."""
    # Drawn twice: the first pass finds the page each section starts on, for the contents.
    _, starts = _draw_report(report, {})
    pdf, _ = _draw_report(report, starts)
    return bytes(pdf.output())


def _draw_report(report: Report, starts: dict[str, int]) -> tuple[OnePager, dict[str, int]]:
    pdf = OnePager(f"{report.organization} · Referral report · {report.month_label}")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_title(f"Referral report: {report.month_label}")
    pdf.set_author(report.organization)
    _cover(pdf, report, starts)
    found = {section.title: _section(pdf, section) for section in report.sections}
    return pdf, found


def _cover(pdf: OnePager, report: Report, starts: dict[str, int]) -> None:
    pdf.add_page()
    pdf.ln(50)
    pdf.line_of(report.organization, size=24, style="B", height=12)
    pdf.ln(2)
    pdf.line_of("Monthly referral report", size=16, color=ACCENT, height=9)
    pdf.line_of(report.month_label, size=16, style="B", color=ACCENT, height=9)
    pdf.ln(4)
    pdf.line_of(f"Made on {report.generated}", size=10, color=MUTED, height=5)
    if report.suppressed:
        pdf.ln(4)
        pdf.line_of(
            "Small cells suppressed: a count of 1 to 10 referrals, patients or appointments "
            "reads <11, and a figure that could give such a count back reads suppressed.",
            size=10,
            style="B",
            height=5,
        )
    pdf.ln(14)
    pdf.line_of("Contents", size=11, style="B", height=6)
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*INK)
    for section in report.sections:
        pdf.cell(110, 5.4, f"•  {section.title}")
        page = starts.get(section.title)
        pdf.cell(20, 5.4, f"page {page}" if page else "", align="R")
        pdf.ln(5.4)


def _section(pdf: OnePager, section: Section) -> int:
    """Draw one section; the page it starts on."""
    if section.new_page:
        pdf.add_page()
    else:
        pdf.ln(6)
        if pdf.will_page_break(40):
            pdf.add_page()
    start = pdf.page_no()
    pdf.line_of(section.title, size=13, style="B", color=ACCENT, height=7)
    if section.intro:
        pdf.line_of(section.intro, size=8.5, color=MUTED, height=4.3)
    pdf.ln(2)
    for part in section.parts:
        if isinstance(part, Table):
            _table(pdf, part)
        elif isinstance(part, Bars):
            _bars(pdf, part)
        else:
            for sentence in part:
                pdf.line_of(f"•  {sentence}", size=9.5, height=5)
                pdf.ln(0.6)
        pdf.ln(2)
    return start


def _table(pdf: OnePager, table: Table) -> None:
    if not table.rows:
        if table.empty:
            pdf.line_of(table.empty, size=9.5, style="I", height=5)
        return
    width = pdf.w - pdf.l_margin - pdf.r_margin
    widths = [width * share for share in table.widths]

    def header() -> None:
        pdf.set_text_color(*INK)
        pdf.set_fill_color(*STRIPE)
        _cells(pdf, table.headers, widths, style="B", fill=True)

    header()
    for i, row in enumerate(table.rows):
        if pdf.will_page_break(ROW_HEIGHT):
            pdf.add_page()
            header()
        pdf.set_text_color(*INK)
        pdf.set_fill_color(*(STRIPE if i % 2 else (255, 255, 255)))
        _cells(pdf, row, widths, fill=True)
    _rule(pdf)


def _bars(pdf: OnePager, bars: Bars) -> None:
    if not bars.bars:
        pdf.line_of(bars.empty, size=9.5, style="I", height=5)
        return
    label_width, text_width = 42, 18
    room = pdf.w - pdf.l_margin - pdf.r_margin - label_width - text_width
    largest = max(length for _, length, _ in bars.bars) or 1
    for label, length, text in bars.bars:
        if pdf.will_page_break(ROW_HEIGHT):
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_text_color(*INK)
        _fit(pdf, label, label_width, 9)
        pdf.cell(label_width, ROW_HEIGHT, label)
        bar = room * length / largest
        pdf.set_fill_color(*BAR)
        if bar:
            pdf.rect(pdf.l_margin + label_width, y + 1.2, bar, ROW_HEIGHT - 2.4, style="F")
        pdf.set_xy(pdf.l_margin + label_width + bar + 1.5, y)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(text_width, ROW_HEIGHT, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
