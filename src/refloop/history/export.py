"""Writing every inbound referral in the history layout (CSV or XLSX), a chunk at a time.

What the export writes, the import reads back as the same referrals: state, times,
department, source, appointment outcome and value. The file holds patient names and
dates of birth, so only admins export, and every export is audited.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

import xlsxwriter

from refloop.core import audit
from refloop.core.roles import Capability, require
from refloop.history.cells import FORMULA_START
from refloop.history.layout import (
    COLUMN_NAMES,
    COLUMNS,
    EVENT_LOG_COLUMNS,
    EVENT_LOG_EXAMPLE_ROWS,
    EVENT_LOG_NAMES,
    RESCHEDULED,
    STATE_COLUMNS,
    event_log_example_row,
    example_row,
)
from refloop.practice.models import Organization
from refloop.referrals.lifecycle import LOST
from refloop.referrals.models import (
    Appointment,
    ContactAttempt,
    Direction,
    Referral,
    ReferralEvent,
    State,
)

CHUNK = 2000
TEXT_COLUMNS = frozenset(
    {
        "patient_last_name",
        "patient_first_name",
        "source_other",
        "referring_practice",
        "referring_provider_name",
        "appointment_location",
    }
)
COLUMN_OF_STATE = {c.state: c.name for c in STATE_COLUMNS if c.state != RESCHEDULED}
REFERRAL_VALUES = (
    "pk",
    "number",
    "patient__last_name",
    "patient__first_name",
    "patient__date_of_birth",
    "source_type",
    "source_other",
    "referring_practice__name",
    "referring_provider__npi",
    "referring_provider__last_name",
    "referring_provider__first_name",
    "channel",
    "department__code",
    "urgency",
    "assignee__username",
    "received_at",
    "first_contact_at",
    "end_reason",
)


def export_history(out: BinaryIO, fmt: str, *, acting_user=None, event_log: bool = False) -> int:
    """Write every inbound referral to `out` as 'csv' or 'xlsx'; returns the referral count.
    `event_log`: the full history in the event-log layout, else one row per referral.

    `acting_user` None is the command line (run by whoever runs the server); a user
    must be allowed to manage settings (admins).
    """
    if acting_user is not None:
        require(acting_user, Capability.MANAGE_SETTINGS)
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"format must be csv or xlsx, not {fmt!r}")
    inbound = Referral.objects.filter(direction=Direction.INBOUND)
    audit.record(
        "history.exported",
        audit.Touch("history_export", fmt),
        actor=acting_user,
        detail={
            "format": fmt,
            "rows": inbound.count(),
            **({"event_log": True} if event_log else {}),
        },
    )
    zone = Organization.current().zone
    names = EVENT_LOG_NAMES if event_log else COLUMN_NAMES
    sheet = _XlsxSheet(out, names) if fmt == "xlsx" else _CsvSheet(out, names)
    sheet.header(names)
    count = 0
    if event_log:
        for rows in event_log_rows():
            for row in rows:
                sheet.row(row)
            count += 1
    else:
        for row in history_rows(zone):
            sheet.row(row)
            count += 1
    sheet.close()
    return count


def history_rows(zone) -> Iterator[dict]:
    """Each inbound referral as a dict by column name (times aware, in UTC), by id."""
    last_pk = 0
    inbound = Referral.objects.filter(direction=Direction.INBOUND).order_by("pk")
    while True:
        referrals = list(inbound.filter(pk__gt=last_pk).values(*REFERRAL_VALUES)[:CHUNK])
        if not referrals:
            return
        ids = [r["pk"] for r in referrals]
        states = _state_times(ids)
        appointments = _latest_appointments(ids)
        for referral in referrals:
            yield _row(referral, states[referral["pk"]], appointments.get(referral["pk"]))
        last_pk = ids[-1]


def event_log_rows() -> Iterator[list[dict]]:
    """Each inbound referral's event-log rows, by id: its received row with its details,
    every later state change by time, every contact attempt, then every appointment by
    booking time."""
    last_pk = 0
    inbound = Referral.objects.filter(direction=Direction.INBOUND).order_by("pk")
    while True:
        referrals = list(inbound.filter(pk__gt=last_pk).values(*REFERRAL_VALUES)[:CHUNK])
        if not referrals:
            return
        ids = [r["pk"] for r in referrals]
        moves: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
        for referral_id, to_state, at in (
            ReferralEvent.objects.filter(referral_id__in=ids)
            .exclude(to_state="")
            .exclude(to_state=State.RECEIVED)
            .order_by("at", "pk")
            .values_list("referral_id", "to_state", "at")
        ):
            moves[referral_id].append((to_state, at))
        booked: dict[int, list[tuple]] = defaultdict(list)
        for referral_id, *appointment in (
            Appointment.objects.filter(referral_id__in=ids)
            .order_by("created_at", "pk")
            .values_list(
                "referral_id",
                "created_at",
                "starts_at",
                "outcome",
                "visit_value",
                "department__code",
                "location__name",
            )
        ):
            booked[referral_id].append(tuple(appointment))
        contacts: dict[int, list[tuple]] = defaultdict(list)
        for referral_id, *attempt in (
            ContactAttempt.objects.filter(referral_id__in=ids)
            .order_by("at", "pk")
            .values_list("referral_id", "at", "channel", "outcome")
        ):
            contacts[referral_id].append(tuple(attempt))
        for referral in referrals:
            pk = referral["pk"]
            yield _event_log(referral, moves[pk], booked[pk], contacts[pk])
        last_pk = ids[-1]


def _event_log(
    referral: dict, moves: list[tuple[str, datetime]], booked: list[tuple], contacts: list[tuple]
) -> list:
    key = {"referral_key": referral["number"]}
    details = _row(referral, {}, None)
    received = (
        {name: details.get(name) for name in EVENT_LOG_NAMES if name in details}
        | key
        | {"to_state": State.RECEIVED, "at": referral["received_at"]}
    )
    rows = [received]
    for to_state, at in moves:
        # Only a final state has a reason, and a referral ends once: the referral's.
        reason = referral["end_reason"] if to_state in LOST else ""
        rows.append({**key, "to_state": to_state, "at": at, "reason": reason})
    for at, channel, outcome in contacts:
        rows.append(
            {**key, "contacted_at": at, "contact_channel": channel, "contact_outcome": outcome}
        )
    for booked_at, starts_at, outcome, value, department, location in booked:
        rows.append(
            {
                **key,
                "booked_at": booked_at,
                "appointment_at": starts_at,
                "appointment_outcome": outcome,
                "visit_value": value,
                "appointment_department": department
                if department != referral["department__code"]
                else "",
                "appointment_location": location or "",
            }
        )
    return rows


def _state_times(ids: list[int]) -> dict[int, dict[str, datetime]]:
    """When each state was first reached, from the timeline's transitions; a booking
    after the first no-show is `rescheduled_at`."""
    times: dict[int, dict[str, datetime]] = defaultdict(dict)
    moves = (
        ReferralEvent.objects.filter(referral_id__in=ids)
        .exclude(to_state="")
        .exclude(to_state=State.RECEIVED)
        .order_by("at", "pk")
        .values_list("referral_id", "to_state", "at")
    )
    for referral_id, to_state, at in moves:
        reached = times[referral_id]
        if to_state == State.SCHEDULED and "no_show_at" in reached:
            reached.setdefault("rescheduled_at", at)
        column = COLUMN_OF_STATE.get(to_state)
        if column is not None:
            reached.setdefault(column, at)
    return times


def _latest_appointments(ids: list[int]) -> dict[int, tuple]:
    """Each referral's last booked appointment: (starts_at, outcome, visit_value)."""
    latest = {}
    rows = (
        Appointment.objects.filter(referral_id__in=ids)
        .order_by("created_at", "pk")
        .values_list("referral_id", "starts_at", "outcome", "visit_value")
    )
    for referral_id, *appointment in rows:
        latest[referral_id] = tuple(appointment)
    return latest


