"""`refloop messages send`: deliver due messages without the full worker (cron, benchmarks),
and `refloop messages sweep`: queue stalled-referral alerts and monthly digests now."""

import os
import signal
import socket
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from refloop.core import context
from refloop.messaging.automation import send_monthly_digests, sweep_stalled
from refloop.messaging.dispatch import dispatch_due


class Command(BaseCommand):
    help = "Messaging: send what is due now, or run the periodic sweeps."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        send = actions.add_parser("send", help="Send due messages in batches.")
        send.add_argument(
            "--until-empty",
            action="store_true",
            help="Stop when nothing is due (default: keep looking every --interval seconds).",
        )
        send.add_argument("--interval", type=float, default=1.0, metavar="SECONDS")
        send.add_argument("--batch", type=int, default=None, metavar="N")
        actions.add_parser("sweep", help="Queue stalled-referral alerts and monthly digests now.")

    def handle(self, *, action: str, **options):
        with context.using(context.RequestContext(channel="worker")):
            if action == "sweep":
                now = timezone.now()
                queued = sweep_stalled(now=now) + send_monthly_digests(now=now)
                self.stdout.write(f"{queued} messages queued.")
                return
            self.send(options["until_empty"], options["interval"], options["batch"])

    def send(self, until_empty: bool, interval: float, batch: int | None) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
        sent = failed = 0
        while not stopping:
            close_old_connections()
            tally = dispatch_due(worker_id=worker_id, limit=batch)
            sent += tally.sent
            failed += tally.failed
            if tally.handled == 0:
                if until_empty:
                    break
                time.sleep(interval)
        self.stdout.write(f"{sent} sent, {failed} failed.")
