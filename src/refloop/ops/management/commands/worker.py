"""`refloop worker`: runs queued background tasks and the periodic jobs (the SLA sweep)."""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from refloop.ops.worker import run_forever


class Command(BaseCommand):
    help = "Run the background worker: queued tasks and periodic jobs such as the SLA sweep."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.WORKER_INTERVAL_SECONDS,
            help="Seconds between looks for due work (default: %(default)s).",
        )

    def handle(self, *, interval: float, verbosity: int, **options):
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds.")
        if verbosity < 2:
            # The task runner announces every empty pass over the queue; keep its warnings only.
            logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
            logging.getLogger("django.tasks").setLevel(logging.WARNING)
        run_forever(interval=interval)
