"""API schemas of the outreach domain: filters in, rows out. No patient data in any."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, model_validator

from refloop.core.schemas import (
    Amount,
    Id,
    IsoDate,
    IsoDateTime,
    NonBlank,
    Offset,
    OutSchema,
    PositiveAmount,
)
from refloop.outreach import events, ledger
from refloop.outreach.activities import FOLLOW_UP_MAX
from refloop.outreach.models import (
    ActivityKind,
    ActivityStatus,
    EventKind,
    TaskKind,
    TaskStatus,
)


class _PageIn(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


class DueFilterIn(Schema):
    territory: Id | None = Field(None, description="Territory id; default: your own territories")
    within_days: int = Field(7, ge=0, le=365, description="Due within this many days")


class DueOut(OutSchema):
    practice_id: int
    practice_name: str
    tier: str = Field(description="A, B, C or prospect")
    cadence_days: int
    last_visit_on: date | None
    due_on: date
    overdue_days: int
    reason: str = Field(description="Why the practice is on the list, in words")


class ActivityFilterIn(_PageIn):
    practice: Id | None = None
    liaison: Id | None = Field(None, description="User id")
    kind: ActivityKind | None = None
    status: ActivityStatus | None = None
    occurred_from: IsoDate | None = Field(None, description="Inclusive")
    occurred_to: IsoDate | None = Field(None, description="Inclusive")


class PersonOut(Schema):
    id: int
    name: str


class ActivityOut(OutSchema):
    id: int
    kind: str
    status: str
    practice_id: int
    practice_name: str
    liaison_id: int
    occurred_on: date
    starts_at: datetime | None
    providers: list[PersonOut]
    staff: list[PersonOut]
    topics: list[str]
    notes: str
    follow_up: str
    follow_up_on: date | None
    cost: Decimal

    @staticmethod
    def resolve_practice_name(activity) -> str:
        return activity.practice.name

    @staticmethod
    def resolve_providers(activity) -> list[dict]:
        return [{"id": p.pk, "name": str(p)} for p in activity.providers.all()]

    @staticmethod
    def resolve_staff(activity) -> list[dict]:
        return [{"id": s.pk, "name": s.name} for s in activity.staff.all()]

    @staticmethod
    def resolve_topics(activity) -> list[str]:
        return [t.name for t in activity.topics.all()]


class ActivityPageOut(OutSchema):
    items: list[ActivityOut]
    total: int
    limit: int
    offset: int


# What an activity's writes take: its values as the service (outreach.activities) checks
# them. The rules that join fields or rows (a planned visit needs starts_at, the people met
# work at the practice) are the service's, said in the descriptions.
ActivityStatusIn = Literal["planned", "done"]
Ids = Annotated[list[Id], Field(max_length=200)]
Notes = Annotated[str, Field(max_length=10_000)]
FollowUp = Annotated[str, Field(max_length=FOLLOW_UP_MAX)]

_PRACTICE = "The practice the activity was with"
_STARTS_AT = (
    "A planned visit's time, required when status is planned (ISO 8601; without an offset, "
    "the practice's time)"
)
_OCCURRED_ON = "The day; for a planned visit it may be left out, and is then starts_at's day"
_PROVIDERS = "Providers met: each must work at the activity's practice"
_STAFF = "Staff met: each must work at the activity's practice"
_FOLLOW_UP_ON = "With a date, the follow-up becomes a task for you; not before the activity"


class ActivityIn(Schema):
    """An activity with one practice, as the phone log records it."""

    model_config = ConfigDict(extra="forbid")

    practice_id: Id = Field(description=_PRACTICE)
    kind: ActivityKind = ActivityKind.VISIT
    status: ActivityStatusIn = Field("done", description="Cancel one with .../cancel")
    occurred_on: IsoDate | None = Field(None, description=_OCCURRED_ON)
    starts_at: IsoDateTime | None = Field(None, description=_STARTS_AT)
    provider_ids: Ids = Field([], description=_PROVIDERS)
    staff_ids: Ids = Field([], description=_STAFF)
    topic_ids: Ids = Field([], description="What was talked about")
    notes: Notes = ""
    follow_up: FollowUp = Field("", description="What to do next")
    follow_up_on: IsoDate | None = Field(None, description=_FOLLOW_UP_ON)
    cost: Amount = Field(Decimal("0"), description="In dollars")


def _unchanged(description: str = "") -> Any:
    """A field a PATCH may leave out (kept as it is) but not set to null."""
    said = f"{description}. Left out: unchanged" if description else "Left out: unchanged"
    return Field(None, description=said, json_schema_extra=_no_default)


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


class ActivityChangeIn(Schema):
    """The fields to change; those left out keep their values, a list given replaces the
    whole list, and null clears starts_at or follow_up_on."""

    model_config = ConfigDict(extra="forbid")

    practice_id: Id = _unchanged(_PRACTICE)
    kind: ActivityKind = _unchanged()
    status: ActivityStatusIn = _unchanged("A cancelled activity is not changed: log a new one")
    occurred_on: IsoDate = _unchanged(f"{_OCCURRED_ON} (a new starts_at alone moves it too)")
    starts_at: IsoDateTime | None = _unchanged(_STARTS_AT)
    provider_ids: Ids = _unchanged(_PROVIDERS)
    staff_ids: Ids = _unchanged(_STAFF)
    topic_ids: Ids = _unchanged()
    notes: Notes = _unchanged()
    follow_up: FollowUp = _unchanged()
    follow_up_on: IsoDate | None = _unchanged(_FOLLOW_UP_ON)
    cost: Amount = _unchanged("In dollars")


class TaskFilterIn(_PageIn):
    owner: Id | None = Field(None, description="User id")
    status: TaskStatus | None = None
    kind: TaskKind | None = None
    practice: Id | None = None


class TaskOut(OutSchema):
    id: int
    kind: str
    title: str
    detail: str
    owner_id: int | None
    due_on: date | None
    practice_id: int | None
    provider_id: int | None
    staff_id: int | None
    status: str
    created_at: datetime
    done_at: datetime | None


class TaskPageOut(OutSchema):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int


class GiftFilterIn(_PageIn):
    year: int | None = Field(None, ge=2000, le=2100, description="Calendar year")
    practice: Id | None = None
    provider: Id | None = None


class GiftOut(OutSchema):
    id: int
    given_on: date
    kind: str
    description: str
    value: Decimal
    practice_id: int
    provider_id: int | None
    staff_id: int | None
    physician: bool = Field(description="Counted against the Stark limit")


class GiftPageOut(OutSchema):
    items: list[GiftOut]
    total: int
    limit: int
    offset: int


class GiftIn(Schema):
    """One item of value given to one person: a provider or a staff member, not both."""

    model_config = ConfigDict(extra="forbid")

    provider_id: Id | None = Field(None, description="The provider who received it")
    staff_id: Id | None = Field(None, description="Or the staff member who received it")
    given_on: IsoDate
    kind: Literal["meal", "gift", "other"] = Field(
        description=(
            "Never cash or a cash equivalent (a description naming one, such as a gift card, "
            "is refused: 42 CFR 411.357(k)(1))"
        )
    )
    description: NonBlank = Field(max_length=200)
    value: PositiveAmount = Field(description="In dollars; rounded to the cent")

    @model_validator(mode="after")
    def _one_recipient(self):
        if (self.provider_id is None) == (self.staff_id is None):
            raise ValueError("name one recipient: provider_id or staff_id")
        return self


class GiftRecordedOut(OutSchema):
    gift: GiftOut
    total: Decimal = Field(description="The recipient's total for the year, this gift included")
    limit: Decimal | None = Field(description="The year's Stark limit; null for non-physicians")
    state: str = Field(description="ok, warning (80% of the limit or more) or over")
    warning: str


class ReportPhysicianOut(Schema):
    provider_id: int
    name: str
    credentials: str
    npi: str
    practice: str
    items: int
    given: Decimal
    repaid: Decimal
    total: Decimal
    limit: Decimal | None
    state: str
    overages: list[str] = Field(description="Each overage: excess, repay-by date and its state")


class ReportOtherOut(Schema):
    name: str
    role: str
    items: int
    total: Decimal


class LedgerReportOut(Schema):
    year: int
    limit: Decimal | None = Field(description="Null: nobody has entered this year's limit yet")
    physicians: list[ReportPhysicianOut]
    others: list[ReportOtherOut] = Field(description="Non-physicians, tracked without a limit")


class TaskIn(Schema):
    """A task by hand; the practice follows from the provider or staff member if given."""

    model_config = ConfigDict(extra="forbid")

    title: NonBlank = Field(max_length=200)
    detail: str = Field("", max_length=2000)
    owner_id: Id | None = Field(None, description="A liaison or admin; default nobody")
    due_on: IsoDate | None = None
    practice_id: Id | None = None
    provider_id: Id | None = None
    staff_id: Id | None = None


class TaskCloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "cancelled"]


class LiftFilterIn(Schema):
    start: IsoDate | None = Field(None, description="Visits from this day (default: a year back)")
    end: IsoDate | None = Field(
        None, description="Visits before this day; at most 90 days ago, so the after-window is over"
    )


class LiftOut(Schema):
    label: str
    practices: int = Field(description="Visited practices compared with like practices")
    unmatched: int = Field(description="Visited practices with no like practice unvisited")
    estimate: float | None = Field(description="Referrals per practice per 90 days")
    low: float | None = Field(description="95% bootstrap interval, low end")
    high: float | None
    before: int
    after: int
    words: str = Field(description="The figure and its uncertainty in a sentence")


class LiftReportOut(Schema):
    start: date
    end: date
    overall: LiftOut
    by_liaison: list[LiftOut]


class OutreachEventFilterIn(_PageIn):
    kind: EventKind | None = None
    practice: Id | None = Field(None, description="The host practice's id")
    starts_from: IsoDate | None = Field(None, description="Inclusive, the practice's day")
    starts_to: IsoDate | None = Field(None, description="Inclusive, the practice's day")


class OutreachEventOut(OutSchema):
    id: int
    kind: str
    title: str
    starts_at: datetime
    place: str
    host_practice_id: int | None
    total_cost: Decimal = Field(description="Shared equally among those who came")
    organizer_id: int


class OutreachEventPageOut(OutSchema):
    items: list[OutreachEventOut]
    total: int
    limit: int
    offset: int


class InviteeOut(OutSchema):
    id: int = Field(description="The invitee's id: what attendance names")
    provider_id: int | None
    staff_id: int | None
    practice_id: int | None
    name: str
    physician: bool = Field(description="A share is held to the Stark limit")
    attended: bool

    @staticmethod
    def resolve_practice_id(attendee) -> int | None:
        return (attendee.provider or attendee.staff).practice_id

    @staticmethod
    def resolve_name(attendee) -> str:
        return str(attendee.provider or attendee.staff)

    @staticmethod
    def resolve_physician(attendee) -> bool:
        return attendee.provider is not None and ledger.is_physician(attendee.provider.credentials)


class OutreachEventDetailOut(OutreachEventOut):
    day: date = Field(description="The event's day, in the practice's time zone")
    invitees: list[InviteeOut]
    shares: list[GiftOut] = Field(description="The cost's shares on the gift ledger")

    @staticmethod
    def resolve_day(event) -> date:
        return events.event_day(event)

    @staticmethod
    def resolve_invitees(event) -> list:
        return list(event.attendees.all())

    @staticmethod
    def resolve_shares(event) -> list:
        return list(event.gifts.all())


class OutreachEventIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    title: NonBlank = Field(max_length=200)
    starts_at: IsoDateTime = Field(description="ISO 8601; without an offset, the practice's time")
    place: str = Field("", max_length=200)
    host_practice_id: Id | None = None
    total_cost: Amount = Field(Decimal("0"), description="In dollars; may be set later")


class InviteIn(Schema):
    """People to invite, from any practice; those already invited stay as they are."""

    model_config = ConfigDict(extra="forbid")

    provider_ids: Ids = []
    staff_ids: Ids = []


class InvitedOut(OutSchema):
    added: int = Field(description="How many were not invited before")
    event: OutreachEventDetailOut


class AttendanceIn(Schema):
    """Who came, all of them: invitees left out are marked as not having come."""

    model_config = ConfigDict(extra="forbid")

    attended: Annotated[list[Id], Field(max_length=500)] = Field(
        description="Invitee ids (an event's invitees[].id); each must be invited to it"
    )
    total_cost: Amount | None = Field(
        None, description="In dollars, shared equally among those who came; default: as it is"
    )


class AttendanceOut(OutSchema):
    event: OutreachEventDetailOut
    removed: int = Field(description="Shares withdrawn from people no longer marked as come")
    warnings: list[str] = Field(description="Physicians at 80% of the year's limit or more")
