"""PostgreSQL: the app runs as a role that does not own its tables.

The owner role (REFLOOP_MIGRATE_DATABASE_URL) creates and alters the tables: `refloop
migrate` and `refloop flush` connect with its credentials. The runtime role (the user of
REFLOOP_DATABASE_URL) may read and write ordinary tables, but only read and append to the
audit log and the referral timeline: no UPDATE, DELETE or TRUNCATE there, and no way to
lift the append-only triggers (only an owner may). `grant_runtime` says so in GRANTs.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

# Appended to, never rewritten: the runtime role gets no UPDATE, DELETE or TRUNCATE on them.
APPEND_ONLY_TABLES = ("core_auditentry", "referrals_referralevent", "advocacy_advocacyevent")
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_credentials(alias: str = "default") -> dict | None:
    """The owner's credentials, when one is configured and the database is PostgreSQL."""
    owner = settings.DATABASE_OWNER
    if not owner or connections[alias].vendor != "postgresql":
        return None
    if owner["ENGINE"] != connections[alias].settings_dict["ENGINE"]:
        return None
    return {key: owner[key] for key in CREDENTIALS}


def switch(alias: str, credentials: dict) -> dict:
    """Reconnect `alias` with other credentials (same database); returns the previous ones."""
    connection = connections[alias]
    if connection.in_atomic_block:
        raise RuntimeError("Switching database roles would drop the open transaction.")
    previous = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update(credentials)
    return previous


@contextmanager
def as_owner(alias: str = "default") -> Iterator[bool]:
    """Run the block connected as the tables' owner; yields whether that meant switching."""
    owner = owner_credentials(alias)
    current = {key: connections[alias].settings_dict.get(key) for key in CREDENTIALS}
    if owner is None or owner == current:
        yield False
        return
    previous = switch(alias, owner)
    try:
        yield True
    finally:
        connections[alias].close()
        connections[alias].settings_dict.update(previous)


def grant_statements(role: str, *, schema: str, quote) -> list[str]:
    role, schema = quote(role), quote(schema)
    append_only = ", ".join(quote(table) for table in APPEND_ONLY_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {append_only} FROM {role}",
        # Tables a later migration creates (as this owner) get the same grants.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def grant_runtime(role: str, alias: str = "default") -> list[str]:
    """Grant `role` the runtime's privileges; run as the owner. Returns the statements."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise ValueError("Database roles are a PostgreSQL feature; SQLite has none.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
        statements = grant_statements(role, schema=schema, quote=connection.ops.quote_name)
        for statement in statements:
            cursor.execute(statement)
    return statements
