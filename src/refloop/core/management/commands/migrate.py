"""`refloop migrate`: Django's migrate, run as the tables' owner when
REFLOOP_MIGRATE_DATABASE_URL names one (PostgreSQL), then granting the runtime role
(REFLOOP_DATABASE_URL's user) what it may do: see refloop.core.db_roles."""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from refloop.core import db_roles


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        alias = options["database"]
        runtime_role = connections[alias].settings_dict["USER"]
        with db_roles.as_owner(alias) as switched:
            super().handle(*args, **options)
            if switched:
                db_roles.grant_runtime(runtime_role, alias)
                if options["verbosity"] >= 1:
                    self.stdout.write(f"Granted the runtime role {runtime_role!r} its privileges.")
