"""Key rotation: re-encrypt every encrypted column and stored document under the current
(first) key, so an old key can then be dropped from the settings."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models

from refloop.core import append_only, audit
from refloop.core.db_roles import APPEND_ONLY_TABLES, as_owner
from refloop.core.encryption import (
    encrypted_fields,
    in_json,
    json_fields,
    keyring,
    rewrite_columns,
    rotated,
)
from refloop.core.storage import EncryptedFileSystemStorage, reseal_files


@dataclass
class Rotated:
    rows: int = 0
    files: int = 0


def document_fields() -> list[tuple[type[models.Model], str]]:
    """Every FileField whose files the encrypted storage holds."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField) and isinstance(
                field.storage, EncryptedFileSystemStorage
            ):
                found.append((model, field.name))
    return found


def rotate_keys(
    *, batch: int | None = None, progress: Callable[[str, int, int], None] | None = None
) -> Rotated:
    """Re-encrypt under the current key whatever an older key wrote; documents stored in
    clear get encrypted. `progress(what, seen, changed)` is called after every batch."""
    batch = batch or settings.ENCRYPTION_ROTATE_BATCH
    done = Rotated()
    for model, fields in encrypted_fields():

        def report(seen: int, changed: int, label=model._meta.label) -> None:
            if progress is not None:
                progress(label, seen, changed)

        done.rows += rewrite_columns(
            model, [f.column for f in fields], rotated, batch=batch, progress=report
        )
    for model, json_columns in json_fields():
        for field in json_columns:

            def report_json(seen: int, changed: int, label=f"{model._meta.label}.{field.name}"):
                if progress is not None:
                    progress(label, seen, changed)

            done.rows += _rewrite_json(model, field, batch=batch, progress=report_json)
    for model, name in document_fields():

        def report_files(seen: int, changed: int, label=f"{model._meta.label}.{name}") -> None:
            if progress is not None:
                progress(label, seen, changed)

        done.files += reseal_files(model, name, progress=report_files, batch=batch)
    audit.record(
        "encryption.keys_rotated",
        audit.Touch("encryption_key", keyring().current_id),
        actor=None,
        detail={"rows": done.rows, "files": done.files},
    )
    return done


def _rewrite_json(model, field, *, batch: int, progress) -> int:
    """The encrypted values inside one JSON column. An append-only table (the timeline) is
    rewritten as its owner, its trigger lifted one batch at a time inside that batch's
    transaction, so no other session ever sees the table writable."""
    table = model._meta.db_table
    transform = in_json(field.encrypted_keys, rotated)
    if table not in APPEND_ONLY_TABLES:
        return rewrite_columns(model, [field.column], transform, batch=batch, progress=progress)
    with as_owner():
        connection = connections[DEFAULT_DB_ALIAS]
        return rewrite_columns(
            model,
            [field.column],
            transform,
            connection=connection,
            batch=batch,
            progress=progress,
            each_batch=partial(append_only.suspended, connection, table),
        )
