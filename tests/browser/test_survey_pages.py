"""The survey on a phone (390 x 844): a patient answers with the keyboard alone, the pages
pass axe-core, nothing scrolls sideways, and the thank-you page offers the review links."""

import pytest
from django.utils import timezone

from refloop.advocacy.models import Audience, Response, ReviewSite, Trigger
from refloop.advocacy.surveys import create_survey
from tests.browser.conftest import TARGET_SIZE, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, reduced_motion="reduce"
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_patient_answers_the_survey_on_a_phone_with_the_keyboard(page, referral):
    ReviewSite.objects.create(name="Google", url="https://reviews.example/google")
    survey, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=timezone.now(),
        patient=referral.patient,
        referral=referral,
    )

    page.goto(f"/s/{survey.code}/")

    page.get_by_role("heading", name="How did we do?").wait_for()
    assert survey.code not in page.url and page.url.endswith("/s/")
    assert "Quillfeather" not in page.content() and "Zephyrine" not in page.content()
    assert fits_the_phone(page)
    assert_accessible(page, also=TARGET_SIZE)

    group = page.get_by_role("group", name="How likely are you to recommend us")
    assert group.get_by_role("radio").count() == 11
    group.get_by_role("radio", name="8").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")  # a radio group moves its choice with the arrows
    assert group.get_by_role("radio", name="9").is_checked()
    page.get_by_label("Anything else you would like to tell us?").fill("Kind staff.")
    page.get_by_role("button", name="Send my answers").click()

    page.get_by_role("heading", name="Thank you for your answers").wait_for()
    assert Response.objects.get().recommend == 9
    assert page.get_by_role("link", name="Review us on Google").count() == 1
    assert fits_the_phone(page)
    assert_accessible(page, also=TARGET_SIZE)


def test_an_unknown_link_says_so_and_passes_axe(page):
    page.goto("/s/nosuchcode/")
    page.get_by_role("heading", name="This survey link is not valid.").wait_for()
    assert_accessible(page, also=TARGET_SIZE)


def test_the_feedback_settings_and_the_survey_list_pass_axe(signed_in, ada, referral):
    ReviewSite.objects.create(name="Google", url="https://reviews.example/google")
    create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=timezone.now(),
        patient=referral.patient,
        referral=referral,
    )
    page = signed_in(ada)
    page.goto("/settings/feedback/")
    page.get_by_role("heading", name="Patient feedback", exact=True).wait_for()
    assert_accessible(page, also=TARGET_SIZE)
    page.goto("/feedback/surveys/")
    page.get_by_role("heading", name="Surveys").wait_for()
    assert page.get_by_role("link", name=referral.number).count() == 1
    assert_accessible(page, also=TARGET_SIZE)
