"""The public referral form in a real browser: the "Other" reveal, errors kept beside their
fields, the confirmation, and axe-core on the public pages."""

import pytest

from refloop.public.models import PublicSubmission
from refloop.referrals.models import Referral
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_public_referral_with_other_as_the_source(page, org, spine):
    page.goto("/refer/form/")
    assert page.get_by_role("heading", level=1).inner_text() == "Send us a referral"
    assert_accessible(page)

    page.get_by_label("I am the patient").check()
    page.get_by_label("Patient's first name").fill("Mara")
    page.get_by_label("Patient's last name").fill("Peña")
    page.get_by_label("Patient's date of birth").fill("1961-04-02")
    page.get_by_label("Patient's phone number").fill("(217) 555-0142")
    page.get_by_label("The patient agrees").check()
    page.get_by_label("Reason for the referral").fill("Low back pain for six weeks")

    other_text = page.get_by_label("Tell us how you heard about us")
    assert other_text.is_hidden()
    page.get_by_label("How did you hear about us?").select_option("other")
    other_text.wait_for(state="visible")

    page.get_by_role("button", name="Send the referral").click()
    error = page.locator("#id_heard_other_error")
    error.wait_for()
    assert "tell us how" in error.inner_text()
    assert other_text.is_visible()
    assert other_text.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Patient's last name").input_value() == "Peña"
    assert (
        page.get_by_label("Reason for the referral").input_value() == "Low back pain for six weeks"
    )
    assert page.get_by_label("How did you hear about us?").input_value() == "other"
    assert page.get_by_label("I am the patient").is_checked()
    assert_accessible(page)
    assert not Referral.objects.exists()

    other_text.fill("A talk at the community centre")
    page.get_by_role("button", name="Send the referral").click()
    page.get_by_role("heading", name="Thank you: we received the referral").wait_for()
    referral = Referral.objects.get()
    assert referral.channel == "web_form"
    assert referral.source_type == "other"
    assert referral.source_other == "A talk at the community centre"
    assert referral.number in page.locator(".reference").inner_text()
    assert "Peña" not in page.url and "1961" not in page.url
    assert PublicSubmission.objects.get().referral == referral
    assert_accessible(page)


def test_the_how_to_refer_and_embed_pages_pass_axe(page, org, spine, hand):
    page.goto("/refer/")
    assert "Spine" in page.get_by_role("heading", level=3, name="Spine").inner_text()
    assert_accessible(page)
    page.goto("/refer/embed/")
    assert "<iframe" in page.get_by_label("Snippet to copy").input_value()
    assert_accessible(page)


def test_the_provider_questions_appear_for_providers(page, org):
    page.goto("/refer/form/?embed=1")
    practice = page.get_by_label("Your practice or clinic")
    assert practice.is_hidden()
    page.get_by_label("I am a provider").check()
    practice.wait_for(state="visible")
    assert page.get_by_label("Your name").is_visible()
    assert_accessible(page)
