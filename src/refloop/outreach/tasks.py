"""Background tasks of outreach (django.tasks; run by `refloop worker`)."""

from django.tasks import task

from refloop.outreach import tiers


@task()
def refresh_tiers() -> int:
    """Every practice's computed tier, from the last 12 months of referrals: nightly."""
    return tiers.refresh_tiers()
