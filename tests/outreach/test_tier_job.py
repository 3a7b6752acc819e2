"""The worker recomputes every practice's tier as a periodic job (once a day by default)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from refloop.demo import factories as f
from refloop.ops.worker import drain_queue, enqueue_due_jobs, periodic_jobs
from refloop.outreach.models import Relationship, Tier


def test_the_tier_refresh_is_a_daily_periodic_job():
    job = next(j for j in periodic_jobs() if j.name == "outreach_tiers")

    assert job.task_path == "refloop.outreach.tasks.refresh_tiers"
    assert job.every == timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_it_once_per_interval(cora, spine):
    referrer = f.ProviderFactory(taxonomy_code="207Q00000X")
    for _ in range(24):
        f.make_referral(acting_user=cora, department=spine, referring_provider=referrer)
    now = timezone.now()

    assert "outreach_tiers" in enqueue_due_jobs(now=now)
    drain_queue()

    assert Relationship.objects.get(practice=referrer.practice).tier == Tier.A
    assert "outreach_tiers" not in enqueue_due_jobs(now=now + timedelta(hours=23))
    assert "outreach_tiers" in enqueue_due_jobs(now=now + timedelta(days=1))
