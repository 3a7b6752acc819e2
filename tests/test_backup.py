"""Backups: a consistent, encrypted archive taken while the practice works, and its restore."""

import base64
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from refloop.core import backup
from refloop.core.models import AuditEntry
from refloop.core.storage import MAGIC
from refloop.demo import factories as f
from refloop.referrals import services
from refloop.referrals.models import Attachment, Referral
from tests import samples

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def backup_key(settings):
    settings.BACKUP_KEY = backup.new_key()
    return settings.BACKUP_KEY


@pytest.fixture
def practice(cora, spine, provider_a):
    referrals = []
    for _ in range(5):
        referral = f.make_referral(
            acting_user=cora, department=spine, referring_provider=provider_a
        )
        services.add_attachment(
            referral, acting_user=cora, upload=ContentFile(samples.pdf()), filename="r.pdf"
        )
        referrals.append(referral)
    return referrals


class Writer(threading.Thread):
    """Keeps recording referrals, each with a document, while the backup runs."""

    def __init__(self, **fields):
        super().__init__(daemon=True)
        self.fields = fields
        self.stop = threading.Event()
        self.written = 0
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                referral = f.make_referral(**self.fields)
                services.add_attachment(
                    referral,
                    acting_user=self.fields["acting_user"],
                    upload=ContentFile(samples.pdf()),
                    filename="w.pdf",
                )
                self.written += 1
        except Exception as exc:  # reported by the test, never swallowed
            self.error = exc
        finally:
            connections.close_all()


def _scratch_database(tmp_path: Path):
    """An empty database of the suite's kind to restore into, and how to drop it."""
    if connection.vendor == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "restored.sqlite3"),
        }, None
    name = f"refloop_restore_{secrets.token_hex(4)}"
    backup._admin_sql(f'CREATE DATABASE "{name}"')
    return backup.operator_database(NAME=name), name


def test_a_backup_taken_while_the_practice_writes_restores_every_referral_document_and_audit_entry(
    tmp_path, practice, cora, spine, provider_a
):
    before = set(Referral.objects.values_list("pk", flat=True))
    writer = Writer(acting_user=cora, department=spine, referring_provider=provider_a)
    writer.start()
    try:
        while writer.written < 2 and writer.error is None:
            writer.join(0.05)
        result = backup.create_backup(tmp_path / "practice.rfb")
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert writer.written >= 2

    database, scratch = _scratch_database(tmp_path)
    try:
        media = tmp_path / "restored-media"
        manifest = backup.restore_backup(result.path, database=database, media_root=media)

        assert backup.compare(manifest, database, media) == []
        rows = manifest["rows"]
        assert rows[Referral._meta.db_table] >= len(before) + 2
        # The writer adds a referral, then its document: the snapshot may fall between.
        assert rows[Referral._meta.db_table] - 1 <= rows[Attachment._meta.db_table]
        assert rows[AuditEntry._meta.db_table] > 0
        restored = _read(database, f"SELECT id FROM {Referral._meta.db_table}")  # noqa: S608 - model table names
        assert before <= {r[0] for r in restored}
        files = _read(database, f"SELECT file FROM {Attachment._meta.db_table}")  # noqa: S608 - model table names
        # Documents come back as stored: encrypted, and whole (compare checked every checksum).
        assert all((media / name).read_bytes().startswith(MAGIC) for (name,) in files)
    finally:
        if scratch:
            backup._admin_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _read(database: dict, sql: str) -> list[tuple]:
    conn = connections.create_connection("default")
    conn.settings_dict = {**conn.settings_dict, **database}
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        conn.close()


def test_the_archive_holds_no_patient_data_in_clear(tmp_path, practice):
    # A name long enough that random ciphertext cannot hold it by chance (a three-letter
    # surname turns up in a few hundred kilobytes of encrypted bytes about once in a hundred).
    patient = practice[0].patient
    patient.last_name = "Quintavalle-Zwischenberger"
    patient.save()
    result = backup.create_backup(tmp_path / "practice.rfb")
    content = result.path.read_bytes()
    assert patient.last_name.encode() not in content
    assert b"%PDF" not in content
    assert oct(result.path.stat().st_mode & 0o777) == "0o600"


