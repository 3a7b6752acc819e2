"""An import's analytics facts are built from the values it wrote, not read back, and are
the rows `facts.rebuild` writes for the same referrals, patient-level columns included
(the pattern of tests/analytics/test_intake_fact.py)."""

import io

import pytest
from django.db import transaction
from django.utils import timezone

from refloop.analytics import facts
from refloop.analytics.models import AppointmentFact, ReferralFact
from refloop.demo import factories as f
from refloop.demo.history_rows import history_rows
from refloop.history import services
from refloop.history.export import export_history
from refloop.history.services import import_history
from refloop.history.validation import check_file
from refloop.referrals import transitions
from refloop.referrals.models import Referral

from .conftest import csv_bytes
from .test_event_log_round_trip import NOW, Rollback, build_history

pytestmark = pytest.mark.usefixtures("practice_setup")


def _all_facts() -> tuple[list[dict], list[dict]]:
    return (
        list(ReferralFact.objects.order_by("referral_id").values()),
        list(AppointmentFact.objects.order_by("appointment_id").values()),
    )


def _import_without_reading_back(monkeypatch, content: bytes, name: str, **kwargs):
    def read_back(*args, **kwargs):
        raise AssertionError("the import read its referrals back to build their facts")

    checked = check_file(content, name)
    assert [e.message for e in checked.errors] == []
    with monkeypatch.context() as patched:
        patched.setattr(facts, "_read", read_back)
        return import_history(checked, **kwargs)


def _assert_rebuild_agrees() -> None:
    in_hand = _all_facts()
    ids = list(Referral.objects.values_list("pk", flat=True))
    assert facts.rebuild(ids) == len(ids)
    rebuilt = _all_facts()
    for written, read in zip(in_hand[0], rebuilt[0], strict=True):
        assert written == read, written["referral_id"]
    assert in_hand[1] == rebuilt[1]


def test_the_imported_facts_are_what_the_rebuild_writes(cora, spine, monkeypatch):
    rows = history_rows(150, departments=["spine", "hand"], now=timezone.now(), seed=7)
    # A patient on record with a referral seen since, referred again in the file (earlier):
    # the file's referral becomes the patient's first and takes the value of their visits.
    known = rows[0]
    on_record = f.make_referral(
        acting_user=cora,
        department=spine,
        patient=f.patient_data(
            first_name=known["patient_first_name"],
            last_name=known["patient_last_name"],
            date_of_birth=check_file(csv_bytes([known]), "one.csv").rows[0].date_of_birth,
        ),
    )
    f.advance(on_record, "scheduled", acting_user=cora)
    transitions.transition(
        on_record.pk, to="seen", acting_user=cora, fields={"visit_value": "180.00"}
    )
    facts.rebuild([on_record.pk])
    assert ReferralFact.objects.get(pk=on_record.pk).first_of_patient

    monkeypatch.setattr(services, "FACTS_CHUNK", 40)  # chunks that split patients' referrals
    result = _import_without_reading_back(monkeypatch, csv_bytes(rows), "history.csv")
    assert result.imported == 150 and result.patients_created < 150
    assert not ReferralFact.objects.get(pk=on_record.pk).first_of_patient
    assert AppointmentFact.objects.exists()
    _assert_rebuild_agrees()


def test_an_event_logs_facts_are_what_the_rebuild_writes(cora, spine, hand, ada, monkeypatch):
    # Returns to a state, two no-shows, a moved appointment, a location, contact attempts.
    clinic = f.LocationFactory(name="Main Street Clinic")
    try:
        with transaction.atomic():
            build_history(cora, spine, hand, clinic)
            out = io.BytesIO()
            export_history(out, "csv", acting_user=ada, event_log=True)
            raise Rollback
    except Rollback:
        pass
    result = _import_without_reading_back(
        monkeypatch, out.getvalue(), "history.csv", acting_user=ada, now=NOW
    )
    assert result.imported == 8
    assert ReferralFact.objects.filter(no_shows=2).count() == 1
    assert AppointmentFact.objects.filter(location_id=clinic.pk).exists()
    _assert_rebuild_agrees()
