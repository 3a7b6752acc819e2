"""The first-contact SLA: referrals whose first patient contact is overdue are flagged once."""

from datetime import datetime

from django.db import transaction

from refloop.core.models import User
from refloop.core.notifications import notify
from refloop.core.roles import Role
from refloop.referrals import lifecycle
from refloop.referrals.models import Direction, Referral
from refloop.referrals.timeline import record_event


def overdue_first_contact(now: datetime):
    return Referral.objects.filter(
        direction=Direction.INBOUND,
        state__in=lifecycle.open_states(Direction.INBOUND),
        first_contact_at__isnull=True,
        first_contact_due_at__lte=now,
        sla_breached_at__isnull=True,
    )


def who_answers_for(referral: Referral) -> list[User]:
    """The assignee; else the department's point of contact; else the admins, so no breach is silent."""
    if referral.assignee_id and referral.assignee.is_active:
        return [referral.assignee]
    if referral.department_id and referral.department.point_of_contact_id:
        return [referral.department.point_of_contact]
    return list(User.objects.filter(role=Role.ADMIN, is_active=True))


def sweep_sla_breaches(*, now: datetime) -> int:
    """Flag every newly overdue referral and notify who answers for it; returns how many."""
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
            referral = Referral.objects.select_related(
                "assignee", "department__point_of_contact"
            ).get(pk=referral_id)
            overdue_hours = (now - referral.first_contact_due_at).total_seconds() / 3600
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
            for user in who_answers_for(referral):
                notify(
                    user,
                    kind="referral.sla_breached",
                    referral=referral,
                    now=now,
                    text=f"{referral.get_urgency_display()} referral {referral.number} has had no "
                    f"patient contact {overdue_hours:.0f} h past its first-contact target.",
                )
            flagged += 1
    return flagged
