"""Database triggers that make a table append-only, for migrations.

On PostgreSQL both UPDATE and DELETE are refused. On SQLite only UPDATE is:
Django's test flush empties tables with DELETE there (PostgreSQL uses TRUNCATE,
which row triggers do not see), and the ORM refuses deletes on both.
"""

from django.db import migrations


def _create(table: str):
    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        message = f"{table} is append-only"
        if connection.vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{message}'; END;
                $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
                """
            )
        elif connection.vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            )

    return forwards


def _drop(table: str):
    def backwards(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table};")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_append_only();")
        elif connection.vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")

    return backwards


def make_append_only(table: str) -> migrations.RunPython:
    return migrations.RunPython(_create(table), _drop(table))
