"""Importing a checked history file: what each row becomes, all or nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refloop.core.models import AuditEntry, Notification
from refloop.demo import factories as f
from refloop.demo.history_rows import history_rows
from refloop.history import services
from refloop.history.services import HistoryFileInvalid, import_history
from refloop.history.validation import check_file
from refloop.network.models import Practice, Provider
from refloop.patients.models import Patient
from refloop.referrals.models import (
    Appointment,
    ContactAttempt,
    Referral,
    ReferralEvent,
    State,
)

from .conftest import NEW_NPI, csv_bytes, declined_row, good_row, local

pytestmark = pytest.mark.usefixtures("practice_setup")


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Referral, Patient, Practice, Provider, ReferralEvent, Appointment)
    }


def load(rows, **kwargs):
    return import_history(check_file(csv_bytes(rows), "history.csv"), **kwargs)


def test_a_row_becomes_a_referral_with_its_timeline_contact_and_appointment(ada):
    result = load([good_row(coordinator="ada")], acting_user=ada)
    assert result.imported == 1
    referral = Referral.objects.get(pk=result.referral_ids[0])
    assert referral.direction == "inbound" and referral.state == State.LOOP_CLOSED
    assert referral.number.startswith("R-")
    assert referral.received_at == local("2025-03-04 09:30")
    assert referral.accepted_at == local("2025-03-05 08:15")
    assert referral.first_contact_at == local("2025-03-05 10:00")
    assert referral.outreach_started_at == local("2025-03-05 10:00")
    assert referral.first_scheduled_at == local("2025-03-06 14:20")
    assert referral.seen_at == local("2025-03-18 10:05")
    assert referral.closed_at == referral.state_changed_at == local("2025-03-20 16:00")
    assert referral.department.code == "spine" and referral.channel == "fax"
    assert referral.assignee == ada and referral.created_by == ada
    assert referral.referring_practice.name == "Prairie Family Medicine"
    provider = referral.referring_provider
    assert (provider.npi, provider.last_name, provider.first_name) == (NEW_NPI, "Lee", "Morgan")
    assert provider.practice == referral.referring_practice

    events = list(referral.events.values_list("kind", "from_state", "to_state", "at"))
    assert events == [
        ("referral.received", "", "received", local("2025-03-04 09:30")),
        ("referral.in_review", "received", "in_review", local("2025-03-04 11:00")),
        ("referral.accepted", "in_review", "accepted", local("2025-03-05 08:15")),
        ("referral.contacting", "accepted", "contacting", local("2025-03-05 10:00")),
        ("referral.contact_attempted", "", "", local("2025-03-05 10:00")),
        ("referral.scheduled", "contacting", "scheduled", local("2025-03-06 14:20")),
        ("referral.seen", "scheduled", "seen", local("2025-03-18 10:05")),
        ("referral.loop_closed", "seen", "loop_closed", local("2025-03-20 16:00")),
    ]
    transition = referral.events.get(kind="referral.seen")
    assert transition.actor is None and transition.actor_label == "History import"
    assert transition.data == {"imported": True}

    attempt = ContactAttempt.objects.get(referral=referral)
    assert (attempt.channel, attempt.outcome) == ("phone", "reached")
    assert attempt.note == "Imported from history"
    appointment = Appointment.objects.get(referral=referral)
    assert appointment.starts_at == local("2025-03-18 09:00")
    assert appointment.outcome == "attended" and appointment.visit_value == Decimal("240.00")
    assert appointment.department == referral.department
    assert appointment.created_at == local("2025-03-06 14:20")


def test_a_declined_row_keeps_its_reason():
    result = load([declined_row()])
    referral = Referral.objects.get(pk=result.referral_ids[0])
    assert referral.state == State.DECLINED and referral.end_reason == "outside_scope"
    assert referral.closed_at == local("2025-03-11 15:30")
    declined = referral.events.get(kind="referral.declined")
    assert declined.data == {"imported": True, "reason": "outside_scope"}
    assert not referral.appointments.exists() and not referral.contact_attempts.exists()


def test_a_no_show_then_rebooking_keeps_the_missed_appointment():
    row = good_row(
        scheduled_at="2025-03-06 14:20",
        no_show_at="2025-03-10 09:00",
        rescheduled_at="2025-03-11 10:00",
    )
    referral = Referral.objects.get(pk=load([row]).referral_ids[0])
    moves = list(referral.events.exclude(to_state="").values_list("from_state", "to_state"))
    assert ("scheduled", "no_show") in moves and ("no_show", "scheduled") in moves
    assert list(referral.appointments.values_list("starts_at", "outcome")) == [
        (local("2025-03-10 09:00"), "no_show"),
        (local("2025-03-18 09:00"), "attended"),
    ]
    assert referral.first_scheduled_at == local("2025-03-06 14:20")


def test_patients_are_matched_by_normalized_name_and_birth_date_and_added_once():
    known = f.PatientFactory(
        first_name="Zéphyrine", last_name="Quill-Feather", date_of_birth="1968-04-12"
    )
    other_birthday = good_row(patient_date_of_birth="1970-01-01")
    rows = [good_row(), good_row(), other_birthday, other_birthday]
    result = load(rows)
    patients = [Referral.objects.get(pk=pk).patient_id for pk in result.referral_ids]
    assert patients[:2] == [known.pk, known.pk]
    assert patients[2] == patients[3] != known.pk
    assert result.patients_created == 1
    assert Patient.objects.get(pk=patients[2]).name_key == known.name_key


def test_practices_match_ignoring_case_and_known_providers_are_reused(provider_a):
    row = good_row(
        referring_practice=provider_a.practice.name.upper(),
        referring_provider_npi=provider_a.npi,
        referring_provider_name="",
    )
    before = counts()
    result = load([row, row])
    assert result.practices_created == result.providers_created == 0
    referral = Referral.objects.get(pk=result.referral_ids[0])
    assert referral.referring_practice == provider_a.practice
    assert referral.referring_provider == provider_a
    assert counts()["Practice"] == before["Practice"]


def test_one_audit_entry_per_import_without_patient_data(ada):
    load([good_row(), declined_row()], acting_user=ada)
    [entry] = AuditEntry.objects.filter(action="history.imported")
    assert entry.actor == ada
    assert entry.detail["rows"] == 2 and entry.detail["file"] == "history.csv"
    assert "Quillfeather" not in str(entry.detail)
    assert not AuditEntry.objects.filter(action__startswith="referral.").exists()


def test_history_fires_no_messages_or_notifications(ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        load([good_row(coordinator="ada"), declined_row()], acting_user=ada)
    assert not DBTaskResult.objects.exists()
    assert not Notification.objects.exists()


def test_an_old_open_referral_is_recorded_as_breached_so_the_sweep_stays_quiet():
    row = good_row(
        in_review_at="",
        accepted_at="",
        first_contact_at="",
        contacting_at="",
        scheduled_at="",
        seen_at="",
        loop_closed_at="",
        appointment_at="",
        appointment_outcome="",
        visit_value="",
    )
    referral = Referral.objects.get(pk=load([row]).referral_ids[0])
    assert referral.state == State.RECEIVED and referral.closed_at is None
    assert referral.first_contact_due_at == local("2025-03-04 09:30") + timedelta(hours=48)
    assert referral.sla_breached_at == referral.first_contact_due_at


def test_only_admins_import(cora):
    from refloop.core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        load([good_row()], acting_user=cora)
    assert not Referral.objects.exists()


def test_a_file_with_one_bad_row_imports_nothing():
    before = counts()
    checked = check_file(csv_bytes([good_row(), good_row(urgency="soon"), declined_row()]), "h.csv")
    with pytest.raises(HistoryFileInvalid):
        import_history(checked)
    assert counts() == before


def test_only_good_imports_the_good_rows_only():
    rows = [good_row(), good_row(urgency="soon"), declined_row()]
    result = load(rows, only_good=True)
    assert result.imported == 2 and result.skipped_rows == 1
    assert sorted(Referral.objects.values_list("state", flat=True)) == ["declined", "loop_closed"]


def test_a_header_problem_imports_nothing_even_with_only_good():
    content = csv_bytes([good_row()], columns=["received_at", "mystery"])
    with pytest.raises(HistoryFileInvalid):
        import_history(check_file(content, "h.csv"), only_good=True)
    assert not Referral.objects.exists()


def test_a_failure_midway_leaves_nothing_behind(monkeypatch):
    rows = history_rows(
        services.CHUNK + 50, departments=["spine", "hand"], now=timezone.now(), seed=7
    )
    checked = check_file(csv_bytes(rows), "h.csv")
    assert checked.errors == []
    before = counts()
    real_write = services._Writer.write
    written = []

    def write_then_fail(self, chunk):
        if written:
            raise RuntimeError("disk full")
        real_write(self, chunk)
        written.append(Referral.objects.count())

    monkeypatch.setattr(services._Writer, "write", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_history(checked)
    assert written == [before["Referral"] + services.CHUNK]  # the first chunk was in
    assert counts() == before
    assert not AuditEntry.objects.filter(action="history.imported").exists()


def test_importing_the_same_file_twice_adds_nothing_the_second_time():
    rows = [good_row(referral_number="H-0001"), declined_row(referral_number="H-0002")]
    content = csv_bytes(rows)
    load(rows)
    before = counts()
    again = check_file(content, "history.csv")
    assert [(e.line, "already imported" in e.message) for e in again.errors] == [
        (2, True),
        (3, True),
    ]
    assert again.rows == []
    with pytest.raises(HistoryFileInvalid):
        import_history(again)
    assert import_history(again, only_good=True).imported == 0
    assert counts() == before


def test_progress_is_reported_per_chunk():
    rows = history_rows(services.CHUNK + 10, departments=["spine"], now=timezone.now(), seed=3)
    seen = []
    load(rows, progress=lambda done, total: seen.append((done, total)))
    total = services.CHUNK + 10
    assert seen == [(services.CHUNK, total), (total, total)]


def test_a_realistic_file_imports_cleanly_with_facts_for_analytics():
    from refloop.analytics.models import ReferralFact

    rows = history_rows(300, departments=["spine", "hand"], now=timezone.now(), seed=11)
    result = load(rows)
    assert result.imported == 300
    assert ReferralFact.objects.filter(referral_id__in=result.referral_ids).count() == 300
    states = set(Referral.objects.values_list("state", flat=True))
    assert {"loop_closed", "declined", "unreachable", "cancelled", "scheduled"} <= states


def test_the_cycle_collector_is_off_while_a_file_is_checked_and_written_then_on_again(
    monkeypatch,
):
    import gc

    from refloop.history import validation

    seen = []
    check_sheet, write = validation.check_sheet, services._Writer.write

    def checking(*args, **kwargs):
        seen.append(("check", gc.isenabled()))
        return check_sheet(*args, **kwargs)

    def writing(self, rows):
        seen.append(("write", gc.isenabled()))
        write(self, rows)

    monkeypatch.setattr(validation, "check_sheet", checking)
    monkeypatch.setattr(services._Writer, "write", writing)
    assert gc.isenabled()
    load([good_row()])
    assert seen == [("check", False), ("write", False)]
    assert gc.isenabled()
    with pytest.raises(HistoryFileInvalid):
        load([good_row(received_at="not a time")])
    assert gc.isenabled()
    # Left off when it was off: the caller's choice stands.
    gc.disable()
    try:
        load([declined_row()])
        assert not gc.isenabled()
    finally:
        gc.enable()
