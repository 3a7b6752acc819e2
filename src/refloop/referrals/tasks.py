"""Background tasks of the referrals app (django.tasks; run by `refloop worker`).

The reactions to timeline events are queued from the table in refloop.referrals.reactions,
one task per committed transaction: `refloop.core.reactions.react` for a single event and
handler, `react_all` for several (an intake queues three).
"""

from django.tasks import task
from django.utils import timezone

from refloop.referrals.sla import sweep_sla_breaches


@task()
def sla_sweep() -> int:
    return sweep_sla_breaches(now=timezone.now())
