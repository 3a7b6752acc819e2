"""Encryption at rest: model fields whose column holds ciphertext, and keyed blind indexes
for the few lookups that need equality on an encrypted value.

AES-256-GCM (`cryptography`'s AESGCM). A stored value reads `e1:<key id>:<base64url of
nonce + ciphertext + tag>`; the key id is derived from the key, so decryption picks its
key at once and `refloop keys rotate` can tell which rows an old key still holds. The
empty string is stored as it is (a blank phone number says only that it is blank).

Keys come from settings.ENCRYPTION_KEYS, an ordered list: the first encrypts, every one
decrypts. The blind index key (settings.BLIND_INDEX_KEY) is separate and never rotates
with them: an index computed today must match one computed after a rotation.
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.lookups import Exact, IsNull

from refloop.core.keys import key_id

PREFIX = "e1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value cannot be read with the configured keys. Never carries the value."""


class Keyring:
    def __init__(self, keys: tuple[bytes, ...]):
        if not keys:
            raise ImproperlyConfigured(
                "No encryption key: set REFLOOP_ENCRYPTION_KEYS or REFLOOP_ENCRYPTION_KEYS_FILE."
            )
        self.ciphers = {key_id(key): AESGCM(key) for key in keys}
        self.current_id = key_id(keys[0])
        self.current = self.ciphers[self.current_id]
        self.ids = tuple(key_id(key) for key in keys)

    def cipher_for(self, kid: str) -> AESGCM:
        cipher = self.ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(
                f"A stored value was encrypted with key {kid}, which is not among the "
                f"configured encryption keys ({', '.join(self.ids)}). Put that key back in "
                "REFLOOP_ENCRYPTION_KEYS (after the current one) and run `refloop keys rotate`."
            )
        return cipher


@lru_cache(maxsize=4)
def _keyring(keys: tuple[bytes, ...]) -> Keyring:
    return Keyring(keys)


def keyring() -> Keyring:
    return _keyring(tuple(settings.ENCRYPTION_KEYS))


def encrypt_bytes(data: bytes) -> tuple[str, bytes]:
    """(key id, nonce + ciphertext + tag) under the current key."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    return ring.current_id, nonce + ring.current.encrypt(nonce, data, None)


def decrypt_bytes(kid: str, sealed: bytes, *, what: str) -> bytes:
    cipher = keyring().cipher_for(kid)
    try:
        return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None)
    except InvalidTag:
        raise DecryptionError(
            f"{what} does not decrypt with key {kid}: the stored value was altered, or the key "
            "configured under that id is not the one it was written with."
        ) from None


def encrypt(text: str) -> str:
    if text == "":
        return ""
    kid, sealed = encrypt_bytes(text.encode())
    return f"{PREFIX}:{kid}:{base64.urlsafe_b64encode(sealed).decode()}"


def key_id_of(stored: str) -> str | None:
    """The id of the key a stored value was written with; None for the empty string."""
    if stored == "":
        return None
    return _split(stored, what="A stored value")[1]


def decrypt(stored: str, *, what: str = "A stored value") -> str:
    if stored == "":
        return ""
    _, kid, body = _split(stored, what=what)
    try:
        sealed = base64.urlsafe_b64decode(body.encode())
    except (binascii.Error, ValueError):
        raise DecryptionError(f"{what} is not valid ciphertext.") from None
    return decrypt_bytes(kid, sealed, what=what).decode()


def _split(stored: str, *, what: str) -> tuple[str, str, str]:
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise DecryptionError(
            f"{what} is not encrypted (no '{PREFIX}:' prefix): was the database written "
            "before the encryption migration, or changed by hand?"
        )
    return parts[0], parts[1], parts[2]


def rotated(stored: str) -> str | None:
    """The value re-encrypted under the current key, or None when it already is."""
    kid = key_id_of(stored)
    if kid is None or kid == keyring().current_id:
        return None
    return encrypt(decrypt(stored))


# ---- blind indexes --------------------------------------------------------------------


def blind_index(purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under the blind index key, domain-separated by `purpose`
    so equal values in different indexes (a last name, a full name) do not match."""
    key = settings.BLIND_INDEX_KEY
    if not key:
        raise ImproperlyConfigured(
            "No blind index key: set REFLOOP_BLIND_INDEX_KEY or REFLOOP_BLIND_INDEX_KEY_FILE."
        )
    message = purpose.encode() + b"\0" + value.encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


@checks.register(checks.Tags.security, deploy=True)
def check_keys_outside_data_dir(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Warning(
            f"{name} is read from the data folder ({settings.DATA_DIR}): a copy or backup of "
            "the folder then carries the key that opens it.",
            hint=f"Set {name} or {name}_FILE to a file outside the data folder.",
            id="refloop.keys.W001",
        )
        for name in settings.KEYS_IN_DATA_DIR
    ]


# ---- model fields ---------------------------------------------------------------------


# The mixin only ever sits before a Field in a class's bases; type checkers read its `self`
# as that Field.
if TYPE_CHECKING:
    _Field = models.Field
else:
    _Field = object


class EncryptedMixin(_Field):
    """Stores the field's value as ciphertext in a text column; reads give plaintext.

    The database cannot compare, sort or search ciphertext, so only `isnull` and equality
    with the empty string are allowed as lookups: anything else would match nothing
    without saying so. Filter on a blind index instead.
    """

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection) -> str | None:
        return models.TextField().db_type(connection)

    def cast_db_type(self, connection) -> str | None:
        return models.TextField().cast_db_type(connection)

    def to_text(self, value) -> str:
        return str(value)

    def from_text(self, text: str):
        return text

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        return encrypt(self.to_text(value))

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        text = decrypt(value, what=f"{self.model._meta.label}.{self.name}")
        return self.from_text(text) if text != "" else text

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{self.model._meta.label}.{self.name} is encrypted: the database cannot "
            f"'{lookup_name}' it. Filter on a blind index instead."
        )

    def get_transform(self, lookup_name):
        return None


