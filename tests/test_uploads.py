"""Every upload path goes through one check (refloop.core.uploads): the real decoder, the
pixel and page limits, no web page code, nothing after a file's end, and a ClamAV daemon
when one is configured (here a fake one on a local socket that speaks INSTREAM).

Upload paths: referral attachments by API and on the referral page, the portal's new
referral and its answer to a request for records, and document intake by browser, by API
and from the watched folder. (The public referral form takes no files.)
"""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from refloop.core import clamd, uploads
from refloop.core.errors import UnsupportedMediaType
from refloop.intake.models import DocumentStatus, IntakeDocument
from refloop.intake.services import ingest
from refloop.intake.watch import Watcher
from refloop.referrals import services, transitions
from refloop.referrals.models import Attachment, Referral
from tests.fake_clamd import VERSION, FakeClamd, unreachable_address
from tests.intake.helpers import text_pdf
from tests.portal.test_portal_pages import form_data
from tests.samples import CLEAN, EICAR, HOSTILE, pdf, png_bomb, png_with_eicar_inside, tiff

HOSTILE_CASES = pytest.mark.parametrize("name", list(HOSTILE))
STORED_NAME = re.compile(r"^(attachments|intake)/\d{4}/\d{2}/[0-9a-f]{32}$")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def api_upload(api, user, referral, content, name="letter.pdf"):
    return api(user).upload(
        f"/api/v1/referrals/{referral.pk}/attachments",
        {"file": SimpleUploadedFile(name, content)},
        {"kind": "referral_letter"},
    )


def page_upload(user, referral, content, name="letter.pdf"):
    return signed_in(user).post(
        f"/referrals/{referral.pk}/attachments/new",
        {
            "file": SimpleUploadedFile(name, content),
            "kind": "referral_letter",
            "expected_version": Referral.objects.get(pk=referral.pk).version,
        },
    )


def portal_submit(pam, provider_a, spine, content, name="letter.pdf"):
    documents = [SimpleUploadedFile("first.pdf", pdf()), SimpleUploadedFile(name, content)]
    return signed_in(pam).post(
        "/portal/referrals/new/", {**form_data(provider_a, spine), "documents": documents}
    )


def intake_api_upload(api, user, content, name="fax.pdf"):
    return api(user).upload("/api/v1/intake/documents", {"file": SimpleUploadedFile(name, content)})


def watched_folder_take(tmp_path, content, name="fax.pdf") -> list[str]:
    lines: list[str] = []
    path = tmp_path / "inbox" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    Watcher(path.parent, report=lines.append).take(path)
    return lines


# ---- the check itself -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CLEAN))
def test_each_accepted_kind_passes_with_its_type_and_pages(name, settings):
    content, content_type = CLEAN[name]
    checked = uploads.check(content)
    assert checked.content_type == content_type
    assert checked.pages == (2 if name == "tiff" else 1)
    assert checked.scan_status == uploads.ScanStatus.NOT_SCANNED and checked.scanned_by == ""
    assert checked.read() == content


@HOSTILE_CASES
def test_each_hostile_file_is_refused_saying_what_is_wrong(name):
    content, status, words = HOSTILE[name]
    with pytest.raises((uploads.Refused, UnsupportedMediaType)) as refused:
        uploads.check(content)
    assert refused.value.status == status
    assert words in refused.value.message


def test_a_decompression_bomb_is_refused_from_its_header_before_any_pixel_is_decoded():
    # Its pixel data stops after 16 rows: decoding it would end in "damaged", not this.
    with pytest.raises(uploads.Refused, match="more than 50 million pixels"):
        uploads.check(png_bomb(8000, 8000))


def test_the_pixel_limit_is_a_setting(settings):
    settings.UPLOAD_MAX_PIXELS = 1000
    with pytest.raises(uploads.Refused, match="more than 0 million pixels"):
        uploads.check(CLEAN["png"][0])


def test_a_tiff_with_more_pages_than_the_setting_is_refused(settings):
    settings.UPLOAD_MAX_PAGES = 2
    assert uploads.check(tiff(2)).pages == 2
    with pytest.raises(uploads.Refused, match="has 3 pages; at most 2"):
        uploads.check(tiff(3))


def test_a_password_protected_pdf_is_refused():
    with pytest.raises(uploads.Refused, match="password-protected"):
        uploads.check(text_pdf(["Referral"], password="secret"))


# ---- the virus scanner ------------------------------------------------------------------


def test_a_clean_file_is_streamed_to_clamd_and_recorded_as_scanned(fake_clamd):
    checked = uploads.check(pdf())
    assert fake_clamd.scanned == [pdf()]
    assert (checked.scan_status, checked.scanned_by) == (uploads.ScanStatus.CLEAN, VERSION)


