"""Putting messages in the outbox (once), and what staff may do to them there."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from refloop.core import audit
from refloop.core.errors import Conflict, InvalidInput
from refloop.messaging import templating
from refloop.messaging.defaults import default_wording
from refloop.messaging.models import Channel, Message, OptOut, Status, Template
from refloop.messaging.recipients import Recipient, route
from refloop.messaging.rules import Rule

# Letters are printed by staff and in-app notices are for staff at work: no quiet hours.
_QUIET_CHANNELS = {Channel.EMAIL, Channel.SMS, Channel.FAX}


def after_quiet_hours(due: datetime, recipient: Recipient, channel: str) -> datetime:
    """`due`, or the end of the recipient's quiet hours if it falls inside them."""
    if recipient.quiet is None or channel not in _QUIET_CHANNELS or recipient.zone is None:
        return due
    start, end = recipient.quiet
    if start == end:
        return due
    local = due.astimezone(recipient.zone)
    clock = local.time()
    wraps = start > end  # 20:00 to 08:00 spans midnight
    quiet = (clock >= start or clock < end) if wraps else (start <= clock < end)
    if not quiet:
        return due
    day = local.date()
    if wraps and clock >= start:
        day += timedelta(days=1)
    wake = datetime.combine(day, end, tzinfo=recipient.zone)
    return wake.astimezone(due.tzinfo)


def wording(rule_key: str, channel: str, language: str) -> tuple[str, str]:
    """The admin's template for this rule and channel (in the language, else English), else ours."""
    for lang in dict.fromkeys([language, "en"]):
        template = Template.objects.filter(key=rule_key, channel=channel, language=lang).first()
        if template is not None:
            return template.subject, template.body
    return default_wording(rule_key, channel)


def dedupe_key(cause: str, rule: Rule, recipient: Recipient) -> str:
    return f"{cause}|{rule.key}|{recipient.key}"[:200]


def queue(
    *,
    rule: Rule,
    recipient: Recipient,
    cause: str,
    values: dict[str, str],
    due_at: datetime,
    now: datetime,
    referral=None,
    event=None,
) -> Message | None:
    """Queue one message unless the rule is switched off; at most once per cause, rule, recipient.

    With no channel to use (no address, opted out, no consent) the message is stored as
    cancelled with the reason, so staff can see what did not go out and why.
    """
    if not rule.enabled():
        return None
    key = dedupe_key(cause, rule, recipient)
    existing = Message.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return existing
    path = route(recipient, clinical=rule.clinical)
    channel = path.channel or (recipient.order[0] if recipient.order else Channel.EMAIL)
    subject, body = wording(rule.key, channel, recipient.language)
    message = Message(
        referral=referral,
        event=event,
        rule=rule.key,
        audience=recipient.audience,
        recipient=recipient.key,
        recipient_label=recipient.label,
        channel=channel,
        address=path.address,
        language=recipient.language,
        subject=templating.render(subject, values)[:200],
        body=templating.render(body, values, keep=templating.LINK_PLACEHOLDERS),
        clinical=rule.clinical,
        dedupe_key=key,
        due_at=after_quiet_hours(due_at, recipient, channel) if path.channel else due_at,
        created_at=now,
    )
    if path.channel is None:
        message.status = Status.CANCELLED
        message.reason = path.reason
        message.finished_at = now
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # Queued meanwhile by another worker handling the same event: that one stands.
        return Message.objects.get(dedupe_key=key)
    return message


def _locked(message_id: int) -> Message:
    """The message, its row locked for the rest of the transaction (with its referral)."""
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("referral")
        .get(pk=message_id)
    )


@transaction.atomic
def cancel(
    message_id: int, *, acting_user, reason: str = "", now: datetime | None = None
) -> Message:
    now = now or timezone.now()
    message = _locked(message_id)
    if message.status != Status.DUE:
        raise Conflict(
            f"Only a due message can be cancelled; this one is {message.get_status_display().lower()}."
        )
    message.status = Status.CANCELLED
    message.reason = reason.strip() or f"Cancelled by {acting_user.get_username()}."
    message.finished_at = now
    message.save(update_fields=["status", "reason", "finished_at"])
    audit.record("message.cancelled", message.audit_touch(), actor=acting_user, now=now)
    return message


@transaction.atomic
def retry(message_id: int, *, acting_user, now: datetime | None = None) -> Message:
    """Send a failed message again, now (staff fixed the address, or the provider recovered)."""
    now = now or timezone.now()
    message = _locked(message_id)
    if message.status != Status.FAILED:
        raise Conflict("Only a failed message can be sent again.")
    message.status = Status.DUE
    message.due_at = now
    message.reason = ""
    message.finished_at = None
    message.save(update_fields=["status", "due_at", "reason", "finished_at"])
    audit.record("message.retried", message.audit_touch(), actor=acting_user, now=now)
    return message


def record_opt_out(*, channel: str, address: str, source: str, now: datetime) -> bool:
    """Remember that `address` wants nothing on `channel`; cancel what is due to it. True if new."""
    if channel not in Channel.values:
        raise InvalidInput(f"channel must be one of {', '.join(Channel.values)}.", field="channel")
    try:
        with transaction.atomic():
            OptOut.objects.create(channel=channel, address=address, source=source, at=now)
    except IntegrityError:
        return False
    Message.objects.filter(channel=channel, address=address, status=Status.DUE).update(
        status=Status.CANCELLED,
        reason=f"The recipient opted out of {Channel(channel).label} ({source}).",
        finished_at=now,
    )
    return True


def remove_opt_out(*, channel: str, address: str) -> bool:
    deleted, _ = OptOut.objects.filter(channel=channel, address=address).delete()
    return bool(deleted)
