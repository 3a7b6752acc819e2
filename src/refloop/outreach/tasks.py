"""Background tasks of outreach (django.tasks; run by `refloop worker`)."""

from django.tasks import task
from django.utils import timezone

from refloop.advocacy import office
from refloop.outreach import signals, tiers


@task()
def signals_sweep() -> int:
    """The sweep-type signals (outreach.signals): tasks for declining referrers, repeated
    not-a-fit declines, service problems and overdue tier A visits; and, in the first week of
    a quarter, the referring offices' quarterly survey (advocacy.office), which asks the same
    practices how referring to us goes."""
    now = timezone.now()
    return sum(signals.sweep(now=now).values()) + office.quarterly_sweep(now=now)


@task()
def refresh_tiers() -> int:
    """Every practice's computed tier, from the last 12 months of referrals: nightly."""
    return tiers.refresh_tiers()
