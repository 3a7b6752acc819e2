"""A case's two clocks: the one answer to "when is this due, and is it late?" for the case
pages, the escalation sweep and the numbers. Acknowledge within one business day of opening
(the practice's time zone), resolve within seven calendar days.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from refloop.advocacy.models import Case, CaseState
from refloop.messaging.automation import add_business_days
from refloop.practice.models import Organization

ACKNOWLEDGE_BUSINESS_DAYS = 1
RESOLVE_DAYS = 7

ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"


def acknowledge_by(opened_at: datetime) -> datetime:
    return add_business_days(opened_at, ACKNOWLEDGE_BUSINESS_DAYS, Organization.current().zone)


def resolve_by(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=RESOLVE_DAYS)


@dataclass(frozen=True)
class Clock:
    """One running clock of a case: which, its deadline, and how it stands at `now`."""

    name: str  # ACKNOWLEDGE or RESOLVE
    due_at: datetime
    late: bool
    # Time left before the deadline (late: 0), and past it (not late: 0)
    left: timedelta
    over: timedelta

    @property
    def label(self) -> str:
        return "Acknowledge" if self.name == ACKNOWLEDGE else "Resolve"

    @property
    def words(self) -> str:
        """ "due in 3 h", "late 1 d": what the pages show."""
        return f"late {span(self.over)}" if self.late else f"due in {span(self.left)}"


def span(length: timedelta) -> str:
    """A length of time in the largest whole unit: "45 min", "3 h", "2 d"."""
    minutes = int(length.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def ran_out(due_at: datetime, now: datetime) -> bool:
    """Whether a deadline has passed at `now`: at the deadline itself it is still on time, a
    second later it is late."""
    return now > due_at


def _clock(name: str, due_at: datetime, now: datetime) -> Clock:
    late = ran_out(due_at, now)
    return Clock(
        name=name,
        due_at=due_at,
        late=late,
        left=timedelta(0) if late else due_at - now,
        over=now - due_at if late else timedelta(0),
    )


def running_clock(case: Case, *, now: datetime) -> Clock | None:
    """The clock the case is on now: acknowledge while open, resolve while acknowledged,
    none once resolved or closed."""
    if case.state == CaseState.OPEN:
        if now > case.resolve_by:
            return _clock(RESOLVE, case.resolve_by, now)
        return _clock(ACKNOWLEDGE, case.acknowledge_by, now)
    if case.state == CaseState.ACKNOWLEDGED:
        return _clock(RESOLVE, case.resolve_by, now)
    return None


def is_overdue(case: Case, *, now: datetime) -> bool:
    clock = running_clock(case, now=now)
    return clock is not None and clock.late


def overdue_filter(now: datetime, clock: str | None = None) -> Q:
    """The cases late on `clock` (either when None) at `now`, as a query filter: the same rule
    as `running_clock`, for the lists and the sweep. An open case past seven days is late on
    both."""
    acknowledge = Q(state=CaseState.OPEN, acknowledge_by__lt=now)
    resolve = Q(state__in=[CaseState.OPEN, CaseState.ACKNOWLEDGED], resolve_by__lt=now)
    if clock == ACKNOWLEDGE:
        return acknowledge
    if clock == RESOLVE:
        return resolve
    return acknowledge | resolve
