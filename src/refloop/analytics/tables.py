"""The analytics dashboard as named tables, for the CSV and XLSX exports: one `Table` per
thing the dashboard shows, each cell marked with what small-cell suppression needs to
know (is it a count of patients, referrals or appointments; what was a rate or median
computed from; which cells add up to which total).

Referring practices' names are business partners, not patients, and appear for every
role; no table holds a patient, a referral number or a provider's NPI.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from refloop.analytics import suppression
from refloop.analytics.models import DWELL_STATES
from refloop.analytics.suppression import Basis, Cell, Total
from refloop.referrals.lifecycle import LOST
from refloop.referrals.models import ReferralChannel, SourceType

Value = str | int | float | Decimal | date | None


@dataclass(frozen=True)
class Table:
    """One exportable table. `rows` hold plain values (numbers, text, dates, None for no
    figure); the other fields name cells by `suppression.Cell(key, row, column)`."""

    key: str  # the URL's name for it: /analytics/export/<key>.csv
    title: str  # at most 31 characters: it names the table's XLSX sheet
    headers: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]
    # Cells counting patients, referrals or appointments.
    counts: frozenset[Cell] = frozenset()
    # Rates, shares, medians, sums of money, sentences: what each was computed from.
    derived: Mapping[Cell, Basis] = field(default_factory=dict)
    # Cells that add up to a shown total (the parts may be in other tables).
    totals: tuple[Total, ...] = ()
    # True once small cells have been hidden (`suppress`).
    suppressed: bool = False


# key -> title, in the order the XLSX sheets come.
TABLES = {
    "summary": "Metrics summary",
    "volume_by_source_type": "Volume by month, source type",
    "volume_by_channel": "Volume by month, channel",
    "funnel": "Funnel",
    "funnel_milestones": "Funnel milestones and detours",
    "sla": "SLA by urgency",
    "lost_by_outcome": "Lost by outcome",
    "lost_by_reason": "Lost by reason",
    "lost_by_stage": "Lost by stage",
    "show_rate": "Show rate",
    "loop_closure": "Loop closure",
    "concentration": "Concentration",
    "lifetime_value": "Lifetime value by source",
    "leakage": "Leakage by receiving practice",
    "referrers": "Referrers",
    "segments": "Segments",
    "flows": "Flows practice to department",
    "bottlenecks": "Bottlenecks",
}


def tables(board: dict) -> list[Table]:
    """Every table of a dashboard (`dashboard.build(scope)`), in `TABLES` order, with
    exact figures."""
    book = _Book()
    _summary(book, board["metrics"])
    _volume(
        book, "volume_by_source_type", "source type", board["by_source_type"], SourceType.values
    )
    _volume(book, "volume_by_channel", "channel", board["by_channel"], ReferralChannel.values)
    _funnel(book, board["funnel"])
    _milestones(book, board["funnel"])
    _sla(book, board["sla"])
    _lost(book, board["metrics"]["lost"])
    _show_rate(book, board["metrics"]["show_rate"])
    _loop_closure(book, board["metrics"]["loop_closure"])
    _concentration(book, board["metrics"]["concentration"])
    _lifetime_value(book, board["metrics"]["lifetime_value"])
    _leakage(book, board["metrics"]["leakage"])
    _referrers(book, board["referrers"])
    _segments(book, board["segments"])
    _flows(book, board["flows"])
    _bottlenecks(book, board["bottlenecks"])
    return [book.sheets[key].table() for key in TABLES]


def summary(figures: dict) -> Table:
    """The summary table alone, of `metrics.compute()`'s figures (another period's
    headline figures, shown beside the dashboard's)."""
    book = _Book()
    _summary(book, figures)
    return book.sheets["summary"].table()


def suppress(found: Sequence[Table]) -> list[Table]:
    """The tables with small cells hidden by `suppression`'s rule, applied across all of
    them at once (they repeat each other's totals): pass every table of an export, even
    when only one is written."""
    values = {
        Cell(table.key, r, c): value
        for table in found
        for r, row in enumerate(table.rows)
        for c, value in enumerate(row)
    }
    hidden = suppression.hide(
        values,
        [cell for table in found for cell in table.counts],
        {cell: basis for table in found for cell, basis in table.derived.items()},
        [total for table in found for total in table.totals],
    )
    return [
        replace(
            table,
            rows=tuple(
                tuple(hidden.get(Cell(table.key, r, c), value) for c, value in enumerate(row))
                for r, row in enumerate(table.rows)
            ),
            suppressed=True,
        )
        for table in found
    ]


