"""Analytics tables written as files: a CSV per table (UTF-8 with a byte-order mark, so
Excel reads it as UTF-8), or one XLSX workbook with an About sheet and a sheet per table."""

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO, TextIO

import xlsxwriter

from refloop.analytics.tables import Table

SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


@dataclass(frozen=True)
class About:
    """What the About sheet says about an export."""

    start: date
    end: date  # exclusive
    filters: Sequence[tuple[str, str]]  # (parameter, what it was set to, in words)
    generated_at: datetime
    suppressed: bool


def spreadsheet_safe(value: str) -> str:
    """Keep a spreadsheet from running a text cell as a formula (practice names are typed
    by people outside the practice)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _number(value: float) -> str:
    """A dot decimal, no exponent, no float noise (0.30000000000000004 -> 0.3)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_safe(str(value))


def write_csv(table: Table, out: TextIO) -> None:
    """The table as CSV to a text stream (a file opened with newline="", or an
    HttpResponse): a header row, then the rows."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([csv_value(value) for value in row])


def about_rows(about: About) -> list[tuple[str, object]]:
    if about.suppressed:
        suppressed = (
            "yes: a count of 1 to 10 patients, referrals or appointments reads <11, and a "
            "figure that could give such a count back reads suppressed"
        )
    else:
        suppressed = "no: every figure is exact"
    return [
        ("Report", "refloop referral analytics"),
        ("Period from", about.start),
        ("Period to (not included)", about.end),
        *((f"Filter: {name}", text) for name, text in about.filters),
        *([("Filters", "none")] if not about.filters else []),
        ("Generated at", about.generated_at.isoformat(timespec="seconds")),
        ("Small cells suppressed", suppressed),
    ]


def sheet_names(tables: Sequence[Table]) -> list[str]:
    """One valid, distinct sheet name per table (its title), after "About"."""
    used = {"about"}
    names = []
    for table in tables:
        base = table.title.translate(SHEET_NAME_FORBIDDEN)[:SHEET_NAME_MAX].strip() or table.key
        name, n = base, 2
        while name.lower() in used:
            suffix = f" {n}"
            name, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
        used.add(name.lower())
        names.append(name)
    return names


def write_xlsx(tables: Sequence[Table], out: BinaryIO, *, about: About) -> None:
    """An About sheet, then one sheet per table: the header row bold and frozen, numbers
    as numbers, dates as dates, text never read as a formula."""
    workbook = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    formats = {
        "bold": workbook.add_format({"bold": True}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }
    sheet = workbook.add_worksheet("About")
    for r, (label, value) in enumerate(about_rows(about)):
        sheet.write_string(r, 0, label, formats["bold"])
        _write(sheet, r, 1, value, formats)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 60)
    for table, name in zip(tables, sheet_names(tables), strict=True):
        sheet = workbook.add_worksheet(name)
        for c, header in enumerate(table.headers):
            sheet.write_string(0, c, header, formats["bold"])
        for r, row in enumerate(table.rows, start=1):
            for c, value in enumerate(row):
                _write(sheet, r, c, value, formats)
        sheet.freeze_panes(1, 0)
        for c, header in enumerate(table.headers):
            longest = max([len(header), *(len(csv_value(row[c])) for row in table.rows)])
            sheet.set_column(c, c, min(max(longest + 2, 8), 80))
    workbook.close()


def _write(sheet, row: int, column: int, value, formats: dict) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_string(row, column, "yes" if value else "no")
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, column, float(value) if isinstance(value, Decimal) else value)
    elif isinstance(value, date) and not isinstance(value, datetime):
        sheet.write_datetime(row, column, value, formats["date"])
    elif isinstance(value, datetime):
        sheet.write_string(row, column, value.isoformat(timespec="seconds"))
    else:
        sheet.write_string(row, column, str(value))
