"""Second factors in a real browser: an admin enrols an authenticator app and signs in with
password and code; a coordinator adds a passkey (Chromium's virtual authenticator) and signs
in with it. Every page on the way passes axe-core."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from refloop.core.models import AuditEntry
from tests.browser.conftest import PASSWORD, assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 3, 10, 15, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def enforced(settings):
    settings.MFA_ENFORCED = True


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in_with_password(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")


def test_an_admin_enrols_an_authenticator_app_then_signs_in_with_password_and_code(page, ada):
    with time_machine.travel(NOW, tick=False) as clock:
        sign_in_with_password(page, "ada")
        page.wait_for_url("**/security/?next=**")
        assert_accessible(page)
        page.get_by_role("button", name="Set up an authenticator app").click()
        page.wait_for_url("**/security/authenticator/**")
        assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
        assert_accessible(page)
        device = TOTPDevice.objects.get(user=ada, confirmed=False)
        page.get_by_label("6-digit code it shows now").fill(code_of(device))
        page.get_by_role("button", name="Turn on").click()
        page.wait_for_url("**/security/recovery-codes/**")
        assert page.get_by_role("list", name="Recovery codes").locator("li").count() == 10
        assert_accessible(page)
        page.get_by_role("button", name="I have saved them").click()
        page.wait_for_url(lambda url: urlsplit(url).path == "/")  # the admin's start page
        sign_out(page)

        clock.shift(60)  # a code is good once: the next sign-in uses the next one
        sign_in_with_password(page, "ada")
        page.wait_for_url("**/security/verify/**")
        assert page.get_by_role("navigation", name="Main").get_by_role("link").count() == 1
        assert_accessible(page)
        page.get_by_label("Code").fill(code_of(TOTPDevice.objects.get(user=ada)))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: urlsplit(url).path == "/")

    assert AuditEntry.objects.filter(action="auth.mfa_verified", actor=ada).count() == 1


def test_a_coordinator_adds_a_passkey_and_signs_in_with_it(page, context, cora):
    authenticator = context.new_cdp_session(page)
    authenticator.send("WebAuthn.enable")
    authenticator.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    sign_in_with_password(page, "cora")
    page.wait_for_url("**/referrals/")
    page.goto("/security/")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url("**/security/recovery-codes/**")
    assert_accessible(page)
    assert WebAuthnCredential.objects.filter(user=cora, confirmed=True).count() == 1
    page.goto("/security/")
    assert page.get_by_role("cell", name="Passkey").is_visible()
    assert_accessible(page)
    sign_out(page)

    sign_in_with_password(page, "cora")
    page.wait_for_url("**/security/verify/**")
    assert_accessible(page)
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url("**/referrals/")

    verified = AuditEntry.objects.get(action="auth.mfa_verified", actor=cora)
    assert verified.detail == {"method": "passkey"}
