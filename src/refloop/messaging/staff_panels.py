"""The outbox card on a referral's detail page: what went out, what is due, what failed."""

from django.urls import reverse
from django.utils import dateformat, timezone

from refloop.messaging import selectors
from refloop.messaging.models import Message, Status
from refloop.practice.models import Organization

TIME_FORMAT = "M j, g:i A"

STATUS_TONES: dict[str, str] = {
    Status.DUE: "",
    Status.SENDING: "",
    Status.SENT: "ok",
    Status.FAILED: "late",
    Status.CANCELLED: "warn",
}


def local(moment, zone) -> str:
    return dateformat.format(timezone.localtime(moment, zone), TIME_FORMAT) if moment else ""


def message_row(message: Message, zone) -> dict:
    """How one message reads in a staff list: no patient name, links shown as placeholders."""
    when = message.sent_at if message.status == Status.SENT and message.sent_at else None
    return {
        "message": message,
        "url": reverse("outbox_message", args=[message.pk]),
        "when": local(when or message.due_at, zone),
        "when_words": "sent" if when else "due",
        "rule_title": selectors.rule_title(message.rule),
        "kind": selectors.recipient_kind(message),
        "recipient": selectors.recipient_words(message),
        "tone": STATUS_TONES.get(message.status, ""),
    }


def outbox_panel_context(referral, user) -> dict | None:
    """What messaging/_referral_messages.html needs, for a referral already read through
    get_referral (which audits the read); None when the referral has no messages."""
    messages = selectors.referral_messages(user, referral)
    if not messages:
        return None
    zone = Organization.current().zone
    rows = [message_row(m, zone) for m in messages]
    for row in rows:
        # On the referral's own page the patient needs no referral number.
        if row["kind"] == "Patient":
            row["recipient"] = "Patient"
    return {
        "rows": rows,
        "failed": sum(1 for m in messages if m.status == Status.FAILED),
        "outbox_url": reverse("outbox"),
    }
