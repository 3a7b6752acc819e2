"""The referring-practice portal in Chromium: practice A sends a referral with a document,
sees it accepted, and cannot reach practice B's referrals by any URL; every portal page
(and the staff's side of it) passes axe-core."""

import re

import pytest
from django.core.files.base import ContentFile

from refloop.demo import factories as f
from refloop.patients.models import last_name_key
from refloop.referrals import services, transitions
from refloop.referrals.models import Attachment, Referral
from tests import samples
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

PDF = samples.pdf()


@pytest.fixture
def referral_b(cora, spine, provider_b):
    referral = f.make_referral(acting_user=cora, department=spine, referring_provider=provider_b)
    attachment = services.add_attachment(
        referral, acting_user=cora, upload=ContentFile(PDF), filename="b.pdf"
    )
    return referral, attachment


def test_a_practice_sends_a_referral_sees_it_accepted_and_cannot_reach_another_practices(
    signed_in, pam, cora, provider_a, spine, referral_b
):
    page = signed_in(pam)
    page.goto("/")
    assert page.url.endswith("/portal/")
    assert_accessible(page)

    page.get_by_role("link", name="Send a referral").first.click()
    page.wait_for_url("**/portal/referrals/new/")
    assert_accessible(page)
    page.get_by_label("Referring provider").select_option(str(provider_a.pk))
    page.get_by_label("First name").fill("Marisol")
    page.get_by_label("Last name").fill("Vantongeren")
    page.get_by_label("Date of birth").fill("1961-04-12")
    page.get_by_label("Phone", exact=True).fill("(217) 555-0199")
    page.get_by_label("Department", exact=True).select_option(label="Spine")
    page.get_by_label("Urgency").select_option("urgent")
    page.get_by_label("Reason for referral").fill("Lumbar radiculopathy, failed therapy")
    page.get_by_label("ICD-10 codes").fill("M54.16")
    page.get_by_label("Files to attach").set_input_files(
        files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Send the referral").click()
    page.wait_for_url(re.compile(r"/portal/referrals/\d+/$"))

    referral = Referral.objects.get(patient__last_name_key=last_name_key("Vantongeren"))
    assert "Vantongeren" not in page.url
    assert Attachment.objects.filter(referral=referral, uploaded_by=pam).count() == 1
    status = page.locator("#referral-status")
    assert status.get_attribute("data-state") == "received"
    assert page.get_by_role("link", name="Referral letter").count() == 1
    assert_accessible(page)

    transitions.accept_referral(referral.pk, acting_user=cora)
    page.reload()
    assert status.get_attribute("data-state") == "accepted"
    assert status.inner_text() == "Accepted"

    other, document = referral_b
    for url in (
        f"/portal/referrals/{other.pk}/",
        f"/portal/referrals/{other.pk}/documents/{document.pk}",
        f"/portal/referrals/{other.pk}/messages",
        f"/portal/referrals/{other.pk}/answer",
    ):
        response = page.goto(url)
        assert response.status == 404, url
        assert other.patient.last_name not in page.content()
    assert_accessible(page)


def test_a_form_with_errors_keeps_the_input_and_names_the_fields(signed_in, pam, provider_a):
    page = signed_in(pam)
    page.goto("/portal/referrals/new/")
    page.get_by_label("First name").fill("Marisol")
    page.get_by_role("button", name="Send the referral").click()
    page.wait_for_selector(".field-error")
    assert page.get_by_label("First name").input_value() == "Marisol"
    assert page.get_by_label("Last name").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("link", name="Last name").count() == 1
    assert_accessible(page)


def test_answering_a_request_and_messaging_the_coordinator(signed_in, pam, cora, referral):
    transitions.request_info(referral.pk, acting_user=cora, missing_info="The lumbar MRI report")
    page = signed_in(pam)
    page.goto(f"/portal/referrals/{referral.pk}/")
    assert page.get_by_text("The lumbar MRI report").is_visible()
    assert_accessible(page)
    page.get_by_label("Records to send").set_input_files(
        files=[{"name": "mri.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Send the records").click()
    page.wait_for_selector('#referral-status[data-state="in_review"]')

    page.get_by_role("textbox", name="Message").fill("The MRI is attached; call us with questions.")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_selector("ol.thread li")
    assert_accessible(page)


def test_the_staff_pages_of_the_portal_pass_axe(signed_in, cora, pam, referral, practice_a):
    from refloop.portal import services as portal_services

    portal_services.post_message(referral.pk, acting_user=pam, body="Any news?")
    page = signed_in(cora)
    page.goto("/portal-invites/")
    assert_accessible(page)
    page.get_by_label("Email address").fill("nina@prairie.example")
    page.get_by_label("Practice").select_option(label=practice_a.name)
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_selector("text=Invitation sent to nina@prairie.example")
    assert_accessible(page)
    page.goto(f"/referrals/{referral.pk}/messages/")
    assert page.get_by_text("Any news?").is_visible()
    assert_accessible(page)
    page.get_by_role("textbox", name="Message").fill("We will call the patient today.")
    page.get_by_role("button", name="Send to the practice").click()
    page.wait_for_selector("text=We will call the patient today.")


def test_the_invitation_pages_pass_axe(page, cora, practice_a, live_server, settings):
    from refloop.portal import services as portal_services

    settings.BASE_URL = live_server.url  # where the emailed link leads

    result = portal_services.invite_portal_user(
        acting_user=cora,
        email="nina@prairie.example",
        practice=practice_a,
    )
    page.goto(result.link)
    page.wait_for_url("**/portal/invite/")
    assert page.get_by_text(practice_a.name).first.is_visible()
    assert_accessible(page)
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Ortiz")
    page.get_by_label("Username").fill("nina")
    page.get_by_label("Password", exact=True).fill("a long portal password 42")
    page.get_by_label("Password again").fill("a long portal password 42")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/portal/")
    assert page.get_by_text("Your account for").is_visible()
    page.goto(result.link)
    page.wait_for_url("**/portal/invite/")
    assert page.get_by_role("heading", level=1).inner_text() == "You are already signed in" or (
        "already used" in page.content()
    )
    assert_accessible(page)
