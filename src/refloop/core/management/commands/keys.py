"""`refloop keys generate` / `refloop keys rotate`: encryption keys (refloop.core.encryption)."""

from django.core.management.base import BaseCommand, CommandError

from refloop.core import context
from refloop.core.encryption import DecryptionError, keyring
from refloop.core.keys import generate_key
from refloop.core.rotation import rotate_keys


class Command(BaseCommand):
    help = "Print a new encryption key, or re-encrypt everything under the first key."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("generate", help="Print a new 256-bit key (base64url).")
        rotate = actions.add_parser(
            "rotate",
            help="Re-encrypt every encrypted column and stored document under the first key "
            "of REFLOOP_ENCRYPTION_KEYS; afterwards the older keys may be removed.",
        )
        rotate.add_argument("--batch", type=int, default=None, help="Rows per transaction.")

    def handle(self, *, action: str, **options):
        if action == "generate":
            self.stdout.write(generate_key())
            self.stderr.write(
                "Put it first in REFLOOP_ENCRYPTION_KEYS (keep the old keys after it), "
                "restart, then run `refloop keys rotate`."
            )
            return
        if options["batch"] is not None and options["batch"] < 1:
            raise CommandError("--batch must be at least 1.")
        current = keyring().current_id
        self.stderr.write(f"Re-encrypting under key {current}…")
        with context.using(context.RequestContext(channel="cli")):
            try:
                done = rotate_keys(batch=options["batch"], progress=self.progress)
            except DecryptionError as error:
                raise CommandError(str(error)) from None
        self.stdout.write(
            f"Key {current} now encrypts everything: {done.rows} rows and {done.files} "
            "documents re-encrypted. Keys other than the first may now be removed."
        )

    def progress(self, what: str, seen: int, changed: int) -> None:
        self.stderr.write(f"  {what}: {seen} read, {changed} re-encrypted")
