"""The monthly management report: the dashboard of one local calendar month, against the month
before and the same month a year earlier, as sections of tables, bars and sentences.

`pdf.report_pdf` draws it; the download (`/analytics/report/<yyyy-mm>.pdf`) and
`refloop analytics report` serve it. The figures come from the dashboard's export tables
(`tables.tables(dashboard.build(scope))`), so the analyst's copy is suppressed exactly as
the analyst's CSV and XLSX exports are (`tables.suppress`, by `suppression`'s rule): a
count of 1 to 10 referrals, patients or appointments reads "<11", and a figure that could
give one back reads "suppressed".
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from refloop.analytics import dashboard, metrics, suppression, tables
from refloop.analytics.coverage import Coverage
from refloop.analytics.metrics import Period, Scope
from refloop.analytics.models import DWELL_STATES
from refloop.analytics.scorecards import days, describe, month_period
from refloop.practice.models import Organization

NO_FIGURE = "–"
TOP_REFERRERS = 10
TOP_RECEIVING_PRACTICES = 8
HIDDEN = (suppression.SMALL, suppression.SUPPRESSED)

CHANNEL_LABELS = {"web_form": "Web form", "hl7": "HL7", "fhir": "FHIR", "api": "API"}
SEGMENT_LABELS = {
    "loyal": "Loyal (referred in 3 or 4 of the last four quarters)",
    "semi_loyal": "Semi-loyal (1 or 2 of them)",
    "new": "New (first referral in the last 90 days)",
    "non_referring": "Non-referring (none in the last year)",
    "receiver": "Receivers (only receive our referrals; never referred)",
}


# ---- what the PDF draws -------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: list[float]  # shares of the line, summing to 1
    empty: str = "Nothing this month."


@dataclass(frozen=True)
class Bars:
    """Horizontal bars: (label, length, text printed after the bar); a hidden figure has no
    bar, only its "<11" or "suppressed"."""

    bars: list[tuple[str, float, str]]
    empty: str = "Nothing this month."


@dataclass(frozen=True)
class Section:
    title: str
    intro: str = ""
    parts: Sequence[Table | Bars | list[str]] = field(default_factory=list)
    new_page: bool = False


@dataclass(frozen=True)
class Report:
    organization: str
    month: Period
    generated: str
    suppressed: bool
    sections: list[Section]

    @property
    def month_label(self) -> str:
        return describe(self.month)

    @property
    def file_name(self) -> str:
        suffix = "-suppressed" if self.suppressed else ""
        return f"referral-report-{self.month.start:%Y-%m}{suffix}.pdf"


# ---- values in words ---------------------------------------------------------------------


def _hidden(value) -> bool:
    return isinstance(value, str) and value in HIDDEN


def count(value) -> str:
    if _hidden(value):
        return value
    return NO_FIGURE if value is None else f"{value:,}"


def rate(value) -> str:
    if _hidden(value):
        return value
    return NO_FIGURE if value is None else f"{100 * value:.0f}%"


def hours(value) -> str:
    if _hidden(value):
        return value
    return NO_FIGURE if value is None else days(value)


def money(value) -> str:
    if _hidden(value):
        return value
    return NO_FIGURE if value is None else f"${Decimal(str(value)):,.0f}"


def label(value: str) -> str:
    return CHANNEL_LABELS.get(value, value.replace("_", " ").capitalize())


# ---- months ----------------------------------------------------------------------------


def previous_month(month: Period) -> Period:
    first = month.start
    return month_period(date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1))


def same_month_last_year(month: Period) -> Period:
    return month_period(date(month.start.year - 1, month.start.month, 1))


# ---- the sections ------------------------------------------------------------------------

_HEADLINE = (
    "volume",
    "conversion",
    "time_to_first_contact",
    "time_to_appointment",
    "show_rate",
    "loop_closure",
    "lost",
    "leakage",
)


def _headline_column(m: dict, suppressed: bool) -> list:
    """The headline figures of another month, suppressed on their own (nothing else of
    that month is shown, so no total can give a hidden one back)."""

    def counted(n: int):
        return suppression.SMALL if suppressed and suppression.is_small(n) else n

    def derived(value, *counts: int):
        if (
            suppressed
            and value is not None
            and suppression.derived_hidden(suppression.Basis(tuple(counts)), ())
        ):
            return suppression.SUPPRESSED
        return value

    shows = m["show_rate"]["referred"]
    return [
        counted(m["volume"]["count"]),
        derived(m["conversion"]["rate"], m["conversion"]["referrals"], m["conversion"]["seen"]),
        derived(m["time_to_first_contact"]["median_hours"], m["time_to_first_contact"]["count"]),
        derived(m["time_to_appointment"]["median_hours"], m["time_to_appointment"]["count"]),
        derived(shows["rate"], shows["attended"], shows["no_show"]),
        derived(
            m["loop_closure"]["rate"],
            m["loop_closure"]["seen"],
            m["loop_closure"]["closed_within_7_days"],
        ),
        counted(m["lost"]["count"]),
        derived(m["leakage"]["rate"], m["leakage"]["sent"], m["leakage"]["out_of_network"]),
    ]


_HEADLINE_ROWS = (
    ("Referrals received", ("volume", "referrals received"), count),
    ("Seen (conversion)", ("conversion", "conversion rate"), rate),
    ("Time to first contact (median)", ("time_to_first_contact", "median hours"), hours),
    ("Time to appointment (median)", ("time_to_appointment", "median hours"), hours),
    ("Show rate, referred patients", ("show_rate", "referred: show rate"), rate),
    ("Loop closed within 7 days", ("loop_closure", "loop closure rate"), rate),
    ("Lost referrals", ("lost", "referrals lost"), count),
    ("Leakage (sent out of network)", ("leakage", "leakage rate"), rate),
)


def _headline(summary: tables.Table, before: list, year_ago: list, headings: list[str]) -> Table:
    this = {(row[0], row[1]): row[2] for row in summary.rows}
    rows = [
        [title, *(fmt(v) for v in (this[key], before[i], year_ago[i]))]
        for i, (title, key, fmt) in enumerate(_HEADLINE_ROWS)
    ]
    return Table(["Measure", *headings], rows, [0.4, 0.2, 0.2, 0.2])


def _month_heading(month: Period, cover: Coverage) -> str:
    """The report month's name, with the days counted when that is not all of it."""
    counted = cover.part(month)
    if counted == month:
        return describe(month)
    if counted is None:
        return f"{describe(month)} (no data)"
    last = counted.end - timedelta(days=1)
    return f"{describe(month)} ({counted.start.day}–{last.day} {last:%b}, partial)"


