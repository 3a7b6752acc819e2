"""The OpenAPI document, and a practice with referrals in every state a move starts from."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from refloop.demo import factories as f
from refloop.outreach.models import Task
from refloop.referrals.reports import write_progress_report

from .walk import advocacy_world, outreach_world


@pytest.fixture
def openapi(db):
    return Client().get("/api/v1/openapi.json").json()


@pytest.fixture
def frozen_clock():
    with time_machine.travel(dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def world(frozen_clock, ada, cora, cliff, spine, practice_a, provider_a, referral):
    """Referrals in every state a move starts from, the outreach objects, and the ids a valid
    body names."""
    now = timezone.now()

    def in_state(state):
        made = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_a)
        return f.advance(made, state, acting_user=cora)

    seen = in_state("seen")
    # Closing the loop is a legal move once the report is written.
    write_progress_report(seen.pk, acting_user=cora, findings="Seen.", plan="Home.")

    return {
        "received": referral,
        "accepted": in_state("accepted"),
        "scheduled": in_state("scheduled"),
        "seen": seen,
        "spine": spine,
        "location": f.LocationFactory(),
        "cliff": cliff,
        "cora": cora,
        "practice_a": practice_a,
        "provider_a": provider_a,
        "task": Task.objects.create(title="Visit the office", practice=practice_a),
        "starts_at": (now + dt.timedelta(days=7)).isoformat(),
        "now": now.isoformat(),
        **outreach_world(ada, practice_a, provider_a),
        **advocacy_world(cora, seen),
    }
