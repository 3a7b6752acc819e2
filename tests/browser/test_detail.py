"""The referral detail page in a real browser: accessibility, dialogs, a move through the UI."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from refloop.referrals import services, transitions
from refloop.referrals.models import Referral, State
from tests import samples
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

PDF = samples.pdf()


def pdf_viewer_opened(page, *, tries: int = 50) -> bool:
    for _ in range(tries):
        if any(frame.url.startswith("chrome-extension://") for frame in page.frames):
            return True
        page.wait_for_timeout(200)
    return False


def test_detail_page_is_accessible_and_shows_the_patient_on_request(signed_in, cora, referral):
    services.add_attachment(
        referral,
        acting_user=cora,
        upload=SimpleUploadedFile("l.pdf", PDF),
        filename="l.pdf",
        kind="referral_letter",
    )
    services.add_note(referral, acting_user=cora, text="Referrer called about urgency")
    page = signed_in(cora)
    page.goto(f"/referrals/{referral.pk}/")
    assert page.get_by_role("heading", name=f"Referral {referral.number}").is_visible()
    assert page.get_by_text("Patient hidden").is_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Show patient").click()
    name = f"{referral.patient.first_name} {referral.patient.last_name}"
    page.get_by_text(name).wait_for()
    assert page.get_by_text("Patient hidden").count() == 0
    page.get_by_text("View referral letter here").click()
    # The frame gets its address when the viewer opens (each load is an audited read).
    frame = page.locator(f"iframe.pdf-frame[src$='/attachments/{referral.attachments.get().pk}']")
    frame.wait_for(state="attached")
    # The document is served with a sandboxing CSP; Chromium's PDF viewer still opens it.
    assert pdf_viewer_opened(page)
    assert_accessible(page)


def test_accepting_through_the_dialog_updates_the_state_and_timeline(signed_in, cora, referral):
    page = signed_in(cora)
    page.goto(f"/referrals/{referral.pk}/")
    page.get_by_role("button", name="Accept", exact=True).click()
    dialog = page.get_by_role("dialog", name="Accept")
    dialog.wait_for()
    assert_accessible(page)

    dialog.get_by_label("Note (optional)").fill("Good fit for the spine clinic")
    dialog.get_by_role("button", name="Accept the referral").click()
    page.locator("#referral-state[data-state='accepted']").wait_for()
    assert page.locator("#referral-state").inner_text() == "Accepted"
    timeline = page.locator("#timeline")
    assert timeline.get_by_text("Accepted", exact=True).is_visible()
    assert timeline.get_by_text("Good fit for the spine clinic").is_visible()
    assert page.get_by_role("button", name="Schedule", exact=True).is_visible()
    assert Referral.objects.get(pk=referral.pk).state == State.ACCEPTED


def test_a_field_error_and_a_stale_page_are_shown_in_the_dialog(signed_in, cora, ada, referral):
    page = signed_in(cora)
    page.goto(f"/referrals/{referral.pk}/")
    page.get_by_role("button", name="Decline", exact=True).click()
    dialog = page.get_by_role("dialog", name="Decline")
    dialog.get_by_label("Reason").select_option("other")
    dialog.get_by_label("Suggested alternative").fill("Pain management")
    dialog.get_by_role("button", name="Decline the referral").click()
    dialog.get_by_text("Say what the other reason is.").wait_for()
    assert dialog.get_by_label("Suggested alternative").input_value() == "Pain management"
    assert dialog.get_by_label("Details").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    transitions.transition(referral.pk, to="in_review", acting_user=ada, fields={})
    dialog.get_by_label("Details").fill("Moved out of state")
    dialog.get_by_role("button", name="Decline the referral").click()
    dialog.get_by_text("This referral changed since you opened it (now: In review)").wait_for()
    assert dialog.get_by_label("Details").input_value() == "Moved out of state"
    dialog.get_by_role("link", name="Reload the referral").click()
    page.locator("#referral-state[data-state='in_review']").wait_for()
    assert Referral.objects.get(pk=referral.pk).state == State.IN_REVIEW


def test_liaison_detail_page_is_accessible_and_has_no_clinical_detail(signed_in, lia, referral):
    page = signed_in(lia)
    page.goto(f"/referrals/{referral.pk}/")
    assert page.get_by_role("heading", name=f"Referral {referral.number}").is_visible()
    assert page.get_by_role("button", name="Show patient").count() == 0
    assert page.get_by_text(referral.reason).count() == 0
    assert_accessible(page)


def test_print_summary_is_accessible(signed_in, cora, referral):
    page = signed_in(cora)
    page.goto(f"/referrals/{referral.pk}/print")
    assert page.get_by_role("heading", name=f"Referral {referral.number}").is_visible()
    assert page.get_by_role("button", name="Print").is_visible()
    assert_accessible(page)


def test_the_form_page_used_without_javascript_is_accessible(signed_in, cora, referral):
    page = signed_in(cora)
    page.goto(f"/referrals/{referral.pk}/move/declined")
    assert page.get_by_role("heading", name="Decline", exact=True).is_visible()
    assert_accessible(page)
    page.get_by_label("Reason").select_option("outside_scope")
    page.get_by_role("button", name="Decline the referral").click()
    page.locator("#referral-state[data-state='declined']").wait_for()
    assert Referral.objects.get(pk=referral.pk).state == State.DECLINED
