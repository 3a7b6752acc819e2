"""Quick intake and outbound referrals in a real browser: type-ahead, reveals, suggestion, creation."""

import re

import pytest

from refloop.demo import factories as f
from refloop.referrals.models import Direction, Referral
from refloop.referrals.services import create_outbound_referral
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def okafor(db):
    practice = f.PracticeFactory(
        name="Oak Park Family Care", city="Decatur", phone="(217) 555-0110"
    )
    return f.ProviderFactory(
        practice=practice,
        first_name="Ines",
        last_name="Okafor",
        preferred_channel="fax",
        best_time="after 3 pm",
        fax="(217) 555-0100",
    )


def fill_patient(page):
    page.get_by_label("First name").fill("Mara")
    page.get_by_label("Last name").fill("Lindqvist")
    page.get_by_label("Date of birth").fill("1961-04-02")
    page.get_by_label("Phone", exact=True).fill("(217) 555-0142")


def test_the_intake_page_is_accessible_empty_and_with_errors(signed_in, cora, spine):
    page = signed_in(cora)
    page.goto("/intake/")
    assert page.get_by_role("heading", level=1).inner_text() == "New referral"
    assert_accessible(page)
    page.get_by_role("button", name="Create referral").click()
    page.wait_for_selector(".field-error")
    assert page.get_by_label("Reason for referral").get_attribute("aria-invalid") == "true"
    assert_accessible(page)


def test_choosing_a_provider_from_the_type_ahead_fills_the_referrer_and_shows_preferences(
    signed_in, cora, okafor
):
    page = signed_in(cora)
    page.goto("/intake/")
    page.get_by_label("Referring provider").fill("okaf")
    option = page.get_by_role("button", name=re.compile("Ines Okafor"))
    option.wait_for()
    assert page.locator("#source-results").get_attribute("aria-live") == "polite"
    assert_accessible(page)
    option.click()
    card = page.locator("#source-chosen .source-card")
    card.wait_for()
    assert "after 3 pm" in card.inner_text()
    assert "(217) 555-0100" in card.inner_text()
    assert page.locator("#id_referring_provider").input_value() == str(okafor.pk)
    assert page.locator("#id_referring_practice").input_value() == str(okafor.practice_id)
    assert page.get_by_role("button", name=re.compile("Ines Okafor")).count() == 0


def test_other_source_reveals_the_specification_field(signed_in, cora, org):
    page = signed_in(cora)
    page.goto("/intake/")
    specify = page.get_by_label("Specify other")
    assert not specify.is_visible()
    page.get_by_label("Source", exact=True).select_option("other")
    assert specify.is_visible()
    page.get_by_label("Source", exact=True).select_option("self")
    assert not specify.is_visible()


def test_icd10_codes_preselect_the_suggested_department_and_urgency_updates_the_script(
    signed_in, cora, spine, hand, org
):
    page = signed_in(cora)
    page.goto("/intake/")
    page.get_by_label("ICD-10 codes").fill("M54.5")
    page.get_by_text("M54.5 matches Spine (M54)").wait_for()
    assert page.get_by_label("Department").input_value() == str(spine.pk)
    script = page.locator("#script-sla")
    assert script.inner_text() == "48 hours"
    page.get_by_label("Urgency").select_option("stat")
    assert script.inner_text() == "4 hours"


def test_a_coordinator_takes_a_phone_referral_through_quick_intake(
    signed_in, cora, okafor, spine, org
):
    page = signed_in(cora)
    page.goto("/intake/")
    page.get_by_label("How did the referral reach us").select_option("phone")
    page.get_by_label("Source", exact=True).select_option("provider")
    page.get_by_label("Referring provider").fill("Okafor")
    page.get_by_role("button", name=re.compile("Ines Okafor")).click()
    fill_patient(page)
    page.get_by_role("button", name="Look for this patient on record").click()
    page.get_by_text("No patient on record").wait_for()
    page.get_by_label("Reason for referral").fill("Low back pain radiating to the left leg")
    page.get_by_label("ICD-10 codes").fill("M54.16")
    page.get_by_text("matches Spine").wait_for()
    page.get_by_label("Urgency").select_option("urgent")
    page.get_by_role("button", name="Create referral").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    referral = Referral.objects.get()
    assert page.url.endswith(f"/referrals/{referral.pk}/")
    assert referral.referring_provider == okafor
    assert referral.department == spine
    assert referral.urgency == "urgent"
    assert referral.channel == "phone"
    assert referral.assignee == cora
    assert referral.patient.last_name == "Lindqvist"


def test_a_returning_patient_is_found_and_reused(signed_in, cora, referral):
    patient = referral.patient
    page = signed_in(cora)
    page.goto("/intake/")
    page.get_by_label("Source", exact=True).select_option("self")
    page.get_by_label("First name").fill(patient.first_name.upper())
    page.get_by_label("Last name").fill(patient.last_name)
    page.get_by_label("Date of birth").fill(patient.date_of_birth.isoformat())
    page.get_by_role("button", name="Look for this patient on record").click()
    match = page.get_by_role("radio", name=re.compile("1 open referral"))
    match.wait_for()
    assert_accessible(page)
    match.check()
    page.get_by_label("Reason for referral").fill("Follow-up for the same back pain")
    page.get_by_role("button", name="Create referral").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    assert Referral.objects.filter(patient=patient).count() == 2


def test_the_outbound_pages_are_accessible_and_draft_a_referral(signed_in, cora, org):
    near = f.PracticeFactory(name="Lakeview Neurology", in_network=True)
    f.PracticeFactory(name="Aardvark Pain Center", in_network=False)
    create_outbound_referral(
        acting_user=cora, patient=f.patient_data(), receiving_practice=near, reason="EMG"
    )
    page = signed_in(cora)
    page.goto("/outbound/")
    assert_accessible(page)
    page.get_by_role("link", name="New outbound referral").click()
    page.wait_for_url("**/outbound/new")
    assert_accessible(page)
    page.get_by_label("First name").fill("Ivo")
    page.get_by_label("Last name").fill("Brandt")
    page.get_by_label("Date of birth").fill("1958-11-23")
    page.get_by_label("Receiving practice").select_option(label="Lakeview Neurology, " + near.city)
    page.get_by_label("Reason for referral").fill("EMG for suspected neuropathy")
    page.get_by_role("button", name="Create outbound referral").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    assert Referral.objects.filter(direction=Direction.OUTBOUND).count() == 2
