"""Fast inserts for the tables a history import fills row by row.

Why not `bulk_create`: it builds a model instance per row and prepares every field of
every object; with a referral's ~45 columns and ~6 timeline events per row that held a
10,000-row import to about 2,300 rows a second. Here the columns are worked out once per
table, constant columns are prepared once, and only the values that vary are converted
(datetimes, dates, JSON, amounts, encrypted text).

SQLite gets what `bulk_create` sends: INSERT … VALUES (…), (…) … RETURNING id, answered
in row order. PostgreSQL gets COPY, which is several times faster there: psycopg spends
longer splitting a 30,000-placeholder INSERT than the server spends running it. COPY
returns no ids, so they are drawn from the table's sequence first (safe alongside other
writers) and written with the rows.
"""

import gc
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache, partial

from django.db import connection, models
from django.utils import timezone

from refloop.core.encryption import EncryptedMixin, EncryptedValuesJSONField

# Parameters per INSERT, under SQLite's default limit of 32,766.
MAX_PARAMS = 30_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a file is checked or written, on again after
    (reference counting still frees everything that is not a cycle). A large file keeps
    millions of objects alive that each full collection walks again: that was a quarter
    of a 10,000-row import's CPU. Process-wide, so an import beside a web server's
    threads pauses theirs too, for as long as the import runs."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Table:
    """Inserts rows of `columns` (attnames, in the order each row gives its values) into
    `model`'s table; every other column gets its field's default."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        ops = connection.ops
        fields = [f for f in model._meta.concrete_fields if not f.generated and not f.primary_key]
        by_attname = {f.attname: f for f in fields}
        now = timezone.now()
        self.converters: list[tuple[int, Callable]] = []
        for position, attname in enumerate(columns):
            field = by_attname[attname]
            convert = _converter(field, ops)
            if isinstance(field, models.JSONField):
                sealed = getattr(field, "encrypted_keys", ())
                convert = partial(self._json, convert, frozenset(sealed))
            if convert is not None:
                self.converters.append((position, convert))
        self.constants: tuple = ()
        constant_columns = []
        for field in fields:
            if field.attname in columns:
                continue
            auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            value = now if auto else field.get_default()
            self.constants += (field.get_db_prep_save(value, connection),)
            constant_columns.append(field.column)
        quote = ops.quote_name
        self.table = model._meta.db_table
        self.pk_column = model._meta.pk.column
        self.columns = [quote(by_attname[a].column) for a in columns] + [
            quote(c) for c in constant_columns
        ]
        self.width = len(self.columns)
        self._json_memo: dict[int | tuple, object] = {}
        self.per_statement = max(1, min(MAX_PARAMS, _param_limit()) // self.width)

    def insert(self, rows: Sequence[Sequence], *, ids: bool = False) -> list[int]:
        """Insert `rows`; with `ids`, return their new primary keys in the same order."""
        if not rows:
            return []
        self._json_memo = {}
        prepared = [self._prepared(row) for row in rows]
        if connection.vendor == "postgresql":
            return self._copy(prepared, ids=ids)
        return self._insert(prepared, ids=ids)

    def _prepared(self, row: Sequence) -> list:
        values = list(row)
        for position, convert in self.converters:
            if values[position] is not None:
                values[position] = convert(values[position])
        values.extend(self.constants)
        return values

    def _json(self, convert: Callable, sealed: frozenset[str], value) -> object:
        """Equal values (the timeline's {"imported": true}, an arrival's channel and source)
        are serialized once per insert; never one with a value to encrypt, whose every
        copy must have its own nonce."""
        # First by identity (one shared object for every imported transition), which is
        # safe while every row of this insert is alive; then by content.
        converted = self._json_memo.get(id(value))
        if converted is not None:
            return converted
        if not isinstance(value, dict) or not sealed.isdisjoint(value):
            return convert(value)
        try:
            # With each value's type: True and 1 are equal keys, not equal JSON.
            key = tuple((name, type(item), item) for name, item in value.items())
            converted = self._json_memo.get(key)
        except TypeError:  # a nested value (a mapping's original wordings)
            return convert(value)
        if converted is None:
            converted = self._json_memo[key] = convert(value)
        self._json_memo[id(value)] = converted
        return converted

    def _insert(self, rows: list[list], *, ids: bool) -> list[int]:
        quote = connection.ops.quote_name
        # Only quoted names from the model go into the SQL; values are always parameters.
        head = f"INSERT INTO {quote(self.table)} ({', '.join(self.columns)}) VALUES "  # noqa: S608
        one = "(" + ", ".join(["?"] * self.width) + ")"
        returning = f" RETURNING {quote(self.pk_column)}" if ids else ""
        new_ids: list[int] = []
        with connection.cursor() as cursor, connection.wrap_database_errors:
            # The driver's own cursor, with its "?" placeholders: Django's rewrites "%s"
            # with a regular expression over the whole statement, about 5% of an import's
            # CPU on 30,000-placeholder INSERTs. (So these statements skip Django's
            # execute_wrapper hooks and query log.)
            raw = cursor.cursor
            for start in range(0, len(rows), self.per_statement):
                chunk = rows[start : start + self.per_statement]
                params = [value for row in chunk for value in row]
                sqlite3.Cursor.execute(
                    raw, head + ", ".join([one] * len(chunk)) + returning, params
                )
                if ids:
                    new_ids.extend(pk for (pk,) in raw.fetchall())
        return new_ids

    def _copy(self, rows: list[list], *, ids: bool) -> list[int]:
        quote = connection.ops.quote_name
        columns = self.columns
        with connection.cursor() as cursor:
            new_ids: list[int] = []
            if ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [quote(self.table), self.pk_column, len(rows)],
                )
                new_ids = [pk for (pk,) in cursor.fetchall()]
                columns = [quote(self.pk_column), *columns]
                rows = [[pk, *row] for pk, row in zip(new_ids, rows, strict=True)]
            statement = f"COPY {quote(self.table)} ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        return new_ids


def _converter(field: models.Field, ops) -> Callable | None:
    """What turns a Python value into what the database driver takes, for the column types
    the import writes; None where the value goes as it is."""
    if isinstance(field, EncryptedMixin):
        return partial(field.get_db_prep_value, connection=connection)
    if isinstance(field, EncryptedValuesJSONField):
        return partial(field.get_db_prep_save, connection=connection)
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime if connection.vendor == "sqlite" else ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return partial(
            ops.adapt_decimalfield_value,
            max_digits=field.max_digits,
            decimal_places=field.decimal_places,
        )
    if isinstance(field, models.JSONField):
        return partial(ops.adapt_json_value, encoder=field.encoder)
    return None


@lru_cache(maxsize=65_536)
def _sqlite_datetime(value: datetime) -> str:
    """What Django's SQLite backend stores for an aware datetime (naive UTC text), without
    its per-value settings checks, which cost more than the INSERT itself. Cached: a row's
    times recur in its referral, its timeline and its appointment."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _param_limit() -> int:
    return connection.features.max_query_params or MAX_PARAMS