def _row(referral: dict, reached: dict[str, datetime], appointment: tuple | None) -> dict:
    provider = ""
    if referral["referring_provider__npi"]:
        provider = f"{referral['referring_provider__last_name']}, {referral['referring_provider__first_name']}"
    row = {
        "referral_number": referral["number"],
        "patient_last_name": referral["patient__last_name"],
        "patient_first_name": referral["patient__first_name"],
        "patient_date_of_birth": referral["patient__date_of_birth"],
        "source_type": referral["source_type"],
        "source_other": referral["source_other"],
        "referring_practice": referral["referring_practice__name"] or "",
        "referring_provider_npi": referral["referring_provider__npi"] or "",
        "referring_provider_name": provider,
        "channel": referral["channel"],
        "department": referral["department__code"] or "",
        "urgency": referral["urgency"],
        "coordinator": referral["assignee__username"] or "",
        "received_at": referral["received_at"],
        "first_contact_at": referral["first_contact_at"],
        "end_reason": referral["end_reason"],
        **reached,
    }
    if appointment is not None:
        starts_at, outcome, value = appointment
        row.update(appointment_at=starts_at, appointment_outcome=outcome, visit_value=value)
    return row


def local_text(at: datetime, zone) -> str:
    """A time as the layout writes it: local, seconds only when not zero. In the hour a
    clock is set back, which repeats, the offset says which of the two is meant."""
    local = at.astimezone(zone)
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        shown = local.isoformat(sep=" ", timespec="seconds")
    return shown


