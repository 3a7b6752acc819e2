"""What happens when a referral event commits: the one table of reactions.

Every consequence of a timeline event (the analytics facts, the automation's messages, every
staff notice and email) is a handler listed here under the event kinds it reacts to. A handler
is named by its dotted path, so the referrals app, which records the events, imports none of
the apps that react to them. Handlers take the event and are idempotent: the worker runs each
once per event (refloop.core.reactions.run_once), and each also dedupes its own writes.

To answer "what happens when a referral is scheduled?", read `REACTIONS["referral.scheduled"]`
and `REACTIONS[EVERY_KIND]`.
"""

from django.utils.module_loading import import_string

from refloop.core import reactions
from refloop.core.reactions import EVERY_KIND
from refloop.referrals import effects
from refloop.referrals.models import Referral, ReferralEvent

REACTIONS: dict[str, tuple[str, ...]] = {
    EVERY_KIND: ("refloop.analytics.facts.event_recorded",),
    "referral.received": (
        "refloop.messaging.automation.on_received",
        "refloop.outreach.signals.on_referral_received",
    ),
    "referral.assigned": ("refloop.referrals.notices.assigned_to_you",),
    "referral.accepted": ("refloop.messaging.automation.on_accepted",),
    "referral.declined": (
        "refloop.messaging.automation.on_declined",
        "refloop.outreach.signals.on_referral_declined",
    ),
    "referral.pending_info": ("refloop.messaging.automation.on_pending_info",),
    "referral.in_review": ("refloop.portal.notices.info_answered",),
    "referral.scheduled": ("refloop.messaging.automation.on_scheduled",),
    "referral.rescheduled": ("refloop.messaging.automation.on_scheduled",),
    "referral.no_show": ("refloop.messaging.automation.on_no_show",),
    "referral.seen": (
        "refloop.messaging.automation.on_seen",
        "refloop.advocacy.sending.on_seen",
    ),
    "referral.report_written": ("refloop.messaging.automation.on_report_written",),
    "referral.loop_closed": ("refloop.advocacy.office.on_loop_closed",),
    "referral.outcome_consent_recorded": ("refloop.messaging.automation.on_consent_recorded",),
    "referral.sla_breached": ("refloop.messaging.automation.on_sla_breached",),
    "referral.message_posted": ("refloop.portal.notices.message_posted",),
    "referral.appointment_cancelled_by_patient": (
        "refloop.referrals.notices.appointment_cancelled_by_patient",
    ),
}

# Run inside the transaction that records the event instead of in the worker:
# - the facts: `mark_stale` only notes the referral and rebuilds it right after this commit,
#   in this process, so analytics read just after a change already show it;
# - the patient's cancellation: staff hear of it at once, and the patient's page can say so.
IN_TRANSACTION = frozenset(
    {
        "refloop.analytics.facts.event_recorded",
        "refloop.referrals.notices.appointment_cancelled_by_patient",
    }
)


# Run inside the transaction that created an inbound referral, once its first events are
# recorded (refloop.referrals.services): its analytics fact, written from the values in hand
# instead of read back by the rebuild after commit (a quarter of an intake's time).
ON_CREATED: tuple[str, ...] = ("refloop.analytics.facts.referral_created",)


def handlers_for(kind: str) -> list[str]:
    return reactions.handlers_for(REACTIONS, kind)


def event_recorded(event: ReferralEvent) -> None:
    """Inside the transaction that recorded `event`: run its in-transaction reactions and queue
    the others for the worker, after commit. Historical loads (`effects.suppressed()`) get
    none: a referral closed two years ago must not notify anyone today, and the loader
    rebuilds the facts in bulk."""
    if effects.is_suppressed():
        return
    paths = handlers_for(event.kind)
    for path in paths:
        if path in IN_TRANSACTION:
            reactions.handler(path)(event)
    reactions.queue_after_commit(event, [p for p in paths if p not in IN_TRANSACTION])


def referral_created(referral: Referral, events: list[ReferralEvent]) -> None:
    """Inside the transaction that created `referral` with `events` (nothing else recorded
    for it yet): run the ON_CREATED handlers. Historical loads get none, as with events."""
    if effects.is_suppressed():
        return
    for path in ON_CREATED:
        import_string(path)(referral, events)


def run_now(event: ReferralEvent, *, within: str = "refloop.") -> list[str]:
    """Run the worker's reactions to `event` here and now, each once (the demo seed's recent
    messages, tests that pick the moment); only handlers whose path starts with `within`.
    Returns the paths that ran."""
    ran = []
    for path in handlers_for(event.kind):
        if path not in IN_TRANSACTION and path.startswith(within):
            if reactions.run_once(event, path):
                ran.append(path)
    return ran
