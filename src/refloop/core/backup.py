"""Backups: one encrypted archive of the database and the stored documents, and its restore.

An archive is a tar stream (the database snapshot, every file under MEDIA_ROOT and a
manifest of row counts and SHA-256 checksums), encrypted in 1 MiB chunks with AES-256-GCM.
Each chunk's nonce carries its number and whether it is the last, so a chunk that is
reordered, dropped or cut off fails to decrypt rather than restoring a partial practice.

The snapshot is consistent: SQLite's online backup API copies the database as of one
moment while others keep writing; on PostgreSQL the row counts are taken inside a
repeatable-read transaction whose snapshot pg_dump is then told to use.
"""

import base64
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from refloop.core import db_roles

MAGIC = b"REFLOOP-BACKUP-1\n"
CHUNK = 1024 * 1024
FORMAT_VERSION = 1
DB_SQLITE = "database.sqlite3"
DB_POSTGRES = "database.pgdump"


class BackupError(Exception):
    """Something the operator must fix; the message says what."""


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


# -- the key ---------------------------------------------------------------------------


def backup_key() -> bytes:
    """The 32-byte key from REFLOOP_BACKUP_KEY(_FILE), base64 (urlsafe) encoded."""
    value = settings.BACKUP_KEY
    if not value:
        raise BackupError(
            "No backup key: set REFLOOP_BACKUP_KEY or REFLOOP_BACKUP_KEY_FILE "
            "(`refloop backup key` prints a new one)."
        )
    try:
        key = base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))
    except ValueError:
        raise BackupError(
            "REFLOOP_BACKUP_KEY is not base64; `refloop backup key` prints one."
        ) from None
    if len(key) != 32:
        raise BackupError("REFLOOP_BACKUP_KEY must be 32 bytes; `refloop backup key` prints one.")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


# -- encryption in chunks ---------------------------------------------------------------


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter(io.RawIOBase):
    """A write-only file that encrypts what tar writes into it, chunk by chunk."""

    def __init__(self, out, key: bytes):
        self.out = out
        self.aead = AESGCM(key)
        self.prefix = secrets.token_bytes(7)
        self.header = MAGIC + self.prefix
        self.buffer = bytearray()
        self.counter = 0
        out.write(self.header)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        while len(self.buffer) > CHUNK:
            self._emit(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        sealed = self.aead.encrypt(_nonce(self.prefix, self.counter, last), plain, self.header)
        self.out.write(len(sealed).to_bytes(4, "big") + sealed)
        self.counter += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self.buffer), last=True)
            self.buffer.clear()
        super().close()


def _decrypted_chunks(handle, key: bytes) -> Iterator[bytes]:
    header = handle.read(len(MAGIC) + 7)
    if not header.startswith(MAGIC) or len(header) != len(MAGIC) + 7:
        raise BackupError("This file is not a refloop backup.")
    aead, prefix, counter = AESGCM(key), header[len(MAGIC) :], 0
    while True:
        size = handle.read(4)
        if len(size) < 4:
            raise BackupError("The backup is cut short: its last part is missing.")
        sealed = handle.read(int.from_bytes(size, "big"))
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, counter, last), sealed, header)
                break
            except InvalidTag:
                continue
        else:
            if counter == 0:
                raise BackupError(
                    "The backup does not open with this key: it was made with another "
                    "REFLOOP_BACKUP_KEY, or the file was altered."
                )
            raise BackupError(f"The backup was altered or damaged (part {counter + 1}).")
        yield plain
        counter += 1
        if last:
            if handle.read(1):
                raise BackupError("The backup has data after its end; it was altered.")
            return


def decrypt_to(archive: Path, out: Path, key: bytes) -> None:
    with archive.open("rb") as handle, out.open("wb") as plain:
        for chunk in _decrypted_chunks(handle, key):
            plain.write(chunk)


# -- what is in a practice ---------------------------------------------------------------


def _tables() -> list[str]:
    return sorted(
        m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed
    )