# ---- building ---------------------------------------------------------------------


class _Count(NamedTuple):
    value: int


class _Figure(NamedTuple):
    value: Value
    counts: tuple[int | None, ...] = ()
    columns: tuple[int, ...] = ()  # cells of the same row it was computed from
    cells: tuple[Cell, ...] = ()


def count(value: int) -> _Count:
    return _Count(value)


def figure(value, *, counts=(), columns=(), cells=()) -> _Figure:
    return _Figure(value, tuple(counts), tuple(columns), tuple(cells))


class _Sheet:
    def __init__(self, book: "_Book", key: str, headers: tuple[str, ...]):
        self.book, self.key, self.headers = book, key, headers
        self.rows: list[tuple] = []
        self.counts: set[Cell] = set()
        self.derived: dict[Cell, Basis] = {}
        self.totals: list[Total] = []

    def cell(self, row: int, column: int) -> Cell:
        return Cell(self.key, row, column)

    def add(self, *values) -> int:
        row = len(self.rows)
        plain = []
        for column, value in enumerate(values):
            here = self.cell(row, column)
            if isinstance(value, _Count):
                self.counts.add(here)
                value = value.value
            elif isinstance(value, _Figure):
                cells = value.cells + tuple(self.cell(row, c) for c in value.columns)
                self.derived[here] = Basis(value.counts, cells)
                value = value.value
            self.book.values[here] = value
            plain.append(value)
        self.rows.append(tuple(plain))
        return row

    def total(self, cell: Cell, parts) -> None:
        self.totals.append(Total(cell, tuple(parts)))

    def same(self, a: Cell | None, b: Cell | None) -> None:
        """Tie two cells holding the same figure, so hiding one hides the other."""
        if a is not None and b is not None and self.book.values[a] == self.book.values[b]:
            self.total(a, (b,))

    def column_total(self, column: int, rows: Sequence[int], total_row: int) -> None:
        self.total(self.cell(total_row, column), [self.cell(r, column) for r in rows])

    def table(self) -> Table:
        return Table(
            key=self.key,
            title=TABLES[self.key],
            headers=self.headers,
            rows=tuple(self.rows),
            counts=frozenset(self.counts),
            derived=dict(self.derived),
            totals=tuple(self.totals),
        )


class _Book:
    """The sheets being built, every value by cell, and the cells later tables refer to."""

    def __init__(self):
        self.sheets: dict[str, _Sheet] = {}
        self.values: dict[Cell, Any] = {}
        self.anchors: dict[str, Cell] = {}

    def sheet(self, key: str, *headers: str) -> _Sheet:
        self.sheets[key] = _Sheet(self, key, headers)
        return self.sheets[key]


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "unknown"
    return "yes" if value else "no"


def _month(yyyymm: int) -> str:
    return f"{yyyymm // 100}-{yyyymm % 100:02d}"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# ---- the tables -------------------------------------------------------------------


def _summary(book: _Book, figures: dict) -> None:
    s = book.sheet("summary", "metric", "figure", "value")
    anchor = book.anchors

    def counted(name: str, metric: str, label: str, value: int) -> Cell:
        anchor[name] = s.cell(s.add(metric, label, count(value)), 2)
        return anchor[name]

    def rate(metric: str, label: str, value, *cells: Cell) -> None:
        s.add(metric, label, figure(value, cells=cells))

    volume = counted("volume", "volume", "referrals received", figures["volume"]["count"])
    seen = counted("seen", "conversion", "referrals seen", figures["conversion"]["seen"])
    rate("conversion", "conversion rate", figures["conversion"]["rate"], seen, volume)
    for clock in ("time_to_first_contact", "time_to_schedule", "time_to_appointment"):
        measured = counted(clock, clock, "referrals measured", figures[clock]["count"])
        rate(clock, "median hours", figures[clock]["median_hours"], measured)
        rate(clock, "90th percentile hours", figures[clock]["p90_hours"], measured)
    for group in ("referred", "non_referred"):
        shows = figures["show_rate"][group]
        attended = counted(
            f"{group}.attended", "show_rate", f"{group}: attended", shows["attended"]
        )
        missed = counted(f"{group}.no_show", "show_rate", f"{group}: no-shows", shows["no_show"])
        rate("show_rate", f"{group}: show rate", shows["rate"], attended, missed)
    loop = figures["loop_closure"]
    seen_in = counted("loop.seen", "loop_closure", "referrals seen in the period", loop["seen"])
    closed = counted(
        "loop.closed", "loop_closure", "closed within 7 days", loop["closed_within_7_days"]
    )
    rate("loop_closure", "loop closure rate", loop["rate"], closed, seen_in)
    leak = figures["leakage"]
    sent = counted("sent", "leakage", "outbound referrals sent", leak["sent"])
    out = counted("out_of_network", "leakage", "sent out of network", leak["out_of_network"])
    rate("leakage", "leakage rate", leak["rate"], out, sent)
    counted("lost", "lost", "referrals lost", figures["lost"]["count"])
    top = figures["concentration"]
    # Providers are business partners, not patients: how many there are is no small cell.
    s.add("concentration", "referring providers", top["providers"])
    s.add("concentration", "top 20% of providers", top["top_providers"])
    named = counted("named", "concentration", "referrals naming a provider", top["referrals"])
    top_sent = counted(
        "top_referrals", "concentration", "referrals from the top providers", top["top_referrals"]
    )
    rate("concentration", "share from the top providers", top["top_share"], top_sent, named)


