"""The history spreadsheet's columns: one row per inbound referral.

The one definition the import, the export, the downloadable template and the upload
page's documentation all read, so they cannot drift apart.
"""

from dataclasses import dataclass

from refloop.referrals.lifecycle import INBOUND
from refloop.referrals.models import (
    AppointmentOutcome,
    CancelReason,
    ContactChannel,
    ContactOutcome,
    DeclineReason,
    ReferralChannel,
    SourceType,
    State,
    UnreachableReason,
    Urgency,
)

ALWAYS = "yes"
OPTIONAL = "no"


@dataclass(frozen=True)
class Column:
    name: str
    required: str  # ALWAYS, OPTIONAL, or the condition in words ("when source_type is other")
    meaning: str
    example: str

    @property
    def always_required(self) -> bool:
        return self.required == ALWAYS


@dataclass(frozen=True)
class StateColumn(Column):
    """The time a lifecycle state was first reached."""

    state: str = ""


def _values(choices) -> str:
    return "|".join(choices.values)


TIME_FORMATS = (
    "2025-03-04 09:30, 2025-03-04T09:30:00, 2025-03-04 (00:00), 03/04/2025 09:30 or "
    "03/04/2025, in the practice's time zone unless an offset is given (2025-03-04T09:30-05:00); "
    "date cells of an .xlsx work as they are"
)
TIME_HINT = "write it as 2025-03-04 09:30 (or 2025-03-04, 03/04/2025 09:30, 03/04/2025)"
DATE_HINT = "write it as 1980-05-17 (or 05/17/1980)"

_IDENTITY = (
    Column(
        "referral_number",
        OPTIONAL,
        "The referral's number. Blank: a new number is given. A number already in refloop "
        "is refused as already imported, so importing the same file twice adds nothing.",
        "R-7K2M-9QXD",
    ),
    Column("patient_last_name", ALWAYS, "The patient's last name.", "Rivera"),
    Column("patient_first_name", ALWAYS, "The patient's first name.", "Ana"),
    Column(
        "patient_date_of_birth",
        ALWAYS,
        "The patient's date of birth. Name and date of birth find the patient already on "
        "record; a new one is added once per file.",
        "1968-04-12",
    ),
)

_SOURCE = (
    Column(
        "source_type",
        ALWAYS,
        f"Who sent the patient: {_values(SourceType)}.",
        "provider",
    ),
    Column("source_other", "when source_type is other", "What the other source was.", ""),
    Column(
        "referring_practice",
        "when source_type is provider (except on the web_form channel)",
        "The referring practice's name, matched to the directory ignoring case; added if new.",
        "Prairie Family Medicine",
    ),
    Column(
        "referring_provider_npi",
        "for provider referrals that name the provider",
        "The referring provider's NPI: 10 digits with a valid check digit.",
        "1234567893",
    ),
    Column(
        "referring_provider_name",
        "when the NPI is not in the directory",
        "The referring provider as 'Last, First'; used to add the provider under the practice.",
        "Lee, Morgan",
    ),
)

_ROUTING = (
    Column(
        "channel",
        OPTIONAL,
        f"How the referral arrived: {_values(ReferralChannel)}. Blank: import.",
        "fax",
    ),
    Column("department", ALWAYS, "The department's code or name, as set up in refloop.", "spine"),
    Column("urgency", OPTIONAL, f"{_values(Urgency)}. Blank: routine.", "routine"),
    Column(
        "coordinator",
        OPTIONAL,
        "Username of the active staff member the referral is assigned to.",
        "cora",
    ),
)


def _state(name: str, state: str, meaning: str, example: str, required: str = OPTIONAL):
    return StateColumn(name, required, meaning, example, state=state)


RESCHEDULED = "rescheduled"  # not a state: `scheduled` reached again after a no-show

