"""`refloop directory import-nppes FILE [--state IL] [--taxonomy CODE…] [--city …]`: providers
and their practice locations from the national NPI registry, then every practice's tier, so
the practices it brings in that have never referred show up as prospects."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from refloop.core import audit, context
from refloop.network import nppes
from refloop.outreach import tiers
from refloop.outreach.models import Relationship, Tier


class Command(BaseCommand):
    help = "The referral partner directory. Actions: import-nppes (the national NPI registry)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        imported = actions.add_parser(
            "import-nppes",
            help="Add or update providers and practices from CMS's NPPES dissemination file "
            "(npidata_pfile_…csv), never overwriting what staff edited.",
        )
        imported.add_argument(
            "file",
            type=Path,
            metavar="FILE",
            help="npidata_pfile_…csv, or the NPPES_Data_Dissemination_….zip it comes in.",
        )
        imported.add_argument(
            "--state",
            action="append",
            default=[],
            metavar="XX",
            help="Only practice locations in this state (repeat for several).",
        )
        imported.add_argument(
            "--taxonomy",
            nargs="+",
            action="extend",
            default=[],
            metavar="CODE",
            help="Only providers with one of these taxonomy codes, e.g. 207Q00000X.",
        )
        imported.add_argument(
            "--city",
            action="append",
            default=[],
            metavar="NAME",
            help="Only practice locations in this city (repeat for several).",
        )

    def handle(self, *, action: str, **options):
        with context.using(context.RequestContext(channel="cli")):
            self.import_nppes(options["file"], options)

    def import_nppes(self, path: Path, options) -> None:
        if not path.is_file():
            raise CommandError(f"{path} is not a file; check the path.")
        filters = nppes.Filters.of(options["state"], options["taxonomy"], options["city"])
        self.stderr.write(f"Reading {path.name}…")

        def progress(result: nppes.Result) -> None:
            self.stderr.write(f"  {result.rows_read:,} rows read, {result.rows_matched:,} matched")

        try:
            result = nppes.import_file(
                path, filters, progress=progress, on_problem=self.stdout.write
            )
        except nppes.NotAnNppesFile as error:
            raise CommandError(str(error), returncode=1) from None
        self.stderr.write("Updating tiers…")
        tiers.refresh_tiers()
        prospects = Relationship.objects.filter(
            practice__nppes__isnull=False, tier_override="", computed_tier=Tier.PROSPECT
        ).count()
        audit.record(
            "directory.nppes_imported",
            audit.Touch("directory", "nppes"),
            actor=None,
            detail={
                "file": path.name,
                "rows_read": result.rows_read,
                "providers_added": result.providers_added,
                "providers_updated": result.providers_updated,
                "practices_added": result.practices_added,
            },
        )
        self.stdout.write(summary(result, prospects))


def summary(result: nppes.Result, prospects: int) -> str:
    skipped = (
        f"{result.providers_skipped:,} skipped ({result.deactivated:,} deactivated, "
        f"{result.malformed:,} with problems{_listed(result.malformed)})"
    )
    kept = (
        f" Kept {_count(result.staff_values_kept, 'value')} staff had edited."
        if result.staff_values_kept
        else ""
    )
    return (
        f"Read {_count(result.rows_read, 'row')}, {result.rows_matched:,} matching the filters. "
        f"Providers: {result.providers_added:,} added, {result.providers_updated:,} updated, "
        f"{result.providers_unchanged:,} unchanged, {skipped}. "
        f"Practices: {result.practices_added:,} added, {result.practices_updated:,} updated.{kept} "
        f"{_count(prospects, 'practice')} from NPPES {'is a' if prospects == 1 else 'are'} "
        f"prospect{'' if prospects == 1 else 's'}."
    )


def _listed(problems: int) -> str:
    if not problems:
        return ""
    if problems > nppes.PROBLEMS_LISTED:
        return f", the first {nppes.PROBLEMS_LISTED:,} listed above"
    return " listed above"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
