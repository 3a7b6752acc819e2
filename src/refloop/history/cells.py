"""Turning one spreadsheet cell into a value: text, a time, a date or an amount.

Each parser raises CellProblem with the end of a sentence ("is not a date and time;
write it as …"); validation.py puts the column's name in front.
"""

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from refloop.history.layout import DATE_HINT, TIME_HINT

US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
)
MAX_AMOUNT = Decimal("100000000")
# A leading apostrophe keeps a spreadsheet from reading a cell as a formula; the export
# writes one before text that starts like a formula, and the import takes it off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CellProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def text(value) -> str:
    """A cell as trimmed text; whole numbers from a workbook lose their '.0'."""
    if type(value) is not str:  # a workbook's number, date or empty cell
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        value = str(value)
    value = value.strip()
    if value[:1] == "'" and value[1:2] in FORMULA_START:
        return value[1:]
    return value


def local_time(value, zone: ZoneInfo) -> datetime | None:
    """An instant in UTC from a cell; times without an offset are the practice's local time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _aware(value, zone)
    if isinstance(value, date):
        return _aware(datetime.combine(value, time()), zone)
    if isinstance(value, int | float):
        raise CellProblem(
            f"is a number ({value:g}), not a date and time; format the cell as a date, or {TIME_HINT}"
        )
    if not isinstance(value, str):  # a time of day or a duration from a workbook
        raise CellProblem(f"({value}) is not a date and time; {TIME_HINT}")
    raw = value.strip()
    if not raw:
        return None
    if len(raw) >= 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return _aware(datetime.fromisoformat(raw), zone)
        except ValueError:
            pass  # told below, with the formats that work
    else:
        match = US_DATE.fullmatch(raw)
        if match:
            return _aware(_us_datetime(match), zone)
    raise CellProblem(f"({raw}) is not a date and time; {TIME_HINT}")


def _us_datetime(match: re.Match) -> datetime:
    month, day, year, hour, minute, second, meridiem = match.groups()
    hour_value = int(hour or 0)
    if meridiem:
        if not 1 <= hour_value <= 12:
            raise CellProblem(f"({match.group(0)}) has an hour that does not go with AM/PM")
        hour_value = hour_value % 12 + (12 if meridiem.lower() == "pm" else 0)
    try:
        return datetime(
            int(year), int(month), int(day), hour_value, int(minute or 0), int(second or 0)
        )
    except ValueError:
        raise CellProblem(
            f"({match.group(0)}) is not a real date and time (month first: MM/DD/YYYY)"
        ) from None


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def calendar_date(value) -> date | None:
    """A date of birth. Its value is never repeated in a message: it identifies a patient."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    if not raw:
        return None
    try:
        if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
            return date.fromisoformat(raw)
        match = US_DATE.fullmatch(raw)
        if match and match.group(4) is None:
            month, day, year = (int(part) for part in match.groups()[:3])
            return date(year, month, day)
    except ValueError:
        pass  # told below
    raise CellProblem(f"is not a date; {DATE_HINT}")


def amount(value) -> Decimal | None:
    """A visit value: 0 or more, cents at most."""
    if value is None or value == "":
        return None
    raw = text(value).replace(",", "")
    if not raw:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise CellProblem(
            f"({raw}) is not an amount; write a number such as 240.00, without a currency sign"
        ) from None
    if not number.is_finite() or number < 0 or number >= MAX_AMOUNT:
        raise CellProblem(f"({raw}) must be an amount from 0 to 99,999,999.99")
    return number.quantize(Decimal("0.01"))
