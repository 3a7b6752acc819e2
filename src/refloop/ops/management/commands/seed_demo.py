"""`refloop seed_demo`: fill an empty database with the demo practice `refloop demo` shows."""

import argparse
from datetime import UTC, datetime

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from refloop.demo.seed import FULL_SIZE, seed_demo
from refloop.practice.models import Organization
from refloop.referrals.models import Referral


def aware_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give an ISO date and time such as 2026-03-02T15:00Z, not {value!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Fill an empty database with the demo practice and 18 months of referral history."

    def add_arguments(self, parser):
        parser.add_argument(
            "--referrals",
            type=int,
            default=FULL_SIZE,
            help="Inbound referrals to create (default: %(default)s).",
        )
        parser.add_argument(
            "--now",
            type=aware_datetime,
            default=None,
            help="Pretend it is this moment (ISO 8601; default: now). Same moment, same data.",
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Delete every record in the database first (asks no questions).",
        )

    def handle(self, *, referrals: int, now, flush: bool, verbosity: int, **options):
        if referrals < 12:
            raise CommandError("--referrals must be at least 12 (one for every referral state).")
        if flush:
            call_command("flush", interactive=False, verbosity=0)
        if Organization.objects.exists() or Referral.objects.exists():
            raise CommandError(
                "The database already holds a practice. Run with --flush to delete every "
                "record first, or point REFLOOP_DATA_DIR at an empty folder."
            )
        progress = None
        if verbosity >= 2:

            def progress(done: int, total: int) -> None:
                self.stdout.write(f"replayed {done}/{total} steps")

        result = seed_demo(now=now, referrals=referrals, progress=progress)
        self.stdout.write(
            f"Seeded {result.inbound} inbound and {result.outbound} outbound referrals in "
            f"{result.seconds:.1f}s. Demo logins: {result.logins_file}"
        )
