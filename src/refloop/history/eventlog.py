"""Checking an event-log history file: one row per state change, one per appointment.

The rows of a referral share its referral_key. Its received row carries the referral's
details (patient, source, department …), checked as the one-row layout checks them; its
state rows, sorted by time, must each be a move the inbound lifecycle allows from the
state before, which is where the change came from. Nothing is guessed: a referral that
went back to review, missed two visits or was booked three times keeps all of it.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from refloop.history import cells, mapping
from refloop.history.layout import EVENT_LOG_NAMES, EVENT_LOG_REQUIRED, state_words
from refloop.history.mapping import Mappings
from refloop.history.reading import Sheet
from refloop.history.validation import (
    LOST_COLUMNS,
    PROGRESS_EVERY,
    Booked,
    Checked,
    Progress,
    Row,
    RowChecker,
    RowError,
    check_header,
    check_numbers,
    check_providers,
)
from refloop.practice.models import Location
from refloop.referrals.lifecycle import INBOUND
from refloop.referrals.models import (
    AppointmentOutcome,
    ContactChannel,
    ContactOutcome,
    State,
)

LOST_STATES = frozenset(LOST_COLUMNS.values())
CONTACT_CHANNELS = tuple(ContactChannel.values)
CONTACT_OUTCOMES = tuple(ContactOutcome.values)


@dataclass
class _Referral:
    """One referral_key's rows, as (line, cells by column name), in file order."""

    key: str
    received: list[tuple[int, dict]] = field(default_factory=list)
    states: list[tuple[int, dict]] = field(default_factory=list)
    appointments: list[tuple[int, dict]] = field(default_factory=list)
    contacts: list[tuple[int, dict]] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)  # lines that are none of these

    def lines(self) -> set[int]:
        rows = (*self.received, *self.states, *self.appointments, *self.contacts)
        return {line for line, _ in rows} | set(self.unreadable)


def check_event_log(
    sheet: Sheet,
    file_name: str,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    mappings: Mappings | None = None,
) -> Checked:
    checked = Checked(file_name, len(sheet.rows))
    names, header_errors = check_header(sheet, EVENT_LOG_NAMES, EVENT_LOG_REQUIRED)
    if header_errors:
        checked.errors = header_errors
        checked.file_problem = True
        return checked
    referrals, errors = _grouped(sheet, names)
    known = {**mapping.remembered(), **(mappings or {})}
    checker = EventLogChecker(names, now=now or timezone.now(), mappings=known)
    rows: list[Row] = []
    total, done, shown = len(sheet.rows), 0, 0
    for referral in referrals.values():
        row, problems = checker.check_referral(referral)
        errors.extend(problems)
        if row is not None and not problems:
            rows.append(row)
        done += len(checker.lines[referral.key])
        if progress is not None and done - shown >= PROGRESS_EVERY:
            progress(done, total)
            shown = done
    if progress is not None:
        progress(total, total)
    errors.extend(check_numbers(checker.numbers))
    errors.extend(check_providers(rows))
    # A referral is good only when none of its rows has a problem.
    bad_lines = {e.line for e in errors}
    bad_keys = {key for key, lines in checker.lines.items() if lines & bad_lines}
    checked.rows = [row for row in rows if checker.key_of[row.line] not in bad_keys]
    checked.errors = sorted(errors, key=lambda e: e.line or 0)
    checked.unknown_values = checker.unknown_values()
    return checked


def _grouped(sheet: Sheet, names: list[str | None]) -> tuple[dict[str, _Referral], list]:
    """The rows by referral_key (in order of first appearance), and the problems of rows
    that are no one kind of row (their referral is then refused with them)."""
    referrals: dict[str, _Referral] = {}
    errors: list[RowError] = []
    for line, values in sheet.rows:
        cell = {name: value for name, value in zip(names, values, strict=False) if name}
        key = cells.text(cell.get("referral_key"))
        if not key:
            errors.append(
                RowError(line, "referral_key is empty; every row names the referral it is of.")
            )
            continue
        referral = referrals.get(key)
        if referral is None:
            referral = referrals[key] = _Referral(key)
        to_state = cells.text(cell.get("to_state")).lower()
        is_appointment = bool(
            cells.text(cell.get("booked_at")) or cells.text(cell.get("appointment_at"))
        )
        is_contact = bool(cells.text(cell.get("contacted_at")))
        kinds = bool(to_state) + is_appointment + is_contact
        if kinds != 1:
            referral.unreadable.append(line)
        if kinds > 1:
            errors.append(
                RowError(
                    line,
                    "The row is more than one thing (to_state, booked_at/appointment_at, "
                    "contacted_at); a row is a state change, an appointment or a contact, "
                    "so split it.",
                )
            )
        elif is_contact:
            referral.contacts.append((line, cell))
        elif to_state == State.RECEIVED:
            referral.received.append((line, cell))
        elif to_state:
            referral.states.append((line, cell))
        elif is_appointment:
            referral.appointments.append((line, cell))
        else:
            errors.append(
                RowError(
                    line,
                    "The row is none of a state change (fill in to_state and at), an "
                    "appointment (booked_at and appointment_at) or a contact (contacted_at "
                    "and contact_outcome).",
                )
            )
    return referrals, errors