def _funnel(table: tables.Table) -> Table:
    """The milestones, then each detour taken (named with the milestone it leaves)."""
    rows = [
        [
            _stage(str(state), str(after or "")),
            count(reached),
            count(lost),
            count(now),
            hours(dwell) if state in DWELL_STATES else "",  # terminal states are never left
        ]
        for state, after, reached, lost, now, dwell in table.rows
        if not after or reached != 0
    ]
    if table.rows[0][2] == 0:
        rows = []
    return Table(
        ["Stage", "Reached", "Lost before the next", "There now", "Median stay"],
        rows,
        [0.36, 0.14, 0.16, 0.14, 0.20],
        empty="No referrals were received this month.",
    )


def _stage(state: str, after: str) -> str:
    return f"{label(state)} (detour after {label(after).lower()})" if after else label(state)


def _bars(table: tables.Table) -> Bars:
    """The month's total per source type or channel (the table's total row), largest first."""
    # The last two columns are the total and the days counted.
    totals = dict(zip(table.headers[1:-2], table.rows[-1][1:-2], strict=True))
    shown = [(k, v) for k, v in totals.items() if v != 0]
    shown.sort(key=lambda kv: (_hidden(kv[1]), -kv[1] if not _hidden(kv[1]) else 0, kv[0]))
    return Bars(
        [(label(k), 0 if _hidden(v) else v, count(v)) for k, v in shown],
        empty="No referrals were received this month.",
    )


