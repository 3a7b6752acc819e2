"""`refloop restore FILE`: bring a backup back into an empty database and documents folder."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from refloop.core import audit, backup, context
from refloop.settings import database_from_url


class Command(BaseCommand):
    help = (
        "Restore a backup into the configured database and documents folder, which must be "
        "empty (a new REFLOOP_DATA_DIR, or a new PostgreSQL database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--database-url", help="restore into this database instead of the configured one"
        )

    def handle(self, *, file: str, database_url: str | None, **options):
        archive = Path(file)
        if not archive.is_file():
            raise CommandError(f"There is no file {archive}.")
        database = database_from_url(database_url) if database_url else backup.operator_database()
        try:
            manifest = backup.restore_backup(
                archive,
                database=database,
                media_root=Path(settings.MEDIA_ROOT),
                progress=self.stderr.write,
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        # A connection opened before the restore (system checks) still sees the empty
        # database file that the restore replaced.
        connections.close_all()
        problems = backup.compare(manifest, database, Path(settings.MEDIA_ROOT))
        if problems:
            raise CommandError("The restore differs from the backup: " + "; ".join(problems[:5]))
        if not database_url:
            with context.using(context.RequestContext(channel="cli")):
                audit.record(
                    "backup.restored",
                    audit.Touch("backup", archive.name),
                    actor=None,
                    detail={"made_at": manifest["created_at"]},
                )
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']}: "
            f"{sum(manifest['rows'].values())} rows, {len(manifest['documents'])} documents."
        )