STATE_COLUMNS: tuple[StateColumn, ...] = (
    _state(
        "received_at",
        State.RECEIVED,
        "When the referral arrived.",
        "2025-03-04 09:30",
        required=ALWAYS,
    ),
    _state("in_review_at", State.IN_REVIEW, "First time it went into review.", "2025-03-04 11:00"),
    _state(
        "pending_info_at",
        State.PENDING_INFO,
        "First time information was requested from the referrer.",
        "",
    ),
    _state("accepted_at", State.ACCEPTED, "When it was accepted.", "2025-03-05 08:15"),
    _state(
        "contacting_at",
        State.CONTACTING,
        "When outreach to the patient to book began.",
        "2025-03-05 10:00",
    ),
    _state(
        "scheduled_at",
        State.SCHEDULED,
        "When the first appointment was booked.",
        "2025-03-06 14:20",
    ),
    _state("no_show_at", State.NO_SHOW, "First time the patient missed an appointment.", ""),
    _state(
        "rescheduled_at",
        RESCHEDULED,
        "When the patient was booked again after a no-show.",
        "",
    ),
    _state("seen_at", State.SEEN, "When the patient was seen.", "2025-03-18 10:05"),
    _state(
        "loop_closed_at",
        State.LOOP_CLOSED,
        "When the consult report went back to the referrer.",
        "2025-03-20 16:00",
    ),
    _state("declined_at", State.DECLINED, "When it was declined.", ""),
    _state(
        "unreachable_at", State.UNREACHABLE, "When the patient was given up as unreachable.", ""
    ),
    _state("cancelled_at", State.CANCELLED, "When it was cancelled.", ""),
)

_OUTCOME = (
    Column(
        "first_contact_at",
        OPTIONAL,
        "The first attempt to reach the patient (what time to first contact measures).",
        "2025-03-05 10:00",
    ),
    Column(
        "appointment_at",
        OPTIONAL,
        "Date and time of the latest appointment (needs scheduled_at).",
        "2025-03-18 09:00",
    ),
    Column(
        "appointment_outcome",
        OPTIONAL,
        f"That appointment's outcome: {_values(AppointmentOutcome)}, or blank (still ahead, "
        "or read from the states: seen_at means attended).",
        "attended",
    ),
    Column(
        "end_reason",
        "when declined, unreachable or cancelled",
        "Why it ended, one of the reasons of its final state: declined: "
        f"{_values(DeclineReason)}; unreachable: {_values(UnreachableReason)}; cancelled: "
        f"{_values(CancelReason)}.",
        "",
    ),
    Column(
        "visit_value",
        OPTIONAL,
        "The attended visit's value, an amount of 0 or more (no currency sign).",
        "240.00",
    ),
)

# The order the export writes and the template shows; an imported file may use any order.
COLUMNS: tuple[Column, ...] = (
    *_IDENTITY,
    *_SOURCE,
    *_ROUTING,
    STATE_COLUMNS[0],
    _OUTCOME[0],
    *STATE_COLUMNS[1:],
    *_OUTCOME[1:],
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.always_required)
TERMINAL_COLUMNS = ("loop_closed_at", "declined_at", "unreachable_at", "cancelled_at")
TIME_COLUMNS: tuple[str, ...] = (
    *(c.name for c in STATE_COLUMNS),
    "first_contact_at",
    "appointment_at",
)

# The final states that need an end_reason, and the reasons each takes.
END_REASONS: dict[str, tuple[str, ...]] = {
    State.DECLINED: tuple(DeclineReason.values),
    State.UNREACHABLE: tuple(UnreachableReason.values),
    State.CANCELLED: tuple(CancelReason.values),
}

# Two rows the downloadable template carries: a provider referral followed to the end,
# and a declined one written with US-style dates. Both are valid wherever a department
# with the code "spine" exists.
EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        "referral_number": "",
        "patient_last_name": "Rivera",
        "patient_first_name": "Ana",
        "patient_date_of_birth": "1968-04-12",
        "source_type": "provider",
        "referring_practice": "Prairie Family Medicine",
        "referring_provider_npi": "1234567893",
        "referring_provider_name": "Lee, Morgan",
        "channel": "fax",
        "department": "spine",
        "urgency": "routine",
        "received_at": "2025-03-04 09:30",
        "first_contact_at": "2025-03-05 10:00",
        "in_review_at": "2025-03-04 11:00",
        "accepted_at": "2025-03-05 08:15",
        "contacting_at": "2025-03-05 10:00",
        "scheduled_at": "2025-03-06 14:20",
        "seen_at": "2025-03-18 10:05",
        "loop_closed_at": "2025-03-20 16:00",
        "appointment_at": "2025-03-18 09:00",
        "appointment_outcome": "attended",
        "visit_value": "240.00",
    },
    {
        "patient_last_name": "Okafor",
        "patient_first_name": "James",
        "patient_date_of_birth": "11/30/1975",
        "source_type": "other",
        "source_other": "Community health fair",
        "channel": "phone",
        "department": "spine",
        "urgency": "urgent",
        "received_at": "03/10/2025 13:45",
        "in_review_at": "03/11/2025 09:00",
        "declined_at": "03/11/2025 15:30",
        "end_reason": "outside_scope",
    },
)