def _sla(table: tables.Table) -> Table:
    rows = [
        [
            label(urgency),
            days(target) if target is not None else "",
            count(contacted),
            count(within),
            rate(share),
            hours(median),
            hours(p90),
            hours(visit),
        ]
        for urgency, target, contacted, within, share, median, p90, visit, _ in table.rows
    ]
    return Table(
        ["Urgency", "Target", "Contacted", "In time", "Share", "Median", "90th pct", "To visit"],
        rows,
        [0.12, 0.12, 0.12, 0.11, 0.1, 0.14, 0.14, 0.15],
    )


def _by_volume(exact: tables.Table, shown: tables.Table, keep) -> list[tuple]:
    """Rows of the referrers table (as shown) picked and ordered by the exact figures;
    in a suppressed copy, rows with a hidden volume go last, by name."""
    picked = [
        (exact_row, shown_row)
        for exact_row, shown_row in zip(exact.rows, shown.rows, strict=True)
        if keep(exact_row)
    ]
    picked.sort(key=lambda pair: (-pair[0][2], pair[0][0]))
    picked.sort(key=lambda pair: _hidden(pair[1][2]))
    return [shown_row for _, shown_row in picked]


def _top_referrers(exact: tables.Table, shown: tables.Table) -> Table:
    rows = [
        [row[0], count(row[2]), count(row[3]), rate(row[10]), label(row[4])]
        for row in _by_volume(exact, shown, lambda row: row[2] > 0)[:TOP_REFERRERS]
    ]
    return Table(
        ["Practice", "Referrals", "Period before", "Seen", "Segment"],
        rows,
        [0.42, 0.14, 0.16, 0.12, 0.16],
        empty="No referring practice sent a referral this month.",
    )


def _declining(exact: tables.Table, shown: tables.Table) -> Table:
    rows = [
        [
            row[0],
            count(row[6]),
            row[8] if _hidden(row[8]) else f"{row[8]:.1f}",
            count(row[7]),
            row[9] if _hidden(row[9]) or row[9] is None else f"{row[9]:.3f}",
        ]
        for row in _by_volume(exact, shown, lambda row: row[5] == "yes")
    ]
    return Table(
        ["Practice", "Last 90 days", "Expected", "365 days before", "p"],
        rows,
        [0.4, 0.15, 0.15, 0.18, 0.12],
        empty="No practice is sending markedly fewer referrals than in the year before.",
    )


def _leakage(summary: tables.Table, table: tables.Table) -> list[Table]:
    figures = {row[1]: row[2] for row in summary.rows if row[0] == "leakage"}
    sent = figures["outbound referrals sent"]
    overall = Table(
        ["Outbound referrals sent", "Out of network", "Leakage"],
        [[count(sent), count(figures["sent out of network"]), rate(figures["leakage rate"])]]
        if sent != 0
        else [],
        [0.4, 0.3, 0.3],
        empty="No outbound referrals were sent this month.",
    )
    practices = [row for row in table.rows if row[0] != "all"][:TOP_RECEIVING_PRACTICES]
    receiving = Table(
        ["Receiving practice", "In network", "Sent"],
        [[name, network, count(n)] for name, network, n, _ in practices],
        [0.6, 0.2, 0.2],
        empty="",
    )
    return [overall, receiving] if receiving.rows else [overall]


def _lifetime_value(table: tables.Table) -> Table:
    rows = [
        [label(source), count(patients), money(value), money(per_patient)]
        for source, patients, value, per_patient in table.rows
        if source != "all" and patients != 0
    ]
    return Table(
        ["First referral's source", "New patients", "Visit value to date", "Per patient"],
        rows,
        [0.34, 0.2, 0.26, 0.2],
        empty="No new patients arrived this month.",
    )


def _bottlenecks(table: tables.Table) -> list[str]:
    sentences = [row[0] for row in table.rows if not _hidden(row[0])]
    withheld = sum(1 for row in table.rows if _hidden(row[0]))
    if withheld:
        noun = "finding rests" if withheld == 1 else "findings rest"
        sentences.append(f"{withheld} more {noun} on fewer than 11 referrals: suppressed.")
    return sentences or ["Too few referrals moved this month to say where they wait."]


