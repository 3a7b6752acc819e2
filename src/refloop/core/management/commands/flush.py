"""`refloop flush`: Django's flush, run as the tables' owner when one is configured: the
runtime role may not TRUNCATE (nor DELETE from) the audit log and the timeline. Test
teardowns flush too, so they keep working while the tests run as the runtime role."""

from django.core.management.commands.flush import Command as DjangoFlush

from refloop.core import db_roles


class Command(DjangoFlush):
    def handle(self, **options):
        with db_roles.as_owner(options["database"]):
            super().handle(**options)
