"""The pieces of a planned referral story: timed steps, plans, and the practice's clock.

Nothing here touches the database; seed.py replays the steps through the services.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from refloop.demo import content as c

INBOUND_STATES = [
    "received",
    "in_review",
    "pending_info",
    "accepted",
    "declined",
    "contacting",
    "scheduled",
    "no_show",
    "seen",
    "loop_closed",
    "unreachable",
    "cancelled",
]
OUTBOUND_STATES = ["draft", "sent", "accepted", "declined", "scheduled", "completed", "cancelled"]

OPEN, CLOSE = time(8, 0), time(17, 0)


@dataclass
class Step:
    at: datetime
    kind: str
    actor: str  # username
    state: str  # the referral's state after this step
    args: dict = field(default_factory=dict)
    pivot: bool = False  # the patient was reached: the next move follows at once


@dataclass
class ProviderRef:
    index: int
    practice: int
    kind: str
    weight: float
    starts_at: datetime | None = None  # a new referrer
    fades_at: datetime | None = None  # a referrer drifting away

    def weight_at(self, t: datetime) -> float:
        if self.starts_at and t < self.starts_at:
            return 0.0
        if self.fades_at and t >= self.fades_at:
            return self.weight * 0.12
        return self.weight


@dataclass(frozen=True)
class ReceiverRef:
    practice: int
    kind: str
    weight: float


@dataclass(frozen=True)
class Staff:
    coordinator_for: dict[str, str]  # department code -> coordinator who owns its worklist
    coordinators: list[str]
    clinicians: dict[str, list[str]]  # department code -> clinicians
    locations: dict[str, list[str]]  # department code -> location names


@dataclass
class Plan:
    index: int
    direction: str
    department: str
    urgency: str
    create: dict  # the creation service's arguments (provider/practice as directory indexes)
    patient: dict | None = None  # a new patient; else patient_of
    patient_of: int | None = None  # the plan whose patient this is again
    advocate_of: int | None = None  # the plan whose patient recommended us
    steps: list[Step] = field(default_factory=list)
    outcome: str = ""
    referral_id: int | None = None  # set while replaying
    sender: str = ""  # who records its arrival: a coordinator, a portal user, or nobody
    documents: list[str] = field(default_factory=list)  # kinds sent with it
    age: int = 0  # the patient's, when it arrived

    @property
    def created_at(self) -> datetime:
        return self.steps[0].at


@dataclass
class Fate:
    outcome: str
    review: str
    pending_resolves: bool
    direct_schedule: bool
    failures: int
    reschedule: bool
    no_show: str | None
    close: str
    procedure: bool


def until(steps: list[Step], now: datetime) -> list[Step]:
    """The steps that have happened by `now`."""
    return steps[: next((i for i, s in enumerate(steps) if s.at > now), len(steps))]


def truncate_at(steps: list[Step], target: str) -> list[Step]:
    """The steps up to `target`, staying there (not past a reached patient's next move)."""
    kept, reached = [], False
    for step in steps:
        if reached and (step.state != target or step.pivot):
            break
        kept.append(step)
        reached = reached or step.state == target
    return kept if reached else []


class Clock:
    """Staff work on weekdays 8-17 in the practice's time zone; appointments fill quarter hours."""

    def __init__(self, zone: ZoneInfo, rng):
        self.zone, self.rng = zone, rng

    def is_open(self, t: datetime) -> bool:
        local = t.astimezone(self.zone)
        return local.weekday() < 5 and OPEN <= local.time() < CLOSE

    def business(self, t: datetime) -> datetime:
        """`t`, or the next opening (plus a while to get to it) when the practice is closed."""
        if self.is_open(t):
            return t
        local = t.astimezone(self.zone)
        day = local.date()
        if local.weekday() >= 5 or local.time() >= CLOSE:
            day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        opening = datetime.combine(day, OPEN, tzinfo=self.zone)
        return (opening + timedelta(minutes=self.rng.uniform(0, 90))).astimezone(UTC)

    def slot(self, after: datetime) -> datetime:
        day = after.astimezone(self.zone).date()
        while True:
            if day.weekday() < 5:
                start = datetime.combine(day, OPEN, tzinfo=self.zone)
                start += timedelta(minutes=15 * self.rng.randrange(0, 33))
                if start > after:
                    return start.astimezone(UTC)
            day += timedelta(days=1)


class Path:
    def __init__(self, planner, first: Step):
        self.planner, self.steps = planner, [first]

    @property
    def t(self) -> datetime:
        return self.steps[-1].at

    def add(self, kind, actor, hours, *, state=None, business=True, pivot=False, **args) -> Step:
        t = self.t + timedelta(hours=self.planner.rng.uniform(*hours))
        if business:
            t = self.planner.clock.business(t)
        t = max(t, self.t + timedelta(minutes=1))
        step = Step(t, kind, actor, state or self.steps[-1].state, args, pivot)
        self.steps.append(step)
        return step

    def cancel_later(self, actor, hours, **options) -> Step:
        """The referral cancelled once under way, for one of the later reasons."""
        reason, detail = self.planner.rng.choice(c.CANCELS_LATER)
        return self.add(
            "cancel",
            actor,
            hours,
            state="cancelled",
            reason=reason,
            reason_detail=detail,
            **options,
        )
