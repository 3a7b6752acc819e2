"""The issue's done-when: a coordinator takes a phone referral from quick intake to a closed loop
through the browser alone, and a liaison sees the same referral without clinical detail."""

import re

import pytest

from refloop.core.models import AuditEntry
from refloop.demo import factories as f
from refloop.referrals.models import Referral, State
from tests.browser.conftest import PASSWORD, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

PATIENT = ("Odalys", "Brennecke")
REASON = "Low back pain radiating to the right leg for eight weeks"


@pytest.fixture
def referrer(db):
    practice = f.PracticeFactory(name="Cedar Valley Family Practice", city="Champaign")
    return f.ProviderFactory(practice=practice, first_name="Tomas", last_name="Achterberg")


def act(page, button: str, submit: str, fill=None) -> None:
    """Open the move's dialog from its button, fill it, submit, wait for the page to settle."""
    page.get_by_role("button", name=button, exact=True).click()
    dialog = page.get_by_role("dialog", name=button)
    dialog.wait_for()
    if fill:
        fill(dialog)
    dialog.get_by_role("button", name=submit, exact=True).click()
    dialog.wait_for(state="hidden")


def expect_state(page, state: str) -> None:
    """Wait until the page shows the referral in `state` (the move's response may still be
    on its way when the dialog closes)."""
    page.locator(f"#referral-state[data-state='{state}']").wait_for()


def test_a_phone_referral_is_worked_from_intake_to_loop_closed_in_the_browser(
    page, cora, spine, referrer, org
):
    page.goto("/")
    page.get_by_label("Username").fill("cora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/referrals/**")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New referral").click()
    # The click returns once the navigation commits; the type-ahead listens only after htmx
    # has read the page, so typing before the load event could go unheard.
    page.wait_for_url("**/intake/", wait_until="load")
    page.get_by_label("How did the referral reach us").select_option("phone")
    page.get_by_label("Source", exact=True).select_option("provider")
    page.get_by_label("Referring provider").fill("Achterberg")
    page.get_by_role("button", name=re.compile("Tomas Achterberg")).click()
    page.get_by_label("First name").fill(PATIENT[0])
    page.get_by_label("Last name").fill(PATIENT[1])
    page.get_by_label("Date of birth").fill("1958-09-14")
    page.get_by_label("Phone", exact=True).fill("(217) 555-0188")
    page.get_by_label("Reason for referral").fill(REASON)
    page.get_by_label("ICD-10 codes").fill("M54.41")
    page.get_by_text("matches Spine").wait_for()
    page.get_by_role("button", name="Create referral").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    expect_state(page, State.RECEIVED)
    referral = Referral.objects.get()
    assert page.url.endswith(f"/referrals/{referral.pk}/")
    assert PATIENT[1] not in page.url and "M54" not in page.url

    act(page, "Start review", "Start the review")
    expect_state(page, State.IN_REVIEW)
    act(page, "Accept", "Accept the referral")
    expect_state(page, State.ACCEPTED)
    act(page, "Start contacting", "Start contacting")
    expect_state(page, State.CONTACTING)
    act(
        page,
        "Record contact attempt",
        "Record the attempt",
        lambda d: (
            d.get_by_label("Channel").select_option("phone"),
            d.get_by_label("Outcome").select_option("reached"),
        ),
    )
    page.locator("#timeline li strong", has_text="Contact attempt").wait_for()
    act(
        page,
        "Schedule",
        "Book the appointment",
        lambda d: (d.get_by_label("Date").fill("2030-03-04"), d.get_by_label("Time").fill("09:30")),
    )
    expect_state(page, State.SCHEDULED)
    act(page, "Mark seen", "Mark as seen")
    expect_state(page, State.SEEN)
    # Nothing to close the loop with yet: the progress report comes first.
    assert page.get_by_role("button", name="Close the loop").count() == 0
    page.get_by_role("button", name="Write the progress report").click()
    report = page.locator("#report-form")
    report.get_by_label("Findings").fill("MRI reviewed: L4-5 disc, no red flags.")
    report.get_by_label("Plan").fill("Physical therapy first.")
    report.get_by_role("button", name="Save the report").click()
    page.locator("#progress-report").wait_for()
    act(
        page,
        "Close the loop",
        "Close the loop",
        lambda d: d.get_by_label("Findings and plan sent to the referrer").fill(
            "MRI reviewed; physical therapy first."
        ),
    )
    expect_state(page, State.LOOP_CLOSED)
    assert_accessible(page)

    timeline = page.locator("#timeline")
    entries = timeline.locator("li strong").all_inner_texts()
    for words in (
        "Received",
        "Review started",
        "Accepted",
        "Contacting the patient",
        "Contact attempt",
        "Scheduled",
        "Seen",
        "Loop closed",
    ):
        assert words in entries, (words, entries)
    assert page.get_by_text("MRI reviewed; physical therapy first.").is_visible()
    referral.refresh_from_db()
    assert referral.state == State.LOOP_CLOSED
    assert referral.first_contact_at is not None
    assert referral.closed_at is not None
    events = list(referral.events.order_by("at", "pk").values_list("kind", flat=True))
    for name in (
        "referral.received",
        "referral.in_review",
        "referral.accepted",
        "referral.contacting",
        "referral.scheduled",
        "referral.seen",
        "referral.loop_closed",
    ):
        assert name in events, (name, events)
    assert AuditEntry.objects.filter(
        actor=cora, action="referral.read", referral_id=referral.pk
    ).exists()


def test_a_liaison_sees_the_referral_without_any_clinical_detail(signed_in, cora, lia, spine):
    referral = f.make_referral(
        acting_user=cora,
        department=spine,
        patient=f.patient_data(first_name=PATIENT[0], last_name=PATIENT[1]),
        reason=REASON,
        icd10_codes=["M54.41"],
    )
    page = signed_in(lia)
    page.goto("/referrals/")
    page.get_by_role("link", name=referral.number).first.click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    text = page.locator("main").inner_text()
    assert referral.number in text
    for secret in (*PATIENT, "right leg", "M54.41"):
        assert secret not in text, secret
    assert page.get_by_role("button", name="Show patient").count() == 0
    assert page.get_by_role("button", name="Accept", exact=True).count() == 0
    assert_accessible(page)
    # The worklist the liaison came from named no patient either.
    page.goto("/referrals/")
    assert PATIENT[1] not in page.locator("main").inner_text()