def example_row(index: int) -> list[str]:
    """Template row `index` in COLUMNS order (blank where the example leaves a column out)."""
    return [EXAMPLE_ROWS[index].get(name, "") for name in COLUMN_NAMES]


def state_words(state: str) -> str:
    """'in_review' -> 'in review', as messages say it."""
    return state.replace("_", " ")


# ---- the event log: the second, full-fidelity layout ---------------------------------
#
# One row per state change and one per appointment, grouped by referral_key. Returns to a
# state, second no-shows and every appointment at the time it was for are all kept, and
# each change comes from the state of the row before it, never guessed.

EVENT_LOG_MARK = "to_state"  # a header with this column is an event log

_EVENT_KEY = Column(
    "referral_key",
    ALWAYS,
    "Your key for the referral, the same on each of its rows (any text; the rows of one "
    "referral need not be next to each other).",
    "A-1001",
)
_STATE_CHANGE = (
    Column(
        "to_state",
        "on a state row",
        f"The state reached: {'|'.join(INBOUND)}. Each referral has one "
        "received row, and its other states follow it in time, each from the one before.",
        "received",
    ),
    Column(
        "at",
        "on a state row",
        "When that state was reached (the received row: when the referral arrived).",
        "2025-03-04 09:30",
    ),
    Column(
        "reason",
        "on a declined, unreachable or cancelled row",
        "Why it ended: declined: "
        f"{_values(DeclineReason)}; unreachable: {_values(UnreachableReason)}; cancelled: "
        f"{_values(CancelReason)}; or your own wording, mapped once.",
        "",
    ),
)
_APPOINTMENT = (
    Column(
        "booked_at",
        "on an appointment row",
        "When the appointment was booked.",
        "2025-03-06 14:20",
    ),
    Column(
        "appointment_at",
        "on an appointment row",
        "When the appointment was for.",
        "2025-03-10 09:00",
    ),
    Column(
        "appointment_outcome",
        OPTIONAL,
        f"{_values(AppointmentOutcome)}, or blank (still ahead).",
        "no_show",
    ),
    Column(
        "visit_value",
        OPTIONAL,
        "An attended visit's value, an amount of 0 or more (no currency sign).",
        "",
    ),
    Column(
        "appointment_department",
        OPTIONAL,
        "The department's code or name, when not the referral's. Blank: the referral's.",
        "",
    ),
    Column(
        "appointment_location",
        OPTIONAL,
        "Where the visit was: a location's name, as set up in refloop. Blank: none given.",
        "",
    ),
)


_CONTACT = (
    Column(
        "contacted_at",
        "on a contact row",
        "When someone tried to reach the patient (each attempt its own row, while the "
        "referral was open).",
        "2025-03-06 10:00",
    ),
    Column(
        "contact_channel",
        OPTIONAL,
        f"How: {_values(ContactChannel)}. Blank: phone.",
        "phone",
    ),
    Column(
        "contact_outcome",
        "on a contact row",
        f"What came of it: {_values(ContactOutcome)}.",
        "reached",
    ),
)


def _on_received_row(column: Column) -> Column:
    """A one-row layout column as the event log reads it: from the referral's received row."""
    required = "on the received row" if column.always_required else column.required
    return Column(column.name, required, column.meaning, column.example)


