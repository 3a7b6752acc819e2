"""Reading a history file (CSV in UTF-8, or the first sheet of an .xlsx) into rows of cells.

Cells stay as the file gives them: strings from a CSV; strings, numbers, dates and
datetimes from a workbook. validation.py makes sense of them.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import PurePath

from python_calamine import CalamineError, CalamineWorkbook

FORMATS = ("csv", "xlsx")


class UnreadableFile(Exception):
    """The file as a whole cannot be read; `message` says what to do instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Sheet:
    header: list[str]
    # (line, cells): line as the spreadsheet numbers it, the header being line 1.
    rows: list[tuple[int, list]]


def format_of(file_name: str) -> str:
    """'csv' or 'xlsx' from the file name's extension."""
    suffix = PurePath(file_name).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if suffix in ("xls", "ods", "numbers"):
        raise UnreadableFile(
            f"A .{suffix} file is not read here; save it from your spreadsheet as .xlsx "
            "or as CSV UTF-8, and upload that."
        )
    shown = f"a .{suffix} file" if suffix else "a file without an extension"
    raise UnreadableFile(
        f"This is {shown}; upload the history as .csv (UTF-8) or .xlsx (Excel workbook)."
    )


def read_sheet(content: bytes, file_name: str) -> Sheet:
    """The header and the non-blank rows of a history file."""
    fmt = format_of(file_name)
    grid = _xlsx_rows(content) if fmt == "xlsx" else _csv_rows(content)
    header: list[str] | None = None
    rows: list[tuple[int, list]] = []
    for line, cells in enumerate(grid, start=1):
        if header is None:
            if line > 1 or _blank(cells):
                raise UnreadableFile(
                    "Line 1 must be the header: the column names (see the template), "
                    "with the first referral on line 2."
                )
            header = [str(cell).strip() for cell in cells]
            continue
        if not _blank(cells):
            rows.append((line, cells))
    if header is None:
        raise UnreadableFile("The file is empty; it needs a header line and one row per referral.")
    return Sheet(header=header, rows=rows)


def _blank(cells: list) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _csv_rows(content: bytes):
    try:
        # utf-8-sig drops the byte order mark Excel writes with "CSV UTF-8".
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(
            "The file is not UTF-8 text. In Excel choose Save As > 'CSV UTF-8 (Comma "
            "delimited)', or upload the .xlsx itself."
        ) from None
    if "\x00" in text:
        raise UnreadableFile(
            "The file holds binary data, not CSV text; upload a .csv (UTF-8) or an .xlsx."
        )
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to some locales separate CSV fields with semicolons or tabs.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return list(reader)
    except csv.Error:
        raise UnreadableFile(
            f'The CSV cannot be read past text line {reader.line_num}: a quote (") is not '
            "closed or stands inside a value. Fix that line, or upload the .xlsx instead."
        ) from None


def _xlsx_rows(content: bytes):
    if not content.startswith(b"PK\x03\x04"):
        raise UnreadableFile(
            "The file is named .xlsx but is not an Excel workbook; open it in your "
            "spreadsheet and save it as .xlsx or as CSV UTF-8."
        )
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not workbook.sheet_names:
            raise UnreadableFile("The workbook has no sheets.")
        # Every row from the top, blank ones included, so lines match the spreadsheet's.
        return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except CalamineError:
        raise UnreadableFile(
            "The workbook could not be read (damaged, or protected by a password); "
            "open it in your spreadsheet and save it again as .xlsx or as CSV UTF-8."
        ) from None
