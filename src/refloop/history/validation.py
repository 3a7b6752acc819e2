"""Checking a whole history file before anything is written.

Every bad row is reported with its line (the spreadsheet's: the header is line 1) and a
sentence saying what to fix. Messages name columns and quote what was written, except a
patient's name and date of birth, which never appear in a message.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone

from refloop.core.models import User
from refloop.core.roles import ASSIGNABLE_ROLES
from refloop.history import cells, mapping, ordering
from refloop.history.bulk import collector_paused
from refloop.history.layout import (
    COLUMN_NAMES,
    END_REASONS,
    EVENT_LOG_MARK,
    REQUIRED_COLUMNS,
    TIME_COLUMNS,
    state_words,
)
from refloop.history.mapping import REASON_KIND, Mappings, UnknownValue
from refloop.history.models import MappedKind, original_key
from refloop.history.reading import Sheet, UnreadableFile, read_sheet
from refloop.network.models import Provider
from refloop.network.npi import check_digit
from refloop.practice.models import Department, Organization
from refloop.referrals.models import (
    AppointmentOutcome,
    Referral,
    ReferralChannel,
    SourceType,
    State,
    Urgency,
)

Progress = Callable[[int, int], None]
# The allowed values, read once: a TextChoices' .values is rebuilt on every access.
SOURCE_TYPES = tuple(SourceType.values)
CHANNELS = tuple(ReferralChannel.values)
URGENCIES = tuple(Urgency.values)
OUTCOMES = tuple(AppointmentOutcome.values)
LOOKUP_CHUNK = 500
PROGRESS_EVERY = 1000
LOST_COLUMNS = {
    "declined_at": State.DECLINED,
    "unreachable_at": State.UNREACHABLE,
    "cancelled_at": State.CANCELLED,
}


@dataclass(frozen=True)
class RowError:
    line: int | None  # None: the file as a whole
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message}


class Booked(NamedTuple):
    """One appointment of an event log."""

    starts_at: datetime
    outcome: str
    visit_value: Decimal | None
    booked_at: datetime
    department_id: int | None  # None: the referral's department
    location_id: int | None


@dataclass(slots=True)
class Row:
    """One good row, parsed: what the import writes. Times are aware, in UTC."""

    line: int
    number: str  # blank: the import gives one
    last_name: str
    first_name: str
    date_of_birth: date
    source_type: str
    source_other: str
    practice_name: str
    npi: str
    provider_name: tuple[str, str] | None  # (last, first)
    channel: str
    department_id: int
    urgency: str
    assignee_id: int | None
    received_at: datetime
    # The states after `received`, in time order: (state, column, at, from state).
    steps: list[tuple[str, str, datetime, str]]
    first_contact_at: datetime | None
    appointment_at: datetime | None
    appointment_outcome: str
    end_reason: str
    visit_value: Decimal | None
    # The event log's appointments in booking order; None for a one-row layout row, whose
    # appointment columns say it.
    appointments: list[Booked] | None = None
    # The event log's contact attempts, each (at, channel, outcome) by time; empty or None:
    # one phone attempt at first_contact_at, if any.
    contacts: list[tuple[datetime, str, str]] | None = None
    # Set from the directory when the NPI is already in it.
    provider_id: int | None = None
    provider_practice_id: int | None = None
    # The practice's own wording of each value a mapping translated, by column.
    originals: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.steps[-1][0] if self.steps else State.RECEIVED

    def reached(self) -> dict[str, datetime]:
        """The first time of each state column filled in, received_at included."""
        # Reversed, so that a state an event log reached twice keeps its first time.
        times = {column: at for _, column, at, _ in reversed(self.steps)}
        times["received_at"] = self.received_at
        return times


@dataclass
class Checked:
    """A checked file: its good rows, and every problem found."""

    file_name: str
    total_rows: int
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # The header or the file itself is wrong: no row can be imported, not even good ones.
    file_problem: bool = False
    # Values no mapping covers, each with the number of rows using it: map them and check
    # the file again.
    unknown_values: list[UnknownValue] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({e.line for e in self.errors if e.line is not None and e.line > 1})


@collector_paused()
def check_file(
    content: bytes,
    file_name: str,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    mappings: Mappings | None = None,
) -> Checked:
    """Read and check a history file (CSV or XLSX) as a whole. Values in the practice's
    own words are translated by `mappings` and by the mappings remembered so far."""
    try:
        sheet = read_sheet(content, file_name)
    except UnreadableFile as problem:
        return Checked(file_name, 0, errors=[RowError(None, problem.message)], file_problem=True)
    return check_sheet(sheet, file_name, now=now, progress=progress, mappings=mappings)


def check_sheet(
    sheet: Sheet,
    file_name: str,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    mappings: Mappings | None = None,
) -> Checked:
    if EVENT_LOG_MARK in (name.strip().lower() for name in sheet.header):
        # The event log reuses this module's row checks, so it imports this module.
        from refloop.history.eventlog import check_event_log

        return check_event_log(sheet, file_name, now=now, progress=progress, mappings=mappings)
    checked = Checked(file_name, len(sheet.rows))
    names, header_errors = check_header(sheet)
    if header_errors:
        checked.errors = header_errors
        checked.file_problem = True
        return checked
    known = {**mapping.remembered(), **(mappings or {})}
    checker = RowChecker(names, now=now or timezone.now(), mappings=known)
    rows: list[Row] = []
    errors: list[RowError] = []
    total = len(sheet.rows)
    for done, (line, values) in enumerate(sheet.rows, start=1):
        row, problems = checker.check(line, values)
        if problems:
            errors.extend(problems)
        elif row is not None:
            rows.append(row)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    errors.extend(check_numbers(checker.numbers))
    errors.extend(check_providers(rows))
    bad = {e.line for e in errors}
    checked.rows = [row for row in rows if row.line not in bad]
    checked.errors = sorted(errors, key=lambda e: e.line)
    checked.unknown_values = checker.unknown_values()
    return checked


# ---- the header -------------------------------------------------------------


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, as spreadsheets name columns."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def check_header(
    sheet: Sheet,
    known: tuple[str, ...] = COLUMN_NAMES,
    required: tuple[str, ...] = REQUIRED_COLUMNS,
) -> tuple[list[str | None], list[RowError]]:
    """The column name for each position (None for an unnamed, empty column), and the
    header's problems: unknown, repeated, unnamed or missing columns, against the layout
    of `known` columns."""
    names: list[str | None] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    width = max((len(values) for _, values in sheet.rows), default=0)
    header = sheet.header + [""] * (width - len(sheet.header))
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        letter = column_letter(index)
        if not name:
            if any(index < len(values) and cells.text(values[index]) for _, values in sheet.rows):
                errors.append(
                    RowError(
                        1,
                        f"Column {letter} has values but no name on line 1; give it one of "
                        "the layout's names, or delete the column.",
                    )
                )
            names.append(None)
            continue
        if name not in known:
            errors.append(
                RowError(
                    1,
                    f"Column {letter} is named '{raw.strip()}', which is not in the layout; "
                    f"rename or delete it. The columns are: {', '.join(known)}.",
                )
            )
        elif name in seen:
            errors.append(
                RowError(
                    1,
                    f"The column {name} appears twice (columns {column_letter(seen[name])} "
                    f"and {letter}); keep one.",
                )
            )
        seen.setdefault(name, index)
        names.append(name)
    missing = [name for name in required if name not in seen]
    if missing:
        errors.append(
            RowError(
                1,
                f"The header has no {_and(missing)} column{'s' if len(missing) > 1 else ''}; "
                f"add {'them' if len(missing) > 1 else 'it'} (required columns: "
                f"{', '.join(required)}).",
            )
        )
    return names, errors


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# ---- one row ------------------------------------------------------------------


class RowChecker:
    """Checks rows one at a time against the directory and the practice's set-up, read once."""

    def __init__(self, names: list[str | None], *, now: datetime, mappings: Mappings | None = None):
        self.names = names
        self.mappings = mappings or {}
        # (kind, key) -> [the wording first seen, rows using it]
        self.unknown: dict[tuple[str, str], list] = {}
        self.now = now
        self.zone = Organization.current().zone
        self.today = timezone.localdate(now, self.zone)
        self.departments: dict[str, int] = {}
        self.department_list = []
        for pk, code, name in Department.objects.order_by("name").values_list("pk", "code", "name"):
            self.departments[code.lower()] = pk
            self.departments.setdefault(name.lower(), pk)
            self.department_list.append(code)
        users = User.objects.filter(is_active=True, role__in=ASSIGNABLE_ROLES)
        self.users = dict(users.values_list("username", "pk"))
        self.users_folded = {name.lower(): pk for name, pk in self.users.items()}
        self.numbers: list[tuple[int, str]] = []  # (line, number) of every row that has one
        self.npi_checked: dict[str, bool] = {}
        self.originals: dict[str, str] = {}  # the row being checked's mapped wordings

    def unknown_values(self) -> list[UnknownValue]:
        """Every value no mapping covers, most used first."""
        found = [
            UnknownValue(kind, original, count)
            for (kind, _), (original, count) in self.unknown.items()
        ]
        return sorted(found, key=lambda u: (KIND_ORDER[u.kind], -u.count, u.original.casefold()))

    def _mapped(self, kind: str, written: str) -> str | None:
        """refloop's value for the practice's own wording, or None (and it is counted as
        unknown, to be mapped)."""
        key = (kind, original_key(written))
        value = self.mappings.get(key)
        if value is None:
            seen = self.unknown.setdefault(key, [written, 0])
            seen[1] += 1
        return value

    def check(self, line: int, values: list) -> tuple[Row | None, list[RowError]]:
        cell = {name: value for name, value in zip(self.names, values, strict=False) if name}
        problems: list[str] = []
        self.originals = {}
        details = self._details(line, cell, problems)
        times = self._times(cell, problems)
        steps = self._steps(times, problems) if times is not None else []
        end_reason = self._end_reason(cell, times, problems)
        outcome, value = self._appointment(cell, times, problems)
        # Each of these is None only where a problem says why.
        if problems or details is None or times is None:
            return None, [RowError(line, message) for message in problems]
        return Row(
            **details,
            received_at=times["received_at"],
            steps=steps,
            first_contact_at=times.get("first_contact_at"),
            appointment_at=times.get("appointment_at"),
            appointment_outcome=outcome,
            end_reason=end_reason,
            visit_value=value,
            originals=self.originals,
        ), []

    def _details(self, line: int, cell: dict, problems: list[str]) -> dict | None:
        """The referral's own cells (number, patient, source, referrer, channel, urgency,
        department, coordinator), as Row's fields; None where a problem says why."""
        number = cells.text(cell.get("referral_number"))
        if len(number) > 12:
            problems.append(
                f"referral_number ({number}) is longer than 12 characters; shorten it or "
                "leave it blank for a new number."
            )
        elif number:
            self.numbers.append((line, number))
        last_name, first_name, birth = self._patient(cell, problems)
        source_type, source_other = self._source(cell, problems)
        channel = self._choice(cell, "channel", CHANNELS, ReferralChannel.IMPORT, problems)
        practice, npi, provider_name = self._referrer(cell, source_type, channel, problems)
        urgency = self._choice(cell, "urgency", URGENCIES, Urgency.ROUTINE, problems)
        department_id = self._department(cell, problems)
        assignee_id = self._coordinator(cell, problems)
        if problems or birth is None or department_id is None:
            return None
        return {
            "line": line,
            "number": number,
            "last_name": last_name,
            "first_name": first_name,
            "date_of_birth": birth,
            "source_type": source_type,
            "source_other": source_other,
            "practice_name": practice,
            "npi": npi,
            "provider_name": provider_name,
            "channel": channel,
            "department_id": department_id,
            "urgency": urgency,
            "assignee_id": assignee_id,
        }

    # -- who --

    def _patient(self, cell: dict, problems: list[str]) -> tuple[str, str, date | None]:
        names = []
        for column, what in (("patient_last_name", "last"), ("patient_first_name", "first")):
            value = cells.text(cell.get(column))
            if not value:
                problems.append(f"{column} is empty; every row needs the patient's {what} name.")
            elif len(value) > 80:
                problems.append(f"{column} is longer than 80 characters; shorten it.")
            names.append(value)
        birth = None
        try:
            birth = cells.calendar_date(cell.get("patient_date_of_birth"))
        except cells.CellProblem as problem:
            problems.append(f"patient_date_of_birth {problem.message}.")
            return names[0], names[1], None
        if birth is None:
            problems.append(
                "patient_date_of_birth is empty; every row needs the patient's date of birth."
            )
        elif birth > self.today:
            problems.append("patient_date_of_birth is in the future; check the year.")
        elif birth.year < 1900:
            problems.append("patient_date_of_birth is before 1900; check the year.")
        return names[0], names[1], birth

    def _source(self, cell: dict, problems: list[str]) -> tuple[str, str]:
        written = cells.text(cell.get("source_type"))
        source_type = written.lower()
        other = cells.text(cell.get("source_other"))
        if source_type and source_type not in SOURCE_TYPES:
            source_type = self._translated("source_type", MappedKind.SOURCE_TYPE, written)
            if source_type == SourceType.OTHER and not other:
                other = written  # 'Health fair' mapped to other says what the other was
        if not written:
            problems.append(
                f"source_type is empty; say who sent the patient: {', '.join(SOURCE_TYPES)}."
            )
        elif not source_type:
            problems.append(
                f"source_type '{written}' is not a source type; use one of "
                f"{', '.join(SOURCE_TYPES)}, or map it."
            )
        elif source_type == SourceType.OTHER and not other:
            problems.append("source_other is empty; say what the 'other' source was.")
        if len(other) > 200:
            problems.append("source_other is longer than 200 characters; shorten it.")
        return source_type, other if source_type == SourceType.OTHER else ""

    def _referrer(
        self, cell: dict, source_type: str, channel: str, problems: list[str]
    ) -> tuple[str, str, tuple[str, str] | None]:
        practice = cells.text(cell.get("referring_practice"))
        npi = cells.text(cell.get("referring_provider_npi"))
        written_name = cells.text(cell.get("referring_provider_name"))
        # As in refloop itself: a provider who uses the public form may not be in the
        # directory, so a web-form provider referral may name no practice.
        if (
            source_type == SourceType.PROVIDER
            and not practice
            and channel != ReferralChannel.WEB_FORM
        ):
            problems.append(
                "referring_practice is empty; a provider referral needs the referring "
                "practice's name."
            )
        if len(practice) > 200:
            problems.append("referring_practice is longer than 200 characters; shorten it.")
        # The NPI may be blank: a practice may refer without naming the provider.
        if npi and (len(npi) != 10 or not npi.isdigit()):
            problems.append(f"referring_provider_npi ({npi}) must be exactly 10 digits.")
        elif npi and not self._check_digit_right(npi):
            problems.append(f"NPI {npi} fails its check digit; check for a typo.")
        provider_name = None
        if written_name:
            last, comma, first = written_name.partition(",")
            if not comma or not last.strip() or not first.strip():
                problems.append(
                    f"referring_provider_name ({written_name}) must be written 'Last, First', "
                    "e.g. 'Lee, Morgan'."
                )
            elif len(last.strip()) > 80 or len(first.strip()) > 80:
                problems.append("referring_provider_name is too long; 80 characters per part.")
            else:
                provider_name = (last.strip(), first.strip())
        return practice, npi, provider_name

    def _translated(self, column: str, kind: str, written: str) -> str:
        """The mapped value of a wording refloop does not know ('' when none is mapped),
        keeping the wording for the timeline."""
        value = self._mapped(kind, written)
        if value is None:
            return ""
        self.originals[column] = written
        return value

    def _choice(
        self, cell: dict, column: str, allowed: tuple, default: str, problems: list[str]
    ) -> str:
        written = cells.text(cell.get(column))
        value = written.lower()
        if not value:
            return default
        if value not in allowed:
            value = self._translated(column, column, written)
        if not value:
            problems.append(
                f"{column} '{written}' is not allowed; use one of {', '.join(allowed)} "
                f"(blank means {default}), or map it."
            )
        return value

    def _department(self, cell: dict, problems: list[str]) -> int | None:
        value = cells.text(cell.get("department"))
        if not value:
            problems.append(
                "department is empty; give the code or name of the department that took "
                f"the referral ({', '.join(self.department_list) or 'none is set up yet'})."
            )
            return None
        pk = self.departments.get(value.lower())
        if pk is None:
            code = self._translated("department", MappedKind.DEPARTMENT, value)
            pk = self.departments.get(code.lower()) if code else None
        if pk is None:
            known = ", ".join(self.department_list) or "none is set up yet; add them first"
            problems.append(
                f"department '{value}' is not a department here; use a code or name of "
                f"one ({known}), or map it."
            )
        return pk

    def _coordinator(self, cell: dict, problems: list[str]) -> int | None:
        value = cells.text(cell.get("coordinator"))
        if not value:
            return None
        pk = self.users.get(value, self.users_folded.get(value.lower()))
        if pk is None:
            problems.append(
                f"coordinator '{value}' is not the username of an active admin, coordinator "
                "or clinician; correct it or leave it blank."
            )
        return pk

    def _check_digit_right(self, npi: str) -> bool:
        # The same few hundred referrers recur on thousands of rows.
        if npi not in self.npi_checked:
            self.npi_checked[npi] = npi[-1] == check_digit(npi[:9])
        return self.npi_checked[npi]

    # -- when --

    def _times(self, cell: dict, problems: list[str]) -> dict[str, datetime] | None:
        """Every time on the row, or None when one could not be read (the order checks
        would only repeat that problem)."""
        times: dict[str, datetime] = {}
        readable = True
        for column in TIME_COLUMNS:
            value = cell.get(column)
            if value is None or value == "":
                continue  # most state columns of a row are blank
            try:
                at = cells.local_time(value, self.zone)
            except cells.CellProblem as problem:
                problems.append(f"{column} {problem.message}.")
                readable = False
                continue
            if at is not None:
                times[column] = at
        if "received_at" not in times:
            if readable:
                problems.append(
                    "received_at is empty; every row needs the time the referral arrived."
                )
            return None
        if not readable:
            return None
        received = times["received_at"]
        in_order = True
        for column, at in times.items():
            if column != "appointment_at" and at > self.now:
                problems.append(
                    f"{column} ({self.show(at)}) is in the future; history records only what "
                    "already happened."
                )
                in_order = False
            elif at < received:
                problems.append(
                    f"{column} ({self.show(at)}) is before received_at ({self.show(received)}); "
                    "nothing happens to a referral before it arrives."
                )
                in_order = False
        return times if in_order else None

    def _steps(self, times: dict[str, datetime], problems: list[str]) -> list:
        steps, problem = ordering.path(times, self.show)
        if problem:
            problems.append(problem)
        return steps

    def show(self, at: datetime) -> str:
        local = at.astimezone(self.zone)
        return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")

    # -- how it ended --

    def _end_reason(self, cell: dict, times: dict | None, problems: list[str]) -> str:
        written = cells.text(cell.get("end_reason"))
        if times is None:
            return written.lower()
        lost = [(column, state) for column, state in LOST_COLUMNS.items() if column in times]
        if not lost:
            if written:
                problems.append(
                    f"end_reason ({written}) is only for declined, unreachable or cancelled "
                    "referrals, and this row reached none of them; clear it or fill in when "
                    "it ended."
                )
            return written.lower()
        column, state = lost[0]
        return self.reason(written, state, f"but {column} is filled in", problems)

    def reason(self, written: str, state: str, filled: str, problems: list[str]) -> str:
        """The reason a referral ended in `state` (a lost state), mapped if written in the
        practice's own words; '' with a problem when there is none."""
        reason = written.lower()
        allowed = END_REASONS[state]
        if reason and reason not in allowed:
            reason = self._translated("end_reason", REASON_KIND[state], written)
        if not written:
            problems.append(
                f"end_reason is empty {filled}; say why it was "
                f"{state_words(state)}: one of {', '.join(allowed)}."
            )
        elif not reason:
            problems.append(
                f"end_reason '{written}' is not a reason for {state_words(state)}; use one of "
                f"{', '.join(allowed)}, or map it."
            )
        return reason

    def _outcome_and_value(self, cell: dict, problems: list[str]) -> tuple[str, Decimal | None]:
        """An appointment's outcome and visit value as written, each checked on its own."""
        outcome = cells.text(cell.get("appointment_outcome")).lower()
        value = None
        try:
            value = cells.amount(cell.get("visit_value"))
        except cells.CellProblem as problem:
            problems.append(f"visit_value {problem.message}.")
        if outcome and outcome not in OUTCOMES:
            problems.append(
                f"appointment_outcome '{outcome}' is not an outcome; use one of "
                f"{', '.join(OUTCOMES)}, or leave it blank."
            )
        return outcome, value

    def _appointment(
        self, cell: dict, times: dict | None, problems: list[str]
    ) -> tuple[str, Decimal | None]:
        outcome, value = self._outcome_and_value(cell, problems)
        if outcome and outcome not in OUTCOMES:
            return outcome, value
        if times is None:
            return outcome, value
        booked = "scheduled_at" in times
        if not booked and ("appointment_at" in times or outcome or value is not None):
            problems.append(
                "appointment_at, appointment_outcome and visit_value need scheduled_at: an "
                "appointment exists once the referral was scheduled. Fill in scheduled_at "
                "or clear them."
            )
            return outcome, value
        seen = "seen_at" in times
        if outcome == AppointmentOutcome.ATTENDED and not seen:
            problems.append(
                "appointment_outcome is attended but seen_at is empty; fill in when the "
                "patient was seen."
            )
        elif seen and outcome and outcome != AppointmentOutcome.ATTENDED:
            problems.append(
                f"appointment_outcome is {outcome}, but seen_at says the patient was seen; "
                "make it attended or leave it blank."
            )
        elif outcome == AppointmentOutcome.NO_SHOW and "no_show_at" not in times:
            problems.append(
                "appointment_outcome is no_show but no_show_at is empty; fill in when the "
                "patient missed the appointment."
            )
        outcome = outcome or _implied_outcome(times)
        if value is not None:
            if outcome != AppointmentOutcome.ATTENDED:
                problems.append(
                    "visit_value is for an attended visit, and this row's appointment was not "
                    "attended; fill in seen_at or clear visit_value."
                )
            elif "appointment_at" not in times:
                problems.append(
                    "visit_value needs appointment_at: the value belongs to the attended "
                    "appointment, so fill in its date and time."
                )
        return outcome, value