def _volume(book: _Book, key: str, by: str, found: dict, known: Sequence[str]) -> None:
    keys = [*known, *sorted(k for k in found["series"] if k not in known)]
    s = book.sheet(key, "month", *keys, "total", "days counted")
    months = found["months"]
    last = len(keys) + 1
    for i, month in enumerate(months):
        values = [found["series"].get(k, [0] * len(months))[i] for k in keys]
        row = s.add(
            _month(month),
            *(count(v) for v in values),
            count(sum(values)),
            _days_counted(found["periods"][i]),
        )
        s.total(s.cell(row, last), [s.cell(row, c) for c in range(1, last)])
    sums = [sum(found["series"].get(k, [0] * len(months))) for k in keys]
    total_row = s.add("total", *(count(v) for v in sums), count(sum(sums)), "")
    for column in range(1, last + 1):
        s.column_total(column, range(len(months)), total_row)
    s.total(s.cell(total_row, last), [s.cell(total_row, c) for c in range(1, last)])
    s.same(s.cell(total_row, last), book.anchors["volume"])
    if "provider" in keys:
        # Referrals naming a referring provider are, as a rule, those from providers.
        s.same(s.cell(total_row, keys.index("provider") + 1), book.anchors["named"])
    book.anchors[f"{key}.total"] = s.cell(total_row, last)


def _days_counted(period: dict) -> str:
    """ "whole month", or the part counted: "to 6 Dec", "from 3 Jun", "no data"."""
    if not period["partial"]:
        return "whole month"
    label = period["label"]
    return label[label.index("(") + 1 : -1]


def _funnel(book: _Book, found: dict) -> None:
    s = book.sheet("funnel", "state", "reached", "lost here", "now here", "median dwell hours")
    rows = {}
    for entry in found["states"]:
        dwell = None
        if entry["state"] in DWELL_STATES:
            dwell = figure(entry["median_dwell_hours"], counts=(entry["left"],))
        rows[entry["state"]] = s.add(
            entry["state"],
            count(entry["reached"]),
            count(entry["lost_here"]),
            count(entry["now_here"]),
            dwell,
        )
    lost = sum(entry["lost_here"] for entry in found["states"])
    now = sum(entry["now_here"] for entry in found["states"])
    total_row = s.add("all states", None, count(lost), count(now), None)
    s.column_total(2, list(rows.values()), total_row)
    s.column_total(3, list(rows.values()), total_row)
    s.same(s.cell(total_row, 3), book.anchors["volume"])
    s.same(s.cell(total_row, 2), book.anchors["lost"])
    s.same(s.cell(rows["received"], 1), book.anchors["volume"])
    s.same(s.cell(rows["seen"], 1), book.anchors["seen"])
    # A terminal state is never left: all that reached it are in it now.
    for state in ("loop_closed", *LOST):
        s.same(s.cell(rows[state], 1), s.cell(rows[state], 3))
        book.anchors[f"funnel.{state}"] = s.cell(rows[state], 3)
    for state, row in rows.items():
        for column in (1, 2, 3):
            book.anchors[f"funnel.{state}.{column}"] = s.cell(row, column)