class EventLogChecker(RowChecker):
    """The one-row checks for a referral's details, and the event log's for its history."""

    def __init__(self, names, *, now: datetime, mappings: Mappings | None = None):
        super().__init__(names, now=now, mappings=mappings)
        self.lines: dict[str, set[int]] = {}  # referral_key -> its lines
        self.key_of: dict[int, str] = {}  # a received row's line -> its referral_key
        self.locations: dict[str, int] | None = None  # read once a row names one

    def check_referral(self, referral: _Referral) -> tuple[Row | None, list[RowError]]:
        self.originals = {}
        lines = self.lines[referral.key] = referral.lines()
        first_line = min(lines)
        if len(referral.received) != 1:
            where = ", ".join(str(line) for line, _ in referral.received)
            message = (
                f"referral_key {referral.key} has no received row; add one (to_state "
                "received, with the referral's details)."
                if not referral.received
                else f"referral_key {referral.key} has {len(referral.received)} received rows "
                f"(lines {where}); a referral arrives once, so keep one."
            )
            return None, [RowError(first_line, message)]
        line, cell = referral.received[0]
        self.key_of[line] = referral.key
        problems: list[str] = []
        details = self._details(line, cell, problems)
        received_at = self._time(cell, "at", problems, required=True)
        contact = self._time(cell, "first_contact_at", problems)
        errors = [RowError(line, message) for message in problems]
        if received_at is None:
            return None, errors
        steps, end_reason = self._moves(referral, received_at, errors)
        appointments = self._appointments(referral, received_at, errors)
        contacts = self._contacts(referral, received_at, steps, errors)
        if contact is None and contacts:
            contact = contacts[0][0]
        if contact is not None and contact < received_at:
            errors.append(
                RowError(line, "first_contact_at is before the referral arrived; check it.")
            )
        elif contact is not None and steps and steps[-1][0] in LOST_STATES:
            if contact > steps[-1][2]:
                errors.append(
                    RowError(
                        line,
                        f"first_contact_at ({self.show(contact)}) is after the referral "
                        f"was {state_words(steps[-1][0])}; contact attempts happen while it "
                        "is open.",
                    )
                )
        if errors or details is None:
            return None, errors
        latest = appointments[-1] if appointments else None
        return Row(
            **details,
            received_at=received_at,
            steps=steps,
            first_contact_at=contact,
            appointment_at=latest[0] if latest else None,
            appointment_outcome=latest[1] if latest else "",
            end_reason=end_reason,
            visit_value=latest[2] if latest else None,
            appointments=appointments,
            contacts=contacts,
            originals=self.originals,
        ), []

    def _time(
        self, cell: dict, column: str, problems: list[str], *, required: bool = False
    ) -> datetime | None:
        try:
            at = cells.local_time(cell.get(column), self.zone)
        except cells.CellProblem as problem:
            problems.append(f"{column} {problem.message}.")
            return None
        if at is None:
            if required:
                problems.append(f"{column} is empty; say when the state was reached.")
        elif at > self.now and column != "appointment_at":
            problems.append(
                f"{column} ({self.show(at)}) is in the future; history records only what "
                "already happened."
            )
            return None
        return at

    def _moves(
        self, referral: _Referral, received_at: datetime, errors: list[RowError]
    ) -> tuple[list, str]:
        """The state changes after `received` in time order (file order on a tie), each
        from the state before it; and the reason it ended, if it was lost."""
        timed = []
        for order, (line, cell) in enumerate(referral.states):
            problems: list[str] = []
            state = cells.text(cell.get("to_state")).lower()
            at = self._time(cell, "at", problems, required=True)
            if state not in INBOUND:
                problems.append(
                    f"to_state '{state}' is not a state of an inbound referral; use one of "
                    f"{', '.join(INBOUND)}."
                )
            elif at is not None and at < received_at:
                problems.append(
                    f"at ({self.show(at)}) is before the referral arrived "
                    f"({self.show(received_at)}); nothing happens to it before."
                )
            errors.extend(RowError(line, message) for message in problems)
            if not problems and at is not None:
                timed.append((at, order, line, state, cell))
        timed.sort(key=lambda item: (item[0], item[1]))
        steps = []
        end_reason = ""
        previous: str = State.RECEIVED
        previous_line = referral.received[0][0]
        for at, _, line, state, cell in timed:
            problems = []
            if state not in INBOUND[previous]:
                allowed = ", ".join(INBOUND[previous]) or "nothing: it is final"
                problems.append(
                    f"to_state {state} at {self.show(at)} follows {state_words(previous)} "
                    f"(line {previous_line}), but a referral cannot go from "
                    f"{state_words(previous)} to {state_words(state)} (from "
                    f"{state_words(previous)} it goes to {allowed}); correct the times or "
                    "add the missing state."
                )
            written = cells.text(cell.get("reason"))
            if state in LOST_STATES:
                end_reason = self.reason(written, state, "on this row", problems)
            elif written:
                problems.append(
                    f"reason ({written}) is only for a declined, unreachable or cancelled "
                    "row; clear it."
                )
            errors.extend(RowError(line, message) for message in problems)
            steps.append((state, f"{state}_at", at, previous))
            previous, previous_line = state, line
        return steps, end_reason

    def _contacts(
        self, referral: _Referral, received_at: datetime, steps: list, errors: list[RowError]
    ) -> list[tuple[datetime, str, str]]:
        """Each attempt to reach the patient (at, channel, outcome), by time: made while
        the referral was open."""
        ended = steps[-1] if steps and not INBOUND[steps[-1][0]] else None
        found = []
        for order, (line, cell) in enumerate(referral.contacts):
            problems: list[str] = []
            at = self._time(cell, "contacted_at", problems, required=True)
            channel = cells.text(cell.get("contact_channel")).lower() or ContactChannel.PHONE
            outcome = cells.text(cell.get("contact_outcome")).lower()
            if channel not in CONTACT_CHANNELS:
                problems.append(
                    f"contact_channel '{channel}' is not a channel; use one of "
                    f"{', '.join(CONTACT_CHANNELS)}, or leave it blank for phone."
                )
            if outcome not in CONTACT_OUTCOMES:
                what = f"'{outcome}' is not an outcome" if outcome else "is empty"
                problems.append(
                    f"contact_outcome {what}; use one of {', '.join(CONTACT_OUTCOMES)}."
                )
            if at is not None and at < received_at:
                problems.append(
                    f"contacted_at ({self.show(at)}) is before the referral arrived; check it."
                )
            elif at is not None and ended is not None and at > ended[2]:
                problems.append(
                    f"contacted_at ({self.show(at)}) is after the referral was "
                    f"{state_words(ended[0])} ({self.show(ended[2])}); contact attempts "
                    "happen while it is open."
                )
            errors.extend(RowError(line, message) for message in problems)
            if not problems and at is not None:
                found.append((at, order, (at, channel, outcome)))
        found.sort(key=lambda item: (item[0], item[1]))
        return [contact for _, _, contact in found]

    def _appointments(
        self, referral: _Referral, received_at: datetime, errors: list[RowError]
    ) -> list[Booked]:
        """Each appointment, by booking time."""
        booked = []
        for order, (line, cell) in enumerate(referral.appointments):
            problems: list[str] = []
            booked_at = self._time(cell, "booked_at", problems, required=True)
            starts_at = self._time(cell, "appointment_at", problems, required=True)
            outcome, value = self._outcome_and_value(cell, problems)
            if value is not None and outcome != AppointmentOutcome.ATTENDED:
                problems.append(
                    "visit_value is for an attended visit; make appointment_outcome attended "
                    "or clear visit_value."
                )
            if booked_at is not None and booked_at < received_at:
                problems.append(
                    f"booked_at ({self.show(booked_at)}) is before the referral arrived; check it."
                )
            department_id = None
            written = cells.text(cell.get("appointment_department"))
            if written:
                department_id = self.departments.get(written.lower())
                if department_id is None:
                    problems.append(
                        f"appointment_department '{written}' is not a department here; use a "
                        f"code or name of one ({', '.join(self.department_list)}), or leave it "
                        "blank for the referral's."
                    )
            location_id = self._location(cell, problems)
            errors.extend(RowError(line, message) for message in problems)
            if not problems and booked_at is not None and starts_at is not None:
                appointment = Booked(
                    starts_at, outcome, value, booked_at, department_id, location_id
                )
                booked.append((booked_at, order, appointment))
        booked.sort(key=lambda item: (item[0], item[1]))
        return [appointment for _, _, appointment in booked]

    def _location(self, cell: dict, problems: list[str]) -> int | None:
        written = cells.text(cell.get("appointment_location"))
        if not written:
            return None
        if self.locations is None:
            self.locations = {
                name.casefold(): pk for pk, name in Location.objects.values_list("pk", "name")
            }
        pk = self.locations.get(written.casefold())
        if pk is None:
            known = ", ".join(sorted(Location.objects.values_list("name", flat=True)))
            problems.append(
                f"appointment_location '{written}' is not a location here; use the name of "
                f"one ({known or 'none is set up yet'}), or leave it blank."
            )
        return pk
