"""`refloop backup [--out FILE]`, `refloop backup verify FILE`, `refloop backup key`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from refloop.core import audit, backup, context


class Command(BaseCommand):
    help = "Write an encrypted backup of the database and the documents, or verify one."

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            nargs="?",
            default="create",
            choices=["create", "verify", "key"],
            help="create (default), verify FILE, or key (print a new backup key)",
        )
        parser.add_argument("file", nargs="?", help="the archive to verify")
        parser.add_argument(
            "--out", help="where to write the archive (default: ./refloop-backup-<time>.rfb)"
        )

    def handle(self, *, action: str, file: str | None, out: str | None, **options):
        progress = self.stderr.write
        try:
            with context.using(context.RequestContext(channel="cli")):
                if action == "key":
                    self.stdout.write(backup.new_key())
                elif action == "verify":
                    if not file:
                        raise CommandError("Name the archive to verify: refloop backup verify FILE")
                    self.verify(Path(file), progress)
                else:
                    name = out or f"refloop-backup-{timezone.now():%Y%m%dT%H%M%SZ}.rfb"
                    result = backup.create_backup(Path(name), progress=progress)
                    audit.record(
                        "backup.created",
                        audit.Touch("backup", result.path.name),
                        actor=None,
                        detail={
                            "rows": sum(result.manifest["rows"].values()),
                            "documents": len(result.manifest["documents"]),
                        },
                    )
                    self.stdout.write(str(result.path))
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None

    def verify(self, archive: Path, progress) -> None:
        if not archive.is_file():
            raise CommandError(f"There is no file {archive}.")
        manifest, problems = backup.verify_backup(archive, progress=progress)
        rows = sum(manifest["rows"].values())
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                f"The restored copy differs from the backup in {len(problems)} places."
            )
        self.stdout.write(
            f"OK: restored {rows} rows in {len(manifest['rows'])} tables and "
            f"{len(manifest['documents'])} documents; every count and checksum matches."
        )
