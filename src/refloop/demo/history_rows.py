"""Realistic history rows, for the throughput benchmark and the tests: every state, repeat
patients, providers known and new to the directory, US and ISO dates. Test data, not
product: it lives with the demo, above the history app whose layout it writes."""

import random
from datetime import date, datetime, timedelta

from refloop.history.layout import COLUMN_NAMES
from refloop.network.npi import check_digit

FIRST_NAMES = (
    "Ana James Maria Robert Linda Michael Susan David Karen Joseph Nancy Thomas Lisa "
    "Daniel Betty Paul Helen Mark Sandra Steven Donna Kevin Carol Brian Ruth George"
).split()
LAST_NAMES = (
    "Rivera Okafor Smith Johnson Williams Brown Jones Garcia Miller Davis Martinez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
    "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott"
).split()
# Final states with their weights, and the path from received to each.
PATHS = {
    ("in_review",): 4,
    ("pending_info",): 2,
    ("accepted",): 4,
    ("accepted", "contacting"): 4,
    ("accepted", "scheduled"): 6,
    ("accepted", "contacting", "scheduled", "no_show"): 2,
    ("accepted", "contacting", "scheduled", "seen"): 9,
    ("in_review", "accepted", "contacting", "scheduled", "seen", "loop_closed"): 30,
    ("accepted", "scheduled", "no_show", "rescheduled", "seen", "loop_closed"): 5,
    ("in_review", "declined"): 7,
    ("in_review", "pending_info", "declined"): 2,
    ("accepted", "contacting", "unreachable"): 5,
    ("cancelled",): 3,
    ("accepted", "contacting", "scheduled", "cancelled"): 4,
    (): 3,
}
REASONS = {
    "declined": ("outside_scope", "insurance_not_accepted", "not_clinically_indicated"),
    "unreachable": ("max_attempts_reached", "invalid_contact_details"),
    "cancelled": ("patient_request", "care_elsewhere", "referrer_request"),
}
SOURCES = {"provider": 70, "patient": 10, "self": 10, "marketing": 6, "other": 4}
CHANNELS = ("fax", "portal", "phone", "email", "web_form", "import")


def npi_for(serial: int) -> str:
    first_nine = f"1{serial % 100_000_000:08d}"
    return first_nine + check_digit(first_nine)


def history_rows(
    count: int,
    *,
    departments: list[str],
    now: datetime,
    seed: int = 2025,
    practices: int = 60,
    providers: int = 160,
    known_npis: set[str] | None = None,
    numbered: bool = True,
) -> list[dict[str, str]]:
    """`count` rows (dicts by column name) received over the 3 years before `now`."""
    rng = random.Random(seed)
    paths = [p for p in PATHS if PATHS[p]]
    weights = [PATHS[p] for p in paths]
    practice_names = [f"{rng.choice(LAST_NAMES)} Family Medicine {n}" for n in range(practices)]
    referrers = [
        (
            npi_for(900_000 + n),
            f"{rng.choice(LAST_NAMES)}, {rng.choice(FIRST_NAMES)}",
            practice_names[n % practices],
        )
        for n in range(providers)
    ]
    patients: list[tuple[str, str, str]] = []
    rows = []
    for serial in range(count):
        if patients and rng.random() < 0.1:
            last, first, birth = rng.choice(patients)  # a patient referred again
        else:
            birth_date = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
            last, first = rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES)
            birth = (
                birth_date.isoformat() if rng.random() < 0.8 else birth_date.strftime("%m/%d/%Y")
            )
            patients.append((last, first, birth))
        received = now - timedelta(days=rng.uniform(40, 3 * 365))
        received = received.replace(second=0, microsecond=0)
        row = {
            "referral_number": f"H-{serial:08d}" if numbered else "",
            "patient_last_name": last,
            "patient_first_name": first,
            "patient_date_of_birth": birth,
            "department": rng.choice(departments),
            "urgency": rng.choices(("routine", "urgent", "stat"), (80, 17, 3))[0],
            "channel": rng.choice(CHANNELS),
            "received_at": _time(received, rng),
        }
        _source(row, rng, referrers, known_npis)
        _journey(row, rng, received, rng.choices(paths, weights)[0])
        rows.append(row)
    return rows


def _time(at: datetime, rng: random.Random) -> str:
    if rng.random() < 0.85:
        return at.strftime("%Y-%m-%d %H:%M")
    return at.strftime("%m/%d/%Y %H:%M")


def _source(row: dict, rng: random.Random, referrers: list, known_npis: set[str] | None) -> None:
    source = rng.choices(list(SOURCES), list(SOURCES.values()))[0]
    row["source_type"] = source
    if source == "other":
        row["source_other"] = rng.choice(("Health fair", "Employer clinic", "Radio"))
    if source == "provider":
        npi, name, practice = rng.choice(referrers)
        row["referring_practice"] = practice
        row["referring_provider_npi"] = npi
        if known_npis is None or npi not in known_npis:
            row["referring_provider_name"] = name


def _journey(row: dict, rng: random.Random, received: datetime, path: tuple) -> None:
    at = received
    times: dict[str, datetime] = {}
    for state in path:
        at = at + timedelta(hours=rng.uniform(2, 96))
        at = at.replace(second=0, microsecond=0)
        times[state] = at
    for state, when in times.items():
        row[f"{state}_at"] = _time(when, rng)
    if "accepted" in times and rng.random() < 0.9:
        contact = times["accepted"] + timedelta(hours=rng.uniform(0.5, 30))
        end = next(
            (times[s] for s in ("unreachable", "cancelled", "loop_closed") if s in times), None
        )
        if end is None or contact < end:
            row["first_contact_at"] = _time(contact.replace(second=0, microsecond=0), rng)
    if "scheduled" in times:
        booked_at = times.get("rescheduled", times["scheduled"])
        appointment = booked_at + timedelta(days=rng.uniform(3, 20))
        if "seen" in times:
            appointment = times["seen"] - timedelta(hours=1)
        elif "no_show" in times and "rescheduled" not in times:
            appointment = times["no_show"] - timedelta(hours=1)
        elif "cancelled" in times:
            appointment = max(appointment, times["cancelled"] + timedelta(days=1))
        appointment = max(appointment, booked_at + timedelta(minutes=30))
        row["appointment_at"] = _time(appointment.replace(second=0, microsecond=0), rng)
        if "seen" in times:
            row["appointment_outcome"] = "attended"
            row["visit_value"] = f"{rng.choice((180, 240, 320, 450, 1250))}.00"
    for state in ("declined", "unreachable", "cancelled"):
        if state in times:
            row["end_reason"] = rng.choice(REASONS[state])


def as_lines(rows: list[dict[str, str]]) -> list[list[str]]:
    """Header and rows in the layout's column order, for csv.writer."""
    return [list(COLUMN_NAMES), *([row.get(name, "") for name in COLUMN_NAMES] for row in rows)]
