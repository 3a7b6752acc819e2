"""Database triggers that make a table append-only, for migrations.

On PostgreSQL both UPDATE and DELETE are refused. On SQLite only UPDATE is:
Django's test flush empties tables with DELETE there (PostgreSQL uses TRUNCATE,
which row triggers do not see), and the ORM refuses deletes on both.

SQLite drops a table's triggers when a migration rebuilds the table (to add a
column, say), so such a migration ends with `make_append_only` again: installing
is idempotent.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import migrations


def install(connection, table: str) -> None:
    message = f"{table} is append-only"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{message}'; END;
                $$ LANGUAGE plpgsql;
                CREATE OR REPLACE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
                """
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            )


def remove(connection, table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};")
            cursor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only();")
        elif connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")


@contextmanager
def suspended(connection, table: str) -> Iterator[None]:
    """Lift the trigger for a while: for a migration that rewrites history on purpose, and
    for tests that tamper as someone owning the tables could. On PostgreSQL this needs
    the table's owner."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                # Deferred foreign-key checks may be pending; ALTER TABLE wants none.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_update")
    else:
        remove(connection, table)
        try:
            yield
        finally:
            install(connection, table)


def make_append_only(table: str) -> migrations.RunPython:
    return migrations.RunPython(
        lambda apps, schema_editor: install(schema_editor.connection, table),
        lambda apps, schema_editor: remove(schema_editor.connection, table),
    )
