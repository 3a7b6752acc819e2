"""Appending to a referral's timeline: the event, its audit record, and its reactions."""

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