def test_an_altered_cut_or_foreign_archive_is_refused_and_restores_nothing(
    tmp_path, practice, settings
):
    archive = backup.create_backup(tmp_path / "practice.rfb").path
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "x.sqlite3")}
    media = tmp_path / "restore-here"

    altered = tmp_path / "altered.rfb"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    altered.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match="altered"):
        backup.restore_backup(altered, database=database, media_root=media)

    cut = tmp_path / "cut.rfb"
    cut.write_bytes(archive.read_bytes()[: len(data) - 40])
    with pytest.raises(backup.BackupError):
        backup.restore_backup(cut, database=database, media_root=media)

    settings.BACKUP_KEY = backup.new_key()
    with pytest.raises(backup.BackupError, match="another"):
        backup.restore_backup(archive, database=database, media_root=media)

    assert not Path(database["NAME"]).exists()
    assert not media.exists() or not any(media.iterdir())


def test_restore_refuses_a_database_or_folder_that_is_not_empty(tmp_path, practice, settings):
    archive = backup.create_backup(tmp_path / "practice.rfb").path
    full = tmp_path / "occupied"
    full.mkdir()
    (full / "keep.txt").write_text("someone's file")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore_backup(archive, database=backup.operator_database(), media_root=full)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore_backup(
            archive, database=backup.operator_database(), media_root=tmp_path / "empty"
        )
    assert (full / "keep.txt").read_text() == "someone's file"


def test_without_a_key_backup_says_how_to_get_one(tmp_path, settings, org):
    settings.BACKUP_KEY = None
    with pytest.raises(CommandError, match="refloop backup key"):
        call_command("backup", "--out", str(tmp_path / "b.rfb"))


def test_backup_and_verify_commands_round_trip(tmp_path, practice, capsys):
    archive = tmp_path / "nightly.rfb"
    call_command("backup", "--out", str(archive))
    assert capsys.readouterr().out.strip() == str(archive)
    assert AuditEntry.objects.filter(action="backup.created").count() == 1

    call_command("backup", "verify", str(archive))
    out = capsys.readouterr().out
    assert out.startswith("OK: restored")
    assert f"{len(practice)} documents" in out


def test_restore_command_brings_a_backup_into_an_empty_place(tmp_path, practice, settings, capsys):
    archive = tmp_path / "nightly.rfb"
    call_command("backup", "--out", str(archive))
    referrals = Referral.objects.count()
    database, scratch = _scratch_database(tmp_path)
    settings.MEDIA_ROOT = tmp_path / "new-media"
    try:
        url = (
            f"sqlite:///{database['NAME']}"
            if connection.vendor == "sqlite"
            else "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**database)
        )
        call_command("restore", str(archive), "--database-url", url)
        assert "Restored the backup" in capsys.readouterr().out
        assert _read(database, f"SELECT COUNT(*) FROM {Referral._meta.db_table}") == [(referrals,)]  # noqa: S608 - model table names
        restored = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
        assert len(restored) == len(practice)
    finally:
        if scratch:
            backup._admin_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def test_backup_key_prints_a_new_32_byte_key(capsys, db):
    call_command("backup", "key")
    first = capsys.readouterr().out.strip()
    call_command("backup", "key")
    second = capsys.readouterr().out.strip()
    assert first != second
    assert len(base64.urlsafe_b64decode(first + "=")) == 32


def test_restore_into_a_new_data_folder_as_the_readme_says(tmp_path, practice, backup_key):
    archive = tmp_path / "nightly.rfb"
    call_command("backup", "--out", str(archive))
    database, scratch = _scratch_database(tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REFLOOP_")},
        "REFLOOP_DATA_DIR": str(tmp_path / "new-data"),
        "REFLOOP_BACKUP_KEY": backup_key,
    }
    if scratch:
        env["REFLOOP_DATABASE_URL"] = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**database)
    try:
        result = subprocess.run(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "refloop.cli", "restore", str(archive)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert "Restored the backup" in result.stdout
        if not scratch:
            database = {"NAME": str(tmp_path / "new-data" / "refloop.sqlite3")}
            database["ENGINE"] = "django.db.backends.sqlite3"
        table = Referral._meta.db_table
        assert _read(database, f"SELECT COUNT(*) FROM {table}") == [(len(practice),)]  # noqa: S608
        assert len([p for p in (tmp_path / "new-data" / "media").rglob("*") if p.is_file()]) == len(
            practice
        )
    finally:
        if scratch:
            backup._admin_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
