"""Background tasks of the referrals app (django.tasks; run by `refloop worker`).

The reactions to timeline events are queued as `refloop.core.reactions.react`, one task per
event and handler, from the table in refloop.referrals.reactions.
"""

from django.tasks import task
from django.utils import timezone

from refloop.referrals.sla import sweep_sla_breaches


@task()
def sla_sweep() -> int:
    return sweep_sla_breaches(now=timezone.now())
