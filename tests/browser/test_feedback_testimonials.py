"""Done when: a revoked authorization removes the testimonial from the widget at once. In a
real browser against a live server: the patient offers and signs on a phone, an admin
approves, the widget shows it, the patient revokes through the link in their copy, and the
next load of the widget no longer shows it. Every page passes axe."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from refloop.advocacy import survey_link, testimonials
from refloop.advocacy.models import Audience, Authorization, Trigger
from refloop.advocacy.models import Testimonial as Offered
from refloop.advocacy.surveys import create_survey
from tests.browser.conftest import assert_accessible, sign_in_as

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
WORDS = "The spine team had me walking again in a month."


@pytest.fixture
def survey(referral):
    made, _ = create_survey(
        audience=Audience.PATIENT,
        trigger=Trigger.SEEN,
        recipient=f"patient:{referral.patient_id}",
        dedupe_key=f"seen:{referral.pk}",
        now=timezone.now(),
        patient=referral.patient,
        referral=referral,
    )
    return made


def test_a_revoked_authorization_leaves_the_widget_at_once(browser, live_server, survey, ada):  # noqa: F811
    # The patient, on a phone, from their survey link.
    phone = browser.new_context(base_url=live_server.url, viewport=PHONE, reduced_motion="reduce")
    phone.add_cookies(
        [
            {
                "name": survey_link.COOKIE,
                "value": survey.code,
                "url": live_server.url + survey_link.COOKIE_PATH,
            }
        ]
    )
    patient = phone.new_page()
    patient.goto("/s/testimonial/")
    patient.get_by_role("heading", name="Share your experience").wait_for()
    assert_accessible(patient)
    patient.get_by_label("Your testimonial").fill(WORDS)
    patient.get_by_role("button", name="Next: permission to share").click()

    patient.get_by_role("heading", name="Permission to share your testimonial").wait_for()
    assert_accessible(patient)
    patient.get_by_label("Type your full name to sign").fill("Zephyrine Quillfeather")
    patient.get_by_role("button", name="Sign and send").click()
    patient.get_by_role("alert").first.wait_for()  # the box was not ticked: nothing signed
    assert not Authorization.objects.exists()
    assert_accessible(patient)
    patient.get_by_label("I have read this authorization").check()
    patient.get_by_role("button", name="Sign and send").click()
    patient.get_by_role("heading", name="Thank you").wait_for()
    assert_accessible(patient)
    authorization = Authorization.objects.get()
    assert WORDS in authorization.text

    # An admin reviews and approves it.
    desk = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    sign_in_as(desk, live_server, ada)
    staff = desk.new_page()
    staff.goto("/feedback/testimonials/")
    staff.get_by_role("heading", name="Testimonials").wait_for()
    assert_accessible(staff)
    staff.get_by_role("link", name=timezone.localdate().strftime("%b %-d, %Y")).click()
    staff.get_by_role("button", name="Approve for publication").click()
    staff.get_by_text("Shown on the widget now").wait_for()
    assert_accessible(staff)

    # Any website's visitor sees it on the widget.
    visitor = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    widget = visitor.new_page()
    answer = widget.goto("/embed/testimonials/")
    assert "no-store" in answer.headers["cache-control"]
    widget.get_by_text(WORDS).wait_for()
    assert_accessible(widget)

    # The patient revokes through the link in their copy: the page first, then the button.
    link = testimonials.revoke_link(authorization)
    assert link.endswith(
        reverse("advocacy_authorization_link", args=[authorization.revocation_code])
    )
    patient.goto(reverse("advocacy_authorization_link", args=[authorization.revocation_code]))
    patient.get_by_role("heading", name="Your permission to share a testimonial").wait_for()
    assert authorization.revocation_code not in patient.url
    assert_accessible(patient)
    authorization.refresh_from_db()
    assert authorization.revoked_at is None
    patient.get_by_role("button", name="Revoke my permission").click()
    patient.get_by_role("heading", name="Done: your permission is revoked").wait_for()
    assert_accessible(patient)

    # The very next load of the widget no longer shows it.
    widget.reload()
    widget.get_by_text("No testimonials to show yet.").wait_for()
    assert WORDS not in widget.content()
    assert not testimonials.publishable(timezone.now() + dt.timedelta(seconds=1)).exists()
    assert Offered.objects.get().state == "approved"  # taken down by the revocation alone
    for ctx in (phone, desk, visitor):
        ctx.close()