class EmptyOnlyExact(Exact):
    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.model._meta.label}.{self.lhs.target.name} is encrypted: "
                "equality is only known for the empty value. Filter on a blind index instead."
            )
        return super().get_prep_lookup()

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [value])


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class EncryptedCharField(EncryptedMixin, models.CharField):
    """A CharField's validation (max_length counts the plaintext) in a text column."""


class EncryptedEmailField(EncryptedMixin, models.EmailField):
    pass


class EncryptedDateField(EncryptedMixin, models.DateField):
    def to_text(self, value) -> str:
        return value.isoformat()

    def from_text(self, text: str):
        return datetime.date.fromisoformat(text)


class EncryptedValuesJSONField(models.JSONField):
    """A JSON object whose values under `encrypted_keys` (free text: a note, a reason's
    details) are stored encrypted, each as an `e1:` string inside the JSON; the other keys
    (codes, ids, times) stay readable to SQL. Reads give plaintext.

    Only a whole object is sealed on save: a lookup into an encrypted key would compare
    ciphertext, so filter on the readable keys only.
    """

    def __init__(self, *args, encrypted_keys: tuple[str, ...] = (), **kwargs):
        self.encrypted_keys = tuple(encrypted_keys)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["encrypted_keys"] = self.encrypted_keys
        return name, path, args, kwargs

    def get_db_prep_save(self, value, connection):
        if isinstance(value, dict):
            value = sealed_values(value, self.encrypted_keys, encrypt)
        return super().get_db_prep_save(value, connection)

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        if not isinstance(value, dict):  # a key pulled out by a lookup, or SQL NULL
            return value
        what = f"{self.model._meta.label}.{self.name}"
        return sealed_values(value, self.encrypted_keys, lambda v: decrypt(v, what=what))


def sealed_values(data: dict, keys: tuple[str, ...], transform: Callable[[str], str]) -> dict:
    """A copy of `data` with its string values under `keys` passed through `transform`."""
    return {
        key: transform(value) if key in keys and isinstance(value, str) else value
        for key, value in data.items()
    }


def _models_with_fields(kind: type) -> list[tuple[type[models.Model], list]]:
    """Every concrete model with columns of `kind`, and those columns."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, kind)]
        if fields and not model._meta.proxy:
            found.append((model, fields))
    return found


def json_fields() -> list[tuple[type[models.Model], list[EncryptedValuesJSONField]]]:
    """Every concrete model with JSON columns holding encrypted values, and those columns."""
    return _models_with_fields(EncryptedValuesJSONField)


def encrypted_fields() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every concrete model with encrypted columns, and those columns."""
    return _models_with_fields(EncryptedMixin)


# ---- rewriting stored values (the migrations, `refloop keys rotate`) -------------------


def rewrite_columns(
    model: type[models.Model],
    columns: list[str],
    transform: Callable[[str], str | None],
    *,
    connection=None,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
    each_batch: Callable[[], AbstractContextManager] = nullcontext,
) -> int:
    """Pass every stored value of `columns` (column names) through `transform`, in batches
    of `batch` rows by primary key, reading and writing the raw column values; a None
    from `transform` leaves the value as it is. Returns how many rows changed.

    Raw SQL because the model's fields decrypt on read: here the stored text is wanted.
    Each batch commits on its own (outside a migration), so an interrupted rotation
    keeps what it did and a second run picks up the rest. `each_batch()` is entered
    inside every batch's transaction (to lift an append-only trigger for just that long).
    """
    connection = connection or connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    names = ", ".join(quote(c) for c in columns)
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    # Only quoted names from the model go into the SQL; values are always parameters.
    select = f"SELECT {pk}, {names} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s"  # noqa: S608
    update = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    last, seen, changed = 0, 0, 0  # every table here has a positive integer key
    while True:
        with (
            transaction.atomic(using=connection.alias),
            each_batch(),
            connection.cursor() as cursor,
        ):
            cursor.execute(select, [last, batch])
            rows = cursor.fetchall()
            if not rows:
                return changed
            updates = []
            for pk_value, *values in rows:
                new = [None if v is None else transform(v) for v in values]
                if any(n is not None for n in new):
                    kept = [n if n is not None else v for n, v in zip(new, values, strict=True)]
                    updates.append([*kept, pk_value])
            if updates:
                cursor.executemany(update, updates)
        last = rows[-1][0]
        seen += len(rows)
        changed += len(updates)
        if progress is not None:
            progress(seen, changed)


def encrypt_plaintext(value) -> str | None:
    """For the migrations that encrypt columns in place: the stored text, encrypted."""
    return encrypt(str(value)) if value != "" else None


def decrypt_stored(value: str) -> str | None:
    return decrypt(value) if value != "" else None


def in_json(keys: tuple[str, ...], transform: Callable[[str], str | None]):
    """`transform` applied to the values under `keys` of a stored JSON object, for
    `rewrite_columns` on a JSON column; None when no value changed."""

    def rewrite(stored) -> str | None:
        data = json.loads(stored) if isinstance(stored, str) else stored
        if not isinstance(data, dict):
            return None
        changed = False
        for key in keys:
            value = data.get(key)
            new = transform(value) if isinstance(value, str) and value != "" else None
            if new is not None:
                data[key], changed = new, True
        return json.dumps(data) if changed else None

    return rewrite