def _milestones(book: _Book, found: dict) -> None:
    """The funnel as drawn: the milestones, then the detours with the one they leave."""
    s = book.sheet(
        "funnel_milestones",
        "stage",
        "detour after",
        "reached",
        "lost before the next milestone",
        "there now",
        "median dwell hours",
    )
    rows = [
        s.add(
            entry["state"],
            "",
            count(entry["reached"]),
            count(entry["lost_here"]),
            count(entry["now_here"]),
            figure(entry["median_dwell_hours"], counts=(entry["left"],))
            if "left" in entry
            else None,
        )
        for entry in found["milestones"]
    ]
    # Those that reached a milestone reached the next, were lost, or are still there; and
    # those lost between milestones are all those lost. (Declared where the figures say
    # so: a fact without even the received bit would break them.)
    for here, after in zip(rows, rows[1:], strict=False):
        parts = (s.cell(after, 2), s.cell(here, 3), s.cell(here, 4))
        if book.values[s.cell(here, 2)] == sum(book.values[part] for part in parts):
            s.total(s.cell(here, 2), parts)
    lost = [s.cell(row, 3) for row in rows]
    if book.values[book.anchors["lost"]] == sum(book.values[cell] for cell in lost):
        s.total(book.anchors["lost"], lost)
    s.same(s.cell(rows[0], 2), book.anchors["volume"])
    s.same(s.cell(rows[-1], 2), book.anchors["funnel.loop_closed"])
    for entry in found["detours"]:
        state = entry["state"]
        row = s.add(
            state,
            entry["after"],
            count(entry["reached"]),
            count(entry["lost_here"]),
            count(entry["now_here"]),
            figure(entry["median_dwell_hours"], counts=(entry["left"],)),
        )
        for column in (2, 3, 4):
            s.same(s.cell(row, column), book.anchors[f"funnel.{state}.{column - 1}"])


def _sla(book: _Book, found: dict) -> None:
    s = book.sheet(
        "sla",
        "urgency",
        "first-contact SLA hours",
        "contacted",
        "contacted within SLA",
        "share within SLA",
        "median hours to first contact",
        "90th percentile hours to first contact",
        "median hours to appointment",
        "90th percentile hours to appointment",
    )
    rows = []
    for entry in found["by_urgency"]:
        # How many referrals the appointment figures are over, when the board says
        # (None, unknown, is treated as small).
        booked = entry.get("appointments")
        rows.append(
            s.add(
                entry["urgency"],
                entry["sla_hours"],
                count(entry["contacted"]),
                count(entry["within_sla"]),
                figure(_share(entry["within_sla"], entry["contacted"]), columns=(2, 3)),
                figure(entry["median_hours_to_first_contact"], columns=(2,)),
                figure(entry["p90_hours_to_first_contact"], columns=(2,)),
                figure(entry["median_hours_to_appointment"], counts=(booked,)),
                figure(entry["p90_hours_to_appointment"], counts=(booked,)),
            )
        )
    contacted = sum(e["contacted"] for e in found["by_urgency"])
    within = sum(e["within_sla"] for e in found["by_urgency"])
    total_row = s.add(
        "all",
        None,
        count(contacted),
        count(within),
        figure(_share(within, contacted), columns=(2, 3)),
        None,
        None,
        None,
        None,
    )
    s.column_total(2, rows, total_row)
    s.column_total(3, rows, total_row)
    s.same(s.cell(total_row, 2), book.anchors["time_to_first_contact"])


def _lost(book: _Book, found: dict) -> None:
    breakdowns = (
        ("lost_by_outcome", "outcome", found["by_outcome"]),
        ("lost_by_reason", "reason", found["by_reason"]),
        ("lost_by_stage", "stage", found["by_stage"]),
    )
    for key, label, counts in breakdowns:
        s = book.sheet(key, label, "referrals", "share of lost")
        total = sum(counts.values())
        total_at = s.cell(len(counts), 1)
        rows = {
            name: s.add(name, count(n), figure(_share(n, total), columns=(1,), cells=(total_at,)))
            for name, n in counts.items()
        }
        total_row = s.add("all", count(total), figure(_share(total, total), columns=(1,)))
        s.column_total(1, list(rows.values()), total_row)
        s.same(s.cell(total_row, 1), book.anchors["lost"])
        if key == "lost_by_outcome":
            for outcome, row in rows.items():
                s.same(s.cell(row, 1), book.anchors.get(f"funnel.{outcome}"))


