"""Encryption at rest: patient columns, clinical text and documents hold ciphertext; the
blind indexes answer the equality lookups; keys rotate; a wrong key fails loudly."""

import datetime as dt
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import FieldError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from refloop.core.encryption import DecryptionError, keyring, rotated
from refloop.core.keys import generate_key, key_id, parse_keys
from refloop.core.storage import MAGIC
from refloop.demo import factories as f
from refloop.patients.models import Patient
from refloop.referrals.models import Attachment, ContactAttempt, Referral
from refloop.referrals.selectors import (
    ReferralFilters,
    find_patient_matches,
    worklist_referrals,
)
from refloop.referrals.triage import possible_duplicate

PDF = b"%PDF-1.4\n1 0 obj << /Title (Quartermaine referral) >> endobj\n%%EOF\n"
BORN = dt.date(1961, 7, 14)


def raw_row(table: str, pk: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def new_keys(count: int) -> list[bytes]:
    return [parse_keys(generate_key(), setting="test")[0] for _ in range(count)]


@pytest.fixture
def zelda(cora, spine, provider_a):
    referral = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        patient=f.patient_data(
            first_name="Zelda",
            last_name="Quartermaine",
            date_of_birth=BORN,
            phone="(217) 555-0142",
        ),
        reason="Zqxcanary sciatica after a fall",
    )
    referral.patient.email = "zelda.q@example.org"
    referral.patient.save(update_fields=["email"])
    return referral


# ---- what the database holds ----------------------------------------------------------


def test_patient_table_holds_no_name_birth_date_phone_or_email_in_clear(zelda):
    patient = Patient.objects.get(pk=zelda.patient_id)
    patient.address = "12 Vwpmarker Lane"
    patient.insurance_member_id = "XQZ998877"
    patient.save()
    row = raw_row("patients_patient", patient.pk)
    stored = " ".join(str(v) for v in row.values()).lower()
    for clear in (
        "zelda",
        "quartermaine",
        "1961-07-14",
        "1961",
        "555-0142",
        "5550142",
        "zelda.q@example.org",
        "vwpmarker",
        "xqz998877",
    ):
        assert clear not in stored
    for column in ("first_name", "last_name", "date_of_birth", "phone", "email", "address"):
        assert row[column].startswith(f"e1:{keyring().current_id}:")
    # Each value gets its own nonce: equal plaintexts do not show as equal ciphertexts.
    twin = f.PatientFactory(first_name="Zelda", last_name="Quartermaine", date_of_birth=BORN)
    assert raw_row("patients_patient", twin.pk)["first_name"] != row["first_name"]


def test_the_model_reads_plaintext_back(zelda):
    patient = Patient.objects.get(pk=zelda.patient_id)
    assert (patient.first_name, patient.last_name) == ("Zelda", "Quartermaine")
    assert patient.date_of_birth == BORN
    assert patient.phone == "(217) 555-0142"
    assert Referral.objects.values_list("patient__last_name", flat=True).get() == "Quartermaine"


def test_clinical_text_is_stored_encrypted(zelda, cora):
    ContactAttempt.objects.create(
        referral=zelda, at=timezone.now(), channel="phone", outcome="no_answer", note="Vwpmarker"
    )
    assert "zqxcanary" not in raw_row("referrals_referral", zelda.pk)["reason"].lower()
    attempt = ContactAttempt.objects.get()
    assert "vwpmarker" not in raw_row("referrals_contactattempt", attempt.pk)["note"].lower()
    assert Referral.objects.get().reason == "Zqxcanary sciatica after a fall"
    assert attempt.note == "Vwpmarker"


def test_filtering_on_an_encrypted_column_is_refused_rather_than_matching_nothing(zelda):
    with pytest.raises(FieldError, match="encrypted"):
        Patient.objects.filter(last_name="Quartermaine").exists()
    with pytest.raises(FieldError, match="encrypted"):
        Patient.objects.filter(last_name__icontains="quarter").exists()
    assert Patient.objects.filter(email="").count() == 0
    assert Patient.objects.filter(address="").count() == 1


# ---- the lookups that need equality -----------------------------------------------------


def test_duplicate_detection_still_finds_the_same_patient(cora, spine, provider_a, zelda):
    again = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        patient=f.patient_data(first_name="ZELDA", last_name="Quartermaine", date_of_birth=BORN),
    )
    assert possible_duplicate(again) == zelda
    other_birthday = f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        patient=f.patient_data(
            first_name="Zelda", last_name="Quartermaine", date_of_birth=BORN.replace(year=1962)
        ),
    )
    assert possible_duplicate(other_birthday) is None