def _count_rows(cursor, quote: Callable[[str], str], existing: set[str]) -> dict[str, int]:
    counts = {}
    for table in _tables():
        if table in existing:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - model tables
            counts[table] = cursor.fetchone()[0]
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _documents(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


# -- snapshot ----------------------------------------------------------------------------


def _snapshot_sqlite(target: Path) -> dict[str, int]:
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: the copy is one moment of the database
        names = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return _count_rows(copy.cursor(), lambda t: f'"{t}"', names)
    finally:
        copy.close()
        source.close()


def operator_database(**overrides) -> dict:
    """The configured database as an operator reaches it: as the tables' owner when
    REFLOOP_MIGRATE_DATABASE_URL names one (the runtime role may not create databases,
    nor own what a restore creates)."""
    return {**settings.DATABASES["default"], **(db_roles.owner_credentials() or {}), **overrides}


def _pg_env(db: dict) -> tuple[list[str], dict]:
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    args = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    return args, env


def _snapshot_postgres(target: Path) -> dict[str, int]:
    db = operator_database()
    args, env = _pg_env(db)
    # A connection of our own, kept in one repeatable-read transaction until pg_dump has
    # attached to its snapshot: the counts and the dump describe the same moment.
    conn = connections.create_connection("default")
    conn.settings_dict = {**conn.settings_dict, **db}
    conn.ensure_connection()
    raw = conn.connection
    try:
        raw.autocommit = False
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            names = {r[0] for r in cursor.fetchall()}
            counts = _count_rows(cursor, conn.ops.quote_name, names)
            result = subprocess.run(  # noqa: S603 - fixed program, our own arguments
                [
                    shutil.which("pg_dump") or "pg_dump",
                    *args,
                    f"--snapshot={snapshot}",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={target}",
                    db["NAME"],
                ],
                env=env,
                capture_output=True,
                text=True,
            )
        raw.rollback()
    finally:
        conn.close()
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")
    return counts


def _migrations() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        latest = {}
        for app, name in cursor.fetchall():
            latest[app] = name
    return latest


@dataclass
class BackupResult:
    path: Path
    manifest: dict


def create_backup(out: Path, *, progress: Progress = _quiet) -> BackupResult:
    """Write one encrypted archive of the database and the documents to `out`."""
    key = backup_key()
    engine = connection.vendor
    if engine not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="refloop-backup-") as staging:
        staging_dir = Path(staging)
        db_name = DB_SQLITE if engine == "sqlite" else DB_POSTGRES
        progress("database: taking a consistent snapshot")
        if engine == "sqlite":
            counts = _snapshot_sqlite(staging_dir / db_name)
        else:
            counts = _snapshot_postgres(staging_dir / db_name)
        media = Path(settings.MEDIA_ROOT)
        files = _documents(media)
        documents: dict[str, str] = {}  # relative path -> sha256, as the snapshot holds them
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": timezone.now().isoformat(),
            "engine": engine,
            "migrations": _migrations(),
            "rows": counts,
            "database": {"name": db_name, "sha256": _sha256(staging_dir / db_name)},
            "documents": documents,
        }
        partial = out.with_name(out.name + ".partial")
        with partial.open("wb") as raw_out:
            writer = EncryptingWriter(raw_out, key)
            with tarfile.open(fileobj=writer, mode="w|") as tar:
                tar.add(staging_dir / db_name, arcname=db_name)
                for number, path in enumerate(files, 1):
                    relative = path.relative_to(media).as_posix()
                    try:
                        documents[relative] = _sha256(path)
                        tar.add(path, arcname=f"documents/{relative}")
                    except FileNotFoundError:
                        # Removed after the listing (a temporary file): not in the snapshot.
                        documents.pop(relative, None)
                    if number % 200 == 0 or number == len(files):
                        progress(f"documents: {number} of {len(files)}")
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            writer.close()
            raw_out.flush()
            os.fsync(raw_out.fileno())
        partial.chmod(0o600)
        partial.replace(out)  # never a half-written archive under the final name
    progress(f"written: {out}")
    return BackupResult(out, manifest)


# -- restore -----------------------------------------------------------------------------


def _unpack(archive: Path, into: Path, key: bytes) -> dict:
    plain = into / "archive.tar"
    decrypt_to(archive, plain, key)
    with tarfile.open(plain, mode="r") as tar:
        tar.extractall(into / "contents", filter="data")
    plain.unlink()
    contents = into / "contents"
    try:
        manifest = json.loads((contents / "manifest.json").read_text())
    except (OSError, ValueError):
        raise BackupError("The backup has no readable manifest.") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(
            f"This backup's format ({manifest.get('format')}) is not one this refloop reads."
        )
    db_file = contents / manifest["database"]["name"]
    if _sha256(db_file) != manifest["database"]["sha256"]:
        raise BackupError("The database in the backup does not match its checksum.")
    for relative, digest in manifest["documents"].items():
        path = contents / "documents" / relative
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"A document in the backup does not match its checksum: {relative}")
    return manifest


