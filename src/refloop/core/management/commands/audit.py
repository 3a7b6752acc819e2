"""`refloop audit verify` / `refloop audit export --since …`: the audit log's tamper check,
and its entries as JSON lines for a SIEM."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from refloop.core import audit, audit_chain, context


def since_argument(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            "--since takes an ISO date or time, e.g. 2026-07-01 or 2026-07-01T08:00:00+02:00."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Check the audit log's hash chains, or export entries as JSON lines."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser(
            "verify",
            help="Recompute every chain; report the first broken link of each (exit 1 if any).",
        )
        export = actions.add_parser(
            "export", help="Write entries from --since on as JSON lines, oldest first."
        )
        export.add_argument(
            "--since", required=True, help="ISO date or time; without an offset it is UTC."
        )
        export.add_argument("--out", help="File to write (default: standard output).")

    def handle(self, *, action: str, **options):
        with context.using(context.RequestContext(channel="cli")):
            if action == "verify":
                self.verify()
            else:
                self.export(since_argument(options["since"]), options.get("out"))

    def verify(self) -> None:
        def progress(done: int, total: int) -> None:
            self.stderr.write(f"checked {done} of {total} entries")

        result = audit_chain.verify(progress=progress)
        audit.record(
            "audit.verified",
            audit.Touch("audit_log", "chain"),
            actor=None,
            detail={
                "entries": result.entries,
                "chains": result.chains,
                "breaks": len(result.breaks),
            },
        )
        if result.intact:
            self.stdout.write(
                f"The audit log is intact: {result.entries} entries in {result.chains} chains."
            )
            return
        for found in result.breaks:
            self.stdout.write(f"BROKEN {found}")
        raise CommandError(
            f"{len(result.breaks)} of the audit log's chains are broken; see above. "
            "Keep the database as it is and compare it with the last export."
        )

    def export(self, since: datetime, out: str | None) -> None:
        if out:
            with open(out, "w", encoding="utf-8") as file:
                count = self.write_lines(since, file.write)
        else:
            count = self.write_lines(since, lambda line: self.stdout.write(line, ending=""))
        audit.record(
            "audit.exported",
            audit.Touch("audit_log", "jsonl"),
            actor=None,
            detail={"since": since.isoformat(), "entries": count},
        )
        self.stderr.write(f"Exported {count} audit entries since {since.isoformat()}.")

    @staticmethod
    def write_lines(since: datetime, write) -> int:
        count = 0
        for line in audit_chain.export_lines(since):
            write(line)
            count += 1
        return count