KIND_ORDER = {kind: position for position, kind in enumerate(MappedKind.values)}


def _implied_outcome(times: dict[str, datetime]) -> str:
    """The latest appointment's outcome as the lifecycle's moves would have set it."""
    if "seen_at" in times:
        return AppointmentOutcome.ATTENDED
    if "no_show_at" in times and "rescheduled_at" not in times:
        return AppointmentOutcome.NO_SHOW
    if "cancelled_at" in times and "appointment_at" in times:
        return AppointmentOutcome.CANCELLED
    return ""


# ---- the file as a whole ---------------------------------------------------------


def check_numbers(numbers: list[tuple[int, str]]) -> list[RowError]:
    """A number seen earlier in the file, or already in refloop, is refused."""
    errors = []
    first_line: dict[str, int] = {}
    for line, number in numbers:
        if number in first_line:
            errors.append(
                RowError(
                    line,
                    f"referral_number {number} is already imported on line "
                    f"{first_line[number]} of this file; each referral appears once.",
                )
            )
        else:
            first_line[number] = line
    existing: set[str] = set()
    distinct = list(first_line)
    for start in range(0, len(distinct), LOOKUP_CHUNK):
        chunk = distinct[start : start + LOOKUP_CHUNK]
        existing.update(Referral.objects.filter(number__in=chunk).values_list("number", flat=True))
    for number in sorted(existing, key=first_line.__getitem__):
        errors.append(
            RowError(
                first_line[number],
                f"referral_number {number} is already imported; remove the row (or clear "
                "the number to add it as another referral).",
            )
        )
    return errors


def check_providers(rows: list[Row]) -> list[RowError]:
    """Link each NPI to the directory; an NPI new to it needs a name on some row."""
    npis = sorted({row.npi for row in rows if row.npi})
    known: dict[str, tuple[int, int | None]] = {}
    for start in range(0, len(npis), LOOKUP_CHUNK):
        chunk = npis[start : start + LOOKUP_CHUNK]
        for npi, pk, practice_id in Provider.objects.filter(npi__in=chunk).values_list(
            "npi", "pk", "practice_id"
        ):
            known[npi] = (pk, practice_id)
    named = {row.npi for row in rows if row.npi and row.provider_name}
    errors = []
    for row in rows:
        if not row.npi:
            continue
        row.provider_id, row.provider_practice_id = known.get(row.npi, (None, None))
        if row.provider_id is None and row.npi not in named:
            errors.append(
                RowError(
                    row.line,
                    f"NPI {row.npi} is not in the directory yet; fill in "
                    "referring_provider_name ('Last, First') so the provider can be added.",
                )
            )
    return errors