def _target_is_empty_sqlite(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    with sqlite3.connect(path) as db:
        return not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' LIMIT 1").fetchone()


def _target_is_empty_postgres(db: dict) -> bool:
    conn = connections.create_connection("default")
    conn.settings_dict = {**conn.settings_dict, **db}
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() LIMIT 1")
            return cursor.fetchone() is None
    finally:
        conn.close()


def restore_backup(
    archive: Path, *, database: dict, media_root: Path, progress: Progress = _quiet
) -> dict:
    """Bring an archive back into an empty database and an empty documents folder."""
    key = backup_key()
    media_root = Path(media_root)
    if media_root.exists() and any(media_root.iterdir()):
        raise BackupError(
            f"The documents folder is not empty ({media_root}); restore into an empty one."
        )
    engine = "sqlite" if database["ENGINE"].endswith(("sqlite3", "sqlite")) else "postgresql"
    with tempfile.TemporaryDirectory(prefix="refloop-restore-") as staging:
        progress("checking the archive")
        manifest = _unpack(archive, Path(staging), key)
        if manifest["engine"] != engine:
            raise BackupError(
                f"This is a {manifest['engine']} backup; restore it into a {manifest['engine']} database."
            )
        contents = Path(staging) / "contents"
        progress("database")
        if engine == "sqlite":
            target = Path(database["NAME"])
            if not _target_is_empty_sqlite(target):
                raise BackupError(f"The database {target} is not empty; restore into an empty one.")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(contents / DB_SQLITE, target)
            target.chmod(0o600)
        else:
            if not _target_is_empty_postgres(database):
                raise BackupError(
                    f"The database {database['NAME']} is not empty; restore into an empty one."
                )
            args, env = _pg_env(database)
            result = subprocess.run(  # noqa: S603 - fixed program, our own arguments
                [
                    shutil.which("pg_restore") or "pg_restore",
                    *args,
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={database['NAME']}",
                    str(contents / DB_POSTGRES),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
        documents = manifest["documents"]
        media_root.mkdir(parents=True, exist_ok=True)
        media_root.chmod(0o700)
        for number, relative in enumerate(documents, 1):
            target = media_root / relative
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copyfile(contents / "documents" / relative, target)
            target.chmod(0o600)
            if number % 200 == 0 or number == len(documents):
                progress(f"documents: {number} of {len(documents)}")
    return manifest


def _restored_counts(database: dict) -> dict[str, int]:
    if database["ENGINE"].endswith(("sqlite3", "sqlite")):
        with sqlite3.connect(database["NAME"]) as db:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            return _count_rows(db.cursor(), lambda t: f'"{t}"', names)
    conn = connections.create_connection("default")
    conn.settings_dict = {**conn.settings_dict, **database}
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            names = {r[0] for r in cursor.fetchall()}
            return _count_rows(cursor, conn.ops.quote_name, names)
    finally:
        conn.close()


def compare(manifest: dict, database: dict, media_root: Path) -> list[str]:
    """What in a restored practice differs from the manifest (nothing when it is whole)."""
    problems = []
    counts = _restored_counts(database)
    for table, expected in sorted(manifest["rows"].items()):
        if counts.get(table) != expected:
            problems.append(f"{table}: {counts.get(table)} rows, the backup has {expected}")
    for relative, digest in sorted(manifest["documents"].items()):
        path = Path(media_root) / relative
        if not path.is_file():
            problems.append(f"document missing: {relative}")
        elif _sha256(path) != digest:
            problems.append(f"document differs: {relative}")
    return problems


def verify_backup(archive: Path, *, progress: Progress = _quiet) -> tuple[dict, list[str]]:
    """Restore into a scratch location, compare with the manifest, and clean up."""
    engine = connection.vendor
    with tempfile.TemporaryDirectory(prefix="refloop-verify-") as scratch:
        media = Path(scratch) / "media"
        if engine == "sqlite":
            database = {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(Path(scratch) / "db.sqlite3"),
            }
            manifest = restore_backup(
                archive, database=database, media_root=media, progress=progress
            )
            return manifest, compare(manifest, database, media)
        name = f"refloop_verify_{secrets.token_hex(4)}"
        database = operator_database(NAME=name)
        _admin_sql(f'CREATE DATABASE "{name}"')
        try:
            manifest = restore_backup(
                archive, database=database, media_root=media, progress=progress
            )
            return manifest, compare(manifest, database, media)
        finally:
            _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_sql(sql: str) -> None:
    """Run CREATE/DROP DATABASE from the maintenance database (not inside a transaction)."""
    conn = connections.create_connection("default")
    conn.settings_dict = operator_database(NAME="postgres")
    try:
        conn.ensure_connection()
        conn.connection.autocommit = True
        with conn.connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()