def test_patient_lookup_by_last_name_and_birth_date(cora, zelda):
    matches = find_patient_matches(
        cora, first_name="Zel", last_name="QUARTERMAINE", date_of_birth=BORN
    )
    assert [(m.patient.pk, m.same_name) for m in matches] == [(zelda.patient_id, False)]
    matches = find_patient_matches(
        cora, first_name="zelda", last_name="Quartermaine", date_of_birth=BORN
    )
    assert [(m.patient.pk, m.same_name) for m in matches] == [(zelda.patient_id, True)]
    assert not find_patient_matches(
        cora, first_name="Zelda", last_name="Quarter", date_of_birth=BORN
    )


def test_worklist_search_by_whole_last_name_and_birth_date_but_not_part_of_a_name(
    cora, spine, provider_a, zelda
):
    f.make_referral(
        acting_user=cora,
        department=spine,
        referring_provider=provider_a,
        patient=f.patient_data(last_name="Quartermaine", date_of_birth=dt.date(1990, 1, 2)),
    )
    found = {
        text: [r.pk for r in worklist_referrals(cora, _filters(), text=text).items]
        for text in (
            "quartermaine 1961-07-14",
            "Quartermaine 07/14/1961",
            "Quartermaine, Zelda",
            "zelda quartermaine",
            "quarter",
            "zelda",
        )
    }
    assert found["quartermaine 1961-07-14"] == [zelda.pk]
    assert found["Quartermaine 07/14/1961"] == [zelda.pk]
    assert found["Quartermaine, Zelda"] == [zelda.pk]
    assert found["zelda quartermaine"] == [zelda.pk]
    assert found["quarter"] == [] and found["zelda"] == []
    assert len(worklist_referrals(cora, _filters(), text="Quartermaine").items) == 2


def test_worklist_sorts_by_patient_name_within_the_page(cora, spine, provider_a):
    start = timezone.now() - dt.timedelta(days=1)
    for hours, last in enumerate(["Young", "Adams", "Miller"]):
        f.make_referral(
            acting_user=cora,
            department=spine,
            referring_provider=provider_a,
            patient=f.patient_data(last_name=last),
            now=start + dt.timedelta(hours=hours),
        )
    page = worklist_referrals(cora, _filters(), sort="patient", limit=2)
    assert [r.patient.last_name for r in page.items] == ["Adams", "Young"]
    page = worklist_referrals(cora, _filters(), sort="-patient", limit=2, offset=0)
    assert [r.patient.last_name for r in page.items] == ["Young", "Adams"]
    page = worklist_referrals(cora, _filters(), sort="patient", limit=2, offset=2)
    assert [r.patient.last_name for r in page.items] == ["Miller"]


def _filters() -> ReferralFilters:
    return ReferralFilters()


# ---- keys ---------------------------------------------------------------------------------


# Committing: the rotation reconnects as the tables' owner to rewrite the timeline.
@pytest.mark.django_db(transaction=True)
def test_rotation_reencrypts_under_the_new_key_and_old_ciphertext_reads_until_then(
    settings, zelda, cora, tmp_path
):
    old_key = settings.ENCRYPTION_KEYS[0]
    attachment = _attachment(zelda, cora)
    (new,) = new_keys(1)
    settings.ENCRYPTION_KEYS = [new, old_key]
    # Before rotation: old ciphertext still reads, new writes use the new key.
    assert Patient.objects.get().last_name == "Quartermaine"
    assert attachment.file.open("rb").read() == PDF
    assert raw_row("patients_patient", zelda.patient_id)["last_name"].startswith(
        f"e1:{key_id(old_key)}:"
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("keys", "rotate", "--batch", "1", stdout=out, stderr=err)
    row = raw_row("patients_patient", zelda.patient_id)
    assert row["last_name"].startswith(f"e1:{key_id(new)}:")
    assert raw_row("referrals_referral", zelda.pk)["reason"].startswith(f"e1:{key_id(new)}:")
    assert _on_disk(attachment).startswith(MAGIC + key_id(new).encode())
    assert "patients.Patient: 1 read, 1 re-encrypted" in err.getvalue()
    assert "1 documents re-encrypted" in out.getvalue()
    # The old key can go now.
    settings.ENCRYPTION_KEYS = [new]
    assert Patient.objects.get().last_name == "Quartermaine"
    assert Attachment.objects.get().file.open("rb").read() == PDF
    assert rotated(row["last_name"]) is None


def test_a_missing_key_fails_loudly_naming_the_key_and_not_the_value(settings, zelda):
    settings.ENCRYPTION_KEYS = new_keys(1)
    with pytest.raises(DecryptionError) as raised:
        Patient.objects.get()
    message = str(raised.value)
    assert "not among the configured encryption keys" in message
    assert "Quartermaine" not in message and "Zelda" not in message


def test_altered_ciphertext_fails_loudly(zelda):
    stored = raw_row("patients_patient", zelda.patient_id)["last_name"]
    kid, body = stored.split(":")[1:]
    altered = f"e1:{kid}:{body[:-6]}AAAAAA"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_patient SET last_name = %s WHERE id = %s", [altered, zelda.patient_id]
        )
    with pytest.raises(DecryptionError, match="was altered"):
        Patient.objects.get()


