"""`refloop import history FILE [--map MAPFILE] [--only-good] [--dry-run]`: years of
referrals from a spreadsheet. A subcommand per kind of data, so other imports can join
later."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from refloop.core import context
from refloop.history import mapping
from refloop.history.services import import_history
from refloop.history.validation import Checked, check_file


class Command(BaseCommand):
    help = "Import data from a file. Kinds: history (one row per inbound referral)."

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        history = kinds.add_parser(
            "history",
            help="Inbound referrals from a .csv (UTF-8) or .xlsx in the history layout, one "
            "row per referral or an event log (see /analytics/history/ for the columns and "
            "templates).",
        )
        history.add_argument("file", type=Path, metavar="FILE")
        history.add_argument(
            "--only-good",
            action="store_true",
            help="Import the rows without problems and list the others (default: a file "
            "with any bad row imports nothing).",
        )
        history.add_argument(
            "--dry-run", action="store_true", help="Check the file only; write nothing."
        )
        history.add_argument(
            "--map",
            type=Path,
            metavar="MAPFILE",
            help="The practice's own wording mapped to refloop's values: a CSV with the "
            'columns kind,original,value, or JSON {"kind": {"original": "value"}}. Kinds: '
            f"{', '.join(mapping.KINDS)}. Remembered for later files once imported.",
        )

    def handle(self, *, kind: str, **options):
        with context.using(context.RequestContext(channel="cli")):
            self.history(options["file"], options["only_good"], options["dry_run"], options["map"])

    def history(self, path: Path, only_good: bool, dry_run: bool, map_path: Path | None) -> None:
        if not path.is_file():
            raise CommandError(f"{path} is not a file; check the path.")
        entries = self.mapping_file(map_path) if map_path is not None else {}
        mapped = {key: value for key, (_, value) in entries.items()}
        self.stderr.write(f"Checking {path.name}…")
        checked = check_file(
            path.read_bytes(), path.name, progress=Percent(self, "Checked"), mappings=mapped
        )
        for error in checked.errors:
            where = f"line {error.line}" if error.line is not None else "file"
            self.stdout.write(f"{where}: {error.message}")
        if checked.unknown_values:
            self.stdout.write("Values refloop does not know, with the rows using each:")
            for unknown in checked.unknown_values:
                self.stdout.write(
                    f"  {unknown.kind} '{unknown.original}': {_count(unknown.count, 'row')} "
                    f"(map to one of: {', '.join(mapping.allowed_values(unknown.kind))})"
                )
            self.stdout.write("A mapping file for them, each value to fill in:")
            self.stdout.write("kind,original,value")
            for unknown in checked.unknown_values:
                self.stdout.write(f"{unknown.kind},{_csv_cell(unknown.original)},")
        good = len(checked.rows)
        if dry_run:
            self.stdout.write(
                f"Dry run: {good:,} of {checked.total_rows:,} rows are ready to import, "
                f"{checked.bad_rows:,} have problems. Nothing was written."
            )
            if checked.errors:
                raise CommandError("The file has problems (listed above).", returncode=1)
            return
        if checked.file_problem or (checked.errors and not only_good):
            raise CommandError(_refusal(checked), returncode=1)
        self.stderr.write(f"Importing {_count(good, 'row')}, then updating the analytics…")
        with transaction.atomic():
            mapping.remember(entries)
            result = import_history(
                checked,
                only_good=only_good,
                progress=Percent(self, "Imported"),
                analytics_progress=Percent(self, "Analytics updated for", unit="referrals"),
            )
        skipped = (
            f"; {_count(checked.bad_rows, 'bad row')} skipped (listed above)"
            if checked.errors
            else ""
        )
        self.stdout.write(
            f"Imported {_count(result.imported, 'referral')} ("
            f"{_count(result.patients_created, 'new patient')}, "
            f"{_count(result.practices_created, 'new practice')}, "
            f"{_count(result.providers_created, 'new provider')}){skipped}."
        )

    def mapping_file(self, map_path: Path) -> dict:
        if not map_path.is_file():
            raise CommandError(f"{map_path} is not a file; check the mapping file's path.")
        try:
            return mapping.read_mapping_file(map_path.read_bytes(), map_path.name)
        except mapping.MappingFileProblem as problem:
            raise CommandError(f"{map_path.name}: {problem.message}", returncode=1) from None


def _csv_cell(text: str) -> str:
    if any(mark in text for mark in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _refusal(checked: Checked) -> str:
    if checked.file_problem:
        return "Nothing was imported: fix the file as described above, then import it again."
    mapped = (
        " (values to map: give a mapping file with --map FILE)" if checked.unknown_values else ""
    )
    return (
        f"Nothing was imported: {checked.bad_rows:,} of {checked.total_rows:,} rows have "
        f"problems (listed above){mapped}. Fix them and import again, or add --only-good to "
        "import the other rows."
    )


class Percent:
    """Prints progress at each tenth of the rows, on one line per step."""

    def __init__(self, command: BaseCommand, verb: str, *, unit: str = "rows"):
        self.command, self.verb, self.unit, self.shown = command, verb, unit, -1

    def __call__(self, done: int, total: int) -> None:
        tenth = done * 10 // total if total else 10
        if tenth > self.shown:
            self.shown = tenth
            self.command.stderr.write(
                f"  {self.verb} {done:,} of {total:,} {self.unit} ({tenth * 10}%)"
            )