def test_clamd_over_tcp_is_spoken_to_the_same_way(settings):
    with FakeClamd(tcp=True) as tcp:
        settings.CLAMD_SOCKET = tcp.address
        assert uploads.check(pdf()).scan_status == uploads.ScanStatus.CLEAN
        assert tcp.scanned == [pdf()]


def test_a_file_larger_than_one_chunk_arrives_whole(fake_clamd):
    big = EICAR[:8] + b"\x00" * (3 * clamd.CHUNK_BYTES) + b"end"
    assert clamd.scan(big, address=fake_clamd.address, timeout=5) is None
    assert fake_clamd.scanned == [big]


def test_what_clamd_flags_is_refused_naming_the_signature(fake_clamd):
    with pytest.raises(uploads.Infected) as refused:
        uploads.check(png_with_eicar_inside())
    assert refused.value.status == 422
    assert "found Eicar-Signature" in refused.value.message
    assert refused.value.scanner == VERSION


@pytest.mark.parametrize("tcp", [False, True], ids=["unix", "tcp"])
def test_an_unreachable_clamd_refuses_the_upload_rather_than_storing_it_unscanned(
    settings, tcp, refused_port
):
    settings.CLAMD_SOCKET = f"127.0.0.1:{refused_port}" if tcp else unreachable_address()
    settings.CLAMD_TIMEOUT_SECONDS = 5
    with pytest.raises(uploads.ScannerUnavailable) as refused:
        uploads.check(pdf())
    assert refused.value.status == 503
    assert "try again" in refused.value.message


# ---- every upload path refuses every hostile file, leaving nothing behind ---------------


@HOSTILE_CASES
def test_the_attachment_api_refuses_each_hostile_file(name, api, cora, referral, settings):
    content, status, words = HOSTILE[name]
    answer = api_upload(api, cora, referral, content)
    assert answer.status_code == status
    assert words in answer.json()["detail"]
    assert not Attachment.objects.exists() and not stored_files(settings)


@HOSTILE_CASES
def test_the_referral_page_refuses_each_hostile_file_beside_the_field(
    name, cora, referral, settings
):
    content, _, words = HOSTILE[name]
    answer = page_upload(cora, referral, content)
    page = answer.content.decode()
    assert answer.status_code == 422
    assert 'id="attachment_upload_file_error"' in page and words in page
    assert not Attachment.objects.exists() and not stored_files(settings)


@HOSTILE_CASES
def test_the_portal_refuses_each_hostile_file_and_sends_nothing(
    name, pam, provider_a, spine, settings
):
    content, _, words = HOSTILE[name]
    answer = portal_submit(pam, provider_a, spine, content, name="Quillfeather MRI.pdf")
    page = answer.content.decode()
    assert answer.status_code == 422
    assert 'id="id_documents_error"' in page and "File 2 of 2: " in page and words in page
    assert "Quillfeather MRI" not in page  # the file is numbered, never named
    assert not Referral.objects.exists() and not stored_files(settings)


@pytest.fixture
def pending(referral, cora):
    transitions.request_info(referral, acting_user=cora, missing_info="The lumbar MRI report")
    return Referral.objects.get(pk=referral.pk)


@HOSTILE_CASES
def test_the_portal_answer_refuses_each_hostile_file(name, pam, pending, settings):
    content, _, words = HOSTILE[name]
    answer = signed_in(pam).post(
        f"/portal/referrals/{pending.pk}/answer",
        {
            "expected_version": pending.version,
            "documents": SimpleUploadedFile("mri.pdf", content),
            "document_kind": "imaging",
        },
    )
    assert answer.status_code == 422 and words in answer.content.decode()
    assert Referral.objects.get(pk=pending.pk).state == pending.state
    assert not Attachment.objects.exists() and not stored_files(settings)


def assert_quarantined_unreadable(document: IntakeDocument, words: str) -> None:
    assert document.status == DocumentStatus.QUARANTINED
    assert words in document.status_reason
    # Kept to be looked at, but never as a verified type: it is only ever downloaded.
    assert document.content_type == ""
    assert not document.pages.exists()


@HOSTILE_CASES
def test_intake_by_browser_quarantines_each_hostile_file_with_the_reason(name, cora):
    content, _, words = HOSTILE[name]
    answer = signed_in(cora).post(
        "/intake/documents/", {"files": [SimpleUploadedFile("fax.pdf", content)]}
    )
    assert answer.status_code == 200
    assert_quarantined_unreadable(IntakeDocument.objects.get(), words)


