"""The audit trail of reads and writes, its append-only guarantee, and PHI kept out of logs."""

import logging

import pytest
from django.db import DatabaseError, connection, transaction

from refloop.core import context
from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.referrals import selectors, services, transitions
from refloop.referrals.models import ReferralEvent

OFFICE = context.RequestContext(ip_address="10.20.30.40", channel="web")


def entries(action):
    return AuditEntry.objects.filter(action=action)


def test_reading_a_referral_is_audited_with_who_what_when_and_where(referral, cora):
    with context.using(OFFICE):
        selectors.get_referral(cora, referral.pk)
    entry = entries("referral.read").get()
    assert entry.actor == cora and entry.actor_label == "cora"
    assert (entry.object_type, entry.object_id) == ("referral", str(referral.pk))
    assert entry.patient_id == referral.patient_id and entry.referral_id == referral.pk
    assert entry.ip_address == "10.20.30.40" and entry.channel == "web"
    assert entry.at is not None


def test_a_refused_read_is_audited_too(referral, hana):
    with pytest.raises(Exception, match="No referral"):
        selectors.get_referral(hana, referral.pk)
    entry = entries("referral.read_denied").get()
    assert entry.actor == hana and entry.referral_id == referral.pk
    assert entry.patient_id is None  # the refused reader learns nothing, the log says nothing more


def test_liaison_read_is_recorded_as_a_summary_read(referral, lia):
    selectors.get_referral(lia, referral.pk)
    assert entries("referral.read_summary").filter(actor=lia).count() == 1
    assert not entries("referral.read").exists()


def test_every_row_of_a_list_showing_patients_is_audited(cora, provider_a, spine):
    made = [f.make_referral(acting_user=cora, referring_provider=provider_a) for _ in range(3)]
    page = selectors.list_referrals(cora, selectors.ReferralFilters(), limit=2)
    assert len(page.items) == 2 and page.total == 3
    listed = entries("referral.listed")
    assert listed.count() == 2
    assert set(listed.values_list("patient_id", flat=True)) <= {r.patient_id for r in made}


def test_each_write_is_audited_under_its_event_name(referral, cora):
    transitions.start_review(referral, acting_user=cora)
    services.record_contact_attempt(referral, acting_user=cora, channel="phone", outcome="reached")
    services.add_note(referral, acting_user=cora, text="Patient prefers mornings")
    actions = list(
        AuditEntry.objects.filter(referral_id=referral.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "referral.received",
        "referral.triaged",
        "referral.in_review",
        "referral.contact_attempted",
        "referral.note_added",
    ]
    transition_entry = entries("referral.in_review").get()
    assert (
        transition_entry.detail["from"] == "received"
        and transition_entry.detail["to"] == "in_review"
    )
    assert transition_entry.patient_id == referral.patient_id


def test_audit_detail_carries_no_patient_data(referral, cora):
    patient = referral.patient
    transitions.decline_referral(referral, acting_user=cora, reason="outside_scope")
    for entry in AuditEntry.objects.all():
        flat = str(entry.detail)
        assert patient.last_name not in flat and str(patient.date_of_birth) not in flat


def test_audit_entries_cannot_be_changed_or_deleted_through_the_orm(referral):
    entry = AuditEntry.objects.first()
    entry.action = "tampered"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


def test_the_database_itself_refuses_to_rewrite_the_audit_log_and_timeline(referral):
    for table in ("core_auditentry", "referrals_referralevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET at = at")  # noqa: S608


def test_raw_deletes_of_audit_rows_are_refused_on_postgresql_and_allowed_on_sqlite(referral):
    """PostgreSQL's trigger refuses a raw DELETE. SQLite's rule lives in the ORM only (the
    test database is emptied with DELETE between tests), so there a raw DELETE goes
    through: the test pins that down, so a change to either side is noticed."""
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditentry")
        assert AuditEntry.objects.exists()
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditentry")
        assert not AuditEntry.objects.exists()


def test_a_crash_mid_transition_leaves_nothing_half_written(referral, cora, monkeypatch):
    from refloop.core import audit

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    events_before = ReferralEvent.objects.count()
    audits_before = AuditEntry.objects.count()
    monkeypatch.setattr(audit, "record", crash)
    with pytest.raises(RuntimeError):
        transitions.accept_referral(referral, acting_user=cora)
    referral.refresh_from_db()
    assert referral.state == "received" and referral.accepted_at is None
    assert ReferralEvent.objects.count() == events_before
    assert AuditEntry.objects.count() == audits_before


def test_a_crash_mid_creation_leaves_no_referral_and_no_patient(cora, provider_a, monkeypatch):
    from refloop.core import audit
    from refloop.patients.models import Patient
    from refloop.referrals.models import Referral

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(audit, "record_each", crash)  # every audit write goes through it
    with pytest.raises(RuntimeError):
        f.make_referral(acting_user=cora, referring_provider=provider_a)
    assert Referral.objects.count() == 0 and Patient.objects.count() == 0


def test_side_effects_are_queued_only_after_commit(
    referral, cora, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        transitions.start_review(referral, acting_user=cora)
        assert DBTaskResult.objects.count() == before  # nothing yet inside the transaction
    assert len(callbacks) == 2  # the event's task, and the rebuild of the analytics facts
    for callback in callbacks:
        callback()
    assert DBTaskResult.objects.count() == before + 1


def test_a_rolled_back_transition_queues_no_side_effect(
    referral, cora, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(Exception), transaction.atomic():  # noqa: B017
            transitions.start_review(referral, acting_user=cora)
            raise RuntimeError("rolled back")
    assert callbacks == []


def test_exception_messages_never_reach_the_log(caplog):
    from refloop.core.logging import RedactExceptionMessages

    logger = logging.getLogger("refloop.test")
    handler_filter = RedactExceptionMessages()
    logger.addFilter(handler_filter)
    stored_value = "-".join(["Okonkwo", "Smith"])  # built at run time, so the source line lacks it
    try:
        try:
            raise ValueError(f"duplicate key (last_name)=({stored_value})")
        except ValueError:
            logger.exception("request failed")
    finally:
        logger.removeFilter(handler_filter)
    text = caplog.text
    assert "request failed" in text and "ValueError" in text
    assert "Okonkwo-Smith" not in text


def test_a_whole_lifecycle_logs_no_patient_data(referral, cora, caplog):
    caplog.set_level(logging.DEBUG)
    patient = referral.patient
    f.advance(referral, "loop_closed", acting_user=cora)
    selectors.get_referral(cora, referral.pk)
    for record in caplog.records:
        message = record.getMessage()
        assert patient.last_name not in message and patient.phone not in message
