"""The history import page for admins: upload, progress, outcome, template, export."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from python_calamine import CalamineWorkbook

from refloop.core.models import AuditEntry
from refloop.history.layout import COLUMN_NAMES
from refloop.history.models import ImportRun, RunStatus
from refloop.ops.worker import drain_queue
from refloop.referrals.models import Referral

from .conftest import csv_bytes, declined_row, good_row

pytestmark = pytest.mark.usefixtures("practice_setup")


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)
    return client


def upload(client, rows, *, only_good=False, name="history.csv", content=None):
    data = {"file": SimpleUploadedFile(name, content or csv_bytes(rows), "text/csv")}
    if only_good:
        data["only_good"] = "on"
    return client.post(reverse("history_import"), data)


def upload_and_run(client, rows, **kwargs) -> ImportRun:
    """Upload, then run the queued task as the worker would (the test commits for real, so
    the upload's on-commit enqueue happens)."""
    response = upload(client, rows, **kwargs)
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("history_run", args=[run.pk])
    drain_queue()
    run.refresh_from_db()
    return run


def test_the_page_documents_every_column_and_offers_the_files(admin_client):
    page = admin_client.get(reverse("history_import")).content.decode()
    for name in COLUMN_NAMES:
        assert f"<code>{name}</code>" in page
    for url in ("history_template", "history_export"):
        for fmt in ("csv", "xlsx"):
            assert reverse(url, args=[fmt]) in page
    assert 'name="only_good"' in page and 'type="file"' in page


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_stored_privately_checked_and_imported(admin_client, ada):
    run = upload_and_run(admin_client, [good_row(), declined_row()])
    assert run.status == RunStatus.DONE
    assert (run.total_rows, run.done_rows, run.imported_rows) == (2, 2, 2)
    assert run.uploaded_by == ada and run.finished_at is not None
    assert run.file.name.startswith("history/") and "history.csv" not in run.file.name
    assert run.original_name == "history.csv"
    assert Referral.objects.filter(created_by=ada).count() == 2

    page = admin_client.get(reverse("history_run", args=[run.pk])).content.decode()
    assert "Imported 2 referrals of the 2 rows" in page
    assert AuditEntry.objects.filter(action="history.uploaded", actor=ada).count() == 1
    assert AuditEntry.objects.filter(action="history.imported", actor=ada).count() == 1
    assert AuditEntry.objects.filter(action="history.run_read", actor=ada).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_file_with_bad_rows_lists_them_and_imports_nothing(admin_client):
    rows = [good_row(), good_row(urgency="soon"), good_row(department="cardio")]
    run = upload_and_run(admin_client, rows)
    assert run.status == RunStatus.INVALID and run.imported_rows == 0
    assert [e["line"] for e in run.errors] == [3, 4]
    assert not Referral.objects.exists()
    page = admin_client.get(reverse("history_run", args=[run.pk])).content.decode()
    assert "Nothing was imported" in page
    assert "<td>3</td><td>urgency &#x27;soon&#x27; is not allowed" in page


@pytest.mark.django_db(transaction=True)
def test_only_good_imports_the_good_rows_and_lists_the_rest(admin_client):
    rows = [good_row(), good_row(urgency="soon"), declined_row()]
    run = upload_and_run(admin_client, rows, only_good=True)
    assert run.status == RunStatus.DONE and run.imported_rows == 2
    page = admin_client.get(reverse("history_run", args=[run.pk])).content.decode()
    assert "Imported 2 referrals of the 3 rows" in page and "<td>3</td>" in page


@pytest.mark.django_db(transaction=True)
def test_many_problems_are_paged(admin_client):
    rows = [good_row(urgency="soon")] * 120
    run = upload_and_run(admin_client, rows)
    first = admin_client.get(reverse("history_run", args=[run.pk])).content.decode()
    assert "Page 1 of 2" in first and "<td>101</td>" in first and "<td>102</td>" not in first
    second = admin_client.get(reverse("history_run", args=[run.pk]) + "?page=2").content.decode()
    assert "<td>121</td>" in second


def test_a_file_of_the_wrong_kind_is_refused_on_the_form(admin_client):
    response = upload(admin_client, [], name="history.pdf", content=b"%PDF-1.7")
    assert response.status_code == 422
    assert "upload the history as .csv (UTF-8) or .xlsx" in response.content.decode()
    assert not ImportRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_progress_is_polled_while_the_run_works_then_the_page_reloads(admin_client):
    upload(admin_client, [good_row()])
    run = ImportRun.objects.get()
    page = admin_client.get(reverse("history_run", args=[run.pk])).content.decode()
    progress_url = reverse("history_run_progress", args=[run.pk])
    assert f'hx-get="{progress_url}"' in page and "<progress" in page

    ImportRun.objects.filter(pk=run.pk).update(total_rows=10, done_rows=4)
    partial = admin_client.get(progress_url, headers={"HX-Request": "true"})
    assert "4 of 10 rows (40%)" in partial.content.decode()
    assert 'value="4" max="10"' in partial.content.decode()
    assert "HX-Refresh" not in partial

    drain_queue()
    done = admin_client.get(progress_url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true" and "hx-get" not in done.content.decode()


def test_the_templates_hold_the_header_and_two_example_rows(admin_client):
    csv_file = admin_client.get(reverse("history_template", args=["csv"]))
    lines = b"".join(csv_file.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(COLUMN_NAMES) and len(lines) == 3
    xlsx_file = admin_client.get(reverse("history_template", args=["xlsx"]))
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(xlsx_file.streaming_content)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == list(COLUMN_NAMES) and len(rows) == 3
    assert book.sheet_names == ["History", "Columns"]
    assert admin_client.get(reverse("history_template", args=["pdf"])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_export_downloads_every_inbound_referral_and_is_audited(admin_client, ada):
    upload_and_run(admin_client, [good_row(), declined_row()])
    response = admin_client.get(reverse("history_export", args=["csv"]))
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 3
    xlsx = admin_client.get(reverse("history_export", args=["xlsx"]))
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert len(book.get_sheet_by_index(0).to_python()) == 3
    assert AuditEntry.objects.filter(action="history.exported", actor=ada).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_crash_in_the_worker_marks_the_run_failed_and_imports_nothing(admin_client, monkeypatch):
    from refloop.history import runs

    def crash(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(runs, "import_history", crash)
    run = upload_and_run(admin_client, [good_row()])
    assert run.status == RunStatus.FAILED and run.finished_at is not None
    assert "nothing was imported" in run.errors[0]["message"]
    assert not Referral.objects.exists()
    page = admin_client.get(reverse("history_run", args=[run.pk])).content.decode()
    assert "stopped on an unexpected error" in page


@pytest.mark.parametrize("who", ["cora", "andy", "lia", "cliff"])
def test_only_admins_may_use_the_pages(client, who, request, ada):
    client.force_login(request.getfixturevalue(who))
    run = ImportRun.objects.create(
        original_name="x.csv", file="history/x", uploaded_by=ada, created_at="2025-01-01T00:00Z"
    )
    urls = [
        reverse("history_import"),
        reverse("history_run", args=[run.pk]),
        reverse("history_run_progress", args=[run.pk]),
        reverse("history_template", args=["csv"]),
        reverse("history_export", args=["csv"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert upload(client, [good_row()]).status_code == 403
    assert not AuditEntry.objects.filter(action__startswith="history.").exists()


def test_portal_users_and_strangers_are_kept_out(client, pam):
    url = reverse("history_import")
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(pam)
    assert client.get(url).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_page_follows_the_analytics_facts_after_the_rows_commit(admin_client, monkeypatch):
    from django.db import connection

    from refloop.analytics.models import ReferralFact
    from refloop.history import services

    seen = []
    rebuild = services.rebuild_in_hand

    def watched(referrals, moves, appointments):
        # Outside any transaction: each chunk's facts and the progress before it have
        # committed, so another connection (the page's) sees them.
        assert not connection.in_atomic_block
        progress_url = reverse("history_run_progress", args=[ImportRun.objects.get().pk])
        partial = admin_client.get(progress_url, headers={"HX-Request": "true"})
        seen.append((ReferralFact.objects.count(), partial.content.decode()))
        rebuild(referrals, moves, appointments)

    monkeypatch.setattr(services, "FACTS_CHUNK", 1)
    monkeypatch.setattr(services, "rebuild_in_hand", watched)
    run = upload_and_run(admin_client, [good_row(), declined_row()])

    assert [facts for facts, _ in seen] == [0, 1]
    assert "Imported 2 referrals; updating the analytics: 0 of 2 (0%)" in seen[0][1]
    assert "updating the analytics: 1 of 2 (50%)" in seen[1][1]
    assert 'value="1" max="2"' in seen[1][1] and "hx-get" in seen[1][1]
    assert run.status == RunStatus.DONE
    assert (run.total_rows, run.done_rows, run.imported_rows) == (2, 2, 2)
    assert ReferralFact.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_facts_that_fail_after_the_rows_commit_are_left_to_the_catch_up(admin_client, monkeypatch):
    from refloop.analytics import facts
    from refloop.analytics.models import ReferralFact
    from refloop.history import services

    def broken(referrals, moves, appointments):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "rebuild_in_hand", broken)
    run = upload_and_run(admin_client, [good_row(), declined_row()])
    assert run.status == RunStatus.DONE and run.imported_rows == 2
    assert Referral.objects.count() == 2 and not ReferralFact.objects.exists()

    assert facts.catch_up() == 2
    assert ReferralFact.objects.count() == 2


def test_a_run_stopped_while_building_facts_is_not_imported_twice(admin_client):
    from refloop.history.runs import process_run

    upload(admin_client, [good_row()])
    run = ImportRun.objects.get()
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.ANALYZING, total_rows=1, imported_rows=1, done_rows=0
    )
    assert process_run(run.pk) == RunStatus.DONE
    run.refresh_from_db()
    assert (run.done_rows, run.imported_rows) == (1, 1) and run.finished_at is not None
    assert not Referral.objects.exists()
