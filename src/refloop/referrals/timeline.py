"""Appending to a referral's timeline: the event, its audit record, and its reactions."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from refloop.core import audit
from refloop.referrals import reactions
from refloop.referrals.models import Referral, ReferralEvent


def touch(referral: Referral) -> audit.Touch:
    return audit.Touch(
        "referral", referral.pk, patient_id=referral.patient_id, referral_id=referral.pk
    )


def record_event(
    referral: Referral,
    kind: str,
    *,
    actor,
    at,
    from_state: str = "",
    to_state: str = "",
    data: dict | None = None,
) -> ReferralEvent:
    """Append `kind` to the timeline and the audit log; its reactions (refloop.referrals.reactions)
    run once the change has committed.

    Must be called inside the transaction that made the change, so the change,
    the event and the audit record commit or roll back together.
    """
    event = ReferralEvent.objects.create(
        referral=referral,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.get_username() if actor is not None else "refloop",
        at=at,
        data=data or {},
    )
    detail: dict[str, object] = {"event_id": event.pk}
    if to_state:
        detail.update({"from": from_state, "to": to_state})
    audit.record(kind, touch(referral), actor=actor, detail=detail, now=at)
    reactions.event_recorded(event)
    return event


@dataclass
class NewEvent:
    """One event for `record_events`, with record_event's arguments."""

    kind: str
    actor: Any
    at: datetime
    from_state: str = ""
    to_state: str = ""
    data: dict = field(default_factory=dict)


def record_events(referral: Referral, events: list[NewEvent]) -> list[ReferralEvent]:
    """`record_event` for several events at once, in this order: one INSERT for the events,
    one for their audit records (one link into the audit chain), then each one's reactions.
    The same rows as so many `record_event` calls, in the same order."""
    rows = ReferralEvent.objects.bulk_create(
        [
            ReferralEvent(
                referral=referral,
                kind=event.kind,
                from_state=event.from_state,
                to_state=event.to_state,
                actor=event.actor if event.actor is not None and event.actor.pk else None,
                actor_label=event.actor.get_username() if event.actor is not None else "refloop",
                at=event.at,
                data=event.data,
            )
            for event in events
        ]
    )
    where = touch(referral)
    records = []
    for event, row in zip(events, rows, strict=True):
        detail: dict[str, object] = {"event_id": row.pk}
        if event.to_state:
            detail.update({"from": event.from_state, "to": event.to_state})
        records.append((event.kind, where, event.actor, detail, event.at))
    audit.record_each(records)
    for row in rows:
        reactions.event_recorded(row)
    return rows
