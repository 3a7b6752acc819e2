"""API schemas of the outreach domain: filters in, rows out. No patient data in any."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import ConfigDict, Field, model_validator

from refloop.core.schemas import Amount, Id, IsoDate, NonBlank, Offset, OutSchema
from refloop.outreach.models import ActivityKind, ActivityStatus, TaskKind, TaskStatus


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
    kind: str = Field(
        description=(
            "meal, gift or other; cash (and any cash equivalent such as a gift card) is "
            "always refused (422)"
        ),
        max_length=20,
    )
    description: NonBlank = Field(max_length=200)
    value: Amount

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