def build(month: Period, *, now: datetime, suppressed: bool = False) -> Report:
    """The management report for one local calendar month."""
    org = Organization.current()
    board = dashboard.build(Scope.of(month, now=now))
    exact = {table.key: table for table in tables.tables(board)}
    shown = (
        {table.key: table for table in tables.suppress(list(exact.values()))}
        if suppressed
        else exact
    )
    before, year_ago = previous_month(month), same_month_last_year(month)
    # As on the dashboard (analytics.coverage): a month is compared with another only when
    # the data covers both entirely; a withheld column reads "–" and its heading says why.
    cover = Coverage.of(Scope.of(month, now=now))
    columns, headings, withheld = [], [_month_heading(month, cover)], []
    for other in (before, year_ago):
        if cover.covers(month) and cover.covers(other):
            figures = metrics.compute(Scope.of(other, now=now), _HEADLINE)
            columns.append(_headline_column(figures, suppressed))
            headings.append(describe(other))
        else:
            columns.append([None] * len(_HEADLINE_ROWS))
            headings.append(f"{describe(other)}: not compared")
            withheld.append(describe(other))
    headline = _headline(shown["summary"], columns[0], columns[1], headings)
    coverage_words = ""
    if withheld:
        coverage_words = (
            f" {' and '.join(withheld)} {'is' if len(withheld) == 1 else 'are'} not compared: "
            + (
                "this month is counted only to date."
                if not cover.covers(month)
                else f"the data starts on {cover.start:%-d %b %Y}, so "
                f"{'that month is' if len(withheld) == 1 else 'those months are'} "
                "covered only in part or not at all."
            )
        )
    segments = Table(
        ["Segment", "Practices"],
        [[SEGMENT_LABELS[s], f"{len(board['segments'][s]):,}"] for s in SEGMENT_LABELS],
        [0.75, 0.25],
    )
    sections = [
        Section(
            "Headline figures",
            "This month against the month before and the same month a year earlier. Figures "
            "are as known today: a referral received this month and seen later counts as seen."
            + coverage_words,
            [headline],
            new_page=True,
        ),
        Section(
            "Bottlenecks",
            "Where referrals waited longest or were lost, against the period before.",
            [_bottlenecks(shown["bottlenecks"])],
        ),
        Section(
            "Funnel",
            "Referrals received this month: how many passed each milestone (the counts only "
            "go down), were lost before the next, are on the way now, and the median time "
            "spent there; then the optional stages some took on the way.",
            [_funnel(shown["funnel_milestones"])],
            new_page=True,
        ),
        Section(
            "Volume by source",
            "Referrals received this month.",
            [_bars(shown["volume_by_source_type"])],
        ),
        Section(
            "Volume by channel",
            "How this month's referrals arrived.",
            [_bars(shown["volume_by_channel"])],
        ),
        Section(
            "First-contact targets (SLA)",
            "Per urgency: the target, how many were contacted and how many in time, the time "
            "to first contact (median and 90th percentile) and the median time to the visit.",
            [_sla(shown["sla"])],
            new_page=True,
        ),
        Section(
            "Top referrers",
            f"The {TOP_REFERRERS} practices that sent the most referrals this month.",
            [_top_referrers(exact["referrers"], shown["referrers"])],
        ),
        Section(
            "Declining referrers",
            "Practices whose last 90 days fall well short of the 365 days before "
            "(Poisson, p < 0.05).",
            [_declining(exact["referrers"], shown["referrers"])],
        ),
        Section(
            "Referral network segments",
            f"Practices in the directory as of the end of {describe(month)} (counts of "
            "practices, not patients).",
            [segments],
            new_page=True,
        ),
        Section(
            "Leakage",
            "Outbound referrals sent this month, and the share sent out of network.",
            _leakage(shown["summary"], shown["leakage"]),
        ),
        Section(
            "Lifetime value by source",
            "Patients whose first referral arrived this month, by its source, and the value "
            "of their attended visits to date.",
            [_lifetime_value(shown["lifetime_value"])],
        ),
    ]
    local = now.astimezone(org.zone)
    return Report(
        organization=org.name,
        month=month,
        generated=f"{local:%B} {local.day}, {local.year}",
        suppressed=suppressed,
        sections=sections,
    )
