"""The messages API: what the outbox holds (GET /api/v1/messages).

Bodies are patient data: every message listed or read is audited by the selectors. Links
minted at send time show as "[confirm link]"; no usable token is ever stored or shown.
"""

from datetime import datetime

from ninja import Query, Router, Schema
from pydantic import Field

from refloop.core.schemas import ApiRequest, Id, IsoDateTime, Offset, OutSchema, PathId
from refloop.core.validation import in_utc
from refloop.messaging import selectors
from refloop.messaging.models import Channel, Status
from refloop.practice.models import Organization

router = Router(tags=["messages"])


class MessageFilterIn(Schema):
    referral: Id | None = Field(None, description="Referral id")
    recipient: str | None = Field(None, description="Recipient key, e.g. provider:12")
    channel: Channel | None = None
    status: Status | None = None
    due_before: IsoDateTime | None = Field(
        None, description="Due strictly before (ISO 8601; without an offset, the practice's time)"
    )
    due_after: IsoDateTime | None = Field(
        None, description="Due at or after (ISO 8601; without an offset, the practice's time)"
    )
    limit: int = Field(50, ge=1, le=200)
    offset: Offset = 0


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else in_utc(moment, Organization.current().zone)


class DeliveryOut(OutSchema):
    at: datetime
    outcome: str = Field(description="sent, retry, failed or interrupted")
    detail: str


class MessageOut(OutSchema):
    id: int
    referral_id: int | None
    referral_number: str | None
    rule: str
    rule_title: str
    audience: str = Field(description="referrer, patient or staff")
    recipient: str = Field(description="e.g. patient:12, provider:3, user:5")
    recipient_label: str
    channel: str
    status: str = Field(description="due, sending, sent, failed or cancelled")
    due_at: datetime
    sent_at: datetime | None
    attempts: int
    reason: str = Field(description="Why it failed or was cancelled")
    subject: str
    body: str = Field(description='Links minted at send time read "[confirm link]" and so on')
    deliveries: list[DeliveryOut]

    @staticmethod
    def resolve_referral_number(message) -> str | None:
        return message.referral.number if message.referral is not None else None

    @staticmethod
    def resolve_rule_title(message) -> str:
        return selectors.rule_title(message.rule)

    @staticmethod
    def resolve_subject(message) -> str:
        return selectors.staff_text(message.subject)

    @staticmethod
    def resolve_body(message) -> str:
        return selectors.staff_text(message.body)

    @staticmethod
    def resolve_deliveries(message) -> list:
        return list(message.deliveries.all())


class MessagePageOut(OutSchema):
    items: list[MessageOut]
    total: int
    limit: int
    offset: int


@router.get("/messages", response={200: MessagePageOut})
def list_messages(request: ApiRequest, filters: Query[MessageFilterIn]):
    """Messages visible to you (due, sent, failed, cancelled), latest due first.

    Only the practice's staff with clinical access see the outbox; a referral's messages
    follow the referral's visibility, and in-app notices are their addressee's.
    """
    page = selectors.list_messages(
        request.auth,
        referral_id=filters.referral,
        recipient=filters.recipient,
        channel=filters.channel,
        status=filters.status,
        due_before=_aware(filters.due_before),
        due_after=_aware(filters.due_after),
        limit=filters.limit,
        offset=filters.offset,
    )
    return {
        "items": page.items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get("/messages/{message_id}", response={200: MessageOut})
def get_message(request: ApiRequest, message_id: PathId):
    """One message with its delivery attempts."""
    return selectors.get_message(request.auth, message_id)
