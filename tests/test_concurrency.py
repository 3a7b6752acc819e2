"""Races on real transactions: idempotent creation and conflicting transitions."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from refloop.core.errors import Conflict
from refloop.demo import factories as f
from refloop.referrals import transitions
from refloop.referrals.models import IdempotencyKey, Referral, ReferralEvent
from refloop.referrals.services import create_inbound_referral

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(count, work):
    """Run `work(i)` in `count` threads released at the same instant; return results or errors."""
    barrier = threading.Barrier(count)

    def one(i):
        try:
            barrier.wait()
            return work(i)
        except Exception as error:  # the caller inspects what each racer got
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_replays_of_one_idempotency_key_create_one_referral(cora, provider_a, spine):
    patient = f.patient_data()

    def create(_):
        referral, created = create_inbound_referral(
            acting_user=cora,
            patient=patient,
            source_type="provider",
            channel="api",
            reason="Neck pain",
            referring_provider=provider_a,
            department=spine,
            idempotency_key="fax-7731",
            fingerprint="same-body",
        )
        return referral.pk, created

    results = run_together(6, create)
    assert all(isinstance(r, tuple) for r in results), results
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Referral.objects.count() == 1
    assert IdempotencyKey.objects.get().referral_id == results[0][0]
    assert ReferralEvent.objects.filter(kind="referral.received").count() == 1


def test_racing_decisions_on_one_referral_let_exactly_one_win(cora, cliff, provider_a, spine):
    referral = f.make_referral(acting_user=cora, referring_provider=provider_a, department=spine)

    def decide(i):
        if i % 2 == 0:
            return transitions.accept_referral(referral.pk, acting_user=cliff).state
        return transitions.decline_referral(
            referral.pk, acting_user=cora, reason="outside_scope"
        ).state

    results = run_together(4, decide)
    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, str)), results
    referral.refresh_from_db()
    assert referral.state == winners[0]
    decisions = ReferralEvent.objects.filter(referral=referral).exclude(
        kind__in=["referral.received", "referral.triaged"]
    )
    assert decisions.count() == 1


def test_concurrent_http_posts_with_one_idempotency_key_answer_the_same_referral(
    api, cora, provider_a, spine
):
    body = {
        "patient": {
            "first_name": "Ines",
            "last_name": "Varga",
            "date_of_birth": "1961-04-09",
            "contact_consent": True,
        },
        "source_type": "provider",
        "referring_provider_id": provider_a.pk,
        "channel": "api",
        "reason": "Right knee osteoarthritis, failed injections",
        "icd10_codes": ["M17.11"],
        "department_id": spine.pk,
    }
    client = api(cora)

    def post(_):
        response = client.post("/api/v1/referrals", body, **{"Idempotency-Key": "ehr-msg-88121"})
        return response.status_code, response.json()["id"]

    results = run_together(5, post)
    assert all(isinstance(r, tuple) for r in results), results
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 200, 200, 200, 201]
    assert len({referral_id for _, referral_id in results}) == 1
    assert Referral.objects.count() == 1
