"""`refloop db grant-runtime ROLE`: give a PostgreSQL role the runtime's privileges (read
and write ordinary tables, only read and append to the audit log and the timeline)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from refloop.core import db_roles


class Command(BaseCommand):
    help = "Database roles (PostgreSQL): grant-runtime ROLE, run as the tables' owner."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias.")
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        grant = actions.add_parser(
            "grant-runtime",
            help="GRANT the runtime's privileges to ROLE and REVOKE UPDATE, DELETE and "
            "TRUNCATE on the audit log and the timeline.",
        )
        grant.add_argument("role")

    def handle(self, *, action: str, role: str, database: str, **options):
        if connections[database].vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL feature; this database is not.")
        try:
            with db_roles.as_owner(database):
                statements = db_roles.grant_runtime(role, database)
        except DatabaseError as error:
            raise CommandError(
                f"Could not grant {role!r} the runtime's privileges ({type(error).__name__}): "
                "check that the role exists and that this connection owns the tables."
            ) from None
        for statement in statements:
            self.stdout.write(statement + ";")
