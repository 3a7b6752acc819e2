"""Two intakes of one patient in flight at once, on real transactions: the patient's first
referral is marked once, as `facts.rebuild` would mark it."""

import threading

import pytest
from django.db import connections, transaction

from refloop.analytics import facts
from refloop.analytics.models import ReferralFact
from refloop.demo import factories as f
from refloop.referrals.services import create_inbound_referral

pytestmark = pytest.mark.django_db(transaction=True)

# How long the first intake keeps its transaction open for the second to finish beside it.
OVERLAP_SECONDS = 2.0


def test_two_intakes_of_one_patient_at_once_mark_one_first_referral(
    cora, provider_a, spine, settings
):
    # Two threads may share an audit chain, whose head lock would queue them: not here.
    settings.AUDIT_CHAIN_SHARDS = 1_000_000
    patient = f.patient_data()
    first_written, second_done = threading.Event(), threading.Event()
    ids: dict[str, int] = {}
    errors: list[BaseException] = []

    def intake(name: str) -> int:
        referral, _ = create_inbound_referral(
            acting_user=cora,
            patient=dict(patient),
            source_type="provider",
            channel="api",
            reason="Low back pain",
            referring_provider=provider_a,
            department=spine,
            assignee=cora,  # no round-robin: its department lock would queue the two anyway
        )
        return referral.pk

    def first() -> None:
        try:
            with transaction.atomic():
                ids["first"] = intake("first")
                first_written.set()
                # Still open: the second intake runs now, unless it waits for this one.
                second_done.wait(OVERLAP_SECONDS)
        except BaseException as error:  # reported by the test below
            errors.append(error)
            first_written.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_written.wait()
            ids["second"] = intake("second")
        except BaseException as error:
            errors.append(error)
        finally:
            second_done.set()
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    written = {
        row["referral_id"]: row
        for row in ReferralFact.objects.filter(referral_id__in=ids.values()).values()
    }
    assert len(written) == 2
    assert len({row["patient_key"] for row in written.values()}) == 1
    firsts = [pk for pk, row in written.items() if row["first_of_patient"]]
    assert firsts == [ids["first"]]
    assert facts.rebuild(ids.values()) == 2
    assert {
        row["referral_id"]: row
        for row in ReferralFact.objects.filter(referral_id__in=ids.values()).values()
    } == written


def test_a_threads_stale_referrals_are_not_another_threads_to_rebuild():
    """Each web server thread keeps the referrals its transaction left stale: another
    thread's commit must not rebuild one still uncommitted (its rebuild would read no
    referral and delete the fact the intake is writing)."""
    facts._pending().add(-1)
    seen: list[set[int]] = []
    other = threading.Thread(target=lambda: seen.append(set(facts._pending())))
    other.start()
    other.join()
    facts._pending().discard(-1)
    assert seen == [set()]
