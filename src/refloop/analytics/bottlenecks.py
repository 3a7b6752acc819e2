"""The bottleneck finder: what got worse, for whom, and since when, in plain sentences
at the top of the dashboard; then where most referrals are lost.

The rule (on docs/design.md's clocks and rates; the statistics in analytics.shifts):
- Measures: the wait for first contact (the one clock with a target, the first-contact
  SLA of the referral's urgency), the time spent in each open stage, the share of
  appointments that end in a no-show (by the day of the appointment) and the share of
  referrals declined (by the day received).
- Groups: all the scope's referrals, and each urgency and department, department,
  coordinator, channel and referring practice (appointments: each location, department
  and referring practice).
- For each measure and group, the day inside the period from which it rose the most
  (analytics.shifts.strongest_rise): a problem that started three months ago is found in
  a twelve-month view, with its start date. When the data covers the period before
  (analytics.coverage), that period is the baseline too, and a change from the period's
  first day reads "In this period, … up from … in the previous period".
- A change is said only when it is unlikely to be noise (Mann–Whitney, corrected for
  every day, group and measure tried; at least shifts.MIN_COUNT samples on each side)
  and at least a quarter higher than before: a wait going from 13.9 to 14.0 days is not.
- Order: first-contact waits whose median is now over the SLA first; then the relative
  rise times the referrals (or appointments) it concerns. A group made mostly of the
  referrals of one already named for the same measure is not named again.
- With no change to say, the longest wait, without a comparison.

The reads: one statement per fact table, in time order, returning numbers only (seconds
since 1970, ids, codes and 0/1 flags computed by the database, the clocks) on a plain
cursor, kept as numpy columns; the days, groups and tests are array operations over them,
and the many small groups of a measure are screened together before any is tested alone
(shifts.could_be_significant).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from django.db import connection
from django.db.models import Case, F, Func, IntegerField, QuerySet, Value, When

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
# The text columns the reads return as codes: each value's position in its tuple.
URGENCIES = tuple(Urgency.values)
CHANNELS = tuple(ReferralChannel.values)
DECLINE_REASONS = tuple(DeclineReason.values)
_CODED = {"urgency": URGENCIES, "channel": CHANNELS}
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


@dataclass(frozen=True)
class _Try:
    """One measure of one group, to test: the positions of its samples in a table read."""

    measure: str
    subject: str
    samples: np.ndarray
    table: dict[str, np.ndarray]
    values: np.ndarray  # the measure, for every row of the table


def _start_of(scope: Scope, compared: bool) -> date:
    return scope.period.previous().start if compared else scope.period.start


class _Epoch(Func):
    """A moment as whole seconds since 1970 (UTC), computed by the database: the day is
    then found from plain integers (_local_days), with no datetime made per row."""

    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores a moment as naive UTC text; strftime('%s') reads it as UTC. The
        # percent sign is doubled twice: once for this template, once for the statement
        # (whose %s are the parameters').
        template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _code(column: str, values) -> Case:
    """A text column as the position of its value in `values` (NULL for any other value,
    the empty one included): the read returns numbers only, and a group of NULL is never
    named (_subject), as a group of "" was not."""
    return Case(
        *(When(**{column: value}, then=Value(at)) for at, value in enumerate(values)),
        default=Value(None),
        output_field=IntegerField(),
    )


def _flag(column: str, value: str) -> Case:
    return Case(
        When(**{column: value}, then=Value(1)), default=Value(0), output_field=IntegerField()
    )


def _numbers(qs: QuerySet, columns: dict) -> dict[str, np.ndarray]:
    """The queryset's rows as one float array per column (NULL: nan), read in one
    statement on a plain cursor: no model, no converter and no Python object kept per row
    (a row is a tuple of numbers until numpy takes the lot)."""
    # Annotated under names no model field has ("urgency" is one, coded here).
    aliases = {f"finder_{name}": expression for name, expression in columns.items()}
    sql, params = qs.annotate(**aliases).values_list(*aliases).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    table = np.array(rows, dtype=float).reshape(len(rows), len(columns))
    return {name: table[:, at] for at, name in enumerate(columns)}


def _read_referrals(scope: Scope, since: date) -> dict[str, np.ndarray]:
    """The scope's inbound referrals received from `since` to the period's end, one read
    in time order (no sort per group: shifts.strongest_rise): their local day, the
    groups' keys (ids, and the urgency and channel as codes: URGENCIES, CHANNELS), 1 for a
    declined referral and its reason (DECLINE_REASONS), and every stage's clock."""
    start, end = Period(since, scope.period.end).bounds(scope.zone)
    qs = scope.filters.referrals(
        metrics.inbound().filter(received_at__gte=start, received_at__lt=end)
    ).order_by("received_at", "pk")
    columns = {
        "epoch": _Epoch("received_at"),
        "urgency": _code("urgency", URGENCIES),
        "department_id": F("department_id"),
        "assignee_id": F("assignee_id"),
        "channel": _code("channel", CHANNELS),
        "practice_id": F("practice_id"),
        "declined": _flag("state", "declined"),
        "reason": _code("lost_reason", DECLINE_REASONS),
        **{f"clock_{stage.key}": F(stage.column) for stage in STAGES},
    }
    table = _numbers(qs, columns)
    table["day"] = _local_days(table.pop("epoch"), scope.zone)
    return table


