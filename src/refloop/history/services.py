"""Importing a checked history file: each row's referral with its patient, referrer,
timeline, first contact attempt and appointments, all in one transaction.

Everything the rows refer to (practices, providers, patients, departments, users) is
looked up once per file, and rows are written a chunk at a time with multi-row INSERTs
(bulk.py), never one query per row. Side effects (messages, notifications) are
suppressed: a referral closed two years ago must not notify anyone today.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from refloop.analytics.facts import REFERRAL_FIELDS, rebuild_in_hand
from refloop.core import audit
from refloop.core.roles import Capability, require
from refloop.history.bulk import Table, collector_paused
from refloop.history.validation import Checked, Row
from refloop.network.models import Practice, Provider
from refloop.patients.models import Patient, birth_key, last_name_key, name_key
from refloop.practice.models import Organization
from refloop.referrals import clocks, effects, lifecycle
from refloop.referrals.models import (
    Appointment,
    AppointmentOutcome,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    Direction,
    Referral,
    ReferralEvent,
    State,
    new_referral_number,
)

log = logging.getLogger(__name__)

ACTOR_LABEL = "History import"
OUTREACH_STATES = (State.CONTACTING, State.NO_SHOW)
IMPORTED_NOTE = "Imported from history"
CHUNK = 2000
# Referrals whose facts are built (and committed) at a time after the import.
FACTS_CHUNK = 5000
LOOKUP_CHUNK = 500
Progress = Callable[[int, int], None]
# The data of an imported transition; one object, so it is serialized once per chunk.
IMPORTED: dict[str, object] = {"imported": True}

REFERRAL_COLUMNS = (
    "number",
    "direction",
    "state",
    "patient_id",
    "source_type",
    "source_other",
    "referring_practice_id",
    "referring_provider_id",
    "channel",
    "urgency",
    "department_id",
    "assignee_id",
    "received_at",
    "state_changed_at",
    "first_contact_due_at",
    "first_contact_at",
    "sla_breached_at",
    "outreach_started_at",
    "accepted_at",
    "first_scheduled_at",
    "seen_at",
    "closed_at",
    "end_reason",
    "created_by_id",
)
PROVIDER_POSITION = REFERRAL_COLUMNS.index("referring_provider_id")
EVENT_COLUMNS = (
    "referral_id",
    "kind",
    "from_state",
    "to_state",
    "actor_id",
    "actor_label",
    "at",
    "data",
)
ATTEMPT_COLUMNS = ("referral_id", "at", "channel", "outcome", "note", "recorded_by_id")
APPOINTMENT_COLUMNS = (
    "referral_id",
    "starts_at",
    "department_id",
    "outcome",
    "visit_value",
    "created_at",
    "location_id",
)
PATIENT_COLUMNS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "name_key",
    "last_name_key",
    "birth_key",
)


class Written(NamedTuple):
    """What a referral's analytics fact is built from, kept from writing it: its values in
    REFERRAL_COLUMNS order, its patient's blind indexes and its provider's NPI, its
    transitions (from_state, to_state, at) in timeline order, and its appointments, each
    (pk, values in APPOINTMENT_COLUMNS order). Mostly references to the checked rows'
    values, so a large file's import holds little more."""

    referral_id: int
    values: tuple
    name_key: str
    birth_key: str
    npi: str | None
    moves: list[tuple[str, str, datetime]]
    appointments: list[tuple[int, tuple]]


class HistoryFileInvalid(Exception):
    """The file has errors and the user did not ask to import only the good rows."""

    def __init__(self, checked: Checked):
        super().__init__(f"{len(checked.errors)} problem(s) in the file; nothing was imported.")
        self.checked = checked


@dataclass
class ImportResult:
    imported: int = 0
    skipped_rows: int = 0
    patients_created: int = 0
    practices_created: int = 0
    providers_created: int = 0
    referral_ids: list[int] = field(default_factory=list)


