"""The referral detail page in a real browser: accessibility, dialogs, a move through the UI,
and where things sit on a laptop (1440x900) and a phone (390x844)."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from refloop.demo import factories as f
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


LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

# Whatever inside the page's main area reaches past the right edge of the window.
OVERFLOWING = """() => [...document.querySelectorAll("main *")]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className)"""


def named(user, first: str, last: str):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def worked_until_seen(referral, cora) -> Referral:
    """Assigned, two tries to reach the patient, booked, seen: the timeline of a real week."""
    services.assign_referral(referral, acting_user=cora, assignee=cora)
    f.advance(referral, State.CONTACTING, acting_user=cora)
    for outcome, note in (("no_answer", "Voicemail left"), ("reached", "Prefers mornings")):
        services.record_contact_attempt(
            referral.pk, acting_user=cora, channel="phone", outcome=outcome, note=note
        )
    soon = timezone.now() + dt.timedelta(days=2)
    transitions.transition(
        referral.pk,
        to=State.SCHEDULED,
        acting_user=cora,
        fields={"appointment": {"starts_at": soon}},
    )
    transitions.transition(referral.pk, to=State.SEEN, acting_user=cora, fields={})
    services.add_note(referral.pk, acting_user=cora, text="Asked for the report to go by fax")
    return Referral.objects.get(pk=referral.pk)


def bottom(locator) -> float:
    box = locator.bounding_box()
    assert box is not None, locator
    return box["y"] + box["height"]


def test_at_1440_the_timeline_and_contact_attempts_are_above_the_fold_and_name_people(
    signed_in, cora, referral
):
    named(cora, "Cora", "Lindqvist")
    referral = worked_until_seen(referral, cora)
    page = signed_in(cora)
    page.set_viewport_size(LAPTOP)
    page.goto(f"/referrals/{referral.pk}/")

    newest = page.locator("#timeline > li").first
    assert "Note" in newest.inner_text()
    assert bottom(newest) <= LAPTOP["height"]
    assert bottom(page.locator("#contact-attempts > li").first) <= LAPTOP["height"]

    # The same person, by the same name, in the header and in the timeline's assignment.
    assert page.locator(".detail-head").get_by_text("Cora Lindqvist").is_visible()
    assigned = page.locator("#timeline > li", has_text="Assigned")
    assert assigned.locator("dd").inner_text() == "Cora Lindqvist"
    assert page.locator("#timeline").get_by_text("cora", exact=True).count() == 0
    assert_accessible(page)


def test_after_the_visit_the_report_form_is_the_clinicians_first_task_and_the_loop_waits(
    signed_in, cora, cliff, referral
):
    referral = worked_until_seen(referral, cora)
    page = signed_in(cliff)
    page.set_viewport_size(LAPTOP)
    page.goto(f"/referrals/{referral.pk}/")
    assert page.get_by_role("button", name="Close the loop").count() == 0
    findings = page.locator("#report-form").get_by_label("Findings")
    assert bottom(findings) <= LAPTOP["height"]
    assert bottom(page.locator("#timeline > li").first) <= LAPTOP["height"]
    assert_accessible(page)

    findings.fill("L5 radiculopathy, no red flags.")
    page.locator("#report-form").get_by_label("Plan").fill("Physical therapy for six weeks.")
    page.get_by_role("button", name="Save the report").click()
    page.locator("#progress-report").wait_for()
    page.get_by_role("button", name="Close the loop").click()
    dialog = page.get_by_role("dialog", name="Close the loop")
    summary = dialog.get_by_label("Findings and plan sent to the referrer")
    assert "L5 radiculopathy" in summary.input_value()
    dialog.get_by_role("button", name="Close the loop").click()
    page.locator("#referral-state[data-state='loop_closed']").wait_for()
    assert Referral.objects.get(pk=referral.pk).state == State.LOOP_CLOSED


@pytest.mark.parametrize("who", ["cora", "cliff"])
def test_on_a_phone_the_detail_page_fits_the_screen_and_is_accessible(
    request, signed_in, cora, referral, who
):
    named(cora, "Cora", "Lindqvist")
    referral = worked_until_seen(referral, cora)
    services.add_attachment(
        referral,
        acting_user=cora,
        upload=SimpleUploadedFile("l.pdf", PDF),
        filename="a-rather-long-file-name-for-the-referral-letter-from-the-practice.pdf",
        kind="referral_letter",
    )
    page = signed_in(request.getfixturevalue(who))
    page.set_viewport_size(PHONE)
    page.goto(f"/referrals/{referral.pk}/")
    assert page.evaluate(OVERFLOWING) == []
    entry = page.locator("#timeline > li").first
    assert entry.is_visible()
    box = entry.bounding_box()
    assert box is not None and box["width"] >= 300  # a readable column, not a sliver
    assert_accessible(page)
