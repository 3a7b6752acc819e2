"""`refloop import history FILE` and `refloop export history FILE`."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from refloop.analytics.models import ReferralFact
from refloop.core.models import AuditEntry
from refloop.referrals.models import Referral

from .conftest import csv_bytes, declined_row, good_row

pytestmark = pytest.mark.usefixtures("practice_setup")


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def history_file(tmp_path):
    def write(rows, name="history.csv"):
        path = tmp_path / name
        path.write_bytes(csv_bytes(rows))
        return path

    return write


def test_import_history_imports_and_summarizes(history_file):
    path = history_file([good_row(), declined_row()])
    out, err = run("import", "history", str(path))
    assert "Imported 2 referrals (2 new patients, 1 new practice, 1 new provider)." in out
    assert "(100%)" in err
    assert "Analytics updated for 2 of 2 referrals (100%)" in err
    assert Referral.objects.count() == 2
    assert ReferralFact.objects.count() == 2
    entry = AuditEntry.objects.get(action="history.imported")
    assert entry.channel == "cli" and entry.actor is None


def test_import_with_a_bad_row_lists_it_and_imports_nothing(history_file):
    path = history_file([good_row(), good_row(urgency="soon"), declined_row(end_reason="")])
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported") as refused:
        call_command("import", "history", str(path), stdout=out, stderr=io.StringIO())
    assert refused.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("line 3: urgency 'soon' is not allowed")
    assert lines[1].startswith("line 4: end_reason is empty")
    assert not Referral.objects.exists()


def test_only_good_imports_the_rest_and_still_lists_the_bad_ones(history_file):
    path = history_file([good_row(), good_row(urgency="soon"), declined_row()])
    out, _ = run("import", "history", str(path), "--only-good")
    assert out.startswith("line 3: urgency 'soon'")
    assert "Imported 2 referrals" in out and "1 bad row skipped" in out
    assert Referral.objects.count() == 2


def test_dry_run_writes_nothing(history_file):
    path = history_file([good_row(), declined_row()])
    out, _ = run("import", "history", str(path), "--dry-run")
    assert "2 of 2 rows are ready to import" in out and "Nothing was written" in out
    assert not Referral.objects.exists()
    bad = history_file([good_row(urgency="soon")], "bad.csv")
    with pytest.raises(CommandError) as refused:
        run("import", "history", str(bad), "--dry-run")
    assert refused.value.returncode == 1


def test_import_of_a_missing_file_or_wrong_kind(tmp_path):
    with pytest.raises(CommandError, match="is not a file"):
        run("import", "history", str(tmp_path / "nope.csv"))
    pdf = tmp_path / "history.pdf"
    pdf.write_bytes(b"%PDF")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import", "history", str(pdf), stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("file: This is a .pdf file")


def test_importing_the_same_file_twice_reports_duplicates(history_file):
    path = history_file([good_row(referral_number="H-1"), declined_row(referral_number="H-2")])
    run("import", "history", str(path))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", "history", str(path), stdout=out, stderr=io.StringIO())
    assert out.getvalue().count("already imported") == 2
    assert Referral.objects.count() == 2


@pytest.mark.parametrize("name", ["all.csv", "all.xlsx"])
def test_export_history_round_trips_through_the_command_line(history_file, tmp_path, name):
    run("import", "history", str(history_file([good_row(), declined_row()])))
    target = tmp_path / name
    out, _ = run("export", "history", str(target))
    assert f"Exported 2 referrals to {target}." in out
    assert target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(CommandError, match="Nothing was imported"):
        run("import", "history", str(target))  # every number is already there
    entry = AuditEntry.objects.get(action="history.exported")
    assert entry.detail["rows"] == 2 and entry.channel == "cli"


def test_export_needs_a_known_format(tmp_path):
    with pytest.raises(CommandError, match="name the file .csv or .xlsx"):
        run("export", "history", str(tmp_path / "all.txt"))
    out, _ = run("export", "history", str(tmp_path / "all.txt"), "--format", "csv")
    assert "Exported 0 referrals" in out
