"""The first-contact SLA: referrals whose first patient contact is overdue are flagged once."""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from refloop.referrals.clocks import FIRST_CONTACT, clock_q
from refloop.referrals.models import Referral
from refloop.referrals.timeline import record_event


def overdue_first_contact(now: datetime) -> QuerySet[Referral]:
    """Referrals whose first-contact clock is overdue (refloop.referrals.clocks) and not
    flagged yet."""
    return Referral.objects.filter(
        clock_q(FIRST_CONTACT, "overdue", now=now), sla_breached_at__isnull=True
    )


def sweep_sla_breaches(*, now: datetime) -> int:
    """Flag every newly overdue referral; returns how many.

    The `referral.sla_breached` event is what alerts the assignee and, later, escalates to
    the department's point of contact (refloop.messaging.automation).
    """
    flagged = 0
    # The ids are read first: each breach is then written in its own transaction,
    # with no cursor left open across those writes.
    for referral_id in list(overdue_first_contact(now).values_list("pk", flat=True)):
        with transaction.atomic():
            # The conditional update is the claim: two sweeps never flag the same breach twice.
            claimed = Referral.objects.filter(pk=referral_id, sla_breached_at__isnull=True).update(
                sla_breached_at=now
            )
            if not claimed:
                continue
            referral = Referral.objects.get(pk=referral_id)
            assert referral.first_contact_due_at is not None  # the overdue filter says so
            record_event(
                referral,
                "referral.sla_breached",
                actor=None,
                at=now,
                data={
                    "sla": "first_contact",
                    "due_at": referral.first_contact_due_at.isoformat(),
                    "urgency": referral.urgency,
                },
            )
            flagged += 1
    return flagged
