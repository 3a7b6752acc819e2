"""The bottleneck finder as it was before its reads were made numeric (refloop dc8838c,
src/refloop/analytics/bottlenecks.py): a test-only reference the finder's output is
compared with (test_bottlenecks_reference.py). Two changes only: the reads order rows
received (or dated) at the same moment by id, as the finder does now (the old order of
such rows was the database's choice, so no two runs could be compared on them), and the
most common decline reason is taken among equals in DeclineReason's order (it was a
set's, different from one process to the next)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from refloop.analytics import coverage, metrics, shifts
from refloop.analytics.metrics import Period, Scope
from refloop.analytics.models import AppointmentFact
from refloop.core.models import User
from refloop.network.models import Practice
from refloop.practice.models import Department, Location, Organization
from refloop.referrals.models import DeclineReason, ReferralChannel, Urgency

MOST_SENTENCES = 6
MOST_FINDINGS = 3
# A group made of referrals already named for the same measure at least this much
# (shared ÷ the smaller group) says nothing new.
SAME_REFERRALS = 0.5


@dataclass(frozen=True)
class Stage:
    key: str
    column: str
    wait: str  # completes "wait a median 3.1 days …"


STAGES = (
    Stage("first_contact", "first_contact_hours", "for first contact"),
    Stage("in_review", "dwell_in_review", "in review"),
    Stage("pending_info", "dwell_pending_info", "for missing information"),
    Stage("accepted", "dwell_accepted", "between acceptance and the first call"),
    Stage("contacting", "dwell_contacting", "to be booked once outreach starts"),
    Stage("scheduled", "dwell_scheduled", "for their appointment"),
    Stage("seen", "dwell_seen", "for the report to go back after the visit"),
)
# The period before when it is not compared: no stage measured there.
_NOTHING = {stage.column: {"count": 0, "p50": None} for stage in STAGES}
STAGE_WORDS = {
    "received": "on arrival",
    "in_review": "in review",
    "pending_info": "while waiting for information",
    "accepted": "after acceptance",
    "contacting": "while we tried to reach the patient",
    "scheduled": "after booking",
    "no_show": "after a no-show",
}
DIMENSIONS = (
    ("urgency", "department_id"),
    ("department_id",),
    ("assignee_id",),
    ("channel",),
    ("practice_id",),
)


def duration(hours: float, unit: str | None = None, *, bare: bool = False) -> str:
    """Hours in words: '30.5 hours', '3.1 days' (days from 48 hours on, unless `unit`
    says); `bare` leaves the unit off (the second figure of a pair)."""
    unit = unit or ("days" if hours >= 48 else "hours")
    figure = f"{hours / 24:.1f}" if unit == "days" else f"{hours:.1f}"
    return figure if bare else f"{figure} {unit}"


def _names() -> dict[str, dict]:
    return {
        "department_id": dict(Department.objects.values_list("pk", "name")),
        "assignee_id": {
            pk: (f"{first} {last}".strip() or username)
            for pk, username, first, last in User.objects.values_list(
                "pk", "username", "first_name", "last_name"
            )
        },
        "practice_id": dict(Practice.objects.values_list("pk", "name")),
        "channel": {value: label.lower() for value, label in ReferralChannel.choices},
    }


def _subject(dimension: tuple[str, ...], key: tuple, names: dict) -> str | None:
    """The referrals of a group in words: 'Routine referrals to Spine', 'Referrals
    assigned to Cora Diaz'…; None when a member is missing (unassigned, no department)."""
    if any(value in (None, "") for value in key):
        return None
    parts = dict(zip(dimension, key, strict=True))
    if dimension == ("urgency", "department_id"):
        department = names["department_id"].get(parts["department_id"])
        return f"{parts['urgency'].capitalize()} referrals to {department}"
    if dimension == ("department_id",):
        return f"Referrals to {names['department_id'].get(key[0])}"
    if dimension == ("assignee_id",):
        return f"Referrals assigned to {names['assignee_id'].get(key[0])}"
    if dimension == ("channel",):
        return f"Referrals that came by {names['channel'].get(key[0], key[0])}"
    return f"Referrals from {names['practice_id'].get(key[0])}"


