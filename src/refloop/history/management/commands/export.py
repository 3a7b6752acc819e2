"""`refloop export history FILE [--format csv|xlsx] [--event-log]`: every inbound referral
in a history layout, for a backup, another system, or a fresh refloop. The file holds PHI."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refloop.core import context
from refloop.history.export import export_history


class Command(BaseCommand):
    help = "Export data to a file. Kinds: history (one row per inbound referral)."

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        history = kinds.add_parser(
            "history", help="Every inbound referral, in the layout `refloop import history` reads."
        )
        history.add_argument("file", type=Path, metavar="FILE")
        history.add_argument(
            "--format",
            choices=("csv", "xlsx"),
            help="csv or xlsx (default: from the file's extension).",
        )
        history.add_argument(
            "--event-log",
            action="store_true",
            help="The whole history, one row per state change and per appointment (default: "
            "one row per referral).",
        )

    def handle(self, *, kind: str, **options):
        path: Path = options["file"]
        fmt = options["format"] or path.suffix.lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            raise CommandError(
                "Say which format to write: name the file .csv or .xlsx, or add --format."
            )
        with context.using(context.RequestContext(channel="cli")):
            # Patient names and dates of birth: readable by the owner only.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(descriptor, "wb") as out:
                count = export_history(out, fmt, event_log=options["event_log"])
        self.stdout.write(f"Exported {count:,} referrals to {path}.")