@collector_paused()
def import_history(
    checked: Checked,
    *,
    acting_user=None,
    only_good: bool = False,
    run_id: int | None = None,
    progress: Progress | None = None,
    analytics_progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Write the good rows of `checked`; all of them or none. Then build their analytics
    facts, a chunk of referrals at a time, each chunk committed (when no transaction
    encloses the import), so that `analytics_progress` can be shown as it goes.

    A file with errors is refused (HistoryFileInvalid) unless `only_good`; a problem with
    the file as a whole (its header) is refused either way. `acting_user` None is the
    command line; a user must be an admin.
    """
    if acting_user is not None:
        require(acting_user, Capability.MANAGE_SETTINGS)
    if checked.file_problem or (checked.errors and not only_good):
        raise HistoryFileInvalid(checked)
    now = now or timezone.now()
    rows = checked.rows
    total = len(rows)
    with transaction.atomic(), effects.suppressed():
        writer = _Writer(acting_user=acting_user, now=now)
        writer.add_partners(rows)
        for start in range(0, total, CHUNK):
            writer.write(rows[start : start + CHUNK])
            if progress is not None:
                progress(min(start + CHUNK, total), total)
        result = writer.result
        result.skipped_rows = checked.bad_rows
        # One entry for the whole import (never one per row, never patient data).
        audit.record(
            "history.imported",
            audit.Touch("history_import", run_id if run_id is not None else "cli"),
            actor=acting_user,
            detail={
                "file": checked.file_name,
                "rows": result.imported,
                "skipped_rows": result.skipped_rows,
                "patients_created": result.patients_created,
                "practices_created": result.practices_created,
                "providers_created": result.providers_created,
            },
            now=now,
        )
    _build_facts(writer, analytics_progress)
    return result


def _build_facts(writer: "_Writer", progress: Progress | None) -> None:
    """The imported referrals' facts, after their rows have committed: the import is whole
    without them (the dashboards read facts, and the worker's catch-up job builds whatever
    facts are missing, should this stop half way). Built from the values written, not read
    back (what `rebuild` of their ids writes). Each chunk also refreshes its patients'
    first-referral marks over all their facts, so the end result is the same as one
    rebuild of every id."""
    total = len(writer.written)
    if progress is not None:
        progress(0, total)
    try:
        for start in range(0, total, FACTS_CHUNK):
            rebuild_in_hand(*writer.fact_values(writer.written[start : start + FACTS_CHUNK]))
            if progress is not None:
                progress(min(start + FACTS_CHUNK, total), total)
    except Exception:
        # The referrals have committed: the import stands, and the catch-up job builds
        # the facts this left out (as after any failed rebuild; see facts.mark_stale).
        log.exception("history import: analytics facts left to the catch-up job")


class _Writer:
    """Writes rows chunk by chunk, remembering what earlier chunks created."""

    def __init__(self, *, acting_user, now: datetime):
        self.user_id = acting_user.pk if acting_user is not None and acting_user.pk else None
        self.now = now
        org = Organization.current()
        self.org = org
        self.result = ImportResult()
        self.practices: dict[str, int] = {}  # casefolded name -> pk
        self.providers: dict[str, tuple[int, int | None]] = {}  # npi -> (pk, practice pk)
        self.patients: dict[tuple, int] = {}  # (name_key, date_of_birth) -> pk
        self.name_keys: dict[tuple[str, str], str] = {}
        self.last_name_keys: dict[str, str] = {}
        self.birth_keys: dict[date, str] = {}
        self.referrals = Table(Referral, REFERRAL_COLUMNS)
        self.events = Table(ReferralEvent, EVENT_COLUMNS)
        self.attempts = Table(ContactAttempt, ATTEMPT_COLUMNS)
        self.appointments = Table(Appointment, APPOINTMENT_COLUMNS)
        self.new_patients = Table(Patient, PATIENT_COLUMNS)
        self.written: list[Written] = []
        # The fact's referral values the import leaves at their defaults (version 1, ...).
        self.fact_defaults = {
            f.attname: f.get_default()
            for f in Referral._meta.concrete_fields
            if f.attname in REFERRAL_FIELDS and f.attname not in (*REFERRAL_COLUMNS, "id")
        }

    # -- once per file --

    def add_partners(self, rows: list[Row]) -> None:
        """Find or add every referring practice and provider the rows name."""
        for pk, name in Practice.objects.order_by("pk").values_list("pk", "name"):
            self.practices.setdefault(name.casefold(), pk)
        new_practices: dict[str, Practice] = {}
        for row in rows:
            key = row.practice_name.casefold()
            if key and key not in self.practices and key not in new_practices:
                new_practices[key] = Practice(name=row.practice_name)
        Practice.objects.bulk_create(new_practices.values())
        self.practices.update({key: p.pk for key, p in new_practices.items()})
        self.result.practices_created = len(new_practices)

        new_providers: dict[str, Provider] = {}
        for row in rows:
            if row.provider_id is not None:
                self.providers[row.npi] = (row.provider_id, row.provider_practice_id)
            elif row.npi and row.provider_name and row.npi not in new_providers:
                last, first = row.provider_name
                new_providers[row.npi] = Provider(
                    npi=row.npi,
                    last_name=last,
                    first_name=first,
                    practice_id=self.practices.get(row.practice_name.casefold()),
                )
        Provider.objects.bulk_create(new_providers.values())
        self.providers.update({npi: (p.pk, p.practice_id) for npi, p in new_providers.items()})
        self.result.providers_created = len(new_providers)

    # -- a chunk of rows --

    def write(self, rows: list[Row]) -> None:
        patient_ids, patient_keys = self._patients(rows)
        numbers = self._numbers(rows)
        referral_values = [
            self._referral(row, pid, no)
            for row, pid, no in zip(rows, patient_ids, numbers, strict=True)
        ]
        referral_ids = self.referrals.insert(referral_values, ids=True)
        attempt_rows: list[tuple] = []
        attempt_of: list[int] = []  # the position in `rows` of each attempt's row
        appointment_rows: list[tuple] = []
        appointment_of: list[int] = []
        event_rows: list[tuple] = []
        for position, (row, referral_id) in enumerate(zip(rows, referral_ids, strict=True)):
            for attempt in self._attempts(row, referral_id):
                attempt_rows.append(attempt)
                attempt_of.append(position)
            for appointment in self._appointments(row, referral_id):
                appointment_rows.append(appointment)
                appointment_of.append(position)
        attempts: dict[int, list[tuple[int, tuple]]] = {}
        for position, attempt, pk in zip(
            attempt_of, attempt_rows, self.attempts.insert(attempt_rows, ids=True), strict=True
        ):
            attempts.setdefault(position, []).append((pk, attempt))
        appointments: dict[int, list[tuple[int, tuple]]] = {}
        appointment_ids = self.appointments.insert(appointment_rows, ids=True)
        for position, appointment, pk in zip(
            appointment_of, appointment_rows, appointment_ids, strict=True
        ):
            appointments.setdefault(position, []).append((pk, appointment))
        for position, (row, referral_id) in enumerate(zip(rows, referral_ids, strict=True)):
            events = self._events(row, referral_id, attempts.get(position, ()))
            event_rows.extend(events)
            values = referral_values[position]
            self.written.append(
                Written(
                    referral_id,
                    values,
                    *patient_keys[position],
                    row.npi if values[PROVIDER_POSITION] is not None else None,
                    # As the facts read a timeline: transitions by time, ties as written.
                    sorted(((e[2], e[3], e[6]) for e in events if e[3]), key=lambda m: m[2]),
                    appointments.get(position, []),
                )
            )
        self.events.insert(event_rows)
        self.result.imported += len(rows)
        self.result.referral_ids.extend(referral_ids)

    def fact_values(
        self, written: list[Written]
    ) -> tuple[list[dict], dict[int, list], dict[int, list[dict]]]:
        """`rebuild_in_hand`'s arguments for these referrals: what `rebuild` would read."""
        referrals, moves, appointments = [], {}, {}
        for one in written:
            values = dict(zip(REFERRAL_COLUMNS, one.values, strict=True))
            values.update(self.fact_defaults)
            values["id"] = one.referral_id
            values["referring_provider__npi"] = one.npi
            values["patient__name_key"] = one.name_key
            values["patient__birth_key"] = one.birth_key
            referrals.append(values)
            moves[one.referral_id] = one.moves
            appointments[one.referral_id] = [
                {"id": pk, **dict(zip(APPOINTMENT_COLUMNS, booked, strict=True))}
                for pk, booked in one.appointments
            ]
        return referrals, moves, appointments

    def _patients(self, rows: list[Row]) -> tuple[list[int], list[tuple[str, str]]]:
        """Each row's patient: on record (normalized name and date of birth, compared
        through their blind indexes), or added; and its (name, birth) blind indexes."""
        keys = [
            (self._name_key(r.first_name, r.last_name), self._birth_key(r.date_of_birth))
            for r in rows
        ]
        names = sorted({key[0] for key in keys if key not in self.patients})
        for start in range(0, len(names), LOOKUP_CHUNK):
            found = Patient.objects.filter(name_key__in=names[start : start + LOOKUP_CHUNK])
            for pk, name, birth in found.order_by("pk").values_list("pk", "name_key", "birth_key"):
                self.patients.setdefault((name, birth), pk)
        new_rows: dict[tuple, tuple] = {}
        for row, key in zip(rows, keys, strict=True):
            if key not in self.patients and key not in new_rows:
                new_rows[key] = (
                    row.first_name,
                    row.last_name,
                    row.date_of_birth,
                    key[0],
                    self._last_name_key(row.last_name),
                    key[1],
                )
        new_ids = self.new_patients.insert(list(new_rows.values()), ids=True)
        self.patients.update(zip(new_rows, new_ids, strict=True))
        self.result.patients_created += len(new_ids)
        return [self.patients[key] for key in keys], keys

    def _name_key(self, first_name: str, last_name: str) -> str:
        """The name's blind index, remembered: the same names recur across thousands of rows."""
        key = self.name_keys.get((first_name, last_name))
        if key is None:
            key = self.name_keys[first_name, last_name] = name_key(first_name, last_name)
        return key

    def _last_name_key(self, last_name: str) -> str:
        key = self.last_name_keys.get(last_name)
        if key is None:
            key = self.last_name_keys[last_name] = last_name_key(last_name)
        return key

    def _birth_key(self, date_of_birth) -> str:
        key = self.birth_keys.get(date_of_birth)
        if key is None:
            key = self.birth_keys[date_of_birth] = birth_key(date_of_birth)
        return key

    def _numbers(self, rows: list[Row]) -> list[str]:
        """The row's own number, or a new one no referral has (checked, not assumed)."""
        numbers = [row.number or new_referral_number() for row in rows]
        while True:
            drawn = {n for row, n in zip(rows, numbers, strict=True) if not row.number}
            taken = set(Referral.objects.filter(number__in=drawn).values_list("number", flat=True))
            if not taken:
                return numbers
            numbers = [new_referral_number() if n in taken else n for n in numbers]

    def _referral(self, row: Row, patient_id: int, number: str) -> tuple:
        reached = row.reached()
        state = row.state
        last_at = row.steps[-1][2] if row.steps else row.received_at
        due = clocks.first_contact_due(self.org, row.urgency, row.received_at)
        # An open referral never contacted and past its deadline would be flagged by the SLA
        # sweep today, alerting staff about history; it is recorded as breached at its due time.
        breached = None
        if state in lifecycle.OPEN and row.first_contact_at is None and due <= self.now:
            breached = due
        practice_id = (
            self.practices.get(row.practice_name.casefold()) if row.practice_name else None
        )
        provider_id, provider_practice_id = self.providers.get(row.npi, (None, None))
        return (
            number,
            Direction.INBOUND,
            state,
            patient_id,
            row.source_type,
            row.source_other,
            practice_id or provider_practice_id,
            provider_id,
            row.channel,
            row.urgency,
            row.department_id,
            row.assignee_id,
            row.received_at,
            last_at,
            due,
            row.first_contact_at,
            breached,
            _outreach_started(row, reached),
            reached.get("accepted_at"),
            reached.get("scheduled_at"),
            reached.get("seen_at"),
            None if state in lifecycle.OPEN else last_at,
            row.end_reason,
            self.user_id,
        )

    def _attempts(self, row: Row, referral_id: int) -> list[tuple]:
        """An event log's contact attempts; else one phone attempt at first_contact_at."""
        if row.contacts:
            return [
                (referral_id, at, channel, outcome, IMPORTED_NOTE, None)
                for at, channel, outcome in row.contacts
            ]
        if row.first_contact_at is None:
            return []
        return [
            (
                referral_id,
                row.first_contact_at,
                ContactChannel.PHONE,
                _contact_outcome(row),
                IMPORTED_NOTE,
                None,
            )
        ]

    def _appointments(self, row: Row, referral_id: int) -> list[tuple]:
        """An event log's appointments as they were. The one-row layout's latest
        appointment; and, when the patient was booked again after a no-show, the missed
        one before it (at the time the no-show was recorded)."""
        if row.appointments is not None:
            return [
                (
                    referral_id,
                    booked.starts_at,
                    booked.department_id or row.department_id,
                    booked.outcome,
                    booked.visit_value,
                    booked.booked_at,
                    booked.location_id,
                )
                for booked in row.appointments
            ]
        if row.appointment_at is None:
            return []
        reached = row.reached()
        scheduled_at = reached["scheduled_at"]
        rebooked_at = reached.get("rescheduled_at")
        appointments: list[tuple] = []
        if rebooked_at is not None and row.appointment_outcome != AppointmentOutcome.NO_SHOW:
            appointments.append(
                (
                    referral_id,
                    reached["no_show_at"],
                    row.department_id,
                    AppointmentOutcome.NO_SHOW,
                    None,
                    scheduled_at,
                    None,
                )
            )
        appointments.append(
            (
                referral_id,
                row.appointment_at,
                row.department_id,
                row.appointment_outcome,
                row.visit_value,
                rebooked_at or scheduled_at,
                None,
            )
        )
        return appointments

    def _events(self, row: Row, referral_id: int, attempts) -> list[tuple]:
        """The timeline: received, each transition, each contact attempt; by time.
        `attempts`: (pk, attempt row) of the row's contact attempts."""
        received = {"imported": True, "channel": row.channel, "source_type": row.source_type}
        # The practice's own wording of what a mapping translated stays on the timeline:
        # its vocabulary (not patient data) on the arrival, a reason's wording as its detail.
        if row.originals:
            written = {k: v for k, v in row.originals.items() if k != "end_reason"}
            if written:
                received["original"] = written
        events: list[tuple] = [
            (
                referral_id,
                "referral.received",
                "",
                State.RECEIVED,
                None,
                ACTOR_LABEL,
                row.received_at,
                received,
            )
        ]
        for state, _, at, from_state in row.steps:
            data = IMPORTED
            if state in lifecycle.LOST:
                data = {**IMPORTED, "reason": row.end_reason}
                if "end_reason" in row.originals:
                    data["reason_detail"] = row.originals["end_reason"]
            events.append(
                (referral_id, f"referral.{state}", from_state, state, None, ACTOR_LABEL, at, data)
            )
        for attempt_id, (_, at, channel, outcome, *_) in attempts:
            events.append(
                (
                    referral_id,
                    "referral.contact_attempted",
                    "",
                    "",
                    None,
                    ACTOR_LABEL,
                    at,
                    {
                        "imported": True,
                        "attempt_id": attempt_id,
                        "channel": channel,
                        "outcome": outcome,
                    },
                )
            )
        moved = _moved_appointments(row, referral_id) if row.appointments else ()
        events.extend(moved)
        if attempts or moved:
            events.sort(key=lambda event: event[6])  # stable: a transition stays first on a tie
        return events


def _moved_appointments(row: Row, referral_id: int) -> list[tuple]:
    """An event log's appointment booked with no move to scheduled at that time was the
    booked one moved (rescheduled), as refloop's timeline records it."""
    if not row.appointments:
        return []
    scheduled = {at for state, _, at, _ in row.steps if state == State.SCHEDULED}
    return [
        (
            referral_id,
            "referral.rescheduled",
            "",
            "",
            None,
            ACTOR_LABEL,
            booked.booked_at,
            {"imported": True, "starts_at": booked.starts_at.isoformat()},
        )
        for booked in row.appointments
        if booked.booked_at not in scheduled
    ]


def _outreach_started(row: Row, reached: dict[str, datetime]) -> datetime | None:
    """When outreach to book last began: as refloop sets it, the latest move to contacting
    or no_show where the event log has every move; the first contacting of a one-row
    file otherwise."""
    if row.appointments is None:
        return reached.get("contacting_at")
    starts = [at for state, _, at, _ in row.steps if state in OUTREACH_STATES]
    return starts[-1] if starts else None


def _contact_outcome(row: Row) -> str:
    """The first attempt reached the patient if the referral went on to be scheduled."""
    scheduled = any(state == State.SCHEDULED for state, *_ in row.steps)
    return ContactOutcome.REACHED if scheduled else ContactOutcome.NO_ANSWER
