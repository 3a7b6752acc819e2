"""The referral clocks: when each step is due, and whether it is late.

One rule for every page, sweep and metric. An inbound referral has two clocks:

- first contact: due at `first_contact_due_at`, the target stamped when the referral
  arrived (the promise made then; a later edit of the SLA settings does not move it),
  done at the first contact attempt;
- report: due the practice's report target (`Organization.report_within_hours`, 168 hours
  unless changed in Settings) after `seen`, done when the loop is closed. Unlike first
  contact it is not stamped on the referral: a changed target applies to every report
  still due.

A clock is *running* while the referral is open and waiting for the step, *due soon*
while running with at least three quarters of its target used and not yet overdue,
*overdue* while running at or past its due time, *met* when the step was done by the due time
(inclusive) and *late* when it was done after it or is overdue. A clock stopped by the
referral ending otherwise (declined before anyone called) is neither met nor late.
`clock()` answers in Python for one referral; `clock_q()` is the same rule as a filter.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal

from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.expressions import Combinable
from django.db.models.lookups import GreaterThanOrEqual

from refloop.practice.models import Organization
from refloop.referrals import lifecycle
from refloop.referrals.models import Direction, Referral, State

FIRST_CONTACT = "first_contact"
REPORT = "report"
KINDS = (FIRST_CONTACT, REPORT)
REPORT_WITHIN = timedelta(hours=168)  # the report target a new practice starts with
# The share of a clock's target used up from which it is "due soon" (amber on the pages).
DUE_SOON_AT = Fraction(3, 4)

Condition = Literal["running", "due_soon", "overdue", "met", "late"]
CONDITIONS: tuple[Condition, ...] = ("running", "due_soon", "overdue", "met", "late")


@dataclass(frozen=True)
class Clock:
    kind: str  # FIRST_CONTACT or REPORT
    started_at: datetime
    due_at: datetime
    done_at: datetime | None  # when the step was done; None while it is not
    running: bool
    overdue: bool
    met: bool
    late: bool
    left: timedelta  # due_at minus when it was done (or now): negative is how late

    @property
    def target(self) -> timedelta:
        return self.due_at - self.started_at

    @property
    def used(self) -> float:
        """The share of the target used up (above 1 once past due)."""
        target = self.target.total_seconds()
        if target <= 0:
            return 1.0
        return 1 - self.left.total_seconds() / target

    @property
    def due_soon(self) -> bool:
        """Running, not yet overdue, with at least DUE_SOON_AT of the target used up.

        In whole multiples of time spans, as clock_q compares them in the database:
        used >= a/b is (b - a) x elapsed >= a x left.
        """
        if not self.running or self.overdue:
            return False
        elapsed = self.target - self.left
        share = DUE_SOON_AT
        return elapsed * (share.denominator - share.numerator) >= self.left * share.numerator


def _after(moment: datetime, span: timedelta) -> datetime:
    # Elapsed time, not wall-clock time: in a zone with daylight saving, 09:00 + 168 h
    # is not 09:00 a week later.
    return moment.astimezone(UTC) + span


def _clock(
    kind: str,
    *,
    started_at: datetime,
    due_at: datetime,
    done_at: datetime | None,
    running: bool,
    now: datetime,
) -> Clock:
    overdue = running and now >= due_at
    met = done_at is not None and done_at <= due_at
    late = (done_at is not None and done_at > due_at) or overdue
    return Clock(
        kind=kind,
        started_at=started_at,
        due_at=due_at,
        done_at=done_at,
        running=running,
        overdue=overdue,
        met=met,
        late=late,
        left=due_at - (done_at or now),
    )


def first_contact_due(org: Organization, urgency: str, received_at: datetime) -> datetime:
    """The first-contact target a referral is promised when it arrives; stamped on it
    as `first_contact_due_at`, which every clock then reads."""
    return _after(received_at, org.first_contact_sla(urgency))


def report_within() -> timedelta:
    """The practice's report target: how long after the visit the loop should be closed."""
    return Organization.current().report_within