def _subject_of_appointments(dimension: tuple[str, ...], key: tuple, names: dict) -> str | None:
    if any(value in (None, "") for value in key):
        return None
    if dimension == ():
        return "Appointments"
    if dimension == ("location_id",):
        return f"Appointments at {names['location_id'].get(key[0])}"
    if dimension == ("department_id",):
        return f"Appointments in {names['department_id'].get(key[0])}"
    return f"Appointments of referrals from {names['practice_id'].get(key[0])}"


def _overall(scope: Scope) -> dict[str, dict]:
    return metrics.clocks(scope)  # shared with the funnel and the headline figures


def _lost_by_stage(scope: Scope) -> dict[str, int]:
    return metrics.lost(scope)["by_stage"]


def find(scope: Scope, *, compared: bool | None = None) -> dict:
    """{"stage", "sentences", "findings", "stages", …} for the scope's period.

    `findings` are the changes said (see the module's rule), most important first, each
    with its sentence and the counts it rests on; `stage` is the stage of the first
    finding about a wait, or else the stage with the longest median wait. When the data
    does not cover the period before (`compared` False; by default coverage.comparison
    decides), the changes are looked for inside the period alone."""
    if compared is None:
        compared = coverage.comparison(scope)["compared"]
    previous = scope.previous()
    now_overall = _overall(scope)
    before_overall = _overall(previous) if compared else _NOTHING
    stages = []
    for stage in STAGES:
        now, before = now_overall[stage.column], before_overall[stage.column]
        stages.append(
            {
                "stage": stage.key,
                "count": now["count"],
                "median_hours": now["p50"],
                "previous_count": before["count"],
                "previous_median_hours": before["p50"],
            }
        )
    findings = _findings(scope, compared=compared)
    sentences = [finding["sentence"] for finding in findings]
    waits = [finding for finding in findings if finding["stage"]]
    chosen = (
        next(s for s in stages if s["stage"] == waits[0]["stage"])
        if waits
        else max(
            (s for s in stages if s["median_hours"] is not None),
            key=lambda s: s["median_hours"],
            default=None,
        )
    )
    if chosen is not None and not findings:
        stage = next(s for s in STAGES if s.key == chosen["stage"])
        count = chosen["count"]
        sentences.append(
            f"The longest wait is {stage.wait}: a median {duration(chosen['median_hours'])} "
            f"({count} referral{'s' if count != 1 else ''})."
        )
    lost_now = _lost_by_stage(scope)
    lost_before = _lost_by_stage(previous) if compared else {}
    if lost_now:
        where, count = max(lost_now.items(), key=lambda item: item[1])
        total = sum(lost_now.values())
        against = (
            f", against {lost_before.get(where, 0)} in the previous period" if compared else ""
        )
        sentences.append(
            f"Most lost referrals are lost {STAGE_WORDS.get(where, where)}: {count} of {total}"
            f"{against}."
        )
    return {
        "stage": chosen["stage"] if chosen else None,
        "sentences": sentences[:MOST_SENTENCES],
        "findings": findings,
        "stages": stages,
        "lost_by_stage": lost_now,
        "previous_lost_by_stage": lost_before,
    }


# ---- the changes inside the period --------------------------------------------------


