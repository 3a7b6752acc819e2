"""The watched folder: each finished file ingested exactly once, then moved aside."""

import io

import pytest
from django.core.management import CommandError, call_command

from refloop.intake.models import DocumentSource, DocumentStatus, IntakeDocument
from refloop.intake.watch import Watcher, watch

from .helpers import referral_pdf

PATIENT_FILE_NAME = "Quillfeather_Zephyrine.pdf"


def _run_once(directory, lines):
    return watch(directory, once=True, interval=0, report=lines.append, sleep=lambda s: None)


@pytest.mark.django_db
def test_finished_files_are_ingested_once_and_moved_to_processed(tmp_path):
    (tmp_path / PATIENT_FILE_NAME).write_bytes(referral_pdf())
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04 not a fax")
    (tmp_path / "incoming.pdf.part").write_bytes(b"%PDF-half")
    (tmp_path / ".hidden.pdf").write_bytes(b"%PDF-hidden")
    lines: list[str] = []

    assert _run_once(tmp_path, lines) == 2
    documents = IntakeDocument.objects.order_by("pk")
    assert [d.source for d in documents] == [DocumentSource.WATCHED_FOLDER] * 2
    assert sorted(d.status for d in documents) == [
        DocumentStatus.QUARANTINED,
        DocumentStatus.QUEUED,
    ]
    processed = sorted(p.name for p in (tmp_path / "processed").iterdir())
    assert len(processed) == 2 and not any("Quillfeather" in name for name in processed)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        ".hidden.pdf",
        "incoming.pdf.part",
    ]
    assert len(lines) == 2 and not any("Quillfeather" in line for line in lines)

    # A second run finds nothing new: nothing is ingested twice.
    assert _run_once(tmp_path, lines) == 0
    assert IntakeDocument.objects.count() == 2


@pytest.mark.django_db
def test_a_file_still_being_written_waits_for_the_next_look(tmp_path):
    growing = tmp_path / "fax.tif"
    growing.write_bytes(b"II*\x00" + b"0" * 10)
    watcher = Watcher(tmp_path, report=lambda line: None)
    assert watcher.poll() == 0  # first sight
    growing.write_bytes(b"II*\x00" + b"0" * 500)
    assert watcher.poll() == 0  # grew meanwhile
    assert watcher.poll() == 1  # held still for one interval
    assert IntakeDocument.objects.count() == 1


@pytest.mark.django_db
def test_a_file_that_cannot_be_stored_moves_to_failed_and_is_reported(tmp_path, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    (tmp_path / "huge.pdf").write_bytes(b"%PDF-" + b"0" * 500)
    lines: list[str] = []
    assert _run_once(tmp_path, lines) == 1
    assert IntakeDocument.objects.count() == 0
    assert len(list((tmp_path / "failed").iterdir())) == 1
    assert "not stored" in lines[0] and "failed/" in lines[0]


@pytest.mark.django_db
def test_the_command_watches_once_and_the_process_command_reads_the_queue(tmp_path):
    (tmp_path / "fax.pdf").write_bytes(referral_pdf())
    out = io.StringIO()
    call_command("intake", "watch", str(tmp_path), "--once", "--interval", "0.01", stdout=out)
    assert "queued" in out.getvalue()
    out = io.StringIO()
    call_command("intake", "process", stdout=out, stderr=io.StringIO())
    assert IntakeDocument.objects.get().status == DocumentStatus.REVIEW
    assert "review, 1 page(s)" in out.getvalue()


@pytest.mark.parametrize("action", [["watch", "."], ["mail"]])
def test_an_interval_of_no_time_is_refused_before_anything_is_read(action):
    with pytest.raises(CommandError, match="--interval must be more than 0 seconds"):
        call_command("intake", *action, "--interval", "0")
