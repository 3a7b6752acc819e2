"""Sending what is due: claim a batch, deliver each message once, record what happened.

The guarantees, and what gives them:
- A message row exists once per (cause, rule, recipient): `Message.dedupe_key` is unique.
- Two workers never hold the same message: a batch is claimed by a conditional UPDATE
  (rows still `due`), under FOR UPDATE SKIP LOCKED where the database has it.
- A worker stops sending before its claim's lease runs out, so a lease taken back from a
  slow worker cannot overlap with it.
- A worker killed mid-batch leaves its rows `sending`; once the lease has run out they go
  back to `due`. Only the one message that was on the wire can have been delivered: it is
  sent again under the same delivery key (an email's Message-ID), so the receiving side
  sees the same message, not a new one.
- Messages are queued only after the change that caused them committed (the automation
  runs from the worker on committed events), so nothing is sent for a rolled-back change.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from refloop.core import audit
from refloop.messaging import magic, templating
from refloop.messaging.models import Channel, DeliveryAttempt, Message, OptOut, Status
from refloop.messaging.transports import transport_for
from refloop.messaging.transports.base import (
    DeliveryFailure,
    Envelope,
    TransientFailure,
    Transport,
    delivery_key,
)

logger = logging.getLogger(__name__)


def lease_margin() -> timedelta:
    """Stop taking new messages from a batch this long before its lease ends: a quarter of
    the lease, which at the default 120 s outlasts the mail server's 20 s timeout, so a send
    that started in time has finished before another worker may take the lease back."""
    return timedelta(seconds=settings.MESSAGE_LEASE_SECONDS / 4)


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    released: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled


def recover_abandoned(*, now: datetime) -> int:
    """Put messages whose claim ran out (their worker died) back in the queue."""
    stale = list(
        Message.objects.filter(status=Status.SENDING, claimed_until__lt=now).values_list(
            "pk", "claim", "claimed_by"
        )
    )
    recovered = 0
    for pk, claim, worker in stale:
        with transaction.atomic():
            taken = Message.objects.filter(pk=pk, status=Status.SENDING, claim=claim).update(
                status=Status.DUE, claim="", claimed_by="", claimed_until=None
            )
            if taken:
                DeliveryAttempt.objects.create(
                    message_id=pk,
                    at=now,
                    worker=worker,
                    outcome=DeliveryAttempt.Outcome.INTERRUPTED,
                    detail="The worker stopped before recording the result; sent again with the same identity.",
                )
                recovered += taken
    if recovered:
        logger.warning("took back %d messages from workers that stopped mid-batch", recovered)
    return recovered


def claim_due(*, now: datetime, worker_id: str, limit: int) -> list[Message]:
    claim = uuid.uuid4().hex
    lease_end = now + timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
    with transaction.atomic():
        due = Message.objects.filter(status=Status.DUE, due_at__lte=now).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        Message.objects.filter(pk__in=ids, status=Status.DUE).update(
            status=Status.SENDING,
            claim=claim,
            claimed_by=worker_id[:64],
            claimed_until=lease_end,
            attempts=F("attempts") + 1,
        )
    return list(
        Message.objects.filter(claim=claim)
        .select_related("referral", "event")
        .order_by("due_at", "pk")
    )


def _finish(
    message: Message, *, now: datetime, worker: str, outcome: str, detail: str, **fields
) -> bool:
    """Record the outcome if this worker still holds the message; False if it no longer does."""
    done = Message.objects.filter(pk=message.pk, claim=message.claim, status=Status.SENDING).update(
        claim="", claimed_until=None, **fields
    )
    if done:
        DeliveryAttempt.objects.create(
            message_id=message.pk, at=now, worker=worker, outcome=outcome, detail=detail[:300]
        )
    return bool(done)


def _retry_at(message: Message, now: datetime) -> datetime | None:
    delays = settings.MESSAGE_RETRY_MINUTES
    if message.attempts > len(delays):
        return None
    from refloop.messaging.automation import quiet_hours_for

    return quiet_hours_for(message, now + timedelta(minutes=delays[message.attempts - 1]))


def _envelope(message: Message, *, now: datetime) -> Envelope:
    from refloop.messaging import automation

    body = message.body
    links = {}
    if message.referral_id and "{{ link." in body:
        # The links are committed before the message leaves, so they work when clicked.
        with transaction.atomic():
            links = magic.links_for(message, now=now)
    if links:
        body = templating.render(body, links, keep=set())
    return Envelope(
        message_id=message.pk,
        to=message.address,
        subject=message.subject,
        body=body,
        delivery_key=delivery_key(message.pk),
        recipient_label=message.recipient_label,
        attachments=automation.attachments_for(message, now=now),
    )


def _send_one(
    message: Message,
    transport: Transport,
    *,
    now: datetime,
    worker: str,
    tally: Tally,
    opted_out: set[tuple[str, str]],
) -> None:
    from refloop.messaging import automation

    reason = automation.no_longer_applies(message, now=now)
    if not reason and (message.channel, message.address) in opted_out:
        reason = f"The recipient opted out of {Channel(message.channel).label}."
    if reason:
        with transaction.atomic():
            if _finish(
                message,
                now=now,
                worker=worker,
                outcome=DeliveryAttempt.Outcome.FAILED,
                detail="Not sent: " + reason,
                status=Status.CANCELLED,
                reason=reason,
                finished_at=now,
            ):
                tally.cancelled += 1
        return
    try:
        envelope = _envelope(message, now=now)
        external_id = transport.send(envelope)
    except DeliveryFailure as failure:
        _failed(message, failure, now=now, worker=worker, tally=tally)
        return
    except Exception as error:  # noqa: BLE001 - a transport's bug must not stall the batch
        # Type only: a transport's exception text may quote the address or the body.
        logger.error(
            "the %s transport raised %s for message %s",
            message.channel,
            type(error).__name__,
            message.pk,
        )
        unexpected = TransientFailure(
            f"Unexpected error in the {message.channel} transport ({type(error).__name__})."
        )
        _failed(message, unexpected, now=now, worker=worker, tally=tally)
        return
    with transaction.atomic():
        if _finish(
            message,
            now=now,
            worker=worker,
            outcome=DeliveryAttempt.Outcome.SENT,
            detail="",
            status=Status.SENT,
            sent_at=now,
            finished_at=now,
            external_id=external_id[:120],
        ):
            audit.record(
                "message.sent",
                message.audit_touch(),
                actor=None,
                detail={"rule": message.rule, "channel": message.channel},
                now=now,
            )
            automation.after_sent(message, now=now)
            tally.sent += 1


def _failed(
    message: Message, failure: DeliveryFailure, *, now: datetime, worker: str, tally: Tally
) -> None:
    from refloop.messaging import automation

    retry_at = _retry_at(message, now) if failure.retry else None
    with transaction.atomic():
        if retry_at is not None:
            if _finish(
                message,
                now=now,
                worker=worker,
                outcome=DeliveryAttempt.Outcome.RETRY,
                detail=failure.reason,
                status=Status.DUE,
                due_at=retry_at,
                reason=failure.reason,
            ):
                tally.retried += 1
            return
        if _finish(
            message,
            now=now,
            worker=worker,
            outcome=DeliveryAttempt.Outcome.FAILED,
            detail=failure.reason,
            status=Status.FAILED,
            reason=failure.reason,
            finished_at=now,
        ):
            audit.record(
                "message.failed",
                message.audit_touch(),
                actor=None,
                detail={"rule": message.rule, "channel": message.channel},
                now=now,
            )
            automation.after_failed(message, reason=failure.reason, now=now)
            tally.failed += 1


def _release(messages: list[Message]) -> int:
    """Hand back claimed messages this worker will not get to (its lease is nearly over)."""
    released = 0
    for message in messages:
        released += Message.objects.filter(
            pk=message.pk, claim=message.claim, status=Status.SENDING
        ).update(
            status=Status.DUE,
            claim="",
            claimed_by="",
            claimed_until=None,
            attempts=F("attempts") - 1,
        )
    return released


def dispatch_due(
    *,
    worker_id: str = "refloop",
    now: datetime | None = None,
    limit: int | None = None,
    clock=timezone.now,
) -> Tally:
    """Send one batch of due messages. `now` pins the time (tests); `clock` is checked against
    the lease while sending."""
    tally = Tally()
    pinned = now
    now = now or clock()
    tally.recovered = recover_abandoned(now=now)
    batch = claim_due(now=now, worker_id=worker_id, limit=limit or settings.MESSAGE_BATCH)
    if not batch:
        return tally
    transports: dict[str, Transport] = {}
    margin = lease_margin()
    # Opt-outs are read once per batch, not once per message.
    opted_out = set(
        OptOut.objects.filter(address__in={m.address for m in batch}).values_list(
            "channel", "address"
        )
    )
    try:
        for index, message in enumerate(batch):
            if pinned is None and clock() >= message.claimed_until - margin:
                tally.released = _release(batch[index:])
                break
            transport = transports.get(message.channel)
            if transport is None:
                transport = transports[message.channel] = transport_for(message.channel)
            _send_one(
                message,
                transport,
                now=pinned or clock(),
                worker=worker_id,
                tally=tally,
                opted_out=opted_out,
            )
    finally:
        for transport in transports.values():
            transport.close()
    return tally


def dispatch_all_due(*, worker_id: str = "refloop", now: datetime | None = None) -> Tally:
    """Send batches until nothing due is left (or only what other workers hold)."""
    total = Tally()
    while True:
        tally = dispatch_due(worker_id=worker_id, now=now)
        for name in ("sent", "retried", "failed", "cancelled", "recovered", "released"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        if tally.handled == 0:
            return total