@dataclass
class _Candidate:
    measure: str  # a stage's key, "no_show" or "declined"
    subject: str
    shift: shifts.Shift
    rows: np.ndarray  # positions of the samples from the change on, in the table read
    table: str  # "referrals" or "appointments": rows of one table compare with each other
    whole_period: bool = False  # compared, and the change starts with the period
    over_sla: bool = False
    sla_hours: float | None = None
    reason: str = ""


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_REFERRAL_KEYS = ("urgency", "department_id", "assignee_id", "channel", "practice_id")
# All referrals (appointments) last: of two groups with the same rise, the narrower is named.
_APPOINTMENT_DIMENSIONS: tuple[tuple[str, ...], ...] = (
    ("location_id",),
    ("department_id",),
    ("practice_id",),
    (),
)
_DECLINE_DIMENSIONS: tuple[tuple[str, ...], ...] = (
    ("department_id",),
    ("channel",),
    ("practice_id",),
    (),
)


def _start_of(scope: Scope, compared: bool) -> date:
    return scope.period.previous().start if compared else scope.period.start


def _columns(rows: list[tuple], names: tuple[str, ...]) -> dict[str, np.ndarray | list]:
    """Rows read with values_list, as one list per column."""
    columns = zip(*rows, strict=True) if rows else ([] for _ in names)
    return {name: list(column) for name, column in zip(names, columns, strict=True)}


def _read_referrals(scope: Scope, since: date) -> dict[str, np.ndarray | list]:
    """The scope's inbound referrals received from `since` to the period's end, one read:
    their local day, the groups' keys, their state and every stage's clock."""
    start, end = Period(since, scope.period.end).bounds(scope.zone)
    columns = (
        "received_at",
        *_REFERRAL_KEYS,
        "state",
        "lost_reason",
        *(stage.column for stage in STAGES),
    )
    rows = list(
        scope.filters.referrals(
            metrics.inbound().filter(received_at__gte=start, received_at__lt=end)
        )
        .order_by("received_at", "pk")
        .values_list(*columns)
    )
    table = _columns(rows, columns)
    table["day"] = _local_days(table.pop("received_at"), scope.zone)
    for stage in STAGES:
        table[stage.column] = np.array(table[stage.column], dtype=float)  # None: nan
    return table


def _read_appointments(scope: Scope, since: date) -> dict[str, np.ndarray | list]:
    """The scope's appointments dated from `since` to the period's end that were kept or
    missed, one read: their local day, the groups' keys and 1 for a no-show."""
    start, end = Period(since, scope.period.end).bounds(scope.zone)
    columns = ("starts_at", "outcome", "location_id", "department_id", "practice_id")
    rows = list(
        scope.filters.appointments(
            AppointmentFact.objects.filter(
                starts_at__gte=start, starts_at__lt=end, outcome__in=("attended", "no_show")
            )
        )
        .order_by("starts_at", "pk")
        .values_list(*columns)
    )
    table = _columns(rows, columns)
    table["day"] = _local_days(table.pop("starts_at"), scope.zone)
    table["no_show"] = np.array([o == "no_show" for o in table.pop("outcome")], dtype=float)
    return table


def _groups(table: dict, dimensions) -> list[tuple[tuple[str, ...], tuple, np.ndarray]]:
    """(dimension, key, positions) of every group of the table's rows: each column coded
    once, each dimension's rows sorted by their combined code (no loop over rows per
    dimension)."""
    count = len(table["day"])
    coded: dict[str, tuple[np.ndarray, list]] = {}
    for name in {name for dimension in dimensions for name in dimension}:
        index: dict = {}
        codes = np.fromiter(
            (index.setdefault(value, len(index)) for value in table[name]),
            dtype=np.int64,
            count=count,
        )
        coded[name] = (codes, list(index))
    found = []
    for dimension in dimensions:
        combined = np.zeros(count, dtype=np.int64)
        for name in dimension:
            codes, values = coded[name]
            combined = combined * len(values) + codes
        order = np.argsort(combined, kind="stable")
        edges = np.flatnonzero(np.diff(combined[order])) + 1
        for positions in np.split(order, edges) if count else []:
            code, key = int(combined[positions[0]]), []
            for name in reversed(dimension):
                codes, values = coded[name]
                code, at = divmod(code, len(values))
                key.append(values[at])
            found.append((dimension, tuple(reversed(key)), positions))
    return found