_FIRST_CONTACT = Column(
    "first_contact_at",
    OPTIONAL,
    "The first attempt to reach the patient (what time to first contact measures). Blank: "
    "the earliest contact row. Without contact rows, one phone attempt at this time.",
    "",
)
_REFERRAL_DETAILS = (
    *(_on_received_row(c) for c in (*_IDENTITY, *_SOURCE, *_ROUTING)),
    _on_received_row(_FIRST_CONTACT),
)
EVENT_LOG_COLUMNS: tuple[Column, ...] = (
    _EVENT_KEY,
    *_STATE_CHANGE,
    *_APPOINTMENT,
    *_CONTACT,
    *_REFERRAL_DETAILS,
)
EVENT_LOG_NAMES: tuple[str, ...] = tuple(c.name for c in EVENT_LOG_COLUMNS)
EVENT_LOG_BY_NAME: dict[str, Column] = {c.name: c for c in EVENT_LOG_COLUMNS}
EVENT_LOG_REQUIRED: tuple[str, ...] = (
    "referral_key",
    "to_state",
    "at",
    "patient_last_name",
    "patient_first_name",
    "patient_date_of_birth",
    "source_type",
    "department",
)

# A referral that went back to review, missed a visit, was booked again and seen, and one
# declined in the practice's own words; valid where a department "spine" exists.
_RETURNED = {"referral_key": "A-1001"}
EVENT_LOG_EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        **_RETURNED,
        "to_state": "received",
        "at": "2025-03-04 09:30",
        "patient_last_name": "Rivera",
        "patient_first_name": "Ana",
        "patient_date_of_birth": "1968-04-12",
        "source_type": "provider",
        "referring_practice": "Prairie Family Medicine",
        "referring_provider_npi": "1234567893",
        "referring_provider_name": "Lee, Morgan",
        "channel": "fax",
        "department": "spine",
        "urgency": "routine",
    },
    {**_RETURNED, "to_state": "in_review", "at": "2025-03-04 11:00"},
    {**_RETURNED, "to_state": "pending_info", "at": "2025-03-04 12:00"},
    {**_RETURNED, "to_state": "in_review", "at": "2025-03-05 08:00"},
    {**_RETURNED, "to_state": "accepted", "at": "2025-03-05 08:15"},
    {**_RETURNED, "to_state": "contacting", "at": "2025-03-06 10:00"},
    {**_RETURNED, "contacted_at": "2025-03-06 10:05", "contact_outcome": "no_answer"},
    {
        **_RETURNED,
        "contacted_at": "2025-03-06 14:10",
        "contact_channel": "phone",
        "contact_outcome": "reached",
    },
    {**_RETURNED, "to_state": "scheduled", "at": "2025-03-06 14:20"},
    {
        **_RETURNED,
        "booked_at": "2025-03-06 14:20",
        "appointment_at": "2025-03-10 09:00",
        "appointment_outcome": "no_show",
    },
    {**_RETURNED, "to_state": "no_show", "at": "2025-03-10 10:00"},
    {**_RETURNED, "to_state": "scheduled", "at": "2025-03-11 09:00"},
    {
        **_RETURNED,
        "booked_at": "2025-03-11 09:00",
        "appointment_at": "2025-03-18 09:00",
        "appointment_outcome": "attended",
        "visit_value": "240.00",
    },
    {**_RETURNED, "to_state": "seen", "at": "2025-03-18 10:05"},
    {**_RETURNED, "to_state": "loop_closed", "at": "2025-03-20 16:00"},
    {
        "referral_key": "A-1002",
        "to_state": "received",
        "at": "03/10/2025 13:45",
        "patient_last_name": "Okafor",
        "patient_first_name": "James",
        "patient_date_of_birth": "11/30/1975",
        "source_type": "other",
        "source_other": "Community health fair",
        "channel": "phone",
        "department": "spine",
        "urgency": "urgent",
    },
    {"referral_key": "A-1002", "to_state": "in_review", "at": "03/11/2025 09:00"},
    {
        "referral_key": "A-1002",
        "to_state": "declined",
        "at": "03/11/2025 15:30",
        "reason": "outside_scope",
    },
)


def event_log_example_row(index: int) -> list[str]:
    """Event-log template row `index` in EVENT_LOG_NAMES order."""
    return [EVENT_LOG_EXAMPLE_ROWS[index].get(name, "") for name in EVENT_LOG_NAMES]
