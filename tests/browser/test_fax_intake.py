"""Issue 4's done-when, in headless Chromium: a multi-page scanned fax packet with two patients
is uploaded, read (OCR), reviewed beside its page images and becomes a referral with the
right fields and the packet attached."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from refloop.demo import factories as f
from refloop.demo.faxes import make_packet
from refloop.intake.models import FIELD_NAMES, CandidateStatus, DocumentStatus, IntakeDocument
from refloop.referrals.models import Referral
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

# The fields the review form shows for the patient and the referral; the provider's come
# from the directory once matched.
CHECKED = [n for n in FIELD_NAMES if not n.startswith("provider_")]


def same(field: str, shown: str, expected: str) -> bool:
    if field == "icd10_codes":
        codes = lambda text: [c.upper() for c in re.split(r"[\s,;]+", text) if c]  # noqa: E731
        return codes(shown) == codes(expected)
    return " ".join(shown.split()) == " ".join(expected.split())


def review_like_a_coordinator(page, label: dict) -> list[str]:
    """Compare each field with the paper; retype the ones flagged "check this". Returns the
    flagged fields. A field shown as sure must already be right."""
    flagged = []
    for field in CHECKED:
        box = page.locator(f'[data-field="{field}"]')
        control = box.locator("input, textarea, select").first
        expected = label[field]
        if "needs-check" in (box.get_attribute("class") or ""):
            flagged.append(field)
            if field == "urgency":
                control.select_option(expected)
            else:
                control.fill(expected)
        else:
            shown = control.input_value()
            assert same(field, shown, expected), f"{field}: read {shown!r}, fax says {expected!r}"
    return flagged


def test_a_scanned_two_patient_fax_becomes_a_referral_through_the_review_queue(
    signed_in, cora, spine, tmp_path
):
    from refloop.intake.pipeline import process_document  # the pipeline's half

    content, extension, labels = make_packet(11, patients=2, scanned=True)
    first = labels[0]
    assert labels[1]["pages"][1] > 2, "a multi-page packet"
    # The sender is a known referrer: the directory has the provider (matched by NPI).
    given, family = first["provider_name"].split(" ", 1)
    provider = f.ProviderFactory(
        npi=first["provider_npi"],
        first_name=given,
        last_name=family,
        practice=f.PracticeFactory(name="Sender Family Practice"),
    )
    packet_file = tmp_path / f"incoming-fax.{extension}"
    packet_file.write_bytes(content)

    page = signed_in(cora)
    page.goto("/")
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents")
    assert_accessible(page)

    page.get_by_label("Fax packets or scanned documents").set_input_files(str(packet_file))
    page.get_by_role("button", name="Upload and read").click()
    results = page.locator(".upload-results")
    expect(results).to_contain_text("incoming-fax")
    document = IntakeDocument.objects.get()
    assert document.status in (DocumentStatus.QUEUED, DocumentStatus.PROCESSING)
    expect(page.locator("#intake-progress")).to_contain_text(f"Document #{document.pk}")
    assert_accessible(page)

    # The worker's job, done here as the worker would: OCR every page, split, extract.
    process_document(document.pk)
    document.refresh_from_db()
    assert document.status == DocumentStatus.REVIEW, document.status_reason
    assert document.pages_done == document.page_count == labels[1]["pages"][1]
    # The progress list polls, and says so once nothing is being read.
    expect(page.locator("#intake-progress")).to_contain_text(
        "Nothing is being read right now", timeout=15_000
    )

    page.get_by_role("link", name=re.compile("To review")).click()
    rows = page.locator("table.documents-table tbody tr")
    expect(rows).to_have_count(2)
    assert_accessible(page)
    rows.first.get_by_role("button", name="Review").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Document #{document.pk}")
    expect(page.locator("#page-image")).to_be_visible()
    # Visible is not loaded: wait for the page image to arrive (a slow server under load),
    # then check it decoded to a picture (a broken image also ends "complete", width 0).
    page.wait_for_function("() => document.querySelector('#page-image').complete")
    assert page.locator("#page-image").evaluate("img => img.naturalWidth") > 0
    first_page, last_page = first["pages"]
    if last_page > first_page:
        page.get_by_role("link", name=f"Page {last_page}", exact=True).click()
        expect(page.locator("#page-caption")).to_have_text(f"Page {last_page}")
    expect(page.locator("#source-chosen")).to_contain_text(family)
    assert_accessible(page)
    # The date of birth read by OCR is outlined where it was read, on the page image.
    page.get_by_label("Date of birth").focus()
    expect(page.locator("#read-box")).to_be_visible()
    outline, drawn = (
        page.locator("#read-box").bounding_box(),
        page.locator("#page-image").bounding_box(),
    )
    assert (
        drawn["x"] <= outline["x"]
        and outline["x"] + outline["width"] <= drawn["x"] + drawn["width"]
    )
    assert (
        drawn["y"] <= outline["y"]
        and outline["y"] + outline["height"] <= drawn["y"] + drawn["height"]
    )

    review_like_a_coordinator(page, first)
    page.get_by_role("button", name="Create referral").click()
    # Working the pile: the next patient of the packet opens, with a link to the new referral.
    expect(page.locator(".flash")).to_contain_text("was created from document")

    referral = Referral.objects.get()
    assert referral.patient.first_name == first["patient_first_name"]
    assert referral.patient.last_name == first["patient_last_name"]
    assert referral.patient.date_of_birth.isoformat() == first["patient_date_of_birth"]
    assert referral.patient.phone == first["patient_phone"]
    assert referral.patient.insurance_payer == first["insurance"]
    assert referral.referring_provider == provider
    assert referral.icd10_codes == [c.strip() for c in first["icd10_codes"].split(",")]
    assert referral.urgency == first["urgency"]
    assert referral.reason == first["reason"]
    assert referral.channel == "fax"
    assert referral.source_type == "provider"
    attachment = referral.attachments.get()
    assert attachment.sha256 == document.sha256
    candidate = referral.intake_candidate
    assert candidate.status == CandidateStatus.CREATED
    assert [candidate.first_page, candidate.last_page] == first["pages"]

    following = document.candidates.get(status=CandidateStatus.PENDING)
    assert page.url.endswith(f"/intake/documents/candidates/{following.pk}/")
    page.locator(".flash a").click()
    expect(page).to_have_url(re.compile(rf"/referrals/{referral.pk}/$"))
    expect(page.locator("main")).to_contain_text(referral.number)


def test_the_document_pages_pass_axe_with_flags_errors_and_every_tab(signed_in, cora, provider_a):
    from tests.intake.test_review import fields_for, make_document, read

    packet = make_document(
        pages=3,
        candidates=[
            {
                "first_page": 1,
                "last_page": 2,
                "fields": fields_for(
                    provider_a, patient_phone=read("(217) 555-O142", 0.38, review_=True, page=2)
                ),
                "matched_provider": provider_a,
                "match_reason": "NPI matches the directory",
            },
            {
                "first_page": 3,
                "last_page": 3,
                "fields": fields_for(None),
                "proposed_provider": {"name": "Dr. Alan Abbott, MD", "npi": f.npi_from(4242)},
            },
        ],
    )
    make_document(status=DocumentStatus.QUARANTINED, pages=0, reason="The file is not a PDF.")
    make_document(status=DocumentStatus.DUPLICATE, duplicate_of=packet)
    make_document(status=DocumentStatus.PROCESSING, pages=4)

    page = signed_in(cora)
    for tab in ("review", "processing", "quarantined", "duplicates", "done"):
        page.goto(f"/intake/documents/?tab={tab}")
        assert_accessible(page)
    page.goto(f"/intake/documents/{packet.pk}/")
    assert_accessible(page)

    second = packet.candidates.get(first_page=3)
    page.goto(f"/intake/documents/candidates/{second.pk}/")
    expect(page.locator(".proposal")).to_contain_text("Not in the directory")
    assert_accessible(page)

    first = packet.candidates.get(first_page=1)
    page.goto(f"/intake/documents/candidates/{first.pk}/")
    phone = page.locator('[data-field="patient_phone"]')
    expect(phone).to_have_class(re.compile("needs-check"))
    expect(phone).to_contain_text("Check this")
    phone.get_by_role("link", name="on page 2").click()  # shows page 2 in place
    expect(page.locator("#page-caption")).to_have_text("Page 2")
    page.get_by_label("ICD-10 codes").fill("M54.16, back pain")
    page.get_by_label("First name").fill("Marah")
    page.get_by_role("button", name="Create referral").click()
    expect(page.locator("#id_icd10_codes_error")).to_contain_text("not an ICD-10 code")
    assert page.get_by_label("First name").input_value() == "Marah"
    assert page.get_by_label("ICD-10 codes").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    assert not Referral.objects.exists()


def marked_page_png(box: list[float], size=(340, 440)) -> bytes:
    """A white page with a black block where `box` (fractions of the page) says."""
    image = Image.new("L", size, 255)
    width, height = size
    x0, y0, x1, y1 = box
    ImageDraw.Draw(image).rectangle(
        (x0 * width, y0 * height, x1 * width - 1, y1 * height - 1), fill=0
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def dark_block_on_screen(page, locator) -> dict:
    """Where the page image's black block is drawn on screen (found in a screenshot taken
    with the outline out of the way, so its border does not cover the block's edges)."""
    page.evaluate("document.getElementById('read-box').style.visibility = 'hidden'")
    shot = Image.open(io.BytesIO(locator.screenshot())).convert("L")
    page.evaluate("document.getElementById('read-box').style.visibility = ''")
    left, top, right, bottom = shot.point(lambda v: 255 if v < 60 else 0).getbbox()
    origin = locator.bounding_box()
    scale = shot.width / origin["width"]  # device pixels per CSS pixel
    return {
        "x": origin["x"] + left / scale,
        "y": origin["y"] + top / scale,
        "width": (right - left) / scale,
        "height": (bottom - top) / scale,
    }


