"""The intake API: upload a packet, follow its reading; only referral creators may."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from refloop.core.models import AuditEntry
from refloop.intake.models import DocumentStatus, IntakeDocument
from refloop.intake.pipeline import process_document

from .helpers import referral_pdf

URL = "/api/v1/intake/documents"


def _file(content: bytes, name: str = "fax.pdf") -> dict:
    return {"file": SimpleUploadedFile(name, content, content_type="application/octet-stream")}


@pytest.mark.django_db
def test_coordinator_uploads_a_packet_and_reads_what_was_found(cora, api):
    client = api(cora)
    response = client.upload(URL, _file(referral_pdf()))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "status": "queued",
        "status_reason": "",
        "duplicate_of": None,
        "scan_status": "not_scanned",
        "scanned_by": "",
    }
    document = IntakeDocument.objects.get(pk=body["id"])
    assert document.source == "api" and document.uploaded_by == cora

    process_document(document.pk)
    detail = client.get(f"{URL}/{document.pk}")
    assert detail.status_code == 200
    data = detail.json()
    assert data["status"] == "review" and data["page_count"] == data["pages_done"] == 1
    (candidate,) = data["candidates"]
    last_name = candidate["fields"]["patient_last_name"]
    assert last_name == {
        "value": "Quillfeather",
        "confidence": 1.0,
        "review": False,
        "page": 1,
        "box": last_name["box"],
    }
    # Where on the page it was read, as fractions of the page: numbers, never text.
    x0, y0, x1, y1 = last_name["box"]
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    assert candidate["fields"]["icd10_codes"]["value"] == "M54.16, M51.16"
    assert candidate["fields"]["urgency"]["value"] == "urgent"
    read = AuditEntry.objects.get(action="intake.document_read")
    assert read.actor == cora and read.object_id == str(document.pk)


@pytest.mark.django_db
def test_the_same_upload_twice_answers_with_the_first_document(cora, api):
    client = api(cora)
    content = referral_pdf()
    first = client.upload(URL, _file(content)).json()
    second = client.upload(URL, _file(content)).json()
    assert second["status"] == "duplicate" and second["duplicate_of"] == first["id"]


@pytest.mark.django_db
def test_an_unsupported_upload_is_kept_in_quarantine_with_the_reason(cora, api):
    response = api(cora).upload(URL, _file(b"just some text", "fax.pdf"))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "quarantined"
    assert body["status_reason"].startswith("This file is plain text (judged by its content")


@pytest.mark.django_db
def test_an_oversize_upload_is_refused(cora, api, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = api(cora).upload(URL, _file(b"%PDF-" + b"0" * 3000))
    assert response.status_code == 413
    assert IntakeDocument.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["pam", "lia", "cliff"])
def test_roles_that_do_not_create_referrals_may_neither_upload_nor_read(who, request, api, cora):
    user = request.getfixturevalue(who)
    client = api(user)
    assert client.upload(URL, _file(referral_pdf())).status_code == 403
    document = process_document(api(cora).upload(URL, _file(referral_pdf())).json()["id"])
    assert document.status == DocumentStatus.REVIEW
    response = client.get(f"{URL}/{document.pk}")
    assert response.status_code == 403
    assert "Quillfeather" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="intake.document_read").exists()


@pytest.mark.django_db
def test_without_a_token_the_api_answers_401(org):
    assert Client().post(URL, _file(referral_pdf())).status_code == 401
    assert Client().get(f"{URL}/1").status_code == 401


@pytest.mark.django_db
def test_an_unknown_document_is_404(cora, api):
    assert api(cora).get(f"{URL}/999999").status_code == 404


@pytest.mark.django_db
def test_the_openapi_document_lists_the_intake_endpoints(cora, api):
    paths = api(cora).get("/api/v1/openapi.json").json()["paths"]
    assert set(paths[URL]["post"]["responses"]) >= {"201", "401", "403", "413", "422"}
    assert set(paths[URL + "/{document_id}"]["get"]["responses"]) >= {"200", "403", "404"}