@HOSTILE_CASES
def test_intake_by_api_quarantines_each_hostile_file_with_the_reason(name, api, cora):
    content, _, words = HOSTILE[name]
    answer = intake_api_upload(api, cora, content)
    assert answer.status_code == 201
    assert answer.json()["status"] == "quarantined" and words in answer.json()["status_reason"]
    assert_quarantined_unreadable(IntakeDocument.objects.get(), words)


@HOSTILE_CASES
@pytest.mark.django_db
def test_the_watched_folder_quarantines_each_hostile_file_with_the_reason(name, tmp_path):
    content, _, words = HOSTILE[name]
    lines = watched_folder_take(tmp_path, content)
    assert_quarantined_unreadable(IntakeDocument.objects.get(), words)
    assert "quarantined" in lines[0]


def test_a_quarantined_file_is_only_ever_downloaded_never_shown(client, cora, settings):
    content = HOSTILE["png then script after IEND"][0]
    document = ingest(content=content, filename="x.png", source="upload")
    client.force_login(cora)
    answer = client.get(f"/intake/documents/{document.pk}/file")
    assert answer["Content-Type"] == "application/octet-stream"
    assert answer["Content-Disposition"].startswith("attachment")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == "sandbox"


# ---- EICAR through the fake clamd, on every path ----------------------------------------


def test_the_attachment_api_refuses_what_clamd_flags(api, cora, referral, fake_clamd, settings):
    answer = api_upload(api, cora, referral, png_with_eicar_inside(), name="scan.png")
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "The virus scanner found Eicar-Signature in this file; it was not stored.",
        "field": "file",
    }
    assert EICAR in fake_clamd.scanned[0]
    assert not Attachment.objects.exists() and not stored_files(settings)


def test_the_referral_page_refuses_what_clamd_flags(cora, referral, fake_clamd, settings):
    answer = page_upload(cora, referral, png_with_eicar_inside(), name="scan.png")
    assert answer.status_code == 422 and "found Eicar-Signature" in answer.content.decode()
    assert not Attachment.objects.exists() and not stored_files(settings)


def test_the_portal_refuses_what_clamd_flags(pam, provider_a, spine, fake_clamd, settings):
    answer = portal_submit(pam, provider_a, spine, png_with_eicar_inside())
    assert answer.status_code == 422 and "found Eicar-Signature" in answer.content.decode()
    assert not Referral.objects.exists() and not stored_files(settings)


@pytest.mark.parametrize("path", ["browser", "api", "watched folder"])
def test_intake_quarantines_what_clamd_flags_and_keeps_none_of_it(
    path, api, cora, fake_clamd, settings, tmp_path
):
    content = png_with_eicar_inside()
    if path == "browser":
        signed_in(cora).post("/intake/documents/", {"files": [SimpleUploadedFile("f", content)]})
    elif path == "api":
        assert intake_api_upload(api, cora, content).status_code == 201
    else:
        watched_folder_take(tmp_path, content)
    document = IntakeDocument.objects.get()
    assert document.status == DocumentStatus.QUARANTINED
    assert "found Eicar-Signature" in document.status_reason
    assert (document.scan_status, document.scanned_by) == ("infected", VERSION)
    assert not document.file and not stored_files(settings)
    page = signed_in(cora).get(f"/intake/documents/{document.pk}/").content.decode()
    assert "malware found; the file was not kept" in page
    assert f"/intake/documents/{document.pk}/file" not in page


# ---- a scanner that does not answer: refused, nothing lost ------------------------------


@pytest.fixture
def clamd_down(settings):
    settings.CLAMD_SOCKET = unreachable_address()


def test_the_attachment_api_answers_503_while_clamd_is_down(
    api, cora, referral, clamd_down, settings
):
    answer = api_upload(api, cora, referral, pdf())
    assert answer.status_code == 503
    assert "virus scanner is not answering" in answer.json()["detail"]
    assert not Attachment.objects.exists() and not stored_files(settings)


def test_the_referral_page_says_to_try_again_while_clamd_is_down(cora, referral, clamd_down):
    answer = page_upload(cora, referral, pdf())
    assert answer.status_code == 422 and "try again in a few minutes" in answer.content.decode()
    assert not Attachment.objects.exists()


def test_intake_answers_503_and_stores_nothing_while_clamd_is_down(api, cora, clamd_down, settings):
    assert intake_api_upload(api, cora, pdf()).status_code == 503
    assert not IntakeDocument.objects.exists() and not stored_files(settings)