def test_a_focused_or_hovered_field_outlines_where_it_was_read_on_its_page(
    signed_in, cora, provider_a
):
    from tests.intake.test_review import fields_for, make_document, read

    born_box = [0.25, 0.5, 0.75, 0.6]
    name_box = [0.1, 0.1, 0.4, 0.15]
    packet = make_document(
        pages=2,
        candidates=[
            {
                "first_page": 1,
                "last_page": 2,
                "fields": fields_for(
                    provider_a,
                    patient_first_name={**read("Mara", page=1), "box": name_box},
                    patient_date_of_birth={**read("1961-04-02", page=2), "box": born_box},
                    # Read before boxes were kept: no outline, nothing breaks.
                    patient_last_name={**read("Lindqvist", page=1), "box": None},
                ),
                "matched_provider": provider_a,
            }
        ],
    )
    for number, box in ((1, name_box), (2, born_box)):
        stored = packet.pages.get(number=number)
        stored.image.save("page.png", ContentFile(marked_page_png(box)), save=True)
    candidate = packet.candidates.get()

    page = signed_in(cora)
    page.goto(f"/intake/documents/candidates/{candidate.pk}/")
    outline = page.locator("#read-box")
    expect(outline).to_be_hidden()
    expect(page.locator("#page-caption")).to_have_text("Page 1")

    # Keyboard: the date of birth was read on page 2, which is shown with its box outlined.
    page.get_by_label("Date of birth").focus()
    expect(page.locator("#page-caption")).to_have_text("Page 2")
    expect(outline).to_be_visible()
    page.wait_for_function("() => document.getElementById('page-image').complete")
    drawn = dark_block_on_screen(page, page.locator("#page-image"))
    shown = outline.bounding_box()
    for edge in ("x", "y", "width", "height"):
        assert abs(shown[edge] - drawn[edge]) <= 3, (edge, shown, drawn)
    assert_accessible(page)

    # Hovering another field outlines it instead, back on page 1.
    page.locator('[data-field="patient_first_name"]').hover()
    expect(page.locator("#page-caption")).to_have_text("Page 1")
    page.wait_for_function(
        "() => { const i = document.getElementById('page-image');"
        " return i.complete && i.getAttribute('data-page') === '1'; }"
    )
    expect(outline).to_be_visible()
    drawn = dark_block_on_screen(page, page.locator("#page-image"))
    shown = outline.bounding_box()
    for edge in ("x", "y", "width", "height"):
        assert abs(shown[edge] - drawn[edge]) <= 3, (edge, shown, drawn)

    # A field without a box: no outline.
    page.get_by_label("Last name").focus()
    expect(outline).to_be_hidden()