def first_contact(referral: Referral, now: datetime) -> Clock | None:
    if referral.direction != Direction.INBOUND or referral.first_contact_due_at is None:
        return None
    return _clock(
        FIRST_CONTACT,
        started_at=referral.received_at,
        due_at=referral.first_contact_due_at,
        done_at=referral.first_contact_at,
        running=referral.state in lifecycle.OPEN and referral.first_contact_at is None,
        now=now,
    )


def report(referral: Referral, now: datetime) -> Clock | None:
    if referral.direction != Direction.INBOUND or referral.seen_at is None:
        return None
    closed = referral.closed_at if referral.state == State.LOOP_CLOSED else None
    return _clock(
        REPORT,
        started_at=referral.seen_at,
        due_at=_after(referral.seen_at, report_within()),
        done_at=closed,
        running=referral.state == State.SEEN,
        now=now,
    )


def clock(referral: Referral, now: datetime, *, kind: str | None = None) -> Clock | None:
    """The referral's running clock (first contact before report), or with `kind` that
    clock whether running or not; None where there is none."""
    if kind == FIRST_CONTACT:
        return first_contact(referral, now)
    if kind == REPORT:
        return report(referral, now)
    if kind is not None:
        raise ValueError(f"No clock {kind!r}: the clocks are {', '.join(KINDS)}.")
    for found in (first_contact(referral, now), report(referral, now)):
        if found is not None and found.running:
            return found
    return None


def _times(span: Combinable, factor: int) -> ExpressionWrapper:
    return ExpressionWrapper(span * Value(factor), output_field=DurationField())


def clock_q(kind: str, condition: Condition, *, now: datetime, prefix: str = "") -> Q:
    """`clock(referral, now, kind=kind).<condition>` as a filter on referrals, or with
    `prefix` (e.g. "referral__") on a model pointing at them."""

    def name(field: str) -> str:
        return prefix + field

    if kind == FIRST_CONTACT:
        exists = Q(
            **{name("direction"): Direction.INBOUND, name("first_contact_due_at__isnull"): False}
        )
        due: Combinable = F(name("first_contact_due_at"))
        done = name("first_contact_at")
        running = exists & Q(**{name("state__in"): lifecycle.OPEN, f"{done}__isnull": True})
        overdue = running & Q(**{name("first_contact_due_at__lte"): now})
        # The target differs per referral (stamped on arrival), so the share used up is
        # compared in the query: (b - a) x (now - received) >= a x (due - now).
        share = DUE_SOON_AT
        used_enough = GreaterThanOrEqual(
            _times(Value(now) - F(name("received_at")), share.denominator - share.numerator),
            _times(due - Value(now), share.numerator),
        )
        due_soon = running & ~Q(**{name("first_contact_due_at__lte"): now}) & Q(used_enough)
        met = exists & Q(**{f"{done}__isnull": False, f"{done}__lte": due})
        done_late = exists & Q(**{f"{done}__gt": due})
    elif kind == REPORT:
        within = report_within()
        exists = Q(**{name("direction"): Direction.INBOUND, name("seen_at__isnull"): False})
        due = ExpressionWrapper(F(name("seen_at")) + Value(within), output_field=DateTimeField())
        closed = exists & Q(**{name("state"): State.LOOP_CLOSED, name("closed_at__isnull"): False})
        running = exists & Q(**{name("state"): State.SEEN})
        overdue = running & Q(**{name("seen_at__lte"): _after(now, -within)})
        soon_from = within * DUE_SOON_AT.numerator / DUE_SOON_AT.denominator
        due_soon = (
            running
            & Q(**{name("seen_at__lte"): _after(now, -soon_from)})
            & ~Q(**{name("seen_at__lte"): _after(now, -within)})
        )
        met = closed & Q(**{name("closed_at__lte"): due})
        done_late = closed & Q(**{name("closed_at__gt"): due})
    else:
        raise ValueError(f"No clock {kind!r}: the clocks are {', '.join(KINDS)}.")
    return {
        "running": running,
        "due_soon": due_soon,
        "overdue": overdue,
        "met": met,
        "late": done_late | overdue,
    }[condition]