class _CsvSheet:
    """UTF-8 with a byte order mark, so Excel shows accented names correctly."""

    def __init__(self, out: BinaryIO, names: tuple[str, ...]):
        self.names = names
        self.text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        self.writer = csv.writer(self.text)
        self.zone = Organization.current().zone

    def header(self, names) -> None:
        self.writer.writerow(names)

    def row(self, row: dict) -> None:
        self.writer.writerow([self._cell(name, row.get(name)) for name in self.names])

    def _cell(self, name: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return local_text(value, self.zone)
        if name in TEXT_COLUMNS and value[:1] in FORMULA_START:
            return "'" + value  # a spreadsheet would run it as a formula; the import drops it
        return str(value)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()  # leave `out` open for the caller


class _XlsxSheet:
    """Times as real date cells (sortable in Excel); constant memory: rows are flushed to
    disk as they are written."""

    def __init__(self, out: BinaryIO, names: tuple[str, ...]):
        self.names = names
        self.book = xlsxwriter.Workbook(
            out,
            {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False},
        )
        self.sheet = self.book.add_worksheet("History")
        self.minutes = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.seconds = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.day = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.amount = self.book.add_format({"num_format": "0.00"})
        self.zone = Organization.current().zone
        self.line = 0

    def header(self, names) -> None:
        self.sheet.write_row(0, 0, names)
        self.sheet.freeze_panes(1, 0)

    def row(self, row: dict) -> None:
        self.line += 1
        for position, name in enumerate(self.names):
            self._cell(position, name, row.get(name))

    def _cell(self, position: int, name: str, value) -> None:
        line, sheet = self.line, self.sheet
        if value is None or value == "":
            return
        if isinstance(value, datetime):
            local = value.astimezone(self.zone)
            if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
                # A cell holds no offset; in a repeated hour the text says which is meant.
                sheet.write_string(line, position, local_text(value, self.zone))
                return
            naive = local.replace(tzinfo=None, microsecond=0)
            fmt = self.seconds if naive.second else self.minutes
            sheet.write_datetime(line, position, naive, fmt)
        elif name == "patient_date_of_birth":
            sheet.write_datetime(line, position, value, self.day)
        elif name == "visit_value":
            sheet.write_number(line, position, float(value), self.amount)
        else:
            sheet.write_string(line, position, str(value))

    def close(self) -> None:
        self.book.close()


def write_template(out: BinaryIO, fmt: str, *, event_log: bool = False) -> None:
    """The empty layout to fill in: the header and the example rows (two referrals); the
    workbook also carries a sheet describing each column. `event_log`: the event-log
    layout, else the one-row layout."""
    if event_log:
        columns = EVENT_LOG_COLUMNS
        lines = [list(EVENT_LOG_NAMES)]
        lines += [event_log_example_row(i) for i in range(len(EVENT_LOG_EXAMPLE_ROWS))]
    else:
        columns = COLUMNS
        lines = [list(COLUMN_NAMES), example_row(0), example_row(1)]
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        csv.writer(text).writerows(lines)
        text.flush()
        text.detach()
        return
    book = xlsxwriter.Workbook(out, {"strings_to_numbers": False, "strings_to_formulas": False})
    sheet = book.add_worksheet("Event log" if event_log else "History")
    for number, line in enumerate(lines):
        sheet.write_row(number, 0, line)
    sheet.freeze_panes(1, 0)
    guide = book.add_worksheet("Columns")
    guide.write_row(0, 0, ["column", "required", "meaning", "example"])
    for number, column in enumerate(columns, start=1):
        guide.write_row(number, 0, [column.name, column.required, column.meaning, column.example])
    guide.set_column(0, 1, 28)
    guide.set_column(2, 2, 90)
    book.close()