def test_plaintext_left_in_an_encrypted_column_fails_loudly(zelda):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_patient SET phone = %s", ["(217) 555-0100"])
    with pytest.raises(DecryptionError, match="not encrypted"):
        Patient.objects.get()


def test_keys_generate_prints_a_key_the_settings_accept():
    out = io.StringIO()
    call_command("keys", "generate", stdout=out, stderr=io.StringIO())
    (key,) = parse_keys(out.getvalue(), setting="REFLOOP_ENCRYPTION_KEYS")
    assert len(key) == 32


def test_a_malformed_key_setting_is_refused_with_a_plain_sentence():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="key 2 is not a 256-bit key"):
        parse_keys(generate_key() + ",not-a-key", setting="REFLOOP_ENCRYPTION_KEYS")


# ---- documents and file modes -------------------------------------------------------------


def _attachment(referral, user) -> Attachment:
    attachment = Attachment(
        referral=referral,
        original_name="referral.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_by=user,
        uploaded_at=timezone.now(),
    )
    attachment.file.save("referral.pdf", ContentFile(PDF))
    return attachment


def _on_disk(attachment: Attachment) -> bytes:
    return Path(attachment.file.storage.path(attachment.file.name)).read_bytes()


def test_a_stored_document_is_not_the_plaintext_pdf_and_reads_back_whole(zelda, cora, settings):
    attachment = _attachment(zelda, cora)
    stored = _on_disk(attachment)
    assert not stored.startswith(b"%PDF")
    assert b"Quartermaine" not in stored
    assert stored.startswith(MAGIC)
    with Attachment.objects.get().file.open("rb") as handle:
        assert handle.read() == PDF
    path = Path(attachment.file.storage.path(attachment.file.name))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_fresh_data_folder_its_database_keys_and_uploads_are_private(tmp_path):
    data = tmp_path / "data"
    env = {
        **os.environ,
        "REFLOOP_DATA_DIR": str(data),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
        "DJANGO_SETTINGS_MODULE": "refloop.settings",
    }
    for name in ("REFLOOP_DATABASE_URL", "REFLOOP_ENCRYPTION_KEYS", "REFLOOP_BLIND_INDEX_KEY"):
        env.pop(name, None)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.db import "
            "connection; connection.cursor().execute('CREATE TABLE t (x)')",
        ],
        env=env,
        check=True,
    )
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    assert modes["media"] == 0o700
    for name in ("refloop.sqlite3", "encryption_keys", "blind_index_key", "secret_key"):
        assert modes[name] == 0o600, name
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_deploy_check_warns_when_a_key_is_read_from_the_data_folder(monkeypatch, settings):
    from refloop import settings as refloop_settings
    from refloop.core.encryption import check_keys_outside_data_dir

    monkeypatch.delenv("REFLOOP_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setenv(
        "REFLOOP_ENCRYPTION_KEYS_FILE", str(refloop_settings.DATA_DIR / "encryption_keys")
    )
    assert refloop_settings.key_in_data_dir("ENCRYPTION_KEYS")
    monkeypatch.setenv("REFLOOP_ENCRYPTION_KEYS_FILE", "/etc/refloop/encryption_keys")
    assert not refloop_settings.key_in_data_dir("ENCRYPTION_KEYS")
    settings.KEYS_IN_DATA_DIR = ["REFLOOP_BLIND_INDEX_KEY"]
    (warning,) = check_keys_outside_data_dir(None)
    assert warning.id == "refloop.keys.W001" and "REFLOOP_BLIND_INDEX_KEY" in warning.msg
    settings.KEYS_IN_DATA_DIR = []
    assert check_keys_outside_data_dir(None) == []