def _read_appointments(scope: Scope, since: date) -> dict[str, np.ndarray]:
    """The scope's appointments dated from `since` to the period's end that were kept or
    missed, one read in time order: their local day, the groups' keys and 1 for a
    no-show."""
    start, end = Period(since, scope.period.end).bounds(scope.zone)
    qs = scope.filters.appointments(
        AppointmentFact.objects.filter(
            starts_at__gte=start, starts_at__lt=end, outcome__in=("attended", "no_show")
        )
    ).order_by("starts_at", "pk")
    columns = {
        "epoch": _Epoch("starts_at"),
        "no_show": _flag("outcome", "no_show"),
        "location_id": F("location_id"),
        "department_id": F("department_id"),
        "practice_id": F("practice_id"),
    }
    table = _numbers(qs, columns)
    table["day"] = _local_days(table.pop("epoch"), scope.zone)
    return table


def _first_seen_codes(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's value as a code numbering the values in the order they first appear
    (so groups come out in that order, as they always have: of two changes ranked equal,
    the first found is named), and the values by code."""
    values, first, inverse = np.unique(column, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank[inverse.reshape(-1)], values[order]


def _groups(table: dict, dimensions) -> list[tuple[tuple[str, ...], tuple, np.ndarray]]:
    """(dimension, key, positions) of every group of the table's rows: each column coded
    once, each dimension's rows sorted by their combined code (no loop over rows). A key
    holds the column's numbers (nan: none)."""
    count = len(table["day"])
    coded = {
        name: _first_seen_codes(table[name])
        for name in {name for dimension in dimensions for name in dimension}
    }
    found = []
    for dimension in dimensions:
        combined = np.zeros(count, dtype=np.int64)
        for name in dimension:
            codes, values = coded[name]
            combined = combined * len(values) + codes
        order = np.argsort(combined, kind="stable")
        edges = np.flatnonzero(np.diff(combined[order])) + 1
        for positions in np.split(order, edges) if count else []:
            first = positions[0]
            key = tuple(_value(name, table[name][first]) for name in dimension)
            found.append((dimension, key, positions))
    return found


def _value(name: str, number: float) -> int | str | None:
    """A key's value as the read gave it (a number: an id, or a code) back as the column's
    own: an id, an urgency or channel; None for none."""
    if np.isnan(number):
        return None
    if name in _CODED:
        return _CODED[name][int(number)]
    return int(number)


def _offset(timestamp: int, zone) -> int:
    offset = datetime.fromtimestamp(timestamp, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _offsets(first: int, last: int, zone) -> tuple[np.ndarray, np.ndarray]:
    """The zone's offset changes between two moments (seconds since 1970): the moments
    they take effect (every zone's changes fall on a quarter hour) and the offsets from
    the first moment and from each change on. Found day by day, then to the quarter hour
    by bisection: a few hundred lookups for years of data."""
    quarter, day = 900, 86400
    changes, offsets = [], [_offset(first, zone)]
    at = first - first % quarter
    while at <= last:
        step = min(day, last - at + quarter)
        ahead = at + step - step % quarter
        if _offset(ahead, zone) != offsets[-1]:
            low, high = at, ahead  # the change is after low, at or before high
            while high - low > quarter:
                middle = low + (high - low) // (2 * quarter) * quarter
                if _offset(middle, zone) == offsets[-1]:
                    low = middle
                else:
                    high = middle
            changes.append(high)
            offsets.append(_offset(high, zone))
        at = ahead
    return np.array(changes, dtype=np.int64), np.array(offsets, dtype=np.int64)


def _local_days(seconds: np.ndarray, zone) -> np.ndarray:
    """The local date (as an ordinal) of each moment given in seconds since 1970."""
    whole = seconds.astype(np.int64)
    if not len(whole):
        return whole
    changes, offsets = _offsets(int(whole.min()), int(whole.max()), zone)
    local = whole + offsets[np.searchsorted(changes, whole, side="right")]
    return local // 86400 + _EPOCH_ORDINAL


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

    # Each referral's first-contact target: its urgency's code picks it (none: nan).
    by_code = np.array([sla.get(u, np.nan) for u in URGENCIES] + [np.nan], dtype=float)
    urgency = referrals["urgency"]
    targets = by_code[np.where(np.isnan(urgency), len(URGENCIES), urgency).astype(np.int64)]
    # Every group and measure tried, in the order they always were: of two changes ranked
    # equal, the first tried is named.
    tries: list[_Try] = []
    referral_groups = [
        (subject, positions)
        for dimension, key, positions in _groups(referrals, (*DIMENSIONS, ()))
        if len(positions) >= 2 * shifts.MIN_COUNT
        and (subject := "Referrals" if dimension == () else _subject(dimension, key, names))
    ]
    for stage in STAGES:
        values = referrals[f"clock_{stage.key}"]
        for subject, positions in referral_groups:
            measured = positions[~np.isnan(values[positions])]
            if len(measured) >= 2 * shifts.MIN_COUNT:
                tries.append(_Try(stage.key, subject, measured, referrals, values))
    for dimension, key, positions in _groups(referrals, _DECLINE_DIMENSIONS):
        subject = "Referrals" if dimension == () else _subject(dimension, key, names)
        if subject is not None and len(positions) >= 2 * shifts.MIN_COUNT:
            tries.append(_Try("declined", subject, positions, referrals, referrals["declined"]))
    for dimension, key, positions in _groups(appointments, _APPOINTMENT_DIMENSIONS):
        subject = _subject_of_appointments(dimension, key, names)
        if subject is not None and len(positions) >= 2 * shifts.MIN_COUNT:
            no_show = appointments["no_show"]
            tries.append(_Try("no_show", subject, positions, appointments, no_show))
    tests = len(tries)

    candidates: list[_Candidate] = []
    for measure in dict.fromkeys(t.measure for t in tries):
        batch = [t for t in tries if t.measure == measure]
        rate = measure in ("declined", "no_show")
        # Large groups always go to the test; the many small ones are screened together.
        screened = np.array([len(t.samples) > shifts.MOST_TESTED for t in batch])
        small = [t for t, large in zip(batch, screened, strict=True) if not large]
        if small:
            screened[~screened] = shifts.could_be_significant(
                np.concatenate([t.table["day"][t.samples] for t in small]),
                np.concatenate([t.values[t.samples] for t in small]),
                np.array([len(t.samples) for t in small], dtype=np.int64),
                first_split=first_split,
                tests=tests,
            )
        for one, kept in zip(batch, screened, strict=True):
            if not kept:
                continue
            days = one.table["day"][one.samples]
            shift = shifts.strongest_rise(
                days, one.values[one.samples], first_split=first_split, rate=rate
            )
            if shift is None:
                continue
            rows = one.samples[shift.rows]
            table = "appointments" if measure == "no_show" else "referrals"
            candidate = _Candidate(measure, one.subject, shift, rows, table)
            candidate.whole_period = _whole(shift, days, first_split)
            if measure == "first_contact":
                due = targets[rows]
                candidate.over_sla = bool(np.median(one.values[rows] / due) > 1)
                if len(np.unique(due)) == 1:
                    candidate.sla_hours = float(due[0])
            elif measure == "declined":
                declined = rows[one.values[rows] == 1]
                candidate.reason = _most_common_reason(referrals["reason"][declined])
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


def _most_common_reason(codes: np.ndarray) -> str:
    """The reason most of these declines give ("" when most give none); of reasons given
    equally often, the first in DECLINE_REASONS."""
    if not len(codes):
        return ""
    given = codes[~np.isnan(codes)].astype(np.int64)
    counts = np.bincount(given, minlength=len(DECLINE_REASONS))
    best = int(np.argmax(counts))
    return DECLINE_REASONS[best] if counts[best] > len(codes) - len(given) else ""


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
