"""Running the worker's messaging work inline, at a time the test chooses."""

from refloop.messaging.dispatch import dispatch_all_due
from refloop.messaging.models import Message
from refloop.referrals import reactions
from refloop.referrals.models import ReferralEvent

_handled: set[int] = set()


def run_automation() -> None:
    """What the worker does for each committed event: queue the messages it calls for.
    Handling an event twice is harmless (messages are queued once), which the tests rely on."""
    for event in ReferralEvent.objects.select_related("referral").order_by("pk"):
        reactions.run_now(event, within="refloop.messaging.automation.")


def settle(now) -> None:
    """Queue what the events call for, then send everything due at `now`."""
    run_automation()
    dispatch_all_due(now=now)


def messages(**filters) -> list[tuple[str, str, str]]:
    """(rule, recipient kind, status) of every message, in queue order."""
    return [
        (m.rule, m.recipient.split(":")[0], m.status)
        for m in Message.objects.filter(**filters).order_by("pk")
    ]


def appointment_link(referral, *, acting_user, days_ahead: int = 10) -> str:
    """Accept and schedule `referral`, then mint the patient's confirm link; the token."""
    from datetime import timedelta

    from django.utils import timezone

    from refloop.messaging import magic
    from refloop.messaging.models import MagicLink
    from refloop.referrals import transitions

    transitions.accept_referral(referral, acting_user=acting_user)
    transitions.schedule_referral(
        referral,
        acting_user=acting_user,
        appointment=transitions.AppointmentInput(
            starts_at=timezone.now() + timedelta(days=days_ahead)
        ),
    )
    return magic.mint(
        MagicLink.Purpose.CONFIRM_APPOINTMENT,
        referral=referral,
        appointment=referral.appointments.get(),
        message=None,
        now=timezone.now(),
    )