def _show_rate(book: _Book, found: dict) -> None:
    s = book.sheet("show_rate", "patients", "attended", "no-shows", "appointments", "show rate")
    rows = []
    for group in ("referred", "non_referred"):
        attended, missed = found[group]["attended"], found[group]["no_show"]
        row = s.add(
            group,
            count(attended),
            count(missed),
            count(attended + missed),
            figure(found[group]["rate"], columns=(1, 3)),
        )
        s.total(s.cell(row, 3), [s.cell(row, 1), s.cell(row, 2)])
        s.same(s.cell(row, 1), book.anchors[f"{group}.attended"])
        s.same(s.cell(row, 2), book.anchors[f"{group}.no_show"])
        rows.append(row)
    attended = sum(found[g]["attended"] for g in ("referred", "non_referred"))
    missed = sum(found[g]["no_show"] for g in ("referred", "non_referred"))
    total_row = s.add(
        "all",
        count(attended),
        count(missed),
        count(attended + missed),
        figure(_share(attended, attended + missed), columns=(1, 3)),
    )
    s.total(s.cell(total_row, 3), [s.cell(total_row, 1), s.cell(total_row, 2)])
    for column in (1, 2, 3):
        s.column_total(column, rows, total_row)


def _loop_closure(book: _Book, found: dict) -> None:
    s = book.sheet(
        "loop_closure", "seen in the period", "closed within 7 days", "loop closure rate"
    )
    row = s.add(
        count(found["seen"]),
        count(found["closed_within_7_days"]),
        figure(found["rate"], columns=(0, 1)),
    )
    s.same(s.cell(row, 0), book.anchors["loop.seen"])
    s.same(s.cell(row, 1), book.anchors["loop.closed"])


def _concentration(book: _Book, found: dict) -> None:
    """Providers by rank only: no NPI, no name."""
    s = book.sheet("concentration", "rank", "referrals", "cumulative share", "in the top 20%")
    ranked = found["ranked"]
    total = sum(ranked)
    total_at = s.cell(len(ranked), 1)
    rows: list[int] = []
    running = 0
    for i, n in enumerate(ranked):
        running += n
        so_far = tuple(s.cell(r, 1) for r in rows)
        rows.append(
            s.add(
                i + 1,
                count(n),
                figure(_share(running, total), columns=(1,), cells=(*so_far, total_at)),
                _yes_no(i < found["top_providers"]),
            )
        )
    total_row = s.add("all", count(total), None, "")
    s.column_total(1, rows, total_row)
    s.same(s.cell(total_row, 1), book.anchors["named"])
    s.total(book.anchors["top_referrals"], [s.cell(r, 1) for r in rows[: found["top_providers"]]])


def _lifetime_value(book: _Book, found: dict) -> None:
    s = book.sheet(
        "lifetime_value", "source type", "patients", "attended visit value", "value per patient"
    )
    rows = []
    for source, entry in found["by_source"].items():
        rows.append(
            s.add(
                source,
                count(entry["patients"]),
                figure(entry["value"], columns=(1,)),
                figure(entry["value_per_patient"], columns=(1, 2)),
            )
        )
    patients = sum(e["patients"] for e in found["by_source"].values())
    value = sum(e["value"] for e in found["by_source"].values())
    total_row = s.add(
        "all",
        count(patients),
        figure(value, columns=(1,)),
        figure(value / patients if patients else None, columns=(1, 2)),
    )
    s.column_total(1, rows, total_row)
    s.column_total(2, rows, total_row)


def _leakage(book: _Book, found: dict) -> None:
    s = book.sheet("leakage", "receiving practice", "in network", "sent", "share of sent")
    total = sum(entry["sent"] for entry in found["by_receiving_practice"])
    total_at = s.cell(len(found["by_receiving_practice"]), 2)
    rows, outside = [], []
    for entry in found["by_receiving_practice"]:
        row = s.add(
            entry["practice"],
            _yes_no(entry["in_network"]),
            count(entry["sent"]),
            figure(_share(entry["sent"], total), columns=(2,), cells=(total_at,)),
        )
        rows.append(row)
        if entry["in_network"] is False:
            outside.append(s.cell(row, 2))
    total_row = s.add("all", "", count(total), figure(_share(total, total), columns=(2,)))
    s.column_total(2, rows, total_row)
    s.same(s.cell(total_row, 2), book.anchors["sent"])
    s.total(book.anchors["out_of_network"], outside)


