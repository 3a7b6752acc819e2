"""The encryption migrations rewrite a database that already holds patients, referrals
and documents: back to the state before them, rows in, forward again."""

import datetime as dt
import hashlib
import hmac

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from refloop.analytics.models import ReferralFact
from refloop.core import db_roles
from refloop.core.encryption import keyring
from refloop.core.storage import MAGIC
from refloop.messaging.models import Message
from refloop.patients.models import Patient, birth_key, last_name_key, name_key
from refloop.portal.models import PortalMessage
from refloop.referrals.models import Attachment, Referral, ReferralEvent

BEFORE = [
    ("patients", "0003_phone_numbers_checked"),
    ("referrals", "0007_attachment_scan_status"),
    ("analytics", "0001_initial"),
]
AFTER = [
    ("patients", "0004_encrypt_phi"),
    ("referrals", "0008_encrypt_clinical_text_and_documents"),
    ("analytics", "0002_patient_key_from_blind_indexes"),
]
PDF = b"%PDF-1.4\n% Quartermaine referral letter\n%%EOF\n"


def migrate(targets):
    """As `refloop migrate` does: connected as the tables' owner when one is configured."""
    with db_roles.as_owner():
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_every_latest_migration(transactional_db):
    """Migrating back to BEFORE unapplies every app that depends on those migrations
    (advocacy's tables go too) and migrating to AFTER brings back only those: leave the
    database fully migrated, as the next test in this process expects."""
    yield
    with db_roles.as_owner():
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def raw(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_migrations_encrypt_an_existing_database_in_place_and_back(settings):
    old = migrate(BEFORE)
    OldPatient = old.get_model("patients", "Patient")
    zelda = OldPatient.objects.create(
        first_name="Zelda",
        last_name="Quartermaine",
        date_of_birth=dt.date(1961, 7, 14),
        phone="(217) 555-0142",
        email="zelda.q@example.org",
        name_key="zelda quartermaine",
    )
    now = timezone.now()
    referral = old.get_model("referrals", "Referral").objects.create(
        number="R-TEST-0001",
        direction="inbound",
        state="received",
        patient=zelda,
        source_type="self",
        channel="phone",
        reason="Zqxcanary sciatica",
        received_at=now,
        state_changed_at=now,
    )
    old.get_model("referrals", "ContactAttempt").objects.create(
        referral=referral, at=now, channel="phone", outcome="no_answer", note="Vwpmarker note"
    )
    stored = settings.MEDIA_ROOT / "attachments" / "2026" / "01" / "letter"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(PDF)
    old.get_model("referrals", "Attachment").objects.create(
        referral=referral,
        file="attachments/2026/01/letter",
        original_name="letter.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_at=now,
    )
    old.get_model("analytics", "ReferralFact").objects.create(
        referral=referral,
        version=1,
        direction="inbound",
        received_at=now,
        received_month=202601,
        state="received",
        state_since=now,
        source_type="self",
        channel="phone",
        urgency="routine",
        patient_key="stale",
    )
    assert raw("SELECT last_name FROM patients_patient") == [("Quartermaine",)]

    migrate(AFTER)

    row = raw(
        "SELECT first_name, last_name, date_of_birth, phone, email, name_key FROM patients_patient"
    )[0]
    prefix = f"e1:{keyring().current_id}:"
    assert all(value.startswith(prefix) for value in row[:5])
    assert "quartermaine" not in " ".join(row).lower() and "1961" not in " ".join(row)
    assert raw("SELECT reason FROM referrals_referral")[0][0].startswith(prefix)
    assert raw("SELECT note FROM referrals_contactattempt")[0][0].startswith(prefix)
    assert stored.read_bytes().startswith(MAGIC)
    patient = Patient.objects.get()
    assert (patient.first_name, patient.last_name) == ("Zelda", "Quartermaine")
    assert patient.date_of_birth == dt.date(1961, 7, 14)
    assert patient.email == "zelda.q@example.org"
    assert (patient.name_key, patient.last_name_key, patient.birth_key) == (
        name_key("Zelda", "Quartermaine"),
        last_name_key("Quartermaine"),
        birth_key(dt.date(1961, 7, 14)),
    )
    assert Referral.objects.get().reason == "Zqxcanary sciatica"
    assert Attachment.objects.get().file.open("rb").read() == PDF
    message = f"{patient.name_key}|{patient.birth_key}".encode()
    assert ReferralFact.objects.get().patient_key == (
        hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    )

    migrate(BEFORE)
    assert raw("SELECT first_name, last_name, email, name_key FROM patients_patient") == [
        ("Zelda", "Quartermaine", "zelda.q@example.org", "zelda quartermaine")
    ]
    assert raw("SELECT reason FROM referrals_referral") == [("Zqxcanary sciatica",)]
    assert stored.read_bytes() == PDF
    migrate(AFTER)


FREE_TEXT_BEFORE = [
    ("patients", "0004_encrypt_phi"),
    ("referrals", "0008_encrypt_clinical_text_and_documents"),
    ("messaging", "0001_initial"),
    ("portal", "0001_initial"),
]
FREE_TEXT_AFTER = [
    ("patients", "0004_encrypt_phi"),
    ("referrals", "0009_encrypt_timeline_free_text"),
    ("messaging", "0002_encrypt_message_text"),
    ("portal", "0002_encrypt_message_body"),
]


@pytest.mark.django_db(transaction=True)
def test_migrations_encrypt_timeline_notes_and_message_bodies_in_place_and_back():
    old = migrate(FREE_TEXT_BEFORE)
    now = timezone.now()
    patient = old.get_model("patients", "Patient").objects.create(
        first_name="Zelda",
        last_name="Quartermaine",
        date_of_birth=dt.date(1961, 7, 14),
        name_key=name_key("Zelda", "Quartermaine"),
        last_name_key=last_name_key("Quartermaine"),
        birth_key=birth_key(dt.date(1961, 7, 14)),
    )
    referral = old.get_model("referrals", "Referral").objects.create(
        number="R-TEST-0002",
        direction="inbound",
        state="received",
        patient=patient,
        source_type="self",
        channel="phone",
        reason="Back pain",
        received_at=now,
        state_changed_at=now,
    )
    Event = old.get_model("referrals", "ReferralEvent")
    Event.objects.create(
        referral=referral,
        kind="referral.received",
        actor_label="cora",
        at=now,
        data={"channel": "phone"},
    )
    note = Event.objects.create(
        referral=referral,
        kind="referral.note_added",
        actor_label="cora",
        at=now,
        data={"text": "Zqxcanary prefers mornings"},
    )
    old.get_model("messaging", "Message").objects.create(
        referral=referral,
        rule="referrer.progress_report",
        audience="referrer",
        recipient="provider:1",
        recipient_label="Dr. Reed",
        channel="fax",
        subject="Progress report: Quartermaine",
        body="Findings: Vwpmarker herniation",
        dedupe_key="test|report",
        due_at=now,
        created_at=now,
    )
    author = old.get_model("core", "User").objects.create(username="pam")
    old.get_model("portal", "PortalMessage").objects.create(
        referral=referral, author=author, from_portal=True, body="Kplwidget anxious", created_at=now
    )

    migrate(FREE_TEXT_AFTER)

    prefix = f"e1:{keyring().current_id}:"
    stored = " ".join(
        str(value)
        for sql in (
            "SELECT data FROM referrals_referralevent",
            "SELECT subject, body FROM messaging_message",
            "SELECT body FROM portal_portalmessage",
        )
        for row in raw(sql)
        for value in row
    ).lower()
    for clear in ("zqxcanary", "quartermaine", "vwpmarker", "kplwidget"):
        assert clear not in stored
    assert '"channel": "phone"' in stored and prefix.lower() in stored
    assert ReferralEvent.objects.get(pk=note.pk).data == {"text": "Zqxcanary prefers mornings"}
    message = Message.objects.get()
    assert (message.subject, message.body) == (
        "Progress report: Quartermaine",
        "Findings: Vwpmarker herniation",
    )
    assert PortalMessage.objects.get().body == "Kplwidget anxious"
    # The timeline stayed append-only through the rewrite (SQLite rebuilt the table).
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE referrals_referralevent SET kind = 'x'")

    migrate(FREE_TEXT_BEFORE)
    assert "Zqxcanary prefers mornings" in str(raw("SELECT data FROM referrals_referralevent"))
    assert raw("SELECT subject, body FROM messaging_message") == [
        ("Progress report: Quartermaine", "Findings: Vwpmarker herniation")
    ]
    assert raw("SELECT body FROM portal_portalmessage") == [("Kplwidget anxious",)]
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE referrals_referralevent SET kind = 'x'")
    migrate(FREE_TEXT_AFTER)
