"""Each role signs in and finds its start page built around its next action (issue 15,
item 9), at a desk (1440×900) and on a phone (390×844), passing axe-core at both."""

import re

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refloop.demo import factories as f
from refloop.messaging.models import Message
from refloop.referrals.models import State
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# A name no page text contains, so "not on the page" cannot pass or fail by coincidence.
PATIENT = {"first_name": "Zephyrine", "last_name": "Quillfeather"}


def planted(state: str, *, cora, department, provider, **fields):
    referral = f.make_referral(
        acting_user=cora, department=department, referring_provider=provider, **fields
    )
    return f.advance(referral, state, acting_user=cora)


# The elements of `root` reaching past the right edge of the screen, outermost first.
PAST_THE_EDGE = """(root) => {
  const width = document.documentElement.clientWidth;
  const past = [];
  for (const el of document.querySelectorAll(root + ' *')) {
    if (el.closest('.overflow-auto, .table-scroll') && !el.matches('.overflow-auto, .table-scroll')) continue;
    if (el.getBoundingClientRect().right > width + 1) {
      past.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''));
    }
  }
  return past.slice(0, 8);
}"""


def fits_and_passes_axe(page) -> None:
    """At each size: nothing in the page's content wider than the screen (tables scroll in
    their own box), and no serious axe violation."""
    for size in (DESK, PHONE):
        page.set_viewport_size(size)
        past = page.evaluate(PAST_THE_EDGE, "main")
        assert not past, f"{page.url} at {size['width']}px: past the edge: {past}"
        assert_accessible(page)


def test_the_clinician_finds_the_decision_and_the_report_waiting_for_them(
    signed_in, cora, cliff, spine, hand, provider_a
):
    waiting = planted(
        State.IN_REVIEW,
        cora=cora,
        department=spine,
        provider=provider_a,
        patient=f.patient_data(**PATIENT),
    )
    seen = planted(State.SEEN, cora=cora, department=spine, provider=provider_a)
    not_theirs = planted(State.IN_REVIEW, cora=cora, department=hand, provider=provider_a)
    page = signed_in(cliff)
    page.set_viewport_size(DESK)
    page.goto("/")
    decisions = page.get_by_role("list", name="Referrals waiting for your decision")
    assert waiting.number in decisions.inner_text()
    assert "Quillfeather" in decisions.inner_text()
    reports = page.get_by_role("list", name="Seen referrals waiting for your progress report")
    assert seen.number in reports.inner_text()
    assert not_theirs.number not in page.content()
    assert page.locator('[data-count="decisions"]').inner_text() == "1"
    assert page.locator('[data-count="reports"]').inner_text() == "1"
    fits_and_passes_axe(page)
    page.set_viewport_size(DESK)
    decisions.get_by_role("link").first.click()
    page.wait_for_url(f"**/referrals/{waiting.pk}/")


def test_the_practice_manager_finds_the_failed_message_and_the_account_without_mfa(
    signed_in, ada, cora, cliff, referral
):
    Message.objects.create(
        referral=referral,
        rule="referrer.acknowledgment",
        audience="referrer",
        recipient="provider:1",
        recipient_label="Dr. Example",
        channel="fax",
        body="We received your referral.",
        dedupe_key="browser-start|failed",
        due_at=referral.received_at,
        created_at=referral.received_at,
        status="failed",
        attempts=3,
        reason="The fax line was busy.",
    )
    TOTPDevice.objects.create(user=cora, name="phone", confirmed=True)
    cliff.first_name, cliff.last_name = "Clifford", "Ashdown"
    cliff.save()
    page = signed_in(ada)
    page.set_viewport_size(DESK)
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "The practice at a glance"
    assert page.locator('[data-count="failed-messages"]').inner_text() == "1"
    second_factor = page.locator("#second-factor")
    assert "Clifford Ashdown" in second_factor.inner_text()
    assert "cora" not in second_factor.inner_text().lower()
    assert "Quillfeather" not in page.content()
    fits_and_passes_axe(page)
    page.set_viewport_size(DESK)
    page.get_by_role("link", name=re.compile("failed message")).click()
    page.wait_for_url("**/messages/?status=failed")


def test_the_coordinator_lands_on_their_worklist(signed_in, cora):
    page = signed_in(cora)
    page.goto("/")
    assert re.search(r"/referrals/(\?.*)?$", page.url)


def test_the_liaison_lands_on_the_outreach_home_without_a_patient(signed_in, lia, cora, referral):
    page = signed_in(lia)
    page.goto("/")
    assert page.url.endswith("/outreach/")
    assert "Quillfeather" not in page.content()
    assert_accessible(page)


def test_the_analyst_lands_on_the_analytics_dashboard(signed_in, andy):
    page = signed_in(andy)
    page.goto("/")
    assert page.url.endswith("/analytics/")


def test_the_referring_office_finds_the_information_request_above_everything_else(
    signed_in, pam, cora, spine, provider_a
):
    newer = [planted(State.ACCEPTED, cora=cora, department=spine, provider=provider_a)]
    asked = planted(
        State.PENDING_INFO,
        cora=cora,
        department=spine,
        provider=provider_a,
        patient=f.patient_data(**PATIENT),
    )
    newer += [
        planted(State.RECEIVED, cora=cora, department=spine, provider=provider_a) for _ in range(3)
    ]
    assert asked.received_at < timezone.now()
    page = signed_in(pam)
    page.set_viewport_size(DESK)
    page.goto("/")
    assert page.url.endswith("/portal/")
    needs = page.get_by_role("list", name="Referrals that need your action")
    assert asked.number in needs.inner_text()
    assert "Information requested" in needs.inner_text()
    content = page.content()
    assert all(content.index(asked.number) < content.index(r.number) for r in newer)
    fits_and_passes_axe(page)

    page.set_viewport_size(PHONE)
    page.get_by_label("Referral number or patient").fill("Quillfeather")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    found = page.get_by_role("table").inner_text()
    assert asked.number in found
    assert all(r.number not in found for r in newer)
    assert "Quillfeather" not in page.url
    fits_and_passes_axe(page)
