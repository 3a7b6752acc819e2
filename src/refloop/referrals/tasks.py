"""Background tasks of the referrals app (django.tasks; run by `refloop worker`)."""

from django.tasks import task
from django.utils import timezone

from refloop.core.notifications import notify
from refloop.messaging import automation
from refloop.referrals.models import ReferralEvent
from refloop.referrals.sla import sweep_sla_breaches


@task()
def process_event(event_id: int) -> None:
    """Side effects of one committed timeline event. Safe to run twice (notices dedupe)."""
    event = ReferralEvent.objects.select_related("referral__assignee").get(pk=event_id)
    referral = event.referral
    automation.handle_event(event)
    if event.kind == "referral.assigned" and referral.assignee is not None:
        if (
            referral.assignee.get_username() == event.data.get("assignee")
            and referral.assignee != event.actor
        ):
            notify(
                referral.assignee,
                kind=event.kind,
                referral=referral,
                dedupe_key=str(event.pk),
                text=f"Referral {referral.number} was assigned to you.",
                now=event.at,
            )


@task()
def sla_sweep() -> int:
    return sweep_sla_breaches(now=timezone.now())
