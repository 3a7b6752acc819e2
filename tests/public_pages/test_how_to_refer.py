"""The "How to refer to us" page and its PDF one-pager, built from the department settings."""

import io

import pypdfium2
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from refloop.demo import factories as f
from refloop.practice.models import Organization

PAGE = "/refer/"
PDF = "/refer/one-pager.pdf"


@pytest.fixture
def practice(org, spine, hand):
    Organization.objects.filter(pk=org.pk).update(phone="(217) 555-0100", fax="(217) 555-0199")
    contact = f.UserFactory(
        username="nadia", first_name="Nadia", last_name="Peña", email="nadia@example.org"
    )
    clinic = f.LocationFactory(
        name="Lakeside North", address="12 Elm St", phone="(217) 555-0120", fax="(217) 555-0121"
    )
    spine.description = "Back and neck pain, sciatica, spinal stenosis."
    spine.excluded_conditions = ["M54.5"]
    spine.excluded_keywords = ["pregnant"]
    spine.accepted_insurances = ["Blue Cross", "Medicare"]
    spine.min_age, spine.max_age = 18, 85
    spine.required_documents = ["referral_letter", "imaging"]
    spine.point_of_contact = contact
    spine.save()
    spine.locations.add(clinic)
    return spine


def page_text(client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(io.BytesIO(content))
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_the_page_lists_each_department_from_its_settings_without_sign_in(client, practice, hand):
    html = page_text(client)
    for expected in (
        "Spine",
        "Hand &amp; Upper Extremity",
        "Back and neck pain, sciatica, spinal stenosis.",
        "ICD-10 M54, M51",  # accepted conditions
        "ICD-10 M54.5",  # excluded
        "Pregnant",
        "We accept only: Blue Cross, Medicare",
        "Ages 18 to 85",
        "Referral letter, Imaging",
        "Nadia Peña",
        "Lakeside North",
        "(217) 555-0121",  # the location's fax
        "(217) 555-0199",  # the practice's fax
        'href="/refer/form/"',
        'href="/refer/one-pager.pdf"',
        "/portal/",
        "within 48 hours",
    ):
        assert expected in html, expected
    # A name to ask for, never the contact's email address.
    assert "nadia@example.org" not in html


def test_the_page_follows_changes_to_the_settings(client, practice):
    assert "Ages 18 to 85" in page_text(client)
    practice.min_age, practice.max_age = 65, None
    practice.accepted_insurances = []
    practice.required_documents = ["records"]
    practice.save()
    Organization.objects.filter(pk=1).update(sla_routine_hours=72)
    f.DepartmentFactory(code="sports", name="Sports Medicine", description="Ligament injuries.")

    html = page_text(client)
    assert "Ages 65 and over" in html
    assert "Ages 18 to 85" not in html
    assert "All plans" in html
    assert "We accept only" not in html
    assert "Records" in html and "Referral letter, Imaging" not in html
    assert "within 72 hours" in html
    assert "Sports Medicine" in html and "Ligament injuries." in html


def test_the_one_pager_is_a_pdf_naming_the_departments_and_the_fax(client, practice):
    response = client.get(PDF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Spine" in text
    assert "Hand & Upper Extremity" in text
    assert "(217) 555-0199" in text
    assert "Nadia Peña" in text  # a Unicode font, so accented names print as typed
    assert "Blue Cross, Medicare" in text


def test_the_one_pager_follows_the_settings_and_prints_the_logo(client, practice, settings):
    image = io.BytesIO()
    Image.new("RGB", (64, 64), (29, 78, 216)).save(image, format="PNG")

    org = Organization.current()
    org.logo.save("logo.png", ContentFile(image.getvalue()))
    f.DepartmentFactory(code="sports", name="Sports Medicine")

    response = client.get(PDF)
    text = pdf_text(response.content)
    assert "Sports Medicine" in text
    document = pypdfium2.PdfDocument(io.BytesIO(response.content))
    images = [
        obj for obj in document[0].get_objects() if obj.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE
    ]
    assert images, "the practice's logo is on the first page"


def test_only_the_form_pages_may_be_framed(client, practice):
    for url in (PAGE, PDF, "/refer/embed/"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
    form = client.get("/refer/form/")
    assert "X-Frame-Options" not in form
    assert "frame-ancestors" in form["Content-Security-Policy"]


def test_the_embed_page_gives_an_iframe_snippet_for_the_public_address(client, practice, settings):
    # The snippet goes on another site: it names BASE_URL, not the host this page was read on.
    settings.BASE_URL = "https://refer.example.org"
    html = client.get("/refer/embed/", HTTP_HOST="localhost").content.decode()
    assert "&lt;iframe src=&quot;https://refer.example.org/refer/form/?embed=1&quot;" in html or (
        '&lt;iframe src="https://refer.example.org/refer/form/?embed=1"' in html
    )


def test_without_the_dejavu_fonts_the_one_pager_still_prints(client, practice, monkeypatch):
    from refloop.core import pdf

    monkeypatch.setattr(pdf, "FONT_DIR", pdf.Path("/nonexistent"))
    response = client.get(PDF)
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Spine" in text and "Nadia Peña" in text  # ñ is in Latin-1