def _offset(timestamp: int, zone) -> float:
    offset = datetime.fromtimestamp(timestamp, UTC).astimezone(zone).utcoffset()
    return offset.total_seconds() if offset else 0.0


def _local_days(moments: list | np.ndarray, zone) -> np.ndarray:
    """The local date (as an ordinal) of each moment: the zone's offset looked up once per
    quarter hour the moments fall in (every zone's changes fall on a quarter hour), not
    once per moment."""
    seconds = np.fromiter((m.timestamp() for m in moments), dtype=np.float64, count=len(moments))
    quarters, inverse = np.unique(np.floor(seconds / 900).astype(np.int64), return_inverse=True)
    offsets = np.array([_offset(int(q) * 900, zone) for q in quarters], dtype=np.float64)
    local = seconds + offsets[inverse] if len(moments) else seconds
    return (np.floor(local / 86400).astype(np.int64) + _EPOCH_ORDINAL).reshape(-1)


def _lower(subject: str) -> str:
    return subject[0].lower() + subject[1:]


def _findings(scope: Scope, *, compared: bool) -> list[dict]:
    """The changes worth saying, most important first (the module's rule)."""
    since = _start_of(scope, compared)
    first_split = scope.period.start.toordinal()
    referrals = _read_referrals(scope, since)
    appointments = _read_appointments(scope, since)
    names = _names()
    names["location_id"] = dict(Location.objects.values_list("pk", "name"))
    org = Organization.current()
    sla = {u: org.first_contact_sla(u).total_seconds() / 3600 for u in Urgency.values}

    targets = np.array([sla.get(u, np.nan) for u in referrals["urgency"]], dtype=float)
    candidates: list[_Candidate] = []
    tests = 0
    referral_groups = _groups(referrals, (*DIMENSIONS, ()))
    for stage in STAGES:
        values = referrals[stage.column]
        assert isinstance(values, np.ndarray)
        for dimension, key, positions in referral_groups:
            subject = "Referrals" if dimension == () else _subject(dimension, key, names)
            measured = positions[~np.isnan(values[positions])]
            if subject is None or len(measured) < 2 * shifts.MIN_COUNT:
                continue
            tests += 1
            shift = shifts.strongest_rise(
                referrals["day"][measured], values[measured], first_split=first_split
            )
            if shift is None:
                continue
            candidate = _Candidate(stage.key, subject, shift, measured[shift.rows], "referrals")
            candidate.whole_period = _whole(shift, referrals["day"][measured], first_split)
            if stage.key == "first_contact":
                due = targets[candidate.rows]
                candidate.over_sla = bool(np.median(values[candidate.rows] / due) > 1)
                if len(np.unique(due)) == 1:
                    candidate.sla_hours = float(due[0])
            candidates.append(candidate)

    declined = np.array([state == "declined" for state in referrals["state"]], dtype=float)
    for dimension, key, positions in _groups(referrals, _DECLINE_DIMENSIONS):
        subject = "Referrals" if dimension == () else _subject(dimension, key, names)
        if subject is None or len(positions) < 2 * shifts.MIN_COUNT:
            continue
        tests += 1
        shift = shifts.strongest_rise(
            referrals["day"][positions], declined[positions], first_split=first_split, rate=True
        )
        if shift is not None:
            rows = positions[shift.rows]
            reasons = [referrals["lost_reason"][i] for i in rows if declined[i]]
            order = ["", *DeclineReason.values]
            ranked = sorted(set(reasons), key=lambda r: order.index(r) if r in order else -1)
            reason = max(ranked, key=reasons.count) if reasons else ""
            candidate = _Candidate("declined", subject, shift, rows, "referrals", reason=reason)
            candidate.whole_period = _whole(shift, referrals["day"][positions], first_split)
            candidates.append(candidate)

    for dimension, key, positions in _groups(appointments, _APPOINTMENT_DIMENSIONS):
        subject = _subject_of_appointments(dimension, key, names)
        if subject is None or len(positions) < 2 * shifts.MIN_COUNT:
            continue
        tests += 1
        no_show = appointments["no_show"]
        assert isinstance(no_show, np.ndarray)
        shift = shifts.strongest_rise(
            appointments["day"][positions], no_show[positions], first_split=first_split, rate=True
        )
        if shift is not None:
            candidate = _Candidate("no_show", subject, shift, positions[shift.rows], "appointments")
            candidate.whole_period = _whole(shift, appointments["day"][positions], first_split)
            candidates.append(candidate)

    worth = [
        c for c in candidates if c.shift.significant(tests) and c.shift.rise >= shifts.MIN_RISE
    ]
    worth.sort(key=lambda c: (not c.over_sla, -c.shift.rise * c.shift.count_after))
    said: list[_Candidate] = []
    for candidate in worth:
        if any(_same(candidate, other) for other in said):
            continue
        said.append(candidate)
        if len(said) == MOST_FINDINGS:
            break
    return [_finding(c, scope, compared=compared, tests=tests) for c in said]


