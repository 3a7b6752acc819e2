"""Helpers for the history import and export tests: rows as a spreadsheet would hold them.

The practice is in America/Chicago (the OrganizationFactory's zone): naive times in a file
are Chicago time.
"""

import csv
import io
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import xlsxwriter

from refloop.demo import factories as f
from refloop.history.layout import COLUMN_NAMES

CHICAGO = ZoneInfo("America/Chicago")
# A valid NPI (check digit right) that no factory hands out.
NEW_NPI = f.npi_from(77_000_001)


def local(text: str) -> datetime:
    """'2025-03-04 09:30' in Chicago, as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO).astimezone(UTC)


def good_row(**overrides) -> dict[str, str]:
    """A provider referral to Spine followed to loop_closed, every cell valid."""
    row = {
        "referral_number": "",
        "patient_last_name": "Quillfeather",
        "patient_first_name": "Zephyrine",
        "patient_date_of_birth": "1968-04-12",
        "source_type": "provider",
        "referring_practice": "Prairie Family Medicine",
        "referring_provider_npi": NEW_NPI,
        "referring_provider_name": "Lee, Morgan",
        "channel": "fax",
        "department": "spine",
        "urgency": "routine",
        "received_at": "2025-03-04 09:30",
        "in_review_at": "2025-03-04 11:00",
        "accepted_at": "2025-03-05 08:15",
        "first_contact_at": "2025-03-05 10:00",
        "contacting_at": "2025-03-05 10:00",
        "scheduled_at": "2025-03-06 14:20",
        "appointment_at": "2025-03-18 09:00",
        "seen_at": "2025-03-18 10:05",
        "loop_closed_at": "2025-03-20 16:00",
        "appointment_outcome": "attended",
        "visit_value": "240.00",
    }
    row.update(overrides)
    return row


def declined_row(**overrides) -> dict[str, str]:
    row = {
        "patient_last_name": "Okafor",
        "patient_first_name": "James",
        "patient_date_of_birth": "11/30/1975",
        "source_type": "self",
        "department": "spine",
        "received_at": "03/10/2025 13:45",
        "in_review_at": "03/11/2025 09:00",
        "declined_at": "03/11/2025 15:30",
        "end_reason": "outside_scope",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict], columns=COLUMN_NAMES, *, bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns])
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(lines: list[list]) -> bytes:
    """A workbook whose first sheet holds `lines` (cells as given: text, dates, numbers)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    clock = book.add_format({"num_format": "hh:mm"})
    for number, line in enumerate(lines):
        for position, value in enumerate(line):
            if isinstance(value, datetime):
                sheet.write_datetime(number, position, value, when)
            elif isinstance(value, time):
                sheet.write_datetime(number, position, value, clock)
            elif hasattr(value, "isoformat"):
                sheet.write_datetime(number, position, value, day)
            else:
                sheet.write(number, position, value)
    book.close()
    return out.getvalue()


@pytest.fixture
def practice_setup(org, spine, hand):
    """The practice with its departments, as an import needs it."""
    return org