def _referrers(book: _Book, found: list[dict]) -> None:
    s = book.sheet(
        "referrers",
        "practice",
        "city",
        "volume",
        "previous volume",
        "segment",
        "declining",
        "referrals in the last 90 days",
        "referrals in the 365 days before",
        "expected in 90 days",
        "p-value",
        "conversion",
        "median hours to first contact",
    )
    for entry in found:
        seen = round((entry["conversion"] or 0) * entry["volume"])
        row = s.add(
            entry["practice"],
            entry["city"],
            count(entry["volume"]),
            count(entry["previous_volume"])
            if entry["previous_volume"] is not None
            else figure(None),
            entry["segment"],
            _yes_no(entry["declining"]),
            count(entry["recent_90_days"]),
            count(entry["prior_365_days"]),
            figure(entry["expected_90_days"], columns=(7,)),
            figure(entry["p_value"], columns=(6, 7)),
            figure(entry["conversion"], counts=(seen,), columns=(2,)),
            # Over how many contacted referrals, when the board says (None, unknown, is
            # treated as small).
            figure(entry["median_hours_to_first_contact"], counts=(entry.get("contacted"),)),
        )
        book.anchors[f"practice.{entry['practice_id']}"] = s.cell(row, 2)


def _segments(book: _Book, found: dict) -> None:
    s = book.sheet("segments", "segment", "practice")
    for segment, practices in found.items():
        for practice in practices:
            s.add(segment, practice["practice"])


def _flows(book: _Book, found: dict) -> None:
    s = book.sheet("flows", "from", "to department", "referrals")
    by_source: dict[tuple, list[dict]] = {}
    for link in found["links"]:
        by_source.setdefault((link["source_kind"], link["source_id"], link["source"]), []).append(
            link
        )
    subtotals = []
    named = set()
    others = None
    for (kind, source_id, name), links in by_source.items():
        rows = [s.add(name, link["target"], count(link["referrals"])) for link in links]
        row = s.add(name, "all departments", count(sum(link["referrals"] for link in links)))
        s.column_total(2, rows, row)
        subtotals.append(row)
        if kind == "practice":
            named.add(source_id)
            s.same(s.cell(row, 2), book.anchors.get(f"practice.{source_id}"))
        elif kind == "others":
            others = s.cell(row, 2)
    total_row = s.add(
        "all sources", "all departments", count(sum(link["referrals"] for link in found["links"]))
    )
    s.column_total(2, subtotals, total_row)
    s.same(s.cell(total_row, 2), book.anchors["volume"])
    if others is not None:
        # "Other practices" adds up the referrers table's practices not named here.
        rest = [
            cell
            for name, cell in book.anchors.items()
            if name.startswith("practice.") and int(name.split(".")[1]) not in named
        ]
        if sum(book.values[cell] for cell in rest) == book.values[others]:
            s.total(others, rest)


def _bottlenecks(book: _Book, found: dict) -> None:
    """The finder's sentences, each tied to the counts it rests on: a change's (the
    referrals or appointments before it and since), the longest wait's (how many
    referrals it cites), the lost referrals' ("4 of 9"). A sentence is told by the counts
    it quotes, not its wording; any other sentence rests on counts the board does not
    give, which suppression treats as small."""
    s = book.sheet("bottlenecks", "finding")
    stage = next((x for x in found["stages"] if x["stage"] == found["stage"]), None)
    lost = found["lost_by_stage"]
    where, n = max(lost.items(), key=lambda item: item[1]) if lost else (None, 0)
    changes = {f["sentence"]: f for f in found.get("findings", [])}
    for sentence in found["sentences"]:
        counts: tuple[int | None, ...] = (None,)
        if sentence in changes:
            change = changes[sentence]
            counts = tuple(
                change[key]
                for key in ("count_after", "count_before", "events_after", "events_before")
                if change[key] is not None
            )
        elif stage and f"({stage['count']} referral" in sentence:
            before = stage["previous_count"] if stage["previous_median_hours"] is not None else 0
            counts = (stage["count"], before)
        elif lost and f"{n} of {sum(lost.values())}" in sentence:
            counts = (n, sum(lost.values()), found["previous_lost_by_stage"].get(where, 0))
        s.add(figure(sentence, counts=counts))
