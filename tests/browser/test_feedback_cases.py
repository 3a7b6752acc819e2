"""The feedback case pages and the portal's feedback page in a browser: a late case is
acknowledged from its page on a phone, and every page fits a phone and passes axe-core."""

import datetime as dt

import pytest
from django.utils import timezone

from refloop.advocacy import cases
from refloop.advocacy.models import Case, CaseState
from tests.browser.test_start_pages import DESK, PHONE, fits_and_passes_axe

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_late_case_is_acknowledged_from_its_page_on_a_phone(signed_in, referral, cliff, tmp_path):
    case = cases.open_case(
        acting_user=cliff,
        source="phone",
        category="wait",
        summary="Waited two hours",
        referral=referral,
        owner=cliff,
        now=timezone.now() - dt.timedelta(days=3),
    )
    page = signed_in(cliff)
    page.set_viewport_size(DESK)
    page.goto("/feedback/cases/")
    assert "Acknowledge: late" in page.inner_text("#cases")
    fits_and_passes_axe(page)
    page.goto("/feedback/cases/new/")
    fits_and_passes_axe(page)
    page.goto(f"/feedback/cases/{case.pk}/")
    fits_and_passes_axe(page)
    page.set_viewport_size(PHONE)
    page.screenshot(path=tmp_path / "feedback-case-phone.png", full_page=True)
    page.get_by_label("Note (optional)").fill("Left a voicemail")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    assert "acknowledged it" in page.inner_text("#case-timeline")
    assert Case.objects.get().state == CaseState.ACKNOWLEDGED
    fits_and_passes_axe(page)


def test_the_portal_feedback_page_passes_axe(signed_in, pam):
    page = signed_in(pam)
    page.set_viewport_size(DESK)
    page.goto("/portal/feedback/")
    fits_and_passes_axe(page)
    page.get_by_label("What happened").fill("We never heard that the patient was seen.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert "Thank you. We have it as C-" in page.content()
    fits_and_passes_axe(page)
