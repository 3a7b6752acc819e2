"""`refloop intake watch DIR` (a fax server's inbox) and `refloop intake process`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refloop.core import context
from refloop.intake.pipeline import process_document
from refloop.intake.services import documents_waiting
from refloop.intake.watch import watch


class Command(BaseCommand):
    help = "Document intake: watch a folder for incoming faxes, or read queued documents now."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        watcher = actions.add_parser(
            "watch",
            help="Ingest each file that appears in DIR, then move it to DIR/processed/ "
            "(or DIR/failed/ if it could not be stored).",
        )
        watcher.add_argument("directory", type=Path, metavar="DIR")
        watcher.add_argument(
            "--once", action="store_true", help="Take the files that are ready, then stop."
        )
        watcher.add_argument(
            "--interval",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="Seconds between looks (a file is taken once its size held still for one "
            "interval; default 5).",
        )
        actions.add_parser("process", help="Read every queued document now, without a worker.")

    def handle(self, *, action: str, **options):
        with context.using(context.RequestContext(channel="cli")):
            if action == "watch":
                self.watch(options["directory"], options["once"], options["interval"])
            else:
                self.process()

    def watch(self, directory: Path, once: bool, interval: float) -> None:
        if interval <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory; create it or check the path.")
        if not once:
            self.stderr.write(f"Watching {directory} every {interval:g} s; Ctrl-C stops.")
        try:
            taken = watch(directory, once=once, interval=interval, report=self.stdout.write)
        except KeyboardInterrupt:
            return
        self.stderr.write(f"{taken} file(s) taken.")

    def process(self) -> None:
        waiting = documents_waiting()
        for pk in waiting:
            document = process_document(pk)
            reason = f" ({document.status_reason})" if document.status_reason else ""
            self.stdout.write(
                f"document #{pk}: {document.status}, {document.page_count} page(s){reason}"
            )
        self.stderr.write(f"{len(waiting)} document(s) read.")
