"""Background tasks of the messaging app (run by `refloop worker`)."""

from django.tasks import task
from django.utils import timezone

from refloop.messaging.automation import send_monthly_digests, sweep_stalled


@task()
def messaging_sweep() -> int:
    now = timezone.now()
    return sweep_stalled(now=now) + send_monthly_digests(now=now)
