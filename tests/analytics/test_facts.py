"""The fact tables follow every committed change, hold no patient identity, and repair
themselves when a rebuild was missed."""

import pytest
from django.db import transaction

from refloop.analytics import facts
from refloop.analytics.models import AppointmentFact, ReferralFact
from refloop.demo import factories as f
from refloop.referrals import effects, transitions
from refloop.referrals.models import Referral
from tests.analytics.history import local


def test_a_committed_transition_rebuilds_the_referrals_facts(
    cora, referral, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        transitions.transition(referral.pk, to="accepted", acting_user=cora, fields={})
    fact = ReferralFact.objects.get(pk=referral.pk)
    assert fact.state == "accepted"
    assert fact.version == Referral.objects.get(pk=referral.pk).version

    at = referral.received_at
    with django_capture_on_commit_callbacks(execute=True):
        transitions.transition(
            referral.pk, to="scheduled", acting_user=cora, fields=f.fields_for("scheduled", at=at)
        )
    fact.refresh_from_db()
    assert fact.state == "scheduled"
    assert AppointmentFact.objects.filter(referral_id=referral.pk).count() == 1


def test_a_rolled_back_change_leaves_the_facts_as_they_were(
    cora, referral, django_capture_on_commit_callbacks
):
    facts.rebuild([referral.pk])
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            transitions.transition(referral.pk, to="accepted", acting_user=cora, fields={})
            raise RuntimeError("the request failed after the move")
    assert ReferralFact.objects.get(pk=referral.pk).state == "received"


def test_historical_loads_leave_the_rebuild_to_the_loader(cora, spine):
    with effects.suppressed():
        referral = f.make_referral(acting_user=cora, department=spine)
    assert not ReferralFact.objects.filter(pk=referral.pk).exists()
    assert facts.stale_ids() == [referral.pk]
    assert facts.catch_up() == 1
    assert ReferralFact.objects.filter(pk=referral.pk).exists()
    assert facts.stale_ids() == []


def test_catch_up_repairs_a_fact_left_behind(cora, referral):
    facts.rebuild([referral.pk])
    with effects.suppressed():  # a change whose after-commit rebuild never ran
        transitions.transition(referral.pk, to="accepted", acting_user=cora, fields={})
    assert facts.stale_ids() == [referral.pk]
    facts.catch_up()
    assert ReferralFact.objects.get(pk=referral.pk).state == "accepted"


def test_a_merged_duplicate_has_no_facts(cora, spine, provider_a):
    from refloop.referrals.services import merge_duplicate

    patient = f.patient_data()
    kept = f.make_referral(
        acting_user=cora, department=spine, referring_provider=provider_a, patient=patient
    )
    dup = f.make_referral(
        acting_user=cora, department=spine, referring_provider=provider_a, patient=patient
    )
    transitions.transition(dup.pk, to="cancelled", acting_user=cora, fields={"reason": "duplicate"})
    facts.rebuild_all()
    assert ReferralFact.objects.filter(pk=dup.pk).exists()
    merge_duplicate(dup.pk, into=kept.pk, acting_user=cora)
    assert dup.pk in facts.stale_ids()
    facts.catch_up()
    assert not ReferralFact.objects.filter(pk=dup.pk).exists()
    assert ReferralFact.objects.filter(pk=kept.pk).exists()


def test_facts_hold_no_name_or_birth_date(cora, spine):
    patient = f.patient_data(first_name="Quintessa", last_name="Marrowvale")
    referral = f.make_referral(acting_user=cora, department=spine, patient=patient)
    facts.rebuild([referral.pk])
    row = ReferralFact.objects.filter(pk=referral.pk).values().get()
    text = " ".join(str(value) for value in row.values()).lower()
    assert "quintessa" not in text and "marrowvale" not in text
    assert patient["date_of_birth"].isoformat() not in text
    assert len(row["patient_key"]) == 64


def test_the_received_month_is_local(cora, spine):
    # 1 March 03:00 UTC is still 28 February in Chicago.
    referral = f.make_referral(
        acting_user=cora,
        department=spine,
        received_at=local("2026-02-28 21:00"),
        now=local("2026-02-28 21:00"),
    )
    facts.rebuild([referral.pk])
    assert ReferralFact.objects.get(pk=referral.pk).received_month == 202602


def _imported_history(rows: int) -> list[int]:
    """`rows` referrals of a generated practice history (every path, patients referred
    again, appointments), through the history import; their ids."""
    from django.utils import timezone

    from refloop.demo.history_rows import history_rows
    from refloop.history.services import import_history
    from refloop.history.validation import check_file
    from tests.history.conftest import csv_bytes

    generated = history_rows(rows, departments=["spine", "hand"], now=timezone.now(), seed=19)
    checked = check_file(csv_bytes(generated), "history.csv")
    assert not checked.errors
    return import_history(checked).referral_ids


def _all_facts() -> tuple[list[dict], list[dict]]:
    return (
        list(ReferralFact.objects.order_by("referral_id").values()),
        list(AppointmentFact.objects.order_by("appointment_id").values()),
    )


def test_a_full_rebuild_writes_what_the_rebuild_of_each_chunk_writes_without_deleting(
    cora, spine, hand, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from refloop.referrals.services import merge_duplicate

    ids = _imported_history(120)
    # A merged duplicate inside the id range: it has no facts either way.
    transitions.transition(
        ids[40], to="cancelled", acting_user=cora, fields={"reason": "duplicate"}
    )
    merge_duplicate(ids[40], into=ids[41], acting_user=cora)
    facts.rebuild(ids)
    by_chunks = _all_facts()
    assert len(by_chunks[0]) == len(ids) - 1 and by_chunks[1]

    monkeypatch.setattr(facts, "FULL_CHUNK", 7)  # many chunks, one split at the merged one
    seen = []
    with CaptureQueriesContext(connection) as captured:
        assert facts.rebuild_all(progress=lambda done, total: seen.append(done)) == len(ids)
    assert _all_facts() == by_chunks
    assert seen == [min(n, len(ids)) for n in range(7, len(ids) + 7, 7)]
    statements = [q["sql"] for q in captured.captured_queries]
    fact_tables = (ReferralFact._meta.db_table, AppointmentFact._meta.db_table)
    deletes = [s for s in statements if s.startswith("DELETE") and any(t in s for t in fact_tables)]
    assert len(deletes) == 2  # each table emptied once, not once per chunk
    assert not any(" IN (" in s for s in statements if "referral_id" in s and "SELECT" in s)


def test_a_read_by_id_range_keeps_only_the_chunks_referrals(cora, spine, hand):
    ids = sorted(_imported_history(12))
    chunk = ids[:3] + ids[4:8]  # one left out of the range, as one listed after the start
    rows, moves, appointments = facts._read(chunk, span=True)
    assert [row["id"] for row in rows] == chunk
    assert set(moves) <= set(chunk) and set(appointments) <= set(chunk)
    assert facts._read(chunk) == (rows, moves, appointments)
