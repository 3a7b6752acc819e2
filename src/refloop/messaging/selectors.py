"""Reads of the outbox shared by the staff pages and the API: who may see which messages,
and the audit of every message shown (a message's body is patient data)."""

from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from refloop.core import audit
from refloop.core.errors import NotAllowed
from refloop.core.paging import Page, page_of
from refloop.core.roles import Capability, ReferralScope, can, referral_scope
from refloop.messaging.models import Audience, DeliveryAttempt, Message, Status
from refloop.messaging.rules import RULES
from refloop.messaging.templating import LINK_PLACEHOLDERS, PLACEHOLDER
from refloop.referrals.selectors import visible_referrals


def may_see_messages(user) -> bool:
    """Practice staff with clinical access; a referring practice's portal users never."""
    return can(user, Capability.VIEW_REFERRALS) and can(user, Capability.VIEW_INTERNAL_WORK)


def require_message_access(user) -> None:
    if not may_see_messages(user):
        raise NotAllowed("Your role may not see the outbox.")


def messages_for(
    user,
    *,
    referral_id: int | None = None,
    recipient: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
) -> QuerySet[Message]:
    """Messages `user` may see, narrowed by the filters given (none for roles without access).

    A referral's messages follow the referral's visibility; in-app notices to staff are
    the addressee's (and the admins'); messages about no referral (digests) are for the
    roles that see every referral.
    """
    if not may_see_messages(user):
        return Message.objects.none()
    messages = Message.objects.all()
    if not can(user, Capability.VIEW_ALL_MESSAGES):
        not_staff = ~Q(audience=Audience.STAFF)
        visible = Q(referral__in=visible_referrals(user)) & not_staff
        visible |= Q(audience=Audience.STAFF, recipient=f"user:{user.pk}")
        if referral_scope(user) == ReferralScope.ALL:
            visible |= Q(referral__isnull=True) & not_staff
        messages = messages.filter(visible)
    conditions: dict = {}
    if referral_id is not None:
        conditions["referral_id"] = referral_id
    if recipient:
        conditions["recipient"] = recipient
    if channel:
        conditions["channel"] = channel
    if status:
        conditions["status"] = status
    if rule:
        conditions["rule"] = rule
    if due_before is not None:
        conditions["due_at__lt"] = due_before
    if due_after is not None:
        conditions["due_at__gte"] = due_after
    return messages.filter(**conditions)


def _with_detail(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.select_related("referral").prefetch_related(
        Prefetch("deliveries", queryset=DeliveryAttempt.objects.order_by("at", "pk"))
    )


def list_messages(user, *, limit: int = 50, offset: int = 0, now=None, **filters) -> Page:
    """A page of messages, latest due first; each row shown is audited as listed."""
    require_message_access(user)
    messages = _with_detail(messages_for(user, **filters)).order_by("-due_at", "-pk")
    page = page_of(messages, limit=limit, offset=offset)
    if page.items:
        audit.record_many(
            "message.listed", [m.audit_touch() for m in page.items], actor=user, now=now
        )
    return page


def status_counts(user, **filters) -> dict[str, int]:
    """How many visible messages (under the other filters) are in each status."""
    filters.pop("status", None)
    rows = messages_for(user, **filters).order_by().values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(Status.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def get_message(user, message_id: int, *, now=None) -> Message:
    """One message with its delivery attempts, audited as a read (or as a refused read)."""
    require_message_access(user)
    message = _with_detail(messages_for(user)).filter(pk=message_id).first()
    if message is None:
        audit.refuse_read(
            "message", message_id, "No message with this id is visible to you.", actor=user, now=now
        )
    audit.record("message.read", message.audit_touch(), actor=user, now=now)
    return message


def referral_messages(user, referral) -> list[Message]:
    """A referral's messages for its detail page (whose read of the referral is audited)."""
    if not may_see_messages(user):
        return []
    return list(
        _with_detail(messages_for(user, referral_id=referral.pk)).order_by("-due_at", "-pk")
    )


# ---- how a message reads to staff -------------------------------------------------------


def staff_text(text: str) -> str:
    """Links minted at send time read "[confirm link]": never a token, never the raw tag."""

    def label(match) -> str:
        name = match.group(1)
        if name in LINK_PLACEHOLDERS:
            return f"[{name.split('.', 1)[1]} link]"
        return match.group(0)

    return PLACEHOLDER.sub(label, text)


def rule_title(key: str) -> str:
    rule = RULES.get(key)
    return rule.title if rule is not None else key


RECIPIENT_KINDS = {
    "patient": "Patient",
    "provider": "Referring provider",
    "practice": "Practice",
    "staff_contact": "Practice staff",
    "user": "Our staff",
}


def recipient_kind(message: Message) -> str:
    return RECIPIENT_KINDS.get(message.recipient.split(":", 1)[0], "Recipient")


def recipient_words(message: Message) -> str:
    """Who it is for without naming a patient: "Patient of R-…", or the provider's name."""
    kind = recipient_kind(message)
    if message.audience == Audience.PATIENT or kind == "Patient":
        if message.referral is not None:
            return f"Patient of {message.referral.number}"
        return "Patient"
    return f"{kind}: {message.recipient_label}" if message.recipient_label else kind


def address_words(message: Message) -> str:
    """Where it went: a partner's or colleague's address in full; a patient's only as a hint
    (the last digits of a number, the domain of an email), enough to spot a wrong one."""
    address = message.address
    if not address:
        return "none on file"
    if message.audience != Audience.PATIENT:
        return address
    if message.channel == "email":
        return "an address at " + address.rpartition("@")[2]
    if message.channel == "letter":
        return "the postal address on file"
    return "a number ending " + address[-4:]
