"""A patient's confirm link in a real browser: the token leaves the address bar, and one
click on the button confirms the appointment."""

import datetime as dt

import pytest
from django.utils import timezone

from refloop.messaging import magic
from refloop.messaging.models import MagicLink
from refloop.referrals import transitions
from refloop.referrals.models import ReferralEvent
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_patient_confirms_their_appointment_from_the_link(page, referral, cora):
    transitions.accept_referral(referral, acting_user=cora)
    transitions.schedule_referral(
        referral,
        acting_user=cora,
        appointment=transitions.AppointmentInput(starts_at=timezone.now() + dt.timedelta(days=3)),
    )
    appointment = referral.appointments.get()
    token = magic.mint(
        MagicLink.Purpose.CONFIRM_APPOINTMENT,
        referral=referral,
        appointment=appointment,
        now=timezone.now(),
    )

    page.goto(f"/p/{token}/")

    page.get_by_role("heading", name="Confirm your appointment").wait_for()
    assert token not in page.url
    assert page.url.endswith("/p/")
    assert "Quillfeather" not in page.content()
    assert_accessible(page)

    page.get_by_role("button", name="Yes, I'll be there").click()

    page.get_by_role("heading", name="Thank you, see you on").wait_for()
    assert ReferralEvent.objects.filter(kind="referral.appointment_confirmed").count() == 1
    assert MagicLink.objects.get().used_at is not None
    assert_accessible(page)
