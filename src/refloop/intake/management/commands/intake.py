"""`refloop intake watch DIR` (a fax server's inbox), `refloop intake mail` (an e-fax or
referral mailbox) and `refloop intake process`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refloop.core import context
from refloop.intake import mailbox
from refloop.intake.pipeline import process_document
from refloop.intake.services import documents_waiting
from refloop.intake.watch import watch


class Command(BaseCommand):
    help = (
        "Document intake: watch a folder or an IMAP mailbox for incoming faxes, or read "
        "queued documents now."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        watcher = actions.add_parser(
            "watch",
            help="Ingest each file that appears in DIR, then move it to DIR/processed/ "
            "(or DIR/failed/ if it could not be stored).",
        )
        watcher.add_argument("directory", type=Path, metavar="DIR")
        _repeat_options(
            watcher,
            once="Take the files that are ready, then stop.",
            interval=5.0,
            every="Seconds between looks (a file is taken once its size held still for one "
            "interval; default 5).",
        )
        mail = actions.add_parser(
            "mail",
            help="Take each mail in an IMAP mailbox (faxes delivered by email, emailed "
            "referrals) as documents, then move it to the processed or the problem folder.",
            description="Read an IMAP mailbox over TLS (IMAPS or STARTTLS) where faxes "
            "arrive by email, and take each mail into document intake: each attachment "
            "(PDF, TIFF, PNG, JPEG) becomes a document, as if uploaded; a mail without one "
            "is read from its text. The sender and subject are "
            "kept with the documents for the coordinator, never printed. A mail moves to the "
            "processed folder once its documents are stored, or to the problem folder when "
            "part of it could not be taken (too large, broken); one already stored is only "
            "moved. The mailbox is set by REFLOOP_INTAKE_MAIL_* (HOST, USER, PASSWORD or "
            "PASSWORD_FILE, SECURITY tls or starttls, PORT, CA_FILE, FOLDER, "
            "PROCESSED_FOLDER, PROBLEM_FOLDER, MAX_BYTES, ARRIVAL email or fax); the "
            "connection is always TLS.",
        )
        _repeat_options(
            mail,
            once="Take the mail there is now, then stop.",
            interval=60.0,
            every="Seconds between looks at the mailbox (default 60).",
        )
        actions.add_parser("process", help="Read every queued document now, without a worker.")

    def handle(self, *, action: str, **options):
        if action in ("watch", "mail") and options["interval"] <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        with context.using(context.RequestContext(channel="cli")):
            if action == "watch":
                self.watch(options["directory"], options["once"], options["interval"])
            elif action == "mail":
                self.mail(options["once"], options["interval"])
            else:
                self.process()

    def watch(self, directory: Path, once: bool, interval: float) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory; create it or check the path.")
        if not once:
            self.stderr.write(f"Watching {directory} every {interval:g} s; Ctrl-C stops.")
        try:
            taken = watch(directory, once=once, interval=interval, report=self.stdout.write)
        except KeyboardInterrupt:
            return
        self.stderr.write(f"{taken} file(s) taken.")

    def mail(self, once: bool, interval: float) -> None:
        try:
            config = mailbox.MailboxSettings.from_settings()
            if not once:
                self.stderr.write(
                    f"Reading {config.folder} at {config.address} every {interval:g} s; "
                    "Ctrl-C stops."
                )
            taken = mailbox.watch(config, once=once, interval=interval, report=self.stdout.write)
        except mailbox.MailboxError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            return
        self.stderr.write(f"{taken} mail(s) taken.")

    def process(self) -> None:
        waiting = documents_waiting()
        for pk in waiting:
            document = process_document(pk)
            reason = f" ({document.status_reason})" if document.status_reason else ""
            self.stdout.write(
                f"document #{pk}: {document.status}, {document.page_count} page(s){reason}"
            )
        self.stderr.write(f"{len(waiting)} document(s) read.")


def _repeat_options(parser, *, once: str, interval: float, every: str) -> None:
    """--once, or --interval SECONDS between looks: how the watching actions run."""
    parser.add_argument("--once", action="store_true", help=once)
    parser.add_argument("--interval", type=float, default=interval, metavar="SECONDS", help=every)