def _whole(shift: shifts.Shift, days: np.ndarray, first_split: int) -> bool:
    """The change starts with the period: every sample before it is in the period before."""
    return shift.count_before == int(np.sum(days < first_split))


def _same(one: _Candidate, other: _Candidate) -> bool:
    """Mostly the same referrals (appointments) for the same measure."""
    if one.measure != other.measure or one.table != other.table:
        return False
    shared = len(np.intersect1d(one.rows, other.rows, assume_unique=True))
    return shared >= SAME_REFERRALS * min(len(one.rows), len(other.rows))


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _finding(c: _Candidate, scope: Scope, *, compared: bool, tests: int) -> dict:
    shift = c.shift
    start = date.fromordinal(shift.since)
    opening = "In this period" if c.whole_period else f"Since {start.day} {start:%b}"
    earlier = " in the previous period" if c.whole_period else ""
    subject = _lower(c.subject)
    n = shift.count_after
    stage = next((s for s in STAGES if s.key == c.measure), None)
    if stage is not None:
        unit = "days" if max(shift.after, shift.before) >= 48 else "hours"
        target = f"SLA {c.sla_hours:g} h; " if c.sla_hours is not None else ""
        sentence = (
            f"{opening}, {subject} wait a median {duration(shift.after, unit)} {stage.wait}, "
            f"up from {duration(shift.before, unit, bare=True)}{earlier} "
            f"({target}{n} referral{'s' if n != 1 else ''} affected)."
        )
    elif c.measure == "no_show":
        missed = round(shift.after * n)
        sentence = (
            f"{opening}, {subject} end in a no-show {_percent(shift.after)} of the time, "
            f"up from {_percent(shift.before)}{earlier} ({missed} of {n} appointments)."
        )
    else:
        declined = round(shift.after * n)
        reason = (
            f", most as {DeclineReason(c.reason).label.lower()}"
            if c.reason in DeclineReason.values
            else ""
        )
        sentence = (
            f"{opening}, {subject} are declined {_percent(shift.after)} of the time, "
            f"up from {_percent(shift.before)}{earlier}{reason} "
            f"({declined} of {n} referrals)."
        )
    return {
        "measure": c.measure,
        "stage": stage.key if stage else None,
        "subject": c.subject,
        "since": scope.period.start if c.whole_period else start,
        "before": shift.before,
        "after": shift.after,
        "count_before": shift.count_before,
        "count_after": n,
        # Rates: the no-shows (declines) counted before the change and since.
        "events_before": None if stage else round(shift.before * shift.count_before),
        "events_after": None if stage else round(shift.after * n),
        "over_sla": c.over_sla,
        "sla_hours": c.sla_hours,
        "p": min(shift.p * shift.splits * tests, 1.0),
        "sentence": sentence,
    }
