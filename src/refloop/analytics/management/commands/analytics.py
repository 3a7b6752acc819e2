"""`refloop analytics report`: a month's management report as a PDF; `refloop analytics rebuild`:
the fact tables from scratch; `refloop analytics scorecards`: a month's referrer scorecards,
listed or (with --queue) queued for sending, once per practice and month."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from refloop.analytics import facts, pdf, report, scorecards
from refloop.core import audit, context
from refloop.core.errors import InvalidInput
from refloop.messaging.models import Status
from refloop.network.models import Practice


class Command(BaseCommand):
    help = "Analytics: the monthly management report, rebuilding the facts, referrer scorecards."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        made = actions.add_parser("report", help="Write a month's management report as a PDF.")
        made.add_argument("--month", metavar="YYYY-MM", help="The month (default: last month).")
        made.add_argument("--out", required=True, metavar="FILE", help="Where to write the PDF.")
        made.add_argument(
            "--suppress",
            action="store_true",
            help="Hide small cells (counts of 1 to 10 read <11), as in the analyst's copy.",
        )
        actions.add_parser("rebuild", help="Rebuild the analytics facts of every referral.")
        cards = actions.add_parser(
            "scorecards", help="List the month's referrer scorecards; --queue sends them."
        )
        cards.add_argument("--month", metavar="YYYY-MM", help="The month (default: last month).")
        cards.add_argument(
            "--queue",
            action="store_true",
            help="Queue each practice's scorecard now (once per practice and month).",
        )

    def handle(self, *, action: str, **options):
        with context.using(context.RequestContext(channel="cli")):
            if action == "rebuild":
                self.rebuild()
                return
            now = timezone.now()
            try:
                month = (
                    scorecards.parse_month(options["month"])
                    if options.get("month")
                    else scorecards.last_full_month(now)
                )
            except InvalidInput as error:
                raise CommandError(error.message) from None
            if action == "report":
                self.report(month, Path(options["out"]), options["suppress"], now)
            else:
                self.scorecards(month, options["queue"], now)

    def report(self, month, out: Path, suppressed: bool, now) -> None:
        document = report.build(month, now=now, suppressed=suppressed)
        try:
            out.write_bytes(pdf.report_pdf(document))
        except OSError as error:
            raise CommandError(f"Could not write {out}: {error.strerror}.") from None
        audit.record(
            "analytics.report_written",
            audit.Touch("analytics_report", f"{month.start:%Y-%m}"),
            actor=None,
            detail={"month": f"{month.start:%Y-%m}", "suppressed": suppressed},
            now=now,
        )
        self.stdout.write(f"Wrote the referral report for {document.month_label} to {out}.")

    def rebuild(self) -> None:
        def progress(done: int, total: int) -> None:
            self.stdout.write(f"{done:,} of {total:,} referrals")

        written = facts.rebuild_all(progress=progress)
        self.stdout.write(f"Rebuilt the analytics facts of {written:,} referrals.")

    def scorecards(self, month, queue: bool, now) -> None:
        from refloop.messaging import automation

        label = scorecards.describe(month)
        volumes = scorecards.referring_practices(month, now=now)
        practices = Practice.objects.filter(pk__in=list(volumes)).order_by("name", "pk")
        if not practices:
            self.stdout.write(f"No referring practice sent a referral in {label}.")
            return
        if not queue:
            for practice in practices:
                self.stdout.write(f"{practice.name}: {volumes[practice.pk]:,} referrals")
            self.stdout.write(
                f"{len(practices)} scorecards for {label}; run with --queue to send them."
            )
            return
        queued = already = cancelled = 0
        for practice in practices:
            if automation.scorecard_message(practice, month.start) is not None:
                already += 1
                continue
            message = automation.queue_scorecard(practice, month.start, now=now)
            if message is None:
                raise CommandError(
                    "The monthly scorecard is switched off under Message settings; nothing "
                    "was queued."
                )
            if message.status == Status.CANCELLED:
                cancelled += 1
                self.stdout.write(f"{practice.name}: not sent. {message.reason}")
            else:
                queued += 1
        self.stdout.write(
            f"Scorecards for {label}: {queued} queued, {already} already queued before, "
            f"{cancelled} with no way to reach the practice."
        )
