"""Refer a friend in Chromium: axe-core on every new page (staff's advocates, the card, the
reward settings, the friend's form), and the patient's opt-in page on a phone (390 x 844)."""

import pytest
from django.utils import timezone

from refloop.advocacy import advocates
from refloop.advocacy.models import Audience, RewardItem, Trigger
from refloop.advocacy.survey_link import COOKIE, COOKIE_PATH
from refloop.advocacy.surveys import create_survey
from tests.browser.conftest import TARGET_SIZE, assert_accessible, sign_in_as

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def advocate(referral, cora):
    return advocates.enrol(
        patient=referral.patient, acting_user=cora, via="staff", now=timezone.now()
    )


def test_the_advocates_pages_pass_axe(context, live_server, ada, advocate):  # noqa: F811
    RewardItem.objects.create(name="Water bottle", value_cents=1200)
    sign_in_as(context, live_server, ada)
    page = context.new_page()
    for url in (
        "/feedback/advocates/",
        f"/feedback/advocates/{advocate.pk}/",
        f"/feedback/advocates/{advocate.pk}/card/",
        "/settings/feedback/rewards/",
    ):
        assert page.goto(url).status == 200, url
        assert_accessible(page, also=TARGET_SIZE)
    # The card draws its QR code.
    page.goto(f"/feedback/advocates/{advocate.pk}/card/")
    assert page.locator(".friend-card-qr svg").count() == 1


def test_the_friends_form_passes_axe_with_its_question(context, advocate):  # noqa: F811
    page = context.new_page()
    assert page.goto(f"/refer/friend/{advocate.code}/").status == 200
    assert page.get_by_text("May we let the person who gave you this link know").count() == 1
    assert_accessible(page, also=TARGET_SIZE)


def test_the_opt_in_page_works_on_a_phone(browser, live_server, referral):  # noqa: F811
    survey, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=timezone.now(),
        patient=referral.patient,
        referral=referral,
    )
    phone = browser.new_context(base_url=live_server.url, viewport=PHONE, reduced_motion="reduce")
    phone.add_cookies(
        [{"name": COOKIE, "value": survey.code, "url": live_server.url + COOKIE_PATH}]
    )
    page = phone.new_page()
    assert page.goto("/s/advocate/").status == 200
    assert_accessible(page, also=TARGET_SIZE)
    page.get_by_role("button", name="Send me my link").click()
    page.get_by_role("heading", name="Thank you for recommending us").wait_for()
    assert_accessible(page, also=TARGET_SIZE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    phone.close()
