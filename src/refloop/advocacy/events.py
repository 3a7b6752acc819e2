"""Recording an advocacy event: the timeline row, and its reactions queued for after commit."""

from datetime import datetime

from refloop.advocacy import reactions
from refloop.advocacy.models import AdvocacyEvent
from refloop.core import reactions as core_reactions
from refloop.referrals import effects


def record_event(
    kind: str, *, actor, at: datetime, data: dict | None = None, **about
) -> AdvocacyEvent:
    """Append `kind` (dotted: "case.acknowledged") about the rows in `about` (case=, survey=,
    advocate=, testimonial=). Call inside the transaction that made the change; the reactions
    run after it commits, none if it rolls back (nor during a historical load)."""
    event = AdvocacyEvent.objects.create(kind=kind, actor=actor, at=at, data=data or {}, **about)
    if not effects.is_suppressed():
        core_reactions.queue_after_commit(event, reactions.handlers_for(kind))
    return event