@pytest.mark.django_db
def test_the_watched_folder_leaves_the_file_in_place_while_clamd_is_down(tmp_path, clamd_down):
    lines = watched_folder_take(tmp_path, pdf())
    assert (tmp_path / "inbox" / "fax.pdf").read_bytes() == pdf()
    assert "virus scanner is not answering" in lines[0] and "Left in place" in lines[0]
    assert not IntakeDocument.objects.exists()


# ---- what was scanned says so; what was not says "not scanned" --------------------------


def test_a_scanned_attachment_records_the_scanner_and_its_page_says_so(
    api, cora, referral, fake_clamd
):
    body = api_upload(api, cora, referral, pdf()).json()
    assert (body["scan_status"], body["scanned_by"]) == ("clean", VERSION)
    page = signed_in(cora).get(f"/referrals/{referral.pk}/").content.decode()
    assert 'data-scan="clean"' in page and "virus-scanned" in page


def test_without_a_scanner_the_document_says_not_scanned_on_each_page(api, cora, pam, referral):
    body = api_upload(api, cora, referral, pdf()).json()
    assert (body["scan_status"], body["scanned_by"]) == ("not_scanned", "")
    detail = signed_in(cora).get(f"/referrals/{referral.pk}/").content.decode()
    assert 'data-scan="not_scanned"' in detail and "not scanned" in detail
    portal = signed_in(pam).get(f"/portal/referrals/{referral.pk}/").content.decode()
    assert 'data-scan="not_scanned"' in portal and "not scanned" in portal


def test_an_intake_document_says_whether_it_was_scanned(cora, settings):
    unscanned = ingest(content=pdf(), filename="a.pdf", source="upload")
    page = signed_in(cora).get(f"/intake/documents/{unscanned.pk}/").content.decode()
    assert 'data-scan="not_scanned">not scanned' in page
    with FakeClamd() as fake:
        settings.CLAMD_SOCKET = fake.address
        scanned = ingest(content=CLEAN["png"][0], filename="b.png", source="upload")
    assert (scanned.scan_status, scanned.scanned_by) == ("clean", VERSION)
    page = signed_in(cora).get(f"/intake/documents/{scanned.pk}/").content.decode()
    assert 'data-scan="clean">clean' in page and VERSION in page


# ---- serving ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, disposition", [("pdf", "inline"), ("png", "inline"), ("tiff", "attachment")]
)
def test_a_document_is_served_as_its_verified_type_never_sniffed_and_sandboxed(
    kind, disposition, cora, referral
):
    content, content_type = CLEAN[kind]
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=SimpleUploadedFile("x", content), filename="x"
    )
    answer = signed_in(cora).get(f"/referrals/{referral.pk}/attachments/{attachment.pk}")
    assert answer["Content-Type"] == content_type
    assert answer["Content-Disposition"].startswith(disposition)
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == "sandbox"
    assert answer["Cache-Control"] == "no-store"


def test_a_stored_document_of_no_verified_type_is_only_downloaded(cora, referral):
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=SimpleUploadedFile("x", pdf()), filename="x"
    )
    Attachment.objects.filter(pk=attachment.pk).update(content_type="text/html")
    answer = signed_in(cora).get(f"/referrals/{referral.pk}/attachments/{attachment.pk}")
    assert answer["Content-Type"] == "application/octet-stream"
    assert answer["Content-Disposition"].startswith("attachment")
    assert answer["Content-Disposition"].endswith('.bin"')


def test_the_api_download_is_sandboxed_unsniffed_and_uncached(api, cora, referral):
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=SimpleUploadedFile("x", pdf()), filename="x"
    )
    answer = api(cora).get(f"/api/v1/referrals/{referral.pk}/attachments/{attachment.pk}/content")
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"].startswith("attachment")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == "sandbox"
    assert answer["Cache-Control"] == "no-store"


# ---- stored names -----------------------------------------------------------------------


HOSTILE_NAMES = ["../../../etc/passwd", "..\\..\\boot.ini", "letter\x00.pdf", "Jane Doe.pdf"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_stored_names_never_carry_the_uploaded_name(name, api, cora, referral, settings):
    assert api_upload(api, cora, referral, pdf(), name=name).status_code == 201
    document = ingest(content=pdf(), filename=name, source="api")
    for stored in (Attachment.objects.get().file.name, document.file.name):
        assert STORED_NAME.match(stored), stored
    media = Path(settings.MEDIA_ROOT).resolve()
    assert all(p.resolve().is_relative_to(media) for p in stored_files(settings))
    for shown in (Attachment.objects.get().original_name, document.original_name):
        assert "\x00" not in shown and "/" not in shown and "\\" not in shown
